"""The scores of this package, each written once: ratios, P/R/F1, kappa, bootstrap, span matching.

- Zero denominators: precision/recall/F1 are None ("undefined"), never a made-up 0.
  Passage-level F1 is `2tp / (2tp + fp + fn)`: 0.0 when nothing was matched, None only when
  there is no positive on either side. Span-level F1 is the harmonic mean of precision and
  recall; 0.0 when one side has spans and nothing matched, None when neither side has any.
- Intervals: percentile bootstrap over passages (seeded). Passage-level scores depend only on
  the counts of tp/fp/fn/tn passages, and resampling n passages with replacement draws those
  counts from a multinomial, so each resample is one multinomial draw (vectorised, O(resamples)).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from predictions_core.data.spans import overlaps_any

SpanSet = frozenset[tuple[int, int]]
Interval = tuple[float, float]


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is zero."""
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class PassageScores:
    """A 2x2 table (gold positive/negative × predicted) and its precision, recall and F1."""

    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    recall: float | None
    f1: float | None

    @classmethod
    def from_counts(cls, tp: int, fp: int, fn: int, tn: int = 0) -> PassageScores:
        """Scores of the counts; F1 is `2tp / (2tp + fp + fn)`, None where undefined."""
        return cls(
            tp=tp,
            fp=fp,
            fn=fn,
            tn=tn,
            precision=ratio(tp, tp + fp),
            recall=ratio(tp, tp + fn),
            f1=ratio(2 * tp, 2 * tp + fp + fn),
        )

    @property
    def counts(self) -> tuple[int, int, int, int]:
        """(tp, fp, fn, tn)."""
        return self.tp, self.fp, self.fn, self.tn

    def to_json(self) -> dict[str, Any]:
        """The API's shape: counts, then precision, recall and F1."""
        return asdict(self)


def confusion_counts(gold: Sequence[bool], predicted: Sequence[bool]) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) of two boolean sequences of the same length."""
    gold_array = np.asarray(gold, dtype=bool)
    predicted_array = np.asarray(predicted, dtype=bool)
    return (
        int(np.sum(gold_array & predicted_array)),
        int(np.sum(~gold_array & predicted_array)),
        int(np.sum(gold_array & ~predicted_array)),
        int(np.sum(~gold_array & ~predicted_array)),
    )


def cohens_kappa(yes_yes: int, yes_no: int, no_yes: int, no_no: int) -> float | None:
    """Cohen's kappa of a 2x2 table (A's answer first); None when chance agreement is total."""
    n = yes_yes + yes_no + no_yes + no_no
    if n == 0:
        return None
    # integer numerators keep "expected == 1" exact (every answer the same on both sides)
    a_yes, b_yes = yes_yes + yes_no, yes_yes + no_yes
    expected = (a_yes * b_yes + (n - a_yes) * (n - b_yes)) / (n * n)
    if expected == 1:
        return None
    observed = (yes_yes + no_no) / n
    return (observed - expected) / (1 - expected)


@dataclass(frozen=True)
class BootstrapIntervals:
    """Percentile bootstrap intervals of precision, recall and F1 (None where never defined)."""

    n_resamples: int
    seed: int
    confidence: float
    method: str
    precision: Interval | None
    recall: Interval | None
    f1: Interval | None

    def to_json(self) -> dict[str, Any]:
        """The API's shape: the settings, then `[low, high]` or null per score."""
        result = asdict(self)
        for name in ("precision", "recall", "f1"):
            result[name] = None if result[name] is None else list(result[name])
        return result


def bootstrap_intervals(
    counts: Sequence[int], *, n_resamples: int = 1_000, seed: int = 0, confidence: float = 0.95
) -> BootstrapIntervals:
    """Percentile bootstrap intervals of precision, recall and F1 from (tp, fp, fn, tn).

    Resamples where a score is undefined are left out of that score's interval; an interval
    is None when no resample defines it.
    """
    array = np.asarray(counts, dtype=float)
    n = int(array.sum())
    intervals: dict[str, Interval | None] = {"precision": None, "recall": None, "f1": None}
    if n:
        draws = np.random.default_rng(seed).multinomial(n, array / n, size=n_resamples)
        btp, bfp, bfn = (draws[:, i].astype(float) for i in range(3))
        with np.errstate(divide="ignore", invalid="ignore"):
            samples = {
                "precision": np.where(btp + bfp > 0, btp / (btp + bfp), np.nan),
                "recall": np.where(btp + bfn > 0, btp / (btp + bfn), np.nan),
                "f1": np.where(btp + bfp + bfn > 0, 2 * btp / (2 * btp + bfp + bfn), np.nan),
            }
        tail = (1 - confidence) / 2 * 100
        for name, values in samples.items():
            defined = values[~np.isnan(values)]
            if defined.size:
                low, high = np.percentile(defined, [tail, 100 - tail])
                intervals[name] = (float(low), float(high))
    return BootstrapIntervals(
        n_resamples=n_resamples,
        seed=seed,
        confidence=confidence,
        method="percentile bootstrap over passages",
        **intervals,
    )


@dataclass(frozen=True)
class SpanScores:
    """Span-level precision (over predicted spans) and recall (over gold spans)."""

    n_predicted: int
    n_gold: int
    predicted_matched: int
    gold_matched: int
    precision: float | None
    recall: float | None
    f1: float | None

    @classmethod
    def from_matches(
        cls, n_predicted: int, n_gold: int, predicted_matched: int, gold_matched: int
    ) -> SpanScores:
        """Scores of the match counts; F1 is the harmonic mean, rules in the module docstring."""
        precision, recall = ratio(predicted_matched, n_predicted), ratio(gold_matched, n_gold)
        if n_gold + n_predicted == 0:
            f1 = None
        elif precision is None or recall is None or precision + recall == 0:
            f1 = 0.0
        else:
            f1 = 2 * precision * recall / (precision + recall)
        return cls(n_predicted, n_gold, predicted_matched, gold_matched, precision, recall, f1)

    def to_json(self) -> dict[str, Any]:
        """The API's shape: the counts, then precision, recall and F1."""
        return asdict(self)


@dataclass(frozen=True)
class SpanMatch:
    """Span-level scores under both matching rules."""

    exact: SpanScores
    overlap: SpanScores

    def to_json(self) -> dict[str, Any]:
        """`{"exact": ..., "overlap": ...}`."""
        return {"exact": self.exact.to_json(), "overlap": self.overlap.to_json()}


def span_scores(pairs: Iterable[tuple[SpanSet, SpanSet]]) -> SpanMatch:
    """Span-level scores over `(gold spans, predicted spans)` per passage.

    `exact`: a predicted span counts when a gold span has the same start and end.
    `overlap`: precision over predicted spans (overlapping any gold span), recall over gold
    spans (overlapped by any predicted span).
    """
    n_gold = n_predicted = exact = predicted_overlapping = gold_overlapped = 0
    for gold, predicted in pairs:
        n_gold += len(gold)
        n_predicted += len(predicted)
        exact += len(gold & predicted)
        predicted_overlapping += sum(overlaps_any(span, gold) for span in predicted)
        gold_overlapped += sum(overlaps_any(span, predicted) for span in gold)
    return SpanMatch(
        exact=SpanScores.from_matches(n_predicted, n_gold, exact, exact),
        overlap=SpanScores.from_matches(
            n_predicted, n_gold, predicted_overlapping, gold_overlapped
        ),
    )
