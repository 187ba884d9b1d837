"""The Evaluate page in AppTest: Q787's gold (the demo's, and the real one where ../shared
exists), feedback as gold, bad URLs, the whole demo data, and the evaluation's cache key.

Elements are found by key, label or the columns a table shows, never by position.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from predictions_core.analysis.evaluation import evaluate_concept
from predictions_core.data.catalogue import scan_catalogue
from predictions_core.data.location import app_settings
from predictions_core.data.store import PredictionStore
from predictions_core.feedback.store import FeedbackStore
from predictions_core.ui.evaluate_view import data_version

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "evaluate.py")
# the column that tells each table of the page apart
SUMMARY, AGREEMENT, COMPARISON = "span overlap P/R/F1", "Cohen's kappa", "ΔF1 (A − B)"
DEMO_ONLY = pytest.mark.parametrize("q787_data", ["demo"], indirect=True)


def _open(**params: str) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.query_params.update(params)
    return app.run()


def _table(app: AppTest, column: str) -> pd.DataFrame:
    """The one table of the page that has `column`."""
    (frame,) = [element.value for element in app.dataframe if column in element.value.columns]
    return frame


def _metric(app: AppTest, label: str) -> str:
    (value,) = [metric.value for metric in app.metric if metric.label.startswith(label)]
    return value


def _texts(elements) -> str:
    return "\n".join(element.value for element in elements)


@pytest.fixture
def q787_page(q787_data: Path, use_data, fresh_streamlit_caches) -> Path:
    """The page's environment pointed at a data dir holding only Q787."""
    return use_data(q787_data)


def test_q787_page_shows_every_table(q787_page):
    app = _open(concept="Q787")
    assert not app.exception and not app.error
    expected = evaluate_concept(PredictionStore(app_settings()), "Q787", n_resamples=1_000)
    summary = _table(app, SUMMARY)
    assert list(summary["id"]) == [c.id for c in expected.classifiers]
    assert list(summary["TP"]) == [c.passage.tp for c in expected.classifiers]
    assert summary["F1"].str.contains(r"\[").all()  # intervals shown
    ceiling = expected.labeller_agreement.ceiling
    assert " vs ".join(ceiling.labellers) in set(_table(app, AGREEMENT)["labellers"])
    assert _metric(app, "Cohen's kappa") == f"{ceiling.kappa:.3f}"
    breakdown = _table(app, "world_bank_region")
    assert set(breakdown["world_bank_region"]) == {
        row.value for row in expected.classifiers[0].breakdown["world_bank_region"]
    }
    # coverage: every gold passage was predicted by every classifier of Q787
    assert set(summary["gold covered"]) == {f"{expected.n_gold} of {expected.n_gold}"}
    jaccard = _table(app, "Jaccard >")
    assert len(jaccard) == 4 * len(expected.classifiers)
    first_rows = jaccard[jaccard["classifier"] == expected.classifiers[0].name]
    assert list(first_rows["Jaccard >"]) == ["0", "0.5", "0.9", "0.99"]
    assert list(first_rows["TP"]) == [s.tp for s in expected.classifiers[0].span_jaccard.values()]
    # no classifier of Q787 has scores: no threshold control, and the page says why
    assert not app.toggle and "no scores" in "\n".join(m.value for m in app.markdown)
    assert _table(app, COMPARISON)[COMPARISON].notna().any()
    assert app.get("vega_lite_chart")  # the A-vs-B bar chart
    assert app.radio(key="evaluate_gold_Q787").value == "concept"
    first = expected.classifiers[0]
    tabs = {tab.label for tab in app.tabs}
    assert f"False positives ({first.passage.fp})" in tabs


def test_q787_page_widgets_change_the_views(q787_page):
    app = _open(concept="Q787")
    app.segmented_control(key="evaluate_dimension").set_value("translated").run()
    assert set(_table(app, "translated")["translated"]) == {"true", "false"}
    app.selectbox(key="evaluate_b").set_value(app.selectbox(key="evaluate_a").value).run()
    assert "Pick two different classifiers" in _texts(app.caption)
    assert not app.exception


@DEMO_ONLY
@pytest.mark.parametrize(
    ("concept", "message"),
    [("forestry", "not a concept id"), ("Q999999", "not found")],
)
def test_bad_concept_in_the_url_says_so_and_falls_back(q787_page, concept, message):
    app = _open(concept=concept)
    assert not app.exception
    errors = _texts(app.error)
    assert message in errors and "Showing Q787 instead" in errors
    assert len(_table(app, SUMMARY)) == 4


@DEMO_ONLY
def test_unknown_gold_source_warns_and_falls_back(q787_page):
    app = _open(concept="Q787", gold_source="everything")
    assert not app.exception
    assert "'everything' is not available" in _texts(app.warning)
    assert app.radio(key="evaluate_gold_Q787").value == "concept"
    assert len(_table(app, SUMMARY)) == 4
    assert app.query_params["gold_source"] in ("concept", ["concept"])  # the URL is corrected


