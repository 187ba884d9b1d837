"""Span-level scores counted as the knowledge-graph project's own evaluation counts them.

Users compare these figures with what the upstream evaluation reports, so the counting follows
it step by step (CONTRACT §5, `span_jaccard`):

1. Gold: per gold passage, the concept's spans of every labeller, in the order they are
   listed, are grouped greedily: a span joins the FIRST existing group holding a span it
   overlaps (Jaccard > 0), else it starts a new group. A group becomes one span from its
   smallest start to its largest end. (Groups are not re-merged afterwards: a later span can
   join group 1 and make it overlap group 2; both stay, as upstream.)
2. Jaccard of two spans = length of their intersection / (larger end − smaller start).
3. A merged gold span is a true positive when some predicted span of the same passage has
   Jaccard > threshold (strictly), else a false negative. A predicted span (as predicted, not
   merged, repeats kept) with no gold span above the threshold is a false positive.
4. A passage with no gold span and no predicted span is a true negative (kept for the record;
   it enters no score).

Unlike upstream, which reports 0 for an undefined ratio, precision/recall/F1 are None where
their denominator is zero (this package's rule, see `metrics`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from predictions_core.analysis.metrics import PassageScores

Offsets = tuple[int, int]
# the upstream evaluation's thresholds, as the API's keys
SPAN_JACCARD_THRESHOLDS: dict[str, float] = {"0": 0.0, "0.5": 0.5, "0.9": 0.9, "0.99": 0.99}


def jaccard(first: Offsets, second: Offsets) -> float:
    """Intersection length / (max end − min start) of two `(start, end)` spans (start < end)."""
    intersection = max(0, min(first[1], second[1]) - max(first[0], second[0]))
    return intersection / (max(first[1], second[1]) - min(first[0], second[0]))


def merge_gold_spans(spans: Iterable[Offsets]) -> list[Offsets]:
    """The listed spans grouped greedily (first overlapping group wins), one span per group."""
    groups: list[list[Offsets]] = []
    for span in spans:
        group = next((g for g in groups if any(jaccard(span, o) > 0 for o in g)), None)
        if group is None:
            groups.append([span])
        else:
            group.append(span)
    return [(min(s for s, _ in group), max(e for _, e in group)) for group in groups]


@dataclass(frozen=True)
class JaccardScores(PassageScores):
    """Span counts at one Jaccard threshold, with precision, recall and F1 (None if undefined).

    The same arithmetic as passage scores (F1 = 2tp / (2tp + fp + fn), upstream's harmonic
    mean); only the API shape differs: CONTRACT §5 gives no `tn` for span counts.
    """

    def to_json(self) -> dict[str, Any]:
        """`{"tp", "fp", "fn", "precision", "recall", "f1"}` (CONTRACT §5)."""
        return {key: value for key, value in super().to_json().items() if key != "tn"}


def count_at(
    passages: Sequence[tuple[Sequence[Offsets], Sequence[Offsets]]], threshold: float
) -> JaccardScores:
    """Counts over `(merged gold spans, predicted spans)` per passage at one threshold."""
    tp = fp = fn = tn = 0
    for gold, predicted in passages:
        if not gold and not predicted:
            tn += 1
            continue
        for gold_span in gold:
            if any(jaccard(gold_span, span) > threshold for span in predicted):
                tp += 1
            else:
                fn += 1
        for span in predicted:
            if not any(jaccard(span, gold_span) > threshold for gold_span in gold):
                fp += 1
    return JaccardScores.from_counts(tp, fp, fn, tn)


def span_jaccard(
    passages: Iterable[tuple[Sequence[Offsets], Sequence[Offsets]]],
) -> dict[str, JaccardScores]:
    """Scores at each upstream threshold over `(listed gold spans, predicted spans)` pairs.

    The gold spans of each passage are merged here (`merge_gold_spans`), in listed order.
    """
    merged = [(merge_gold_spans(gold), list(predicted)) for gold, predicted in passages]
    return {key: count_at(merged, value) for key, value in SPAN_JACCARD_THRESHOLDS.items()}


def span_jaccard_json(scores: dict[str, JaccardScores]) -> dict[str, dict[str, Any]]:
    """`{"0": {...}, "0.5": {...}, ...}`."""
    return {key: value.to_json() for key, value in scores.items()}
