"""`predictions_core.analysis.metrics`: each score on cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from predictions_core.analysis.metrics import (
    PassageScores,
    bootstrap_intervals,
    cohens_kappa,
    confusion_counts,
    ratio,
    span_scores,
)


def test_cohens_kappa_textbook_case():
    # 50 items: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> po 0.7, pe 0.5, kappa 0.4
    assert cohens_kappa(20, 5, 10, 15) == pytest.approx(0.4)
    assert cohens_kappa(10, 0, 0, 10) == pytest.approx(1.0)
    # every answer the same on both sides: chance agreement is total, kappa is undefined
    assert cohens_kappa(7, 0, 0, 0) is None
    assert cohens_kappa(0, 0, 0, 9) is None
    assert cohens_kappa(0, 0, 0, 0) is None


def test_cohens_kappa_of_total_disagreement_is_negative():
    # A says yes to 5, B to the other 5: po 0, pe 0.5 -> kappa -1
    assert cohens_kappa(0, 5, 5, 0) == pytest.approx(-1.0)


def test_passage_scores_zero_denominators_are_none_and_f1_zero_when_nothing_matched():
    assert PassageScores.from_counts(0, 0, 0).to_json() == {
        "tp": 0,
        "fp": 0,
        "fn": 0,
        "tn": 0,
        "precision": None,
        "recall": None,
        "f1": None,
    }
    nothing_predicted = PassageScores.from_counts(0, 0, 3, 5)
    assert nothing_predicted.precision is None
    assert nothing_predicted.recall == 0.0 and nothing_predicted.f1 == 0.0
    scores = PassageScores.from_counts(2, 1, 1, 4)
    assert (scores.precision, scores.recall, scores.f1) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    assert scores.counts == (2, 1, 1, 4)
    assert ratio(1, 0) is None and ratio(1, 4) == 0.25


def test_confusion_counts():
    gold = [True, True, False, False, True]
    predicted = [True, False, True, False, True]
    assert confusion_counts(gold, predicted) == (2, 1, 1, 1)


def test_bootstrap_is_seeded_contains_the_estimate_and_matches_index_resampling():
    counts = (93, 1, 35, 1)  # tp, fp, fn, tn
    first = bootstrap_intervals(counts, n_resamples=4_000, seed=7)
    assert first == bootstrap_intervals(counts, n_resamples=4_000, seed=7)
    assert first != bootstrap_intervals(counts, n_resamples=4_000, seed=8)
    point = PassageScores.from_counts(*counts)
    for name in ("precision", "recall", "f1"):
        low, high = getattr(first, name)
        assert low <= getattr(point, name) <= high and low < high
    # the multinomial shortcut must agree with resampling passage indices directly
    outcomes = np.repeat(np.arange(4), counts)
    rng = np.random.default_rng(1)
    samples = outcomes[rng.integers(0, outcomes.size, size=(4_000, outcomes.size))]
    tp, fp, fn = ((samples == k).sum(axis=1) for k in range(3))
    brute_recall = np.percentile(tp / (tp + fn), [2.5, 97.5])
    assert np.allclose(first.recall, brute_recall, atol=0.02)
    brute_f1 = np.percentile(2 * tp / (2 * tp + fp + fn), [2.5, 97.5])
    assert np.allclose(first.f1, brute_f1, atol=0.02)


def test_bootstrap_without_passages_or_positives_leaves_intervals_undefined():
    empty = bootstrap_intervals((0, 0, 0, 0), n_resamples=50)
    assert (empty.precision, empty.recall, empty.f1) == (None, None, None)
    negatives_only = bootstrap_intervals((0, 0, 0, 7), n_resamples=50)
    assert negatives_only.f1 is None
    assert negatives_only.to_json() == {
        "n_resamples": 50,
        "seed": 0,
        "confidence": 0.95,
        "method": "percentile bootstrap over passages",
        "precision": None,
        "recall": None,
        "f1": None,
    }
    interval = bootstrap_intervals((5, 5, 5, 5), n_resamples=50).to_json()["f1"]
    assert isinstance(interval, list) and len(interval) == 2  # JSON: [low, high]


def test_span_scores_exact_and_overlap():
    gold = frozenset({(0, 5), (10, 20)})
    predicted = frozenset({(0, 5), (12, 15), (30, 40)})
    match = span_scores([(gold, predicted), (frozenset({(0, 3)}), frozenset())])
    # exact: (0,5) only -> P 1/3, R 1/3; overlap: predicted (0,5), (12,15) hit gold -> P 2/3,
    # gold (0,5), (10,20) hit -> R 2/3 of 3 gold spans
    assert (match.exact.n_gold, match.exact.n_predicted, match.exact.gold_matched) == (3, 3, 1)
    assert match.exact.f1 == pytest.approx(1 / 3)
    assert (match.overlap.predicted_matched, match.overlap.gold_matched) == (2, 2)
    assert match.overlap.f1 == pytest.approx(2 / 3)
    # touching spans (end == start) do not overlap: offsets are end-exclusive
    touching = span_scores([(frozenset({(0, 5)}), frozenset({(5, 9)}))])
    assert touching.overlap.predicted_matched == 0 and touching.overlap.f1 == 0.0


def test_span_scores_without_any_span_are_undefined():
    match = span_scores([(frozenset(), frozenset())])
    assert match.exact.f1 is None and match.overlap.precision is None
    assert list(match.to_json()) == ["exact", "overlap"]
