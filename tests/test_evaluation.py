"""Scores against gold labels: a tiny case worked out by hand, Browse-consistent slices, and
Q787 (the bundled demo's, plus the real one where ../shared exists) against independent counts.
"""

from __future__ import annotations

import ast
import json
from itertools import combinations
from pathlib import Path

import pytest

from predictions_core.analysis.evaluation import compare_slices, evaluate_concept, slice_value
from predictions_core.analysis.results import ClassifierScores, Evaluation
from predictions_core.data.models import Concept, LabelledPassage
from predictions_core.data.store import PredictionStore
from predictions_core.errors import InvalidParameterError, NotFoundError
from predictions_core.query.engine import query_predictions
from predictions_core.query.filters import Filters

ANALYSIS_DIR = Path(__file__).resolve().parent.parent / "predictions_core" / "analysis"
# ------------------------------------------------------------------ the tiny case, by hand
#
# Concept Q1, five gold passages labelled by "ann" and "bob" (and one span of another
# concept, Q2, by "carl", which must be ignored):
#   g1 "alpha forest beta"  ann (6,12), bob (6,12)          -> positive, spans {(6,12)}
#   g2 "forest and trees"   ann (0,6),  bob (11,16) [None]  -> positive, spans {(0,6),(11,16)}
#   g3 "nothing here"       carl (0,7) of Q2 only           -> negative
#   g4 "timber yard"        ann (0,6)                       -> positive, spans {(0,6)}
#   g5 "sea level"          no spans                        -> negative
#
# Classifier "kw" (per-classifier layout, has negatives; g2 under another id, g5 missing):
#   g1 (6,12) TP | g2 (0,8) TP | g3 (0,7) FP | g4 none FN | g5 missing -> excluded
# Classifier "old" (older layout, positives only): g1 (6,12), g3 (0,7);
#   g2, g4, g5 missing -> assumed negative: g2 FN, g4 FN, g5 TN


def _span(start, end, labeller, concept_id="Q1"):
    return {
        "start_index": start,
        "end_index": end,
        "concept_id": concept_id,
        "labellers": [labeller],
    }


TINY_GOLD = [
    ("g1", "alpha forest beta", [_span(6, 12, "ann"), _span(6, 12, "bob")], "R1", "True"),
    ("g2", "forest and trees", [_span(0, 6, "ann"), _span(11, 16, "bob", None)], "R1", "False"),
    ("g3", "nothing here", [_span(0, 7, "carl", "Q2")], "R2", None),
    ("g4", "timber yard", [_span(0, 6, "ann")], "R2", None),
    ("g5", "sea level", [], "R2", None),
]


def _gold_line(passage_id, text, spans, region, translated):
    metadata = {"world_bank_region": region}
    if translated is not None:
        metadata["translated"] = translated
    return {"id": passage_id, "text": text, "spans": spans, "metadata": metadata}


def _prediction(passage_id, text, spans):
    return {"id": passage_id, "text": text, "spans": [_span(s, e, "kw") for s, e in spans]}


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


@pytest.fixture
def tiny_store(tmp_path, settings_for) -> PredictionStore:
    data = tmp_path / "data"
    concept = {"wikibase_id": "Q1", "preferred_label": "forest"}
    concept["labelled_passages"] = [_gold_line(*row) for row in TINY_GOLD]
    (data / "Q1").mkdir(parents=True)
    (data / "Q1" / "concept.json").write_text(json.dumps(concept))
    kw_rows = [
        _prediction("g1", "alpha forest beta", [(6, 12)]),
        _prediction("x2", "forest and trees", [(0, 8)]),  # found by text
        _prediction("g3", "nothing here", [(0, 7)]),
        _prediction("g4", "timber yard", []),
        _prediction("zz", "not a gold passage", [(0, 3)]),
    ]
    _write_jsonl(data / "Q1" / "kw" / "predictions.jsonl", kw_rows)
    old_rows = [kw_rows[0], kw_rows[2]]
    _write_jsonl(data / "predictions" / "Q1" / "old.jsonl", old_rows)
    return PredictionStore(settings_for(data))


def _tiny(tiny_store: PredictionStore, classifier_id: str) -> ClassifierScores:
    return evaluate_concept(tiny_store, "Q1", n_resamples=50).classifier(classifier_id)


