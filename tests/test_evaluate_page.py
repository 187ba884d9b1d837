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
    store = PredictionStore(app_settings())
    expected = evaluate_concept(store, "Q787", n_resamples=1_000)
    short = store.catalogue().concept("Q787").short_names
    summary = _table(app, SUMMARY)
    assert list(summary["id"]) == [c.id for c in expected.classifiers]
    assert list(summary["classifier"]) == [short[c.id] for c in expected.classifiers]
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
    first_rows = jaccard[jaccard["classifier"] == short[expected.classifiers[0].id]]
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
    assert set(_table(app, "translated")["translated"]) == {"yes", "no"}  # not true/false
    assert {"translated: yes", "translated: no"} <= set(_table(app, COMPARISON)["slice"])
    app.selectbox(key="evaluate_b").set_value(app.selectbox(key="evaluate_a").value).run()
    assert "Pick two different classifiers" in _texts(app.caption)
    assert not app.exception


@DEMO_ONLY
@pytest.mark.parametrize(
    ("concept", "message"),
    [("forestry", "not a concept id"), ("Q999999", "no concept Q999999")],
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
    assert "gold_source" not in app.query_params  # corrected: the default is left out


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


# ------------------------------------------------------------------ gold passages not predicted


def _span(labeller: str, start: int = 0, end: int = 8, probability: float | None = None) -> dict:
    span = {"start_index": start, "end_index": end, "concept_id": "Q5", "labellers": [labeller]}
    if probability is not None:
        span["prediction_probability"] = probability
    return span


def _write_classifiers(data_dir: Path, gold: list[dict], classifiers: dict[str, list]) -> None:
    """Concept Q5 ("forestry") with `gold`, and one predictions file per classifier id."""
    concept = {"wikibase_id": "Q5", "preferred_label": "forestry", "labelled_passages": gold}
    (data_dir / "Q5").mkdir(parents=True)
    (data_dir / "Q5" / "concept.json").write_text(json.dumps(concept))
    for classifier_id, rows in classifiers.items():
        (data_dir / "Q5" / classifier_id).mkdir()
        lines = "".join(json.dumps(row) + "\n" for row in rows)
        (data_dir / "Q5" / classifier_id / "predictions.jsonl").write_text(lines)


def test_a_classifier_that_predicted_no_gold_passage_says_so_and_what_to_do(
    tmp_path, use_data, fresh_streamlit_caches
):
    gold = [
        {"id": f"g{n}", "text": f"forestry text {n}", "spans": [_span("ann")] if n < 2 else []}
        for n in range(4)
    ]
    # each file has a passage without spans: not a positives-only file
    elsewhere = [
        {"id": "x1", "text": "forestry elsewhere", "spans": [_span("kw")]},
        {"id": "x2", "text": "nothing here", "spans": []},
    ]
    half = [{**passage, "spans": [_span("kw")]} for passage in gold[:2]] + elsewhere[1:]
    classifiers = {"allgold": gold, "halfway": half, "nowhere": elsewhere}
    _write_classifiers(tmp_path / "data", gold, classifiers | {"positives": elsewhere[:1]})
    use_data(tmp_path / "data")
    app = _open(concept="Q5")
    assert not app.exception
    nowhere, positives = [element.value for element in app.warning]
    assert "**positives** covered 0 of 4 gold passages" in positives
    assert "all count as predicted negatives (its file lists positives only)" in positives
    warning = nowhere
    assert "**nowhere** covered 0 of 4 gold passages" in warning
    assert "`uv run predictions predict Q5 --passages FILE`" in warning
    assert "`--no-gold` skips them" in warning
    (info,) = [element.value for element in app.info]
    assert "**halfway** covered 2 of 4 gold passages" in info
    assert "the other 2 are not among its predictions" in info
    summary = _table(app, SUMMARY).set_index("classifier")
    assert summary.loc["nowhere", "F1"] == "—" and summary.loc["nowhere", "excluded"] == 4
    assert summary.loc["halfway", "gold covered"] == "2 of 4"
    # the coverage column is on screen: right after the classifier's name
    assert list(summary.reset_index().columns[:2]) == ["classifier", "gold covered"]


# ------------------------------------------------------------------ the labellers' headline


def test_labellers_headline_names_its_pair_and_the_range_of_all_pairs(
    tmp_path, use_data, fresh_streamlit_caches
):
    # six passages; who marked each as positive (ann/bob agree most, cat least)
    marks = {0: "abc", 1: "ab", 2: "ab", 3: "a", 4: "c", 5: ""}
    names = {"a": "ann", "b": "bob", "c": "cat"}
    gold = [
        {"id": f"g{n}", "text": f"forestry text {n}", "spans": [_span(names[m]) for m in who]}
        for n, who in marks.items()
    ]
    _write_classifiers(tmp_path / "data", gold, {"kw": gold})
    use_data(tmp_path / "data")
    app = _open(concept="Q5")
    assert not app.exception

    def kappa(first: str, second: str) -> float:  # Cohen's kappa, counted here
        pairs = [(first in who, second in who) for who in marks.values()]
        observed = sum(x == y for x, y in pairs) / len(pairs)
        p_first = sum(x for x, _ in pairs) / len(pairs)
        p_second = sum(y for _, y in pairs) / len(pairs)
        chance = p_first * p_second + (1 - p_first) * (1 - p_second)
        return (observed - chance) / (1 - chance)

    kappas = [kappa("a", "b"), kappa("a", "c"), kappa("b", "c")]
    headline = next(m.value for m in app.markdown if "scored against" in m.value)
    assert headline.startswith("**bob scored against ann**: of the 3 labellers, the pair")
    assert f"across all 3 pairs: Cohen's kappa {min(kappas):.3f} to {max(kappas):.3f}" in headline
    assert _metric(app, "Passage F1 (bob vs ann)") == f"{2 * 3 / (2 * 3 + 0 + 1):.3f}"
    assert _metric(app, "Cohen's kappa (ann & bob)") == f"{kappa('a', 'b'):.3f}"


# ------------------------------------------------------------------ every choice in the URL

THRESHOLD_GOLD = [
    {"id": f"g{n}", "text": f"forestry text {n}", "spans": [_span("ann")] if n < 3 else []}
    for n in range(6)
]
SCORES = {0: 0.9, 1: 0.6, 2: 0.45, 3: 0.8, 4: 0.47}  # g5 has no span


@pytest.fixture
def scored_page(tmp_path, use_data, fresh_streamlit_caches) -> Path:
    scored = [
        {**p, "spans": [_span("m", probability=SCORES[n])] if n in SCORES else []}
        for n, p in enumerate(THRESHOLD_GOLD)
    ]
    _write_classifiers(tmp_path / "data", THRESHOLD_GOLD, {"scored": scored})
    return use_data(tmp_path / "data")


@DEMO_ONLY
def test_opening_the_page_writes_nothing_into_the_url(q787_page):
    app = _open(concept="Q787")
    assert not app.exception
    assert dict(app.query_params) == {"concept": "Q787"}  # no default, so no history entry


@DEMO_ONLY
def test_every_choice_goes_into_the_url_and_a_copied_url_restores_it(q787_page):
    app = _open(concept="Q787")
    ids = list(_table(app, SUMMARY)["id"])
    app.segmented_control(key="evaluate_dimension").set_value("translated").run()
    app.selectbox(key="evaluate_a").set_value(ids[2]).run()
    app.selectbox(key="evaluate_b").set_value(ids[3]).run()
    app.selectbox(key="evaluate_errors").set_value(ids[1]).run()
    assert not app.exception
    url = dict(app.query_params)
    assert url == {"concept": "Q787", "slice": "translated", "a": ids[2], "b": ids[3]} | {
        "classifier": ids[1]
    }

    copied = _open(**url)  # a new session, like a copied link
    assert not copied.exception and not copied.warning
    assert copied.segmented_control(key="evaluate_dimension").value == "translated"
    assert "translated" in _table(copied, "translated").columns
    assert copied.selectbox(key="evaluate_a").value == ids[2]
    assert copied.selectbox(key="evaluate_b").value == ids[3]
    assert copied.selectbox(key="evaluate_errors").value == ids[1]
    assert dict(copied.query_params) == url

    # back to the defaults: they leave the URL
    app.segmented_control(key="evaluate_dimension").set_value("world_bank_region").run()
    app.selectbox(key="evaluate_a").set_value(ids[0]).run()
    assert dict(app.query_params) == {"concept": "Q787", "b": ids[3], "classifier": ids[1]}


@DEMO_ONLY
def test_pickers_show_short_names_not_ids(q787_page):
    app = _open(concept="Q787")
    short = PredictionStore(app_settings()).catalogue().concept("Q787").short_names
    for key in ("evaluate_a", "evaluate_b", "evaluate_errors"):
        assert app.selectbox(key=key).options == list(short.values()), key
    breakdown = _table(app, "world_bank_region")
    assert set(short.values()) <= set(breakdown.columns)


@DEMO_ONLY
@pytest.mark.parametrize(
    ("param", "value", "said", "key", "fallback"),
    [
        ("slice", "colour", "'colour' is not a slice", "evaluate_dimension", "world_bank_region"),
        ("a", "nope", "'nope' is not a classifier of this concept", "evaluate_a", 0),
        ("classifier", "<b>x", "is not a classifier of this concept", "evaluate_errors", 0),
    ],
)
def test_a_bad_choice_in_the_url_warns_and_falls_back(q787_page, param, value, said, key, fallback):
    app = _open(concept="Q787", **{param: value})
    assert not app.exception
    assert said in _texts(app.warning)
    widget = app.get("segmented_control" if param == "slice" else "selectbox")
    (chosen,) = [w.value for w in widget if w.key == key]
    ids = list(_table(app, SUMMARY)["id"])
    assert chosen == (fallback if isinstance(fallback, str) else ids[fallback])
    assert param not in app.query_params  # the URL now says what is shown


def test_a_click_sent_before_the_browser_had_the_newest_url_is_kept(scored_page):
    """A quick second step of the slider arrives with the URL of two steps ago: the step the
    user made wins, and the URL follows it (before: the slider jumped back to the old URL)."""
    app = _open(concept="Q5")
    app.toggle(key="evaluate_threshold_on").set_value(True).run()
    assert app.query_params["threshold"] == "0.5"
    app.slider(key="evaluate_threshold").set_value(0.49).run()
    assert app.query_params["threshold"] == "0.49"
    app.query_params["threshold"] = "0.5"  # the browser had not received 0.49 yet
    app.slider(key="evaluate_threshold").set_value(0.46).run()
    assert not app.exception
    assert app.slider(key="evaluate_threshold").value == pytest.approx(0.46)
    assert app.query_params["threshold"] == "0.46"
    assert "a score of at least 0.46" in _texts(app.caption)
    # at 0.46 g0, g1 (gold) and g3, g4 (not gold) are predicted positive
    assert _table(app, SUMMARY).loc[0, ["TP", "FP", "FN"]].tolist() == [2, 2, 1]


def test_feedback_gold_says_the_ceiling_is_the_concepts_labellers(
    tmp_path, use_data, fresh_streamlit_caches
):
    gold = [
        {"id": f"g{n}", "text": f"forestry {n}", "spans": [_span("ann"), _span("bob")]}
        for n in range(3)
    ]
    _write_classifiers(tmp_path / "data", gold, {"kw": gold})
    use_data(tmp_path / "data")
    FeedbackStore(app_settings().resolved_feedback_db).record("Q5", "kw", gold[0], "correct")
    app = _open(concept="Q5", gold_source="feedback")
    assert not app.exception
    assert app.radio(key="evaluate_gold_Q5").value == "feedback"
    assert "From the concept's labellers (concept.json) only" in _texts(app.caption)
    concept_gold = _open(concept="Q5")
    assert "From the concept's labellers" not in _texts(concept_gold.caption)
