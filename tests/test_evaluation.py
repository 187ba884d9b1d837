"""Scores against gold labels: a tiny case worked out by hand, then the real Q787 gold."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from predictions_core.analysis.evaluation import (
    bootstrap_intervals,
    compare_slices,
    evaluate_concept,
    passage_scores,
    slice_value,
)
from predictions_core.data.models import Concept
from predictions_core.data.store import PredictionStore
from predictions_core.errors import InvalidParameterError, NotFoundError
from predictions_core.predict.runner import Passage, predict_concept

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


def _classifier(result: dict, classifier_id: str) -> dict:
    return next(c for c in result["classifiers"] if c["id"] == classifier_id)


def test_tiny_case_passage_scores_match_the_hand_computation(tiny_store):
    result = evaluate_concept(tiny_store, "Q1", n_resamples=200)
    assert result["n_gold"] == 5 and result["n_gold_positive"] == 3  # g1, g2, g4
    kw = _classifier(result, "kw")
    # tp = g1, g2; fp = g3; fn = g4; g5 excluded
    assert {k: kw["passage"][k] for k in ("tp", "fp", "fn", "tn")} == {
        "tp": 2,
        "fp": 1,
        "fn": 1,
        "tn": 0,
    }
    assert (kw["n_scored"], kw["n_excluded"], kw["assumed_negative"]) == (4, 1, 0)
    assert kw["passage"]["precision"] == pytest.approx(2 / 3)  # 2 / (2 + 1)
    assert kw["passage"]["recall"] == pytest.approx(2 / 3)  # 2 / (2 + 1)
    assert kw["passage"]["f1"] == pytest.approx(2 / 3)  # 2*2 / (2*2 + 1 + 1) = 4/6
    old = _classifier(result, "old")
    # tp = g1; fp = g3; fn = g2, g4 (assumed negative); tn = g5 (assumed negative)
    assert (old["passage"]["tp"], old["passage"]["fp"], old["passage"]["fn"]) == (1, 1, 2)
    assert (old["n_scored"], old["n_excluded"], old["assumed_negative"]) == (5, 0, 3)
    assert old["positives_only"] and not kw["positives_only"]
    assert old["passage"]["precision"] == pytest.approx(1 / 2)  # 1 / (1 + 1)
    assert old["passage"]["recall"] == pytest.approx(1 / 3)  # 1 / (1 + 2)
    assert old["passage"]["f1"] == pytest.approx(2 / 5)  # 2*1 / (2*1 + 1 + 2)


def test_tiny_case_span_scores_match_the_hand_computation(tiny_store):
    span = _classifier(evaluate_concept(tiny_store, "Q1", n_resamples=50), "kw")["span"]
    # gold spans: g1 (6,12); g2 (0,6), (11,16); g4 (0,6) -> 4
    # predicted:  g1 (6,12); g2 (0,8); g3 (0,7)           -> 3
    exact = span["exact"]
    assert (exact["n_gold"], exact["n_predicted"], exact["predicted_matched"]) == (4, 3, 1)
    assert exact["precision"] == pytest.approx(1 / 3)
    assert exact["recall"] == pytest.approx(1 / 4)
    assert exact["f1"] == pytest.approx(2 / 7)  # 2 * (1/3)(1/4) / (1/3 + 1/4) = (1/6)/(7/12)
    overlap = span["overlap"]
    # predicted overlapping a gold span: (6,12) yes, (0,8) yes, (0,7) no -> 2 of 3
    # gold overlapped by a prediction: (6,12) yes, (0,6) yes, (11,16) no, g4 (0,6) no -> 2 of 4
    assert (overlap["predicted_matched"], overlap["gold_matched"]) == (2, 2)
    assert overlap["precision"] == pytest.approx(2 / 3)
    assert overlap["recall"] == pytest.approx(1 / 2)
    assert overlap["f1"] == pytest.approx(4 / 7)  # 2 * (2/3)(1/2) / (2/3 + 1/2) = (2/3)/(7/6)


def test_tiny_case_breakdown_and_errors(tiny_store):
    kw = _classifier(evaluate_concept(tiny_store, "Q1", n_resamples=50), "kw")
    regions = {row["value"]: row for row in kw["breakdown"]["region"]}
    # R1: g1 TP, g2 TP -> F1 1.0; R2: g3 FP, g4 FN (g5 excluded) -> F1 0 / (0 + 1 + 1) = 0.0
    assert (regions["R1"]["n"], regions["R1"]["tp"], regions["R1"]["f1"]) == (2, 2, 1.0)
    assert (regions["R2"]["n"], regions["R2"]["fp"], regions["R2"]["fn"]) == (2, 1, 1)
    assert regions["R2"]["f1"] == 0.0 and regions["R2"]["precision"] == 0.0
    assert all(row["small"] for row in regions.values())  # n < 10
    translated = {row["value"]: row["n"] for row in kw["breakdown"]["translated"]}
    assert translated == {"true": 1, "false": 1, "(unknown)": 2}
    assert [card["id"] for card in kw["false_positives"]] == ["g3"]
    assert [card["id"] for card in kw["false_negatives"]] == ["g4"]
    assert kw["false_negatives"][0]["gold_spans"] == [(0, 6)]
    assert kw["false_positives"][0]["predicted_spans"] == [(0, 7)]


def test_tiny_case_labeller_agreement_by_hand(tiny_store):
    agreement = evaluate_concept(tiny_store, "Q1", n_resamples=50)["labeller_agreement"]
    assert agreement["labellers"] == ["ann", "bob"]  # carl labelled another concept only
    pair = agreement["ceiling"]
    # ann positive: g1 g2 g4; bob positive: g1 g2. tp=2 fp(bob only)=0 fn(ann only)=1 tn=2
    assert {k: pair["passage"][k] for k in ("tp", "fp", "fn", "tn")} == {
        "tp": 2,
        "fp": 0,
        "fn": 1,
        "tn": 2,
    }
    # observed 4/5; expected ((2+0)(2+1) + (1+2)(0+2)) / 25 = 12/25; kappa = 0.32 / 0.52
    assert pair["passage"]["kappa"] == pytest.approx(8 / 13)
    assert pair["passage"]["f1"] == pytest.approx(4 / 5)  # 2*2 / (4 + 0 + 1)
    # bob's spans (6,12), (11,16) against ann's (6,12), (0,6), (0,6 in g4): 1 exact match
    assert pair["span"]["exact"]["f1"] == pytest.approx(2 / 5)  # P 1/2, R 1/3


def test_an_unreadable_predictions_file_excludes_every_passage(tiny_store):
    (tiny_store.data_dir / "Q1" / "kw" / "predictions.jsonl").write_text("not json\n{oops\n")
    kw = _classifier(evaluate_concept(tiny_store, "Q1", n_resamples=50), "kw")
    assert (kw["n_scored"], kw["n_excluded"], kw["assumed_negative"]) == (0, 5, 0)
    assert kw["n_issues"] == 2 and kw["passage"]["f1"] is None


def test_zero_denominators_are_none_and_f1_zero_when_nothing_matched():
    assert passage_scores(0, 0, 0) | {} == {
        "tp": 0,
        "fp": 0,
        "fn": 0,
        "tn": 0,
        "precision": None,
        "recall": None,
        "f1": None,
    }
    nothing_predicted = passage_scores(0, 0, 3, 5)
    assert nothing_predicted["precision"] is None
    assert nothing_predicted["recall"] == 0.0 and nothing_predicted["f1"] == 0.0


def test_translated_values_are_normalised():
    assert slice_value({"translated": True}, "translated") == "true"
    assert slice_value({"translated": "False"}, "translated") == "false"
    assert slice_value({"translated": "maybe"}, "translated") == "(unknown)"
    assert slice_value({"document_metadata": {"corpus_type_name": "UNFCCC"}}, "corpus") == "UNFCCC"


def test_bootstrap_is_seeded_contains_the_estimate_and_matches_index_resampling():
    counts = (93, 1, 35, 1)  # tp, fp, fn, tn
    first = bootstrap_intervals(counts, n_resamples=4_000, seed=7)
    assert first == bootstrap_intervals(counts, n_resamples=4_000, seed=7)
    assert first != bootstrap_intervals(counts, n_resamples=4_000, seed=8)
    point = passage_scores(*counts)
    for name in ("precision", "recall", "f1"):
        low, high = first[name]
        assert low <= point[name] <= high and low < high
    # the multinomial shortcut must agree with resampling passage indices directly
    outcomes = np.repeat(np.arange(4), counts)
    rng = np.random.default_rng(1)
    samples = outcomes[rng.integers(0, outcomes.size, size=(4_000, outcomes.size))]
    tp, fp, fn = ((samples == k).sum(axis=1) for k in range(3))
    brute_recall = np.percentile(tp / (tp + fn), [2.5, 97.5])
    assert np.allclose(first["recall"], brute_recall, atol=0.02)
    brute_f1 = np.percentile(2 * tp / (2 * tp + fp + fn), [2.5, 97.5])
    assert np.allclose(first["f1"], brute_f1, atol=0.02)


def test_no_gold_is_not_found_and_bad_source_is_invalid(tiny_store, tmp_path):
    (tiny_store.data_dir / "Q5" / "kw").mkdir(parents=True)
    (tiny_store.data_dir / "Q5" / "kw" / "predictions.jsonl").write_text("")
    with pytest.raises(NotFoundError, match="labelled_passages"):
        evaluate_concept(tiny_store, "Q5")
    with pytest.raises(InvalidParameterError, match="gold_source"):
        evaluate_concept(tiny_store, "Q1", gold_source="nope")
    with pytest.raises(InvalidParameterError):
        evaluate_concept(tiny_store, "not-a-qid")


# ------------------------------------------------------------------ the real Q787 gold


def make_q787_data(real_fixtures: Path, data_dir: Path) -> Concept:
    """`data_dir/Q787/concept.json` = the real Q787.json; every classifier kind run over the
    gold passages' texts (with their metadata) by `predict_concept`."""
    source = real_fixtures / "concepts_with_gold" / "Q787.json"
    (data_dir / "Q787").mkdir(parents=True)
    concept_path = data_dir / "Q787" / "concept.json"
    shutil.copyfile(source, concept_path)
    concept = Concept.model_validate_json(source.read_text(encoding="utf-8"))
    passages = [Passage(p.id, p.text, p.metadata) for p in concept.labelled_passages]
    predict_concept(concept, passages, None, data_dir, concept_source=concept_path)
    return concept