def test_tiny_case_passage_scores_match_the_hand_computation(tiny_store):
    result = evaluate_concept(tiny_store, "Q1", n_resamples=200)
    assert result.n_gold == 5 and result.n_gold_positive == 3  # g1, g2, g4
    kw = result.classifier("kw")
    # tp = g1, g2; fp = g3; fn = g4; g5 excluded
    assert kw.passage.counts == (2, 1, 1, 0)
    assert (kw.n_scored, kw.n_excluded, kw.assumed_negative) == (4, 1, 0)
    assert kw.passage.precision == pytest.approx(2 / 3)  # 2 / (2 + 1)
    assert kw.passage.recall == pytest.approx(2 / 3)  # 2 / (2 + 1)
    assert kw.passage.f1 == pytest.approx(2 / 3)  # 2*2 / (2*2 + 1 + 1) = 4/6
    old = result.classifier("old")
    # tp = g1; fp = g3; fn = g2, g4 (assumed negative); tn = g5 (assumed negative)
    assert old.passage.counts == (1, 1, 2, 1)
    assert (old.n_scored, old.n_excluded, old.assumed_negative) == (5, 0, 3)
    assert old.positives_only and not kw.positives_only
    assert old.passage.precision == pytest.approx(1 / 2)  # 1 / (1 + 1)
    assert old.passage.recall == pytest.approx(1 / 3)  # 1 / (1 + 2)
    assert old.passage.f1 == pytest.approx(2 / 5)  # 2*1 / (2*1 + 1 + 2)


def test_tiny_case_span_scores_match_the_hand_computation(tiny_store):
    span = _tiny(tiny_store, "kw").span
    # gold spans: g1 (6,12); g2 (0,6), (11,16); g4 (0,6) -> 4
    # predicted:  g1 (6,12); g2 (0,8); g3 (0,7)           -> 3
    exact = span.exact
    assert (exact.n_gold, exact.n_predicted, exact.predicted_matched) == (4, 3, 1)
    assert exact.precision == pytest.approx(1 / 3)
    assert exact.recall == pytest.approx(1 / 4)
    assert exact.f1 == pytest.approx(2 / 7)  # 2 * (1/3)(1/4) / (1/3 + 1/4) = (1/6)/(7/12)
    overlap = span.overlap
    # predicted overlapping a gold span: (6,12) yes, (0,8) yes, (0,7) no -> 2 of 3
    # gold overlapped by a prediction: (6,12) yes, (0,6) yes, (11,16) no, g4 (0,6) no -> 2 of 4
    assert (overlap.predicted_matched, overlap.gold_matched) == (2, 2)
    assert overlap.precision == pytest.approx(2 / 3)
    assert overlap.recall == pytest.approx(1 / 2)
    assert overlap.f1 == pytest.approx(4 / 7)  # 2 * (2/3)(1/2) / (2/3 + 1/2) = (2/3)/(7/6)


def test_tiny_case_breakdown_and_errors(tiny_store):
    kw = _tiny(tiny_store, "kw")
    regions = {row.value: row for row in kw.breakdown["world_bank_region"]}
    # R1: g1 TP, g2 TP -> F1 1.0; R2: g3 FP, g4 FN (g5 excluded) -> F1 0 / (0 + 1 + 1) = 0.0
    assert (regions["R1"].n, regions["R1"].scores.tp, regions["R1"].scores.f1) == (2, 2, 1.0)
    assert (regions["R2"].n, regions["R2"].scores.fp, regions["R2"].scores.fn) == (2, 1, 1)
    assert regions["R2"].scores.f1 == 0.0 and regions["R2"].scores.precision == 0.0
    assert all(row.small for row in regions.values())  # n < 10
    translated = {row.value: row.n for row in kw.breakdown["translated"]}
    assert translated == {"true": 1, "false": 1, "(unknown)": 2}
    assert [card.id for card in kw.false_positives] == ["g3"]
    assert [card.id for card in kw.false_negatives] == ["g4"]
    assert kw.false_negatives[0].gold_spans == [(0, 6)]
    assert kw.false_positives[0].predicted_spans == [(0, 7)]
    assert kw.false_positives[0].slices == {
        "world_bank_region": "R2",
        "document_metadata.corpus_type_name": "(unknown)",
        "translated": "(unknown)",
    }


