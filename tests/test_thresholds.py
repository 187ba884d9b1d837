"""Score thresholds on Evaluate (CONTRACT §5 `threshold=`): the curve and best threshold by
hand, the whole evaluation, the API (with bad values), and the page in AppTest.

The data, written here: concept Q5, gold by "ann"; p1–p3 positive, p4–p5 negative.

    passage  gold  "scored" (span probability)   "plain" (no probabilities)
    p1       +     (0,6) 0.9                      (0,6)
    p2       +     (0,6) 0.4                      none
    p3       +     none                           (0,6)
    p4       -     (0,7) 0.8                      none
    p5       -     (0,7) 0.3                      none

"scored" without a threshold: tp p1 p2, fp p4 p5, fn p3 -> F1 4/7.
At 0.7 (p1, p4 positive): tp 1, fp 1, fn 2, tn 1 -> P 1/2, R 1/3, F1 2/5.
Its curve (one point per score): 0.9 -> F1 2/4; 0.8 -> 2/5; 0.4 -> 4/6; 0.3 -> 4/7: best 0.4.
"plain": tp p1 p3, fn p2 -> F1 4/5 at any threshold (it has no scores).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.compute as pc
import pytest
from streamlit.testing.v1 import AppTest

from predictions_core.analysis.evaluation import evaluate_concept
from predictions_core.analysis.gold import GoldPassage, ScoredPassage
from predictions_core.analysis.thresholds import parse_threshold, threshold_curve, threshold_report
from predictions_core.data.store import PredictionStore
from predictions_core.errors import InvalidParameterError

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "evaluate.py")
TEXTS = {
    "p1": "forest one",
    "p2": "forest two",
    "p3": "forest three",
    "p4": "nothing four",
    "p5": "nothing five",
}
GOLD_POSITIVE = {"p1", "p2", "p3"}
SCORED = {"p1": ((0, 6), 0.9), "p2": ((0, 6), 0.4), "p4": ((0, 7), 0.8), "p5": ((0, 7), 0.3)}
PLAIN = {"p1": (0, 6), "p3": (0, 6)}


def _span(start, end, labeller, probability=None):
    span = {"start_index": start, "end_index": end, "concept_id": "Q5", "labellers": [labeller]}
    if probability is not None:
        span["prediction_probability"] = probability
    return span


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


@pytest.fixture
def scored_dir(tmp_path: Path) -> Path:
    data = tmp_path / "scored-data"
    gold = [
        {"id": pid, "text": text, "spans": [_span(0, 6, "ann")] if pid in GOLD_POSITIVE else []}
        for pid, text in TEXTS.items()
    ]
    (data / "Q5").mkdir(parents=True)
    concept = {"wikibase_id": "Q5", "preferred_label": "forest", "labelled_passages": gold}
    (data / "Q5" / "concept.json").write_text(json.dumps(concept))
    scored = [
        {
            "id": pid,
            "text": text,
            "spans": [_span(*SCORED[pid][0], "m", SCORED[pid][1])] if pid in SCORED else [],
        }
        for pid, text in TEXTS.items()
    ]
    plain = [
        {"id": pid, "text": text, "spans": [_span(*PLAIN[pid], "k")] if pid in PLAIN else []}
        for pid, text in TEXTS.items()
    ]
    _write_jsonl(data / "Q5" / "scored" / "predictions.jsonl", scored)
    _write_jsonl(data / "Q5" / "plain" / "predictions.jsonl", plain)
    return data


# ------------------------------------------------------------------ the pieces, by hand


@pytest.mark.parametrize(("raw", "expected"), [("0.3", 0.3), (" 1 ", 1.0), ("0", 0.0), ("", None)])
def test_parse_threshold_reads_numbers_from_0_to_1(raw, expected):
    assert parse_threshold(raw) == expected
    assert parse_threshold(None) is None


@pytest.mark.parametrize("raw", ["1.5", "-0.1", "abc", "nan", "inf"])
def test_parse_threshold_refuses_anything_else(raw):
    with pytest.raises(InvalidParameterError, match="from 0 to 1"):
        parse_threshold(raw)


def _passage(positive: bool, spans=(), probabilities=(), score=None) -> ScoredPassage:
    gold = GoldPassage("g", "text of a passage", {}, frozenset({(0, 4)} if positive else set()))
    return ScoredPassage(gold, frozenset(spans), tuple(spans), tuple(probabilities), score)


def test_curve_and_best_threshold_by_hand():
    passages = [
        _passage(True, [(0, 6)], [0.9], 0.9),
        _passage(True, [(0, 6)], [0.4], 0.4),
        _passage(True),  # no score: negative at every threshold
        _passage(False, [(0, 7)], [0.8], 0.8),
        _passage(False, [(0, 7)], [0.3], 0.3),
    ]
    curve = threshold_curve(passages)
    assert [point.threshold for point in curve] == [0.9, 0.8, 0.4, 0.3]
    counts = [(p.scores.tp, p.scores.fp, p.scores.fn, p.scores.tn) for p in curve]
    assert counts == [(1, 0, 2, 2), (1, 1, 2, 1), (2, 1, 1, 1), (2, 2, 1, 0)]
    assert [p.scores.f1 for p in curve] == pytest.approx([2 / 4, 2 / 5, 4 / 6, 4 / 7])
    report = threshold_report(passages, None, n_resamples=200)
    assert report.best.threshold == 0.4 and report.best.scores.f1 == pytest.approx(2 / 3)
    low, high = report.best_ci.f1
    assert 0 <= low <= 2 / 3 <= high <= 1


def test_equal_scores_make_one_point_and_ties_pick_the_higher_threshold():
    passages = [
        _passage(True, [(0, 1)], [0.7], 0.7),
        _passage(False, [(0, 1)], [0.7], 0.7),
        _passage(True, [(0, 1)], [0.2], 0.2),
        _passage(False, [(0, 1)], [0.2], 0.2),
    ]
    curve = threshold_curve(passages)
    assert [p.threshold for p in curve] == [0.7, 0.2]
    # 0.7: tp1 fp1 fn1 -> 2/4; 0.2: tp2 fp2 fn0 -> 4/6. Not a tie: 0.2 wins
    assert threshold_report(passages, None).best.threshold == 0.2
    # a tie: 0.8 -> tp1 fp0 fn1 = 2/3; 0.6 -> 2/4; 0.5 -> 2/5; 0.4 -> tp2 fp2 fn0 = 4/6 = 2/3
    tie = [
        _passage(True, [(0, 1)], [0.8], 0.8),
        _passage(False, [(0, 1)], [0.6], 0.6),
        _passage(False, [(0, 1)], [0.5], 0.5),
        _passage(True, [(0, 1)], [0.4], 0.4),
    ]
    assert threshold_report(tie, None).best.threshold == 0.8


def test_a_passage_keeps_only_what_passes_the_threshold():
    passage = _passage(True, [(0, 2), (3, 5)], [0.9, 0.5], 0.9)
    assert passage.at_threshold(0.6).predicted == frozenset({(0, 2)})
    assert passage.at_threshold(0.95).predicted == frozenset()
    assert passage.at_threshold(0.5).predicted_listed == ((0, 2), (3, 5))
    assert _passage(True, [(0, 2)], [None], None).at_threshold(0.0).predicted == frozenset()


def test_no_scores_report_says_so():
    report = threshold_report([_passage(True, [(0, 2)], [None], None)], 0.5)
    assert not report.has_scores and report.applied is None and report.curve == []
    assert "no scores" in report.to_json()["note"]


# ------------------------------------------------------------------ a whole evaluation


def test_threshold_changes_only_the_classifier_with_scores(scored_dir, settings_for):
    store = PredictionStore(settings_for(scored_dir))
    plain_result = evaluate_concept(store, "Q5", n_resamples=20)
    at = evaluate_concept(store, "Q5", threshold=0.7, n_resamples=20)
    scored, plain = plain_result.classifier("scored"), plain_result.classifier("plain")
    assert scored.passage.f1 == pytest.approx(4 / 7) and plain.passage.f1 == pytest.approx(0.8)
    scored_at = at.classifier("scored")
    assert scored_at.passage.counts == (1, 1, 2, 1)
    assert (scored_at.passage.precision, scored_at.passage.f1) == (0.5, pytest.approx(0.4))
    assert scored_at.threshold.applied == 0.7 and at.threshold == 0.7
    assert [card.id for card in scored_at.false_negatives] == ["p2", "p3"]
    plain_at = at.classifier("plain")
    assert plain_at.passage == plain.passage and plain_at.span == plain.span
    assert not plain_at.threshold.has_scores and plain_at.threshold.applied is None
    # the curve and the best threshold do not depend on the threshold applied
    assert scored_at.threshold.best == scored.threshold.best
    assert scored.threshold.best.threshold == 0.4
    # span_jaccard follows the threshold: at 0.7 only p1 (0,6) and p4 (0,7) remain
    assert scored_at.span_jaccard["0.9"].to_json()["tp"] == 1


# ------------------------------------------------------------------ the API


def test_api_threshold_gives_the_same_figures(scored_dir, serve, settings_for):
    client = serve(scored_dir)
    body = client.get("/api/evaluation/Q5?threshold=0.7").json()
    expected = evaluate_concept(PredictionStore(settings_for(scored_dir)), "Q5", threshold=0.7)
    assert body["threshold"] == 0.7
    by_id = {c["id"]: c for c in body["classifiers"]}
    assert by_id["scored"]["passage"] == expected.classifier("scored").passage.to_json() | {
        "ci": expected.classifier("scored").ci.to_json()
    }
    assert by_id["scored"]["passage"]["f1"] == pytest.approx(0.4)
    threshold = by_id["scored"]["threshold"]
    assert threshold["has_scores"] and threshold["applied"] == 0.7 and threshold["note"] is None
    assert threshold["best"]["threshold"] == 0.4 and len(threshold["best"]["ci"]["f1"]) == 2
    assert [point["threshold"] for point in threshold["curve"]] == [0.9, 0.8, 0.4, 0.3]
    plain = by_id["plain"]
    assert plain["passage"]["f1"] == pytest.approx(0.8)
    assert plain["threshold"]["applied"] is None and "no scores" in plain["threshold"]["note"]
    without = client.get("/api/evaluation/Q5").json()
    assert without["threshold"] is None
    assert without["classifiers"][0]["passage"] != body["classifiers"][0]["passage"] or (
        without["classifiers"][1]["passage"] != body["classifiers"][1]["passage"]
    )


@pytest.mark.parametrize("value", ["2", "-1", "high", "nan"])
def test_api_bad_threshold_is_a_400_that_says_why(scored_dir, serve, value):
    response = serve(scored_dir).get(f"/api/evaluation/Q5?threshold={value}")
    assert response.status_code == 400
    assert response.json()["error"].startswith("threshold: expected a number from 0 to 1")


def test_openapi_documents_the_threshold(scored_dir, serve):
    spec = serve(scored_dir).get("/api/openapi.json").json()
    parameters = spec["paths"]["/evaluation/{qid}"]["get"]["parameters"]
    (threshold,) = [p for p in parameters if p["name"] == "threshold"]
    assert threshold["schema"] == {"type": "number", "minimum": 0, "maximum": 1}


# ------------------------------------------------------------------ the page


def _open(**params: str) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.query_params.update(params)
    return app.run()


def _f1(app: AppTest, classifier_id: str) -> str:
    (frame,) = [e.value for e in app.dataframe if "gold covered" in e.value.columns]
    return frame.set_index("id").loc[classifier_id, "F1"]


@pytest.fixture
def scored_page(scored_dir: Path, use_data, fresh_streamlit_caches) -> Path:
    return use_data(scored_dir)


def test_page_threshold_control_changes_the_figures(scored_page):
    app = _open(concept="Q5")
    assert not app.exception and not app.error
    assert app.toggle(key="evaluate_threshold_on").value is False
    assert _f1(app, "scored").startswith("0.571") and _f1(app, "plain").startswith("0.800")
    app.toggle(key="evaluate_threshold_on").set_value(True).run()
    app.slider(key="evaluate_threshold").set_value(0.7).run()
    assert not app.exception
    assert _f1(app, "scored").startswith("0.400") and _f1(app, "plain").startswith("0.800")
    assert app.query_params["threshold"] in ("0.7", ["0.7"])
    app.slider(key="evaluate_threshold").set_value(0.35).run()  # p1, p4, p2 positive
    assert _f1(app, "scored").startswith("0.667")
    markdown = "\n".join(element.value for element in app.markdown)
    assert "best threshold **0.400**" in markdown and "no scores" in markdown
    assert len(app.get("vega_lite_chart")) >= 2  # precision-recall and F1 by threshold


def test_page_threshold_from_the_url(scored_page):
    app = _open(concept="Q5", threshold="0.7")
    assert not app.exception
    assert app.toggle(key="evaluate_threshold_on").value is True
    assert _f1(app, "scored").startswith("0.400")


def test_page_bad_threshold_in_the_url_warns_and_shows_no_threshold(scored_page):
    app = _open(concept="Q5", threshold="7")
    assert not app.exception
    assert "from 0 to 1" in "\n".join(w.value for w in app.warning)
    assert app.toggle(key="evaluate_threshold_on").value is False
    assert _f1(app, "scored").startswith("0.571")
    assert "threshold" not in app.query_params


# ------------------------------------------------------------------ Compare


def test_compare_at_threshold_makes_low_scores_negative(scored_dir, settings_for):
    from predictions_core.analysis import compare

    store = PredictionStore(settings_for(scored_dir))
    scored = store.load_entry(store.catalogue().classifier("Q5", "scored")).table
    plain = store.load_entry(store.catalogue().classifier("Q5", "plain")).table
    assert compare.has_scores(scored) and not compare.has_scores(plain)
    at = compare.at_threshold(scored, 0.7)
    positives = set(at.filter(pc.greater(at["n_spans"], 0))["id"].to_pylist())
    assert positives == {"p1", "p4"}  # 0.9 and 0.8; 0.4 and 0.3 are below
    assert compare.at_threshold(scored, None) is scored
    assert compare.at_threshold(plain, 0.7) is plain  # no scores: unaffected
    assert at.num_rows == scored.num_rows and at.schema == scored.schema


def test_compare_page_counts_positives_at_the_chosen_threshold(scored_page):
    page = str(Path(PAGE).with_name("compare.py"))
    app = AppTest.from_file(page, default_timeout=60)
    params = {"concept": "Q5", "classifier": ["scored", "plain"], "threshold": "0.7"}
    app.query_params.update(params)
    app.run()
    assert not app.exception and not app.error

    def positives() -> dict[str, int]:
        (frame,) = [e.value for e in app.dataframe if "Positives at threshold" in e.value.columns]
        return dict(zip(frame["Classifier"], frame["Positives at threshold"], strict=True))

    assert app.slider(key="compare_threshold").value == 0.7
    assert positives() == {"scored": 2, "plain": 2}
    app.slider(key="compare_threshold").set_value(0.35).run()
    assert positives() == {"scored": 3, "plain": 2}  # p2 (0.4) joins
    assert app.query_params["threshold"] in ("0.35", ["0.35"])