@pytest.fixture
def q787(tmp_path, real_fixtures, settings_for) -> tuple[PredictionStore, Concept]:
    data = tmp_path / "q787"
    concept = make_q787_data(real_fixtures, data)
    return PredictionStore(settings_for(data)), concept


def _read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


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


def test_q787_scores_equal_an_independent_computation(q787):
    store, concept = q787
    result = evaluate_concept(store, "Q787", n_resamples=300)
    gold_positive = _gold_positive_ids(concept)
    all_ids = {p.id for p in concept.labelled_passages}
    assert result["n_gold"] == len(all_ids) and result["n_gold_positive"] == len(gold_positive)
    assert len(result["classifiers"]) == 4
    for classifier in result["classifiers"]:
        lines = _read_lines(store.data_dir / "Q787" / classifier["id"] / "predictions.jsonl")
        predicted = {line["id"] for line in lines if line["spans"]}
        tp, fp, fn = _expected_counts(gold_positive, all_ids, predicted)
        passage = classifier["passage"]
        assert (passage["tp"], passage["fp"], passage["fn"]) == (tp, fp, fn)
        assert passage["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
        assert classifier["n_excluded"] == 0 and classifier["n_scored"] == len(all_ids)
        gold_spans = {
            (p.id, s.start_index, s.end_index) for p in concept.labelled_passages for s in p.spans
        }
        predicted_spans = {
            (line["id"], s["start_index"], s["end_index"]) for line in lines for s in line["spans"]
        }
        exact = classifier["span"]["exact"]
        assert exact["predicted_matched"] == len(gold_spans & predicted_spans)
        assert (exact["n_gold"], exact["n_predicted"]) == (len(gold_spans), len(predicted_spans))
        low, high = passage["ci"]["f1"]
        assert low <= passage["f1"] <= high


def test_q787_dropped_passages_are_excluded(q787):
    store, concept = q787
    classifiers = evaluate_concept(store, "Q787", n_resamples=10)["classifiers"]
    # the file must keep some negatives, or it becomes positives-only (missing = negative)
    classifier_id = max(classifiers, key=lambda c: c["passage"]["fn"])["id"]
    path = store.data_dir / "Q787" / classifier_id / "predictions.jsonl"
    lines = _read_lines(path)
    dropped = {line["id"] for line in lines[::20]}  # 7 passages, positives among them
    _write_jsonl(path, [line for line in lines if line["id"] not in dropped])
    after = _classifier(evaluate_concept(store, "Q787", n_resamples=10), classifier_id)
    assert after["n_excluded"] == len(dropped) == 7
    assert after["n_scored"] == len(lines) - len(dropped)
    kept_ids = {line["id"] for line in lines} - dropped
    predicted = {line["id"] for line in lines if line["spans"] and line["id"] in kept_ids}
    expected = _expected_counts(_gold_positive_ids(concept) & kept_ids, kept_ids, predicted)
    assert (after["passage"]["tp"], after["passage"]["fp"], after["passage"]["fn"]) == expected


def test_q787_positives_only_file_assumes_missing_passages_negative(q787):
    store, concept = q787
    full = evaluate_concept(store, "Q787", n_resamples=10)
    cased = next(c for c in full["classifiers"] if c["passage"]["fn"] > 0)
    lines = _read_lines(store.data_dir / "Q787" / cased["id"] / "predictions.jsonl")
    positives = [line for line in lines if line["spans"]]
    _write_jsonl(store.data_dir / "predictions" / "Q787" / "positives.jsonl", positives)
    only = _classifier(evaluate_concept(store, "Q787", n_resamples=10), "positives")
    assert only["layout"] == "older" and only["positives_only"]
    assert only["assumed_negative"] == len(lines) - len(positives) and only["n_excluded"] == 0
    # its missing passages are exactly the full file's negatives: the same scores
    for key in ("tp", "fp", "fn", "tn", "f1"):
        assert only["passage"][key] == cased["passage"][key]


def test_q787_breakdown_slices_and_small_flags(q787):
    store, concept = q787
    classifier = evaluate_concept(store, "Q787", n_resamples=10)["classifiers"][1]
    lines = {
        line["id"]: line
        for line in _read_lines(store.data_dir / "Q787" / classifier["id"] / "predictions.jsonl")
    }
    gold_positive = _gold_positive_ids(concept)
    for row in classifier["breakdown"]["region"]:
        members = {
            p.id
            for p in concept.labelled_passages
            if (p.metadata.get("world_bank_region") or "(unknown)") == row["value"]
        }
        predicted = {i for i in members if lines[i]["spans"]}
        assert row["n"] == len(members)
        assert (row["tp"], row["fp"], row["fn"]) == _expected_counts(
            gold_positive & members, members, predicted
        )
        assert row["small"] == (len(members) < 10)
    regions = {row["value"]: row for row in classifier["breakdown"]["region"]}
    assert regions["South Asia"]["small"] and not regions["Europe & Central Asia"]["small"]
    translated = {row["value"]: row["n"] for row in classifier["breakdown"]["translated"]}
    assert translated == {
        value: sum(p.metadata["translated"].lower() == value for p in concept.labelled_passages)
        for value in ("true", "false")
    }


def test_q787_labeller_agreement_sion_vs_tabea(q787):
    store, concept = q787
    agreement = evaluate_concept(store, "Q787", n_resamples=10)["labeller_agreement"]
    by_labeller: dict[str, set[str]] = {}
    for passage in concept.labelled_passages:
        for span in passage.spans:
            for name in span.labellers:
                by_labeller.setdefault(name, set()).add(passage.id)
    assert agreement["labellers"] == sorted(by_labeller)  # sion, tabea and harrison
    pair = agreement["ceiling"]
    assert pair["labellers"] == ["sion", "tabea"]
    n = len(concept.labelled_passages)
    sion, tabea = by_labeller["sion"], by_labeller["tabea"]
    tp, fp, fn = len(sion & tabea), len(tabea - sion), len(sion - tabea)
    tn = n - tp - fp - fn
    expected = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / n**2
    kappa = ((tp + tn) / n - expected) / (1 - expected)
    assert (pair["passage"]["tp"], pair["passage"]["fp"], pair["passage"]["fn"]) == (tp, fp, fn)
    assert pair["passage"]["kappa"] == pytest.approx(kappa)
    assert pair["passage"]["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert 0 < pair["span"]["overlap"]["f1"] <= 1


def test_q787_where_does_a_beat_b(q787):
    store, _ = q787
    result = evaluate_concept(store, "Q787", n_resamples=10)
    by_f1 = sorted(result["classifiers"], key=lambda c: c["passage"]["f1"])
    worst, best = by_f1[0]["id"], by_f1[-1]["id"]
    rows = compare_slices(result, best, worst)
    deltas = [row["delta_f1"] for row in rows if row["delta_f1"] is not None]
    assert deltas == sorted(deltas, reverse=True) and deltas[0] > 0
    top = rows[0]
    best_rows = {
        (d, r["value"]): r for d, rs in _classifier(result, best)["breakdown"].items() for r in rs
    }
    worst_rows = {
        (d, r["value"]): r for d, rs in _classifier(result, worst)["breakdown"].items() for r in rs
    }
    key = (top["dimension"], top["value"])
    assert top["delta_f1"] == pytest.approx(best_rows[key]["f1"] - worst_rows[key]["f1"])
    assert len(rows) == sum(len(v) for v in _classifier(result, best)["breakdown"].values())
    with pytest.raises(InvalidParameterError):
        compare_slices(result, best, "nope")
