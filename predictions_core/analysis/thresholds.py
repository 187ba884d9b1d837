"""Classifier scores against gold labels: P/R/F1 at every threshold, and the best one.

A passage's score is the highest `prediction_probability` among its spans of the concept
(`gold`). At threshold T a passage is predicted positive only when its score is >= T; a
passage without a score is then a predicted negative. The curve has one point per distinct
score of the gold passages a classifier was scored on (each point: every passage scoring at
least that much is positive), computed in one sorted pass.

The best threshold is the one with the highest passage F1 (the highest threshold among equal
F1s: the same F1 with fewer positives). Its interval is the usual bootstrap over passages at
that threshold; it is optimistic, since the threshold was chosen on the same passages.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from predictions_core.analysis.gold import ScoredPassage
from predictions_core.analysis.metrics import BootstrapIntervals, PassageScores, bootstrap_intervals
from predictions_core.errors import InvalidParameterError

NO_SCORES = "no scores: its spans carry no prediction_probability (thresholds do not apply)"


def parse_threshold(raw: str | None) -> float | None:
    """A threshold from a URL or query parameter: a number 0..1, None when absent or blank."""
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:  # NaN fails this too
        raise InvalidParameterError("threshold", f"expected a number from 0 to 1, got {raw!r}")
    return value


def has_scores(scored: Sequence[ScoredPassage]) -> bool:
    """True when any passage a classifier was scored on has a score."""
    return any(passage.score is not None for passage in scored)


def apply_threshold(
    scored: Sequence[ScoredPassage], threshold: float | None
) -> list[ScoredPassage]:
    """The passages as predicted at `threshold`; unchanged without a threshold or scores."""
    if threshold is None or not has_scores(scored):
        return list(scored)
    return [passage.at_threshold(threshold) for passage in scored]


@dataclass(frozen=True)
class CurvePoint:
    """Passage-level counts and scores when passages scoring >= `threshold` are positive."""

    threshold: float
    scores: PassageScores

    def to_json(self) -> dict[str, Any]:
        """`{"threshold", "tp", "fp", "fn", "precision", "recall", "f1"}`."""
        scores = self.scores
        return {
            "threshold": self.threshold,
            "tp": scores.tp,
            "fp": scores.fp,
            "fn": scores.fn,
            "precision": scores.precision,
            "recall": scores.recall,
            "f1": scores.f1,
        }


@dataclass(frozen=True)
class ThresholdReport:
    """A classifier's scores: the threshold applied (if any), its curve and best threshold."""

    has_scores: bool
    applied: float | None
    curve: list[CurvePoint]
    best: CurvePoint | None
    best_ci: BootstrapIntervals | None

    def to_json(self) -> dict[str, Any]:
        """The API's `threshold` of one classifier."""
        best = None
        if self.best is not None and self.best_ci is not None:
            ci = self.best_ci.to_json()
            best = self.best.to_json() | {"ci": {"f1": ci["f1"], "method": ci["method"]}}
        return {
            "has_scores": self.has_scores,
            "applied": self.applied,
            "note": None if self.has_scores else NO_SCORES,
            "best": best,
            "curve": [point.to_json() for point in self.curve],
        }


def threshold_curve(scored: Sequence[ScoredPassage]) -> list[CurvePoint]:
    """One point per distinct score, highest threshold first (empty without scores)."""
    gold = np.array([p.gold.is_positive for p in scored], dtype=bool)
    score = np.array([np.nan if p.score is None else p.score for p in scored], dtype=float)
    known = ~np.isnan(score)
    if not known.any():
        return []
    order = np.argsort(-score[known], kind="stable")
    ranked_scores, ranked_gold = score[known][order], gold[known][order]
    tp = np.cumsum(ranked_gold)
    fp = np.cumsum(~ranked_gold)
    # the last passage of each run of equal scores closes that threshold's point
    last = np.append(ranked_scores[1:] != ranked_scores[:-1], True)
    n_gold_positive, n = int(gold.sum()), len(scored)
    points = []
    for index in np.flatnonzero(last):
        t, f = int(tp[index]), int(fp[index])
        fn = n_gold_positive - t
        counts = PassageScores.from_counts(t, f, fn, n - t - f - fn)
        points.append(CurvePoint(float(ranked_scores[index]), counts))
    return points


def threshold_report(
    scored: Sequence[ScoredPassage],
    applied: float | None,
    *,
    n_resamples: int = 1_000,
    seed: int = 0,
) -> ThresholdReport:
    """The curve, the best threshold (with its F1 interval) and the threshold applied."""
    if not has_scores(scored):
        return ThresholdReport(False, None, [], None, None)
    curve = threshold_curve(scored)
    defined = [point for point in curve if point.scores.f1 is not None]
    best = max(defined, key=lambda p: (p.scores.f1, p.threshold), default=None)
    ci = None
    if best is not None:
        ci = bootstrap_intervals(best.scores.counts, n_resamples=n_resamples, seed=seed)
    return ThresholdReport(True, applied, curve, best, ci)