def test_tiny_case_labeller_agreement_by_hand(tiny_store):
    agreement = evaluate_concept(tiny_store, "Q1", n_resamples=50).labeller_agreement
    assert agreement.labellers == ["ann", "bob"]  # carl labelled another concept only
    pair = agreement.ceiling
    # ann positive: g1 g2 g4; bob positive: g1 g2. tp=2 fp(bob only)=0 fn(ann only)=1 tn=2
    assert pair.passage.counts == (2, 0, 1, 2)
    # observed 4/5; expected ((2+0)(2+1) + (1+2)(0+2)) / 25 = 12/25; kappa = 0.32 / 0.52
    assert pair.kappa == pytest.approx(8 / 13)
    assert pair.observed == pytest.approx(4 / 5)
    assert pair.passage.f1 == pytest.approx(4 / 5)  # 2*2 / (4 + 0 + 1)
    # bob's spans (6,12), (11,16) against ann's (6,12), (0,6), (0,6 in g4): 1 exact match
    assert pair.span.exact.f1 == pytest.approx(2 / 5)  # P 1/2, R 1/3


def test_an_unreadable_predictions_file_excludes_every_passage(tiny_store):
    (tiny_store.data_dir / "Q1" / "kw" / "predictions.jsonl").write_text("not json\n{oops\n")
    kw = _tiny(tiny_store, "kw")
    assert (kw.n_scored, kw.n_excluded, kw.assumed_negative) == (0, 5, 0)
    assert kw.n_issues == 2 and kw.passage.f1 is None


def test_no_gold_is_not_found_and_bad_source_is_invalid(tiny_store):
    (tiny_store.data_dir / "Q5" / "kw").mkdir(parents=True)
    (tiny_store.data_dir / "Q5" / "kw" / "predictions.jsonl").write_text("")
    with pytest.raises(NotFoundError, match="labelled_passages"):
        evaluate_concept(tiny_store, "Q5")
    with pytest.raises(NotFoundError, match="reviewers' judgements"):
        evaluate_concept(tiny_store, "Q1", gold_source="feedback")  # none passed in
    with pytest.raises(InvalidParameterError, match="gold_source"):
        evaluate_concept(tiny_store, "Q1", gold_source="nope")
    with pytest.raises(InvalidParameterError):
        evaluate_concept(tiny_store, "not-a-qid")


def test_feedback_passages_are_read_only_when_the_source_needs_them(tiny_store):
    calls = []
    judged = LabelledPassage(
        id="f1",
        text="sea level",  # g5's text: merged with it under `both`
        spans=[{"start_index": 0, "end_index": 3, "concept_id": "Q1", "labellers": ["rev"]}],
    )

    def feedback() -> list[LabelledPassage]:
        calls.append(1)
        return [judged]

    concept_gold = evaluate_concept(tiny_store, "Q1", feedback_passages=feedback, n_resamples=10)
    assert concept_gold.gold_source == "concept" and calls == []  # auto: the concept has gold
    both = evaluate_concept(
        tiny_store, "Q1", gold_source="both", feedback_passages=feedback, n_resamples=10
    )
    assert calls == [1] and both.n_gold == 5 and both.n_gold_positive == 4
    only = evaluate_concept(
        tiny_store, "Q1", gold_source="feedback", feedback_passages=feedback, n_resamples=10
    )
    assert only.n_gold == 1 and only.classifier("old").passage.fn == 1  # g5 is not predicted


def test_analysis_never_imports_the_feedback_store():
    """`evaluation` is given the reviewers' passages; analysis sits beside feedback, not above."""
    for module in ANALYSIS_DIR.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        assert not any(name and "feedback" in name for name in imported), module.name


