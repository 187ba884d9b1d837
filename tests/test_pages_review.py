"""Browse's cards under AppTest: one escaped HTML block in read mode, review mode and its URL,
and judgements saved with the reviewer's name (issue 11 §1, bug 2).

The data is written by the tests: three passages with spans, one full of markup. The
real-browser side (two reviewers at once, Back after paging, the export) is in
`test_e2e_review.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from predictions_core.feedback.store import FeedbackStore
from tests.page_support import card_blocks, cards, open_page

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")
BROWSE = "pages/browse.py"
QID, CLASSIFIER = "Q100", "kw"
HOSTILE = 'Forests <script>window.x=1</script> and <img src=x onerror="alert(1)"> & "timber".'


@pytest.fixture
def data(use_data, tmp_path: Path, monkeypatch) -> Path:
    """Three passages of one classifier (each with a span), and a feedback database."""
    data = use_data(tmp_path / "data")
    folder = data / QID / CLASSIFIER
    folder.mkdir(parents=True)
    texts = [HOSTILE, "Forest management plans.", "Reforestation of forests."]
    lines = [
        json.dumps(
            {
                "id": f"p{index}",
                "text": text,
                "spans": [{"start_index": 0, "end_index": 6, "concept_id": QID}],
                "metadata": {"document_id": f"doc-{index}"},
            }
        )
        for index, text in enumerate(texts)
    ]
    (folder / "predictions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("PREDICTIONS_FEEDBACK_DB", str(tmp_path / "feedback.sqlite"))
    return data


def store(data: Path) -> FeedbackStore:
    return FeedbackStore(data.parent / "feedback.sqlite")


def verdicts(at) -> list:
    return [c for c in at.segmented_control if c.key and c.key.startswith("browse_fb_")]


def test_read_mode_draws_the_cards_as_one_escaped_block(data: Path):
    at = open_page(BROWSE, {"concept": QID})
    (block,) = card_blocks(at)  # one element for the whole page of cards
    assert len(cards(at)) == 3 and block.count('<div class="pc-card">') == 3
    assert "<script>" not in block and "<img" not in block
    assert "&lt;script&gt;window.x=1&lt;/script&gt;" in block
    assert not verdicts(at)  # no widget per card
    assert at.toggle(key="browse_review").value is False and "review" not in at.query_params


def test_review_mode_toggles_and_lives_in_the_url(data: Path):
    at = open_page(BROWSE, {"concept": QID})
    at.toggle(key="browse_review").set_value(True).run()
    assert at.query_params["review"] == "true"
    assert len(verdicts(at)) == 3 and len(card_blocks(at)) == 3  # one control per card
    captions = " ".join(caption.value for caption in at.caption)
    assert "whole passage counts as negative" in captions and "missed hit" in captions
    reopened = open_page(BROWSE, dict(at.query_params))  # a copied link opens in review mode
    assert reopened.toggle(key="browse_review").value is True and len(verdicts(reopened)) == 3
    at.toggle(key="browse_review").set_value(False).run()
    assert "review" not in at.query_params and not verdicts(at)


def test_judging_saves_with_the_reviewer_name_and_shows_whose_it_is(data: Path):
    at = open_page(BROWSE, {"concept": QID, "review": "true", "reviewer": "alice"})
    assert at.text_input(key="_feedback_reviewer_input").value == "alice"
    verdicts(at)[1].set_value("correct").run()
    (judgement,) = store(data).list_judgements(QID, CLASSIFIER)
    assert (judgement["passage_id"], judgement["reviewer"]) == ("p1", "alice")
    assert at.query_params["reviewer"] == "alice" and at.query_params["review"] == "true"
    at.toggle(key="browse_review").set_value(False).run()
    assert '<div class="pc-judged">Your judgement: ✓ correct' in cards(at)[1]
    # another reviewer sees it by name, never as their own
    bob = open_page(BROWSE, {"concept": QID, "reviewer": "bob"})
    assert '<div class="pc-judged">✓ alice</div>' in cards(bob)[1]
    assert "Your judgement" not in "".join(cards(bob))
    # a name is typed in the sidebar: it goes to the URL and to the next judgement
    bob.text_input(key="_feedback_reviewer_input").set_value("robert").run()
    assert bob.query_params["reviewer"] == "robert"
    bob.toggle(key="browse_review").set_value(True).run()
    verdicts(bob)[1].set_value("incorrect").run()
    saved = {(j["reviewer"], j["verdict"]) for j in store(data).list_judgements(QID, CLASSIFIER)}
    assert saved == {("alice", "correct"), ("robert", "incorrect")}


def test_anonymous_sessions_never_take_each_others_judgements(data: Path):
    first = open_page(BROWSE, {"concept": QID, "review": "true"})
    verdicts(first)[0].set_value("correct").run()
    second = open_page(BROWSE, {"concept": QID, "review": "true"})
    line = cards(second)[0].split('<div class="pc-judged">')[1]
    assert line.startswith("✓ anonymous-") and "Your judgement" not in line
    assert verdicts(second)[0].value is None  # not pre-filled with the other's verdict
    verdicts(second)[0].set_value("incorrect").run()
    judgements = store(data).list_judgements(QID, CLASSIFIER)
    assert sorted(j["verdict"] for j in judgements) == ["correct", "incorrect"]  # both kept
    assert len({j["reviewer"] for j in judgements}) == 2
    assert all(j["reviewer"].startswith("anonymous-") for j in judgements)


def test_compare_both_has_one_judgement_per_card_saved_for_both(
    use_data, demo_copy: Path, tmp_path: Path, monkeypatch
):
    from predictions_core.data.catalogue import scan_catalogue

    data = use_data(demo_copy)
    monkeypatch.setenv("PREDICTIONS_FEEDBACK_DB", str(tmp_path / "feedback.sqlite"))
    entry = scan_catalogue(data).concept("Q218")
    a, b = list(entry.classifiers)[:2]
    params = {"concept": "Q218", "classifier": [a, b], "a": a, "b": b, "show": "both"}
    at = open_page("pages/compare.py", {**params, "review": "true", "reviewer": "ann"})
    controls = [c for c in at.segmented_control if c.key and c.key.startswith("compare_fb_")]
    assert cards(at) and len(controls) == len(cards(at))  # one row per card, not two
    captions = " ".join(caption.value for caption in at.caption)
    assert entry.short_name(a) in captions and entry.short_name(b) in captions
    controls[0].set_value("incorrect").run()
    saved = FeedbackStore(tmp_path / "feedback.sqlite").list_judgements("Q218", None)
    assert sorted(j["classifier_id"] for j in saved) == sorted([a, b])
    assert {(j["reviewer"], j["verdict"]) for j in saved} == {("ann", "incorrect")}
    assert len({j["passage_id"] for j in saved}) == 1


def test_compare_both_saves_each_classifiers_judgement_under_its_own_passage_id(
    use_data, demo_copy: Path, tmp_path: Path, monkeypatch
):
    """Compare matches passages by text: where B's file gives a passage another id than A's,
    one ✓/✗/? on "Both" saves A's judgement under A's id and B's under B's, and the card
    then shows both as the reviewer's own."""
    from predictions_core.data.catalogue import scan_catalogue

    data = use_data(demo_copy)
    monkeypatch.setenv("PREDICTIONS_FEEDBACK_DB", str(tmp_path / "feedback.sqlite"))
    entry = scan_catalogue(data).concept("Q218")
    a, b = list(entry.classifiers)[:2]
    b_file = entry.classifiers[b].predictions_path
    renumbered = []
    for line in b_file.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        renumbered.append(json.dumps({**record, "id": f"b-{record['id']}"}))
    b_file.write_text("\n".join(renumbered) + "\n", encoding="utf-8")
    params = {"concept": "Q218", "classifier": [a, b], "a": a, "b": b, "show": "both"}
    at = open_page("pages/compare.py", {**params, "review": "true", "reviewer": "ann"})
    controls = [c for c in at.segmented_control if c.key and c.key.startswith("compare_fb_")]
    assert cards(at) and len(controls) == len(cards(at))
    controls[0].set_value("correct").run()
    saved = FeedbackStore(tmp_path / "feedback.sqlite").list_judgements("Q218", None)
    by_classifier = {j["classifier_id"]: j["passage_id"] for j in saved}
    assert set(by_classifier) == {a, b}
    assert by_classifier[b] == f"b-{by_classifier[a]}"
    first_card = cards(at)[0]
    for classifier_id in (a, b):
        assert f"{entry.short_name(classifier_id)}: Your judgement: ✓ correct" in first_card
