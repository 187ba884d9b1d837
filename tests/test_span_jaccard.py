"""`span_jaccard`: the knowledge-graph project's span-level counting (CONTRACT §5), on cases
worked out by hand, through a whole evaluation and the API, and on Q787 (the demo's, and the
real one where ../shared exists) against a count written straight from the files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from predictions_core.analysis.evaluation import evaluate_concept
from predictions_core.analysis.span_jaccard import (
    count_at,
    jaccard,
    merge_gold_spans,
    span_jaccard,
)
from predictions_core.data.store import PredictionStore

THRESHOLDS = ("0", "0.5", "0.9", "0.99")


# ------------------------------------------------------------------ the primitives, by hand


def test_jaccard_is_intersection_over_the_covering_range():
    assert jaccard((0, 10), (5, 15)) == pytest.approx(5 / 15)
    assert jaccard((0, 10), (0, 10)) == 1.0
    assert jaccard((0, 5), (5, 10)) == 0.0  # touching is not overlapping
    assert jaccard((0, 5), (20, 30)) == 0.0
    # one inside the other: 4 / 10
    assert jaccard((2, 6), (0, 10)) == pytest.approx(0.4)


def test_gold_spans_merge_greedily_in_listed_order():
    # (0,5) starts group 1, (10,15) overlaps nothing: group 2; (4,11) overlaps (0,5) first and
    # joins group 1, which becomes (0,11); the groups are not merged again, as upstream
    assert merge_gold_spans([(0, 5), (10, 15), (4, 11)]) == [(0, 11), (10, 15)]
    # listed the other way round, everything lands in the first group
    assert merge_gold_spans([(4, 11), (0, 5), (10, 15)]) == [(0, 15)]
    # the same span from two labellers is one; touching spans stay apart
    assert merge_gold_spans([(3, 8), (3, 8)]) == [(3, 8)]
    assert merge_gold_spans([(0, 5), (5, 10)]) == [(0, 5), (5, 10)]
    assert merge_gold_spans([]) == []


def test_counts_at_a_threshold_are_strictly_above_it():
    # gold (0,10), predicted (0,5): Jaccard exactly 0.5
    passages = [([(0, 10)], [(0, 5)])]
    at_0 = count_at(passages, 0.0)
    assert (at_0.tp, at_0.fp, at_0.fn) == (1, 0, 0)
    at_half = count_at(passages, 0.5)  # 0.5 is not > 0.5: a miss on both sides
    assert (at_half.tp, at_half.fp, at_half.fn) == (0, 1, 1)
    assert (at_half.precision, at_half.recall, at_half.f1) == (0.0, 0.0, 0.0)


def test_counts_keep_repeated_predictions_and_set_aside_true_negatives():
    passages = [
        ([], []),  # nothing either side: a true negative, in no score
        ([], [(0, 4), (0, 4)]),  # two predicted spans, no gold: two false positives
        ([(0, 4), (10, 14)], [(0, 4)]),  # one found, one missed
    ]
    scores = count_at(passages, 0.9)
    assert (scores.tp, scores.fp, scores.fn, scores.tn) == (1, 2, 1, 1)
    assert scores.precision == pytest.approx(1 / 3)
    assert scores.recall == pytest.approx(1 / 2)
    assert scores.f1 == pytest.approx(2 / (2 + 2 + 1))
    assert set(scores.to_json()) == {"tp", "fp", "fn", "precision", "recall", "f1"}


def test_undefined_scores_are_null():
    scores = count_at([([], [])], 0.5)
    assert (scores.precision, scores.recall, scores.f1) == (None, None, None)
    only_gold = count_at([([(0, 3)], [])], 0.0)
    assert (only_gold.precision, only_gold.recall, only_gold.f1) == (None, 0.0, 0.0)


def test_span_jaccard_merges_gold_before_counting():
    # gold listed (0,6) by ann and (4,12) by bob: merged to (0,12). predicted (0,12) and (20,25)
    # merged gold vs (0,12): 1.0 -> TP at every threshold; (20,25) is a FP at every threshold.
    # Without the merge, (0,6) and (4,12) would be two gold spans with J 0.5 and 8/12.
    result = span_jaccard([([(0, 6), (4, 12)], [(0, 12), (20, 25)])])
    assert list(result) == list(THRESHOLDS)
    for key in THRESHOLDS:
        assert (result[key].tp, result[key].fp, result[key].fn) == (1, 1, 0), key


# ------------------------------------------------------------------ a whole evaluation
#
# Concept Q5, gold by "ann" and "bob" (a span of Q6 by "carl" is not Q5's):
#   p1 "the forest sector grows"   ann (4,10) bob (4,17)  -> merged (4,17)
#   p2 "no trees at all"           carl (3,8) of Q6       -> no gold span
#   p3 "forest and forest again"   ann (0,6) ann (11,17)  -> (0,6), (11,17)
# Classifier "kw" predicts: p1 (4,10) | p2 (3,8) | p3 (0,6), (11,17), (11,17)
#   p1: J((4,17),(4,10)) = 6/13 = 0.46 -> TP at 0, FN+FP at 0.5, 0.9, 0.99
#   p2: FP everywhere.  p3: both found exactly; the repeated (11,17) matches too.
# At 0:   tp 3 (p1, p3 x2), fp 1 (p2), fn 0 -> P 3/4, R 1, F1 6/7
# At 0.5: tp 2, fp 2 (p1, p2), fn 1 (p1) -> P 1/2, R 2/3, F1 4/7


def _span(start, end, labeller, concept_id="Q5"):
    return {"start_index": start, "end_index": end, "concept_id": concept_id,
            "labellers": [labeller]}  # fmt: skip


@pytest.fixture
def q5_dir(tmp_path: Path) -> Path:
    data = tmp_path / "q5"
    texts = {
        "p1": "the forest sector grows",
        "p2": "no trees at all",
        "p3": "forest and forest again",
    }
    gold = {
        "p1": [_span(4, 10, "ann"), _span(4, 17, "bob")],
        "p2": [_span(3, 8, "carl", "Q6")],
        "p3": [_span(0, 6, "ann"), _span(11, 17, "ann")],
    }
    predicted = {"p1": [(4, 10)], "p2": [(3, 8)], "p3": [(0, 6), (11, 17), (11, 17)]}
    passages = [
        {"id": pid, "text": text, "spans": gold[pid], "metadata": {"translated": "False"}}
        for pid, text in texts.items()
    ]
    (data / "Q5" / "kw").mkdir(parents=True)
    concept = {"wikibase_id": "Q5", "preferred_label": "forest", "labelled_passages": passages}
    (data / "Q5" / "concept.json").write_text(json.dumps(concept))
    lines = [
        {"id": pid, "text": texts[pid], "spans": [_span(s, e, "kw") for s, e in spans]}
        for pid, spans in predicted.items()
    ]
    (data / "Q5" / "kw" / "predictions.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in lines)
    )
    return data


def test_whole_evaluation_matches_the_hand_count(q5_dir, settings_for):
    result = evaluate_concept(PredictionStore(settings_for(q5_dir)), "Q5", n_resamples=10)
    scores = result.classifier("kw").span_jaccard
    zero, half = scores["0"], scores["0.5"]
    assert (zero.tp, zero.fp, zero.fn) == (3, 1, 0)
    assert (zero.precision, zero.recall, zero.f1) == (0.75, 1.0, pytest.approx(6 / 7))
    assert (half.tp, half.fp, half.fn) == (2, 2, 1)
    assert half.precision == 0.5
    assert (half.recall, half.f1) == (pytest.approx(2 / 3), pytest.approx(4 / 7))
    assert scores["0.9"] == scores["0.99"] == half
    # the slice (every passage is untranslated) counts the same
    (untranslated,) = result.classifier("kw").breakdown["translated"]
    assert untranslated.value == "false" and untranslated.span_jaccard["0.5"] == half


def test_api_reports_span_jaccard_per_classifier(q5_dir, serve):
    body = serve(q5_dir).get("/api/evaluation/Q5").json()
    (kw,) = body["classifiers"]
    assert kw["span_jaccard"]["0.5"] == {
        "tp": 2, "fp": 2, "fn": 1, "precision": 0.5, "recall": 2 / 3, "f1": 4 / 7,
    }  # fmt: skip
    assert list(kw["span_jaccard"]) == list(THRESHOLDS)
    assert set(kw["breakdown"]) == {
        "translated",
        "world_bank_region",
        "document_metadata.corpus_type_name",
    }


# ------------------------------------------------------------------ Q787, from the files


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _upstream_count(gold_passages: list[dict], predictions: dict[str, dict], threshold: float):
    """The upstream counting written out once more, straight from the JSON files."""
    tp = fp = fn = 0
    for passage in gold_passages:
        spans = [
            (s["start_index"], s["end_index"])
            for s in passage["spans"]
            if s.get("concept_id") in (None, "Q787")
        ]
        groups: list[list[tuple[int, int]]] = []
        for span in spans:
            for group in groups:
                if any(jaccard(span, other) > 0 for other in group):
                    group.append(span)
                    break
            else:
                groups.append([span])
        gold = [(min(s for s, _ in g), max(e for _, e in g)) for g in groups]
        line = predictions[passage["id"]]
        predicted = [(s["start_index"], s["end_index"]) for s in line["spans"]]
        tp += sum(any(jaccard(g, p) > threshold for p in predicted) for g in gold)
        fn += sum(not any(jaccard(g, p) > threshold for p in predicted) for g in gold)
        fp += sum(not any(jaccard(p, g) > threshold for g in gold) for p in predicted)
    return tp, fp, fn


def test_q787_span_jaccard_matches_a_count_from_the_files(q787_data: Path, settings_for):
    store = PredictionStore(settings_for(q787_data))
    result = evaluate_concept(store, "Q787", n_resamples=10)
    concept = json.loads((q787_data / "Q787" / "concept.json").read_text(encoding="utf-8"))
    gold = concept["labelled_passages"]
    assert result.classifiers
    merged_somewhere = False
    for classifier in result.classifiers:
        lines = _read_jsonl(q787_data / "Q787" / classifier.id / "predictions.jsonl")
        by_id = {line["id"]: line for line in lines}
        assert classifier.n_covered == len(gold)  # every gold passage was predicted
        for key, threshold in zip(THRESHOLDS, (0.0, 0.5, 0.9, 0.99), strict=True):
            scores = classifier.span_jaccard[key]
            assert (scores.tp, scores.fp, scores.fn) == _upstream_count(gold, by_id, threshold)
        merged_somewhere |= classifier.span_jaccard["0"].tp + classifier.span_jaccard["0"].fn < (
            sum(len(p["spans"]) for p in gold)
        )
    assert merged_somewhere  # Q787's labellers overlap: the merge is exercised