def test_typed_result_round_trips_to_the_api_shape(tiny_store):
    result = evaluate_concept(tiny_store, "Q1", n_resamples=20)
    body = json.loads(json.dumps(result.to_json()))
    kw = next(c for c in body["classifiers"] if c["id"] == "kw")
    assert list(kw["passage"]) == ["tp", "fp", "fn", "tn", "precision", "recall", "f1", "ci"]
    assert kw["passage"]["ci"]["n_resamples"] == 20
    assert kw["breakdown"]["world_bank_region"][0] == {
        "value": "R1",
        "n": 2,
        "tp": 2,
        "fp": 0,
        "fn": 0,
        "tn": 0,
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "small": True,
        # g1: gold (6,12)+(6,12) merge to (6,12), predicted (6,12): TP at every threshold.
        # g2: gold (0,6), (11,16); predicted (0,8): J((0,6),(0,8)) = 6/8 = 0.75, J(.,(11,16)) = 0
        "span_jaccard": {
            "0": {"tp": 2, "fp": 0, "fn": 1, "precision": 1.0, "recall": 2 / 3, "f1": 0.8},
            "0.5": {"tp": 2, "fp": 0, "fn": 1, "precision": 1.0, "recall": 2 / 3, "f1": 0.8},
            "0.9": {"tp": 1, "fp": 1, "fn": 2, "precision": 0.5, "recall": 1 / 3, "f1": 0.4},
            "0.99": {"tp": 1, "fp": 1, "fn": 2, "precision": 0.5, "recall": 1 / 3, "f1": 0.4},
        },
    }
    assert kw["false_positives"][0] == {
        "id": "g3",
        "text": "nothing here",
        "gold_spans": [],
        "predicted_spans": [[0, 7]],
        "world_bank_region": "R2",
        "document_metadata.corpus_type_name": "(unknown)",
        "translated": "(unknown)",
    }
    pair = body["labeller_agreement"]["ceiling"]
    assert pair["labellers"] == ["ann", "bob"] and set(pair["passage"]) >= {"kappa", "observed"}


# ------------------------------------------------------------------ slices = Browse's filters

SLICED = [
    # (id, metadata): region only nested, flat dotted, or flat; translated in any accepted word
    ("s1", {"document_metadata": {"world_bank_region": "South Asia"}, "translated": "on"}),
    ("s2", {"world_bank_region": "South Asia", "translated": "Yes"}),
    ("s3", {"document_metadata.world_bank_region": "Europe", "translated": "off"}),
    ("s4", {"world_bank_region": "  ", "translated": "maybe"}),
    ("s5", {"document_metadata": {"corpus_type_name": "UNFCCC"}, "translated": 0}),
]


@pytest.fixture
def sliced_store(tmp_path, settings_for) -> PredictionStore:
    data = tmp_path / "sliced"
    rows = [
        {"id": pid, "text": f"forest passage {pid}", "spans": [], "metadata": metadata}
        for pid, metadata in SLICED
    ]
    gold = [dict(row, spans=[_span(0, 6, "ann")]) for row in rows]
    (data / "Q1").mkdir(parents=True)
    concept = {"wikibase_id": "Q1", "preferred_label": "forest", "labelled_passages": gold}
    (data / "Q1" / "concept.json").write_text(json.dumps(concept))
    _write_jsonl(data / "Q1" / "kw" / "predictions.jsonl", rows)
    return PredictionStore(settings_for(data))


def _browse_ids(store: PredictionStore, **filters) -> set[str]:
    table = store.load_entry(store.catalogue().classifier("Q1", "kw")).table
    rows = query_predictions(table, Filters(page_size=1_000, **filters)).rows
    return set(rows["id"].to_pylist())


def _slice_ids(result: Evaluation, dimension: str, value: str) -> set[str]:
    kw = result.classifier("kw")
    # every gold passage is positive and predicted negative: all are false negatives
    return {card.id for card in kw.false_negatives if card.slices[dimension] == value}


def test_evaluate_slices_hold_the_passages_browse_filters_show(sliced_store):
    result = evaluate_concept(sliced_store, "Q1", n_resamples=10)
    for region in ("South Asia", "Europe"):
        browse = _browse_ids(sliced_store, region=[region])
        assert _slice_ids(result, "world_bank_region", region) == browse, region
    assert _browse_ids(sliced_store, region=["South Asia"]) == {"s1", "s2"}
    assert _slice_ids(result, "translated", "true") == _browse_ids(sliced_store, translated=True)
    assert _slice_ids(result, "translated", "false") == _browse_ids(sliced_store, translated=False)
    assert _slice_ids(result, "translated", "true") == {"s1", "s2"}  # "on", "Yes"
    assert _slice_ids(result, "translated", "(unknown)") == {"s4"}  # "maybe": no filter shows it
    corpus = "document_metadata.corpus_type_name"
    assert _slice_ids(result, corpus, "UNFCCC") == _browse_ids(sliced_store, corpus=["UNFCCC"])
    assert slice_value({"translated": True}, "translated") == "true"