@DEMO_ONLY
def test_no_concept_param_uses_the_sidebar_pick(q787_page):
    app = _open()
    assert not app.exception
    assert app.selectbox(key="sidebar_concept").value == "Q787"
    assert len(_table(app, SUMMARY)) == 4


def _write_concept(data_dir: Path, qid: str, gold: list[dict], predictions: list[dict]) -> None:
    folder = data_dir / qid / "kw"
    folder.mkdir(parents=True)
    concept = {"wikibase_id": qid, "preferred_label": "forestry", "labelled_passages": gold}
    (data_dir / qid / "concept.json").write_text(json.dumps(concept))
    lines = "".join(json.dumps(row) + "\n" for row in predictions)
    (folder / "predictions.jsonl").write_text(lines)


def test_concept_without_gold_says_how_to_add_it(tmp_path, use_data, fresh_streamlit_caches):
    _write_concept(tmp_path / "data", "Q5", [], [{"id": "a", "text": "forestry", "spans": []}])
    use_data(tmp_path / "data")
    app = _open(concept="Q5")
    assert not app.exception and not app.dataframe
    info = _texts(app.info)
    assert "labelled_passages" in info and "Browse" in info


def test_passage_text_is_escaped_in_cards(tmp_path, use_data, fresh_streamlit_caches):
    text = '<img src=x onerror="alert(1)"> forestry & <b>logging</b>'
    gold = [
        {
            "id": "g1",
            "text": text,
            "spans": [{"start_index": 31, "end_index": 39, "labellers": ["ann"]}],
        }
    ]
    _write_concept(tmp_path / "data", "Q6", gold, [{"id": "g1", "text": text, "spans": []}])
    use_data(tmp_path / "data")
    app = _open(concept="Q6")
    assert not app.exception
    bodies = [element.proto.body for element in app.get("html")]
    card = next(body for body in bodies if "pc-card" in body)  # the false negative
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in card and "<img" not in card
    assert '<mark class="pc-gold" title="gold span">forestry</mark>' in card
    assert "&lt;b&gt;logging&lt;/b&gt;" in card


@DEMO_ONLY
def test_feedback_as_gold_on_the_page(q787_page):
    settings = app_settings()
    classifier = sorted(PredictionStore(settings).catalogue().concept("Q787").classifiers)[0]
    path = q787_page / "Q787" / classifier / "predictions.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()[:5]]
    feedback = FeedbackStore(settings.resolved_feedback_db)
    verdicts = ["correct", "correct", "incorrect", "unsure", "correct"]
    for row, verdict in zip(rows, verdicts, strict=True):
        feedback.record("Q787", classifier, row, verdict)
    app = _open(concept="Q787", gold_source="feedback")
    assert not app.exception
    radio = app.radio(key="evaluate_gold_Q787")
    assert radio.options == ["Concept's gold labels", "Reviewers' feedback", "Both"]
    assert radio.value == "feedback"
    assert "4 gold passages" in _texts(app.caption)  # "unsure" is left out


def test_demo_data_pages_render(demo_copy, use_data, fresh_streamlit_caches):
    use_data(demo_copy)
    catalogue = PredictionStore(app_settings()).catalogue()
    with_gold = [qid for qid, entry in catalogue.concepts.items() if entry.gold_passages]
    assert with_gold == ["Q787"], "the demo data should carry gold labels for Q787 only"
    for qid in catalogue.concepts:
        app = _open(concept=qid)
        assert not app.exception, qid
        if qid in with_gold:
            assert len(_table(app, SUMMARY)) == 4, qid
        else:
            assert "labelled_passages" in _texts(app.info), qid


# ------------------------------------------------------------------ the evaluation's cache key


@DEMO_ONLY
def test_cache_key_is_the_content_not_the_catalogue_object(q787_data):
    first = scan_catalogue(q787_data).concept("Q787")
    rescanned = scan_catalogue(q787_data).concept("Q787")
    assert rescanned is not first
    assert data_version(rescanned, 0) == data_version(first, 0)  # unchanged: same key
    assert data_version(first, 7) != data_version(first, 0)  # a new judgement

    concept_path = q787_data / "Q787" / "concept.json"
    concept = json.loads(concept_path.read_text(encoding="utf-8"))
    span = next(s for p in concept["labelled_passages"] for s in p["spans"])
    span["end_index"] -= 1  # same passages, same number of spans: only an offset moves
    concept_path.write_text(json.dumps(concept), encoding="utf-8")
    changed_gold = data_version(scan_catalogue(q787_data).concept("Q787"), 0)
    assert changed_gold != data_version(first, 0)

    predictions = next((q787_data / "Q787").glob("*/predictions.jsonl"))
    stat = predictions.stat()
    os.utime(predictions, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert data_version(scan_catalogue(q787_data).concept("Q787"), 0) != changed_gold
