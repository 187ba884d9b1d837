"""What an evaluation returns (typed), and its JSON: the body of `GET /api/evaluation/{qid}`.

Each result's `to_json()` gives the API's shape (CONTRACT §5), key for key: where the JSON
nests one thing inside another (intervals inside `passage` as `ci`, kappa inside an agreement
pair's `passage`), the typed result keeps them as separate attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from predictions_core.analysis.metrics import BootstrapIntervals, PassageScores, SpanMatch
from predictions_core.analysis.span_jaccard import JaccardScores, span_jaccard_json
from predictions_core.analysis.thresholds import ThresholdReport
from predictions_core.errors import InvalidParameterError


@dataclass(frozen=True)
class SliceScores:
    """Passage-level scores of one value of a slice dimension (`small`: too few to trust),
    and the upstream's span-level counts on the slice (`span_jaccard`)."""

    value: str
    n: int
    scores: PassageScores
    small: bool
    span_jaccard: dict[str, JaccardScores]

    def to_json(self) -> dict[str, Any]:
        """`{"value", "n", tp…f1, "small", "span_jaccard"}`."""
        return {
            "value": self.value,
            "n": self.n,
            **self.scores.to_json(),
            "small": self.small,
            "span_jaccard": span_jaccard_json(self.span_jaccard),
        }


@dataclass(frozen=True)
class ErrorCard:
    """A false positive or negative: the passage, both span sets and its slice values."""

    id: str
    text: str
    gold_spans: list[tuple[int, int]]
    predicted_spans: list[tuple[int, int]]
    slices: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        """`{"id", "text", "gold_spans", "predicted_spans", <one key per slice dimension>}`."""
        spans = {"gold_spans": self.gold_spans, "predicted_spans": self.predicted_spans}
        return {"id": self.id, "text": self.text, **spans, **self.slices}


@dataclass(frozen=True)
class ClassifierScores:
    """Every score of one classifier on the gold passages it was matched to.

    `n_covered`: gold passages found in its predictions (scored, not assumed negative).
    With a threshold applied (`threshold.applied`), every score but the curve is counted at it.
    """

    id: str
    name: str
    layout: str
    positives_only: bool
    n_scored: int
    n_excluded: int
    assumed_negative: int
    n_issues: int
    passage: PassageScores
    ci: BootstrapIntervals
    span: SpanMatch
    breakdown: dict[str, list[SliceScores]]
    false_positives: list[ErrorCard]
    false_negatives: list[ErrorCard]
    span_jaccard: dict[str, JaccardScores]
    threshold: ThresholdReport

    @property
    def n_covered(self) -> int:
        """Gold passages found in this classifier's predictions."""
        return self.n_scored - self.assumed_negative

    def to_json(self) -> dict[str, Any]:
        """The API's shape: the intervals sit inside `passage` as `ci`."""
        return {
            "id": self.id,
            "name": self.name,
            "layout": self.layout,
            "positives_only": self.positives_only,
            "n_scored": self.n_scored,
            "n_covered": self.n_covered,
            "n_excluded": self.n_excluded,
            "assumed_negative": self.assumed_negative,
            "n_issues": self.n_issues,
            "passage": self.passage.to_json() | {"ci": self.ci.to_json()},
            "span": self.span.to_json(),
            "span_jaccard": span_jaccard_json(self.span_jaccard),
            "threshold": self.threshold.to_json(),
            "breakdown": {
                dimension: [row.to_json() for row in rows]
                for dimension, rows in self.breakdown.items()
            },
            "false_positives": [card.to_json() for card in self.false_positives],
            "false_negatives": [card.to_json() for card in self.false_negatives],
        }


@dataclass(frozen=True)
class AgreementPair:
    """The second labeller scored against the first, as if the first were gold."""

    labellers: tuple[str, str]
    passage: PassageScores
    kappa: float | None
    observed: float
    span: SpanMatch

    def to_json(self) -> dict[str, Any]:
        """The API's shape: kappa and observed agreement sit inside `passage`."""
        passage = self.passage.to_json() | {"kappa": self.kappa, "observed": self.observed}
        return {"labellers": list(self.labellers), "passage": passage, "span": self.span.to_json()}


@dataclass(frozen=True)
class LabellerAgreement:
    """How far the human labellers agree: every pair, and the pair that is the ceiling."""

    labellers: list[str]
    n_passages: int
    assumption: str
    pairs: list[AgreementPair]
    ceiling: AgreementPair | None

    def to_json(self) -> dict[str, Any]:
        """The API's shape."""
        return {
            "labellers": self.labellers,
            "n_passages": self.n_passages,
            "assumption": self.assumption,
            "pairs": [pair.to_json() for pair in self.pairs],
            "ceiling": None if self.ceiling is None else self.ceiling.to_json(),
        }


@dataclass(frozen=True)
class Evaluation:
    """Every classifier of a concept against one gold set (CONTRACT §5)."""

    wikibase_id: str
    preferred_label: str
    gold_source: str
    n_gold: int
    n_gold_positive: int
    n_gold_spans: int
    classifiers: list[ClassifierScores]
    labeller_agreement: LabellerAgreement | None
    small_slice: int
    notes: list[str]
    threshold: float | None = None

    def classifier(self, classifier_id: str) -> ClassifierScores:
        """The scores of one classifier; `InvalidParameterError` if it is not in this evaluation."""
        for scores in self.classifiers:
            if scores.id == classifier_id:
                return scores
        raise InvalidParameterError(
            "classifier", f"classifier {classifier_id!r} is not in this evaluation"
        )

    def to_json(self) -> dict[str, Any]:
        """The body of `GET /api/evaluation/{qid}`."""
        agreement = self.labeller_agreement
        return {
            "wikibase_id": self.wikibase_id,
            "preferred_label": self.preferred_label,
            "gold_source": self.gold_source,
            "n_gold": self.n_gold,
            "n_gold_positive": self.n_gold_positive,
            "n_gold_spans": self.n_gold_spans,
            "classifiers": [classifier.to_json() for classifier in self.classifiers],
            "labeller_agreement": None if agreement is None else agreement.to_json(),
            "small_slice": self.small_slice,
            "notes": self.notes,
            "threshold": self.threshold,
        }