# ------------------------------------------------------------------ Q787: demo, and real


@pytest.fixture
def q787(q787_data: Path, settings_for) -> tuple[PredictionStore, Concept]:
    concept_json = (q787_data / "Q787" / "concept.json").read_text(encoding="utf-8")
    return PredictionStore(settings_for(q787_data)), Concept.model_validate_json(concept_json)


def _read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _predictions_path(store: PredictionStore, classifier_id: str) -> Path:
    return store.data_dir / "Q787" / classifier_id / "predictions.jsonl"


def _gold_positive_ids(concept: Concept) -> set[str]:
    return {
        p.id
        for p in concept.labelled_passages
        if any(s.concept_id in (None, "Q787") for s in p.spans)
    }


def _expected_counts(gold_positive: set[str], scored_ids: set[str], predicted: set[str]):
    tp = len(gold_positive & predicted)
    fp = len((predicted - gold_positive) & scored_ids)
    fn = len((gold_positive & scored_ids) - predicted)
    return tp, fp, fn


def _tp_fp_fn(scores: ClassifierScores) -> tuple[int, int, int]:
    return scores.passage.tp, scores.passage.fp, scores.passage.fn


def test_q787_scores_equal_an_independent_computation(q787):
    store, concept = q787
    result = evaluate_concept(store, "Q787", n_resamples=300)
    gold_positive = _gold_positive_ids(concept)
    all_ids = {p.id for p in concept.labelled_passages}
    assert result.n_gold == len(all_ids) and result.n_gold_positive == len(gold_positive)
    assert len(result.classifiers) == 4
    gold_spans = {
        (p.id, s.start_index, s.end_index) for p in concept.labelled_passages for s in p.spans
    }
    for classifier in result.classifiers:
        lines = [
            line
            for line in _read_lines(_predictions_path(store, classifier.id))
            if line["id"] in all_ids
        ]
        predicted = {line["id"] for line in lines if line["spans"]}
        tp, fp, fn = _expected_counts(gold_positive, all_ids, predicted)
        assert _tp_fp_fn(classifier) == (tp, fp, fn)
        assert classifier.passage.f1 == pytest.approx(2 * tp / (2 * tp + fp + fn))
        assert classifier.n_excluded == 0 and classifier.n_scored == len(all_ids)
        predicted_spans = {
            (line["id"], s["start_index"], s["end_index"]) for line in lines for s in line["spans"]
        }
        exact = classifier.span.exact
        assert exact.predicted_matched == len(gold_spans & predicted_spans)
        assert (exact.n_gold, exact.n_predicted) == (len(gold_spans), len(predicted_spans))
        low, high = classifier.ci.f1
        assert low <= classifier.passage.f1 <= high


def test_q787_dropped_passages_are_excluded(q787):
    store, concept = q787
    classifiers = evaluate_concept(store, "Q787", n_resamples=10).classifiers
    # the file must keep some negatives, or it becomes positives-only (missing = negative)
    classifier_id = max(classifiers, key=lambda c: c.passage.fn).id
    path = _predictions_path(store, classifier_id)
    gold_ids = {p.id for p in concept.labelled_passages}
    lines = _read_lines(path)
    gold_lines = [line for line in lines if line["id"] in gold_ids]
    dropped = {line["id"] for line in gold_lines[::20]}
    assert _gold_positive_ids(concept) & dropped, "some dropped passages should be positive"
    _write_jsonl(path, [line for line in lines if line["id"] not in dropped])
    after = evaluate_concept(store, "Q787", n_resamples=10).classifier(classifier_id)
    assert after.n_excluded == len(dropped)
    assert after.n_scored == len(gold_ids) - len(dropped)
    kept_ids = gold_ids - dropped
    predicted = {line["id"] for line in gold_lines if line["spans"] and line["id"] in kept_ids}
    expected = _expected_counts(_gold_positive_ids(concept) & kept_ids, kept_ids, predicted)
    assert _tp_fp_fn(after) == expected


def test_q787_positives_only_file_assumes_missing_passages_negative(q787):
    store, concept = q787
    full = evaluate_concept(store, "Q787", n_resamples=10)
    cased = next(c for c in full.classifiers if c.passage.fn > 0)
    lines = _read_lines(_predictions_path(store, cased.id))
    positives = [line for line in lines if line["spans"]]
    _write_jsonl(store.data_dir / "predictions" / "Q787" / "positives.jsonl", positives)
    only = evaluate_concept(store, "Q787", n_resamples=10).classifier("positives")
    assert only.layout == "older" and only.positives_only
    gold_ids = {p.id for p in concept.labelled_passages}
    positive_ids = {line["id"] for line in positives}
    assert only.assumed_negative == len(gold_ids - positive_ids) and only.n_excluded == 0
    # its missing passages are exactly the full file's negatives: the same scores
    assert only.passage == cased.passage


def test_q787_breakdown_slices_and_small_flags(q787):
    store, concept = q787
    classifier = evaluate_concept(store, "Q787", n_resamples=10).classifiers[1]
    lines = {line["id"]: line for line in _read_lines(_predictions_path(store, classifier.id))}
    gold_positive = _gold_positive_ids(concept)
    assert len(classifier.breakdown["world_bank_region"]) > 1
    for row in classifier.breakdown["world_bank_region"]:
        members = {
            p.id
            for p in concept.labelled_passages
            if (p.metadata.get("world_bank_region") or "(unknown)") == row.value
        }
        predicted = {i for i in members if lines[i]["spans"]}
        assert row.n == len(members)
        assert (row.scores.tp, row.scores.fp, row.scores.fn) == _expected_counts(
            gold_positive & members, members, predicted
        )
        assert row.small == (len(members) < 10)
    translated = {row.value: row.n for row in classifier.breakdown["translated"]}
    assert translated == {
        value: sum(p.metadata["translated"].lower() == value for p in concept.labelled_passages)
        for value in ("true", "false")
    }


def test_q787_labeller_agreement_against_an_independent_count(q787):
    store, concept = q787
    agreement = evaluate_concept(store, "Q787", n_resamples=10).labeller_agreement
    by_labeller: dict[str, set[str]] = {}
    for passage in concept.labelled_passages:
        for span in passage.spans:
            for name in span.labellers:
                by_labeller.setdefault(name, set()).add(passage.id)
    assert agreement.labellers == sorted(by_labeller) and len(by_labeller) >= 2
    n = len(concept.labelled_passages)
    assert agreement.n_passages == n
    pairs = list(combinations(sorted(by_labeller), 2))
    assert [pair.labellers for pair in agreement.pairs] == pairs
    first, second = max(pairs, key=lambda pair: len(by_labeller[pair[0]] & by_labeller[pair[1]]))
    ceiling = agreement.ceiling
    assert ceiling.labellers == (first, second)
    a, b = by_labeller[first], by_labeller[second]
    tp, fp, fn = len(a & b), len(b - a), len(a - b)
    tn = n - tp - fp - fn
    expected = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / n**2
    kappa = ((tp + tn) / n - expected) / (1 - expected)
    assert ceiling.passage.counts == (tp, fp, fn, tn)
    assert ceiling.kappa == pytest.approx(kappa)
    assert ceiling.passage.f1 == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert 0 < ceiling.span.overlap.f1 <= 1


def test_q787_where_does_a_beat_b(q787):
    store, _ = q787
    result = evaluate_concept(store, "Q787", n_resamples=10)
    by_f1 = sorted(result.classifiers, key=lambda c: c.passage.f1)
    worst, best = by_f1[0], by_f1[-1]
    rows = compare_slices(result, best.id, worst.id)
    deltas = [row.delta_f1 for row in rows if row.delta_f1 is not None]
    assert deltas == sorted(deltas, reverse=True) and deltas[0] > 0
    top = rows[0]

    def slice_f1(classifier: ClassifierScores) -> float:
        rows_of_dimension = classifier.breakdown[top.dimension]
        return next(row.scores.f1 for row in rows_of_dimension if row.value == top.value)

    assert top.delta_f1 == pytest.approx(slice_f1(best) - slice_f1(worst))
    assert len(rows) == sum(len(v) for v in best.breakdown.values())
    with pytest.raises(InvalidParameterError, match="b: classifier 'nope'"):
        compare_slices(result, best.id, "nope")
