"""Score classifiers against gold labels (CONTRACT §5 `GET /api/evaluation/{qid}`).

The gold set and how its passages are found in predictions: `gold`. The scores themselves
(P/R/F1, kappa, bootstrap intervals, span matching): `metrics`. The typed results and their
JSON: `results`. Each evaluation repeats the rules in `notes`.

Slices are the upstream evaluation's three equity columns, by their names (`translated`,
`world_bank_region`, `document_metadata.corpus_type_name`); a gold passage's value is read
through `data.metadata.metadata_value` and `flags.bool_or_none`, the paths and words Browse's
filters use, so a passage lands in the slice whose filter shows it.

`span_jaccard` (the upstream's span-level counting) is in `span_jaccard`; scores, thresholds
and the best threshold in `thresholds`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from predictions_core.analysis.gold import (
    GoldPassage,
    MatchedPredictions,
    ScoredPassage,
    check_gold_source,
    gold_from_passages,
    gold_passages,
    match_predictions,
    needs_feedback,
)
from predictions_core.analysis.metrics import (
    PassageScores,
    SpanSet,
    bootstrap_intervals,
    cohens_kappa,
    confusion_counts,
    span_scores,
)
from predictions_core.analysis.results import (
    AgreementPair,
    ClassifierScores,
    ErrorCard,
    Evaluation,
    LabellerAgreement,
    SliceScores,
)
from predictions_core.analysis.span_jaccard import span_jaccard
from predictions_core.analysis.thresholds import apply_threshold, has_scores, threshold_report
from predictions_core.data.catalogue import ClassifierEntry
from predictions_core.data.metadata import metadata_value
from predictions_core.data.models import LabelledPassage
from predictions_core.data.store import PredictionStore
from predictions_core.errors import InvalidParameterError, NotFoundError
from predictions_core.flags import bool_or_none

# the upstream's equity columns (its names are the API's keys) → the metadata field each reads
SLICE_FIELDS = {
    "world_bank_region": "region",
    "document_metadata.corpus_type_name": "corpus",
    "translated": "translated",
}
SLICE_DIMENSIONS = tuple(SLICE_FIELDS)
UNKNOWN = "(unknown)"
SMALL_SLICE = 10
MAX_ERROR_CARDS = 1_000
HOW_TO_ADD_GOLD = (
    "add `labelled_passages` to the concept file ({qid}/concept.json), or review predictions "
    "on the Browse page (✓ correct / ✗ incorrect) and choose reviewers' feedback as gold"
)
AGREEMENT_ASSUMPTION = "every labeller is assumed to have seen every gold passage"
NOTES = [
    "A gold passage is positive when it has at least one span of the concept (all labellers).",
    "Gold passages missing from a classifier's predictions are excluded from its scores, "
    "except in positives-only files, where they count as predicted negatives.",
    "Precision, recall and F1 are null where their denominator is zero.",
    "Intervals: 95% percentile bootstrap over passages.",
    "span_jaccard counts spans as the knowledge-graph project's evaluation does: gold spans of "
    "all labellers merged where they overlap, a gold span found when a predicted span's "
    "Jaccard similarity with it exceeds the threshold.",
    "With a threshold, a passage of a classifier with scores is predicted positive only when "
    "its score (highest span prediction_probability) is at least the threshold.",
]

FeedbackPassages = Callable[[], Sequence[LabelledPassage]]


# ---------------------------------------------------------------------- per classifier


def slice_value(metadata: dict[str, Any], dimension: str) -> str:
    """The passage's value of a slice dimension (a key of `SLICE_FIELDS`)."""
    value = metadata_value(metadata, SLICE_FIELDS[dimension])
    if dimension == "translated" and value is not None:
        flag = bool_or_none(value)
        value = None if flag is None else str(flag).lower()
    return value or UNKNOWN


def _passage_scores(scored: Sequence[ScoredPassage]) -> PassageScores:
    gold = [passage.gold.is_positive for passage in scored]
    predicted = [passage.predicted_positive for passage in scored]
    return PassageScores.from_counts(*confusion_counts(gold, predicted))


def breakdown(scored: Sequence[ScoredPassage]) -> dict[str, list[SliceScores]]:
    """Passage-level scores per value of each slice dimension, largest slice first."""
    result: dict[str, list[SliceScores]] = {}
    for dimension in SLICE_DIMENSIONS:
        groups: dict[str, list[ScoredPassage]] = {}
        for passage in scored:
            groups.setdefault(slice_value(passage.gold.metadata, dimension), []).append(passage)
        rows = [
            SliceScores(
                value,
                len(members),
                _passage_scores(members),
                len(members) < SMALL_SLICE,
                _span_jaccard(members),
            )
            for value, members in groups.items()
        ]
        result[dimension] = sorted(rows, key=lambda row: (-row.n, row.value))
    return result


def _span_jaccard(scored: Sequence[ScoredPassage]):
    return span_jaccard((p.gold.listed_spans, p.predicted_listed) for p in scored)


def _error_card(passage: ScoredPassage) -> ErrorCard:
    metadata = passage.gold.metadata
    return ErrorCard(
        id=passage.gold.id,
        text=passage.gold.text,
        gold_spans=sorted(passage.gold.spans),
        predicted_spans=sorted(passage.predicted),
        slices={dimension: slice_value(metadata, dimension) for dimension in SLICE_DIMENSIONS},
    )


def score_classifier(
    entry: ClassifierEntry,
    matched: MatchedPredictions,
    n_issues: int = 0,
    *,
    threshold: float | None = None,
    n_resamples: int = 1_000,
    seed: int = 0,
) -> ClassifierScores:
    """Every score of one classifier on the gold passages it was matched to.

    With `threshold` and a classifier with scores, every score is counted at the threshold
    (`thresholds`); the curve and the best threshold always use every score.
    """
    applied = threshold if has_scores(matched.scored) else None
    report = threshold_report(matched.scored, applied, n_resamples=n_resamples, seed=seed)
    scored = apply_threshold(matched.scored, threshold)
    passage = _passage_scores(scored)
    false_positives = [p for p in scored if p.predicted_positive and not p.gold.is_positive]
    false_negatives = [p for p in scored if p.gold.is_positive and not p.predicted_positive]
    return ClassifierScores(
        id=entry.id,
        name=entry.classifier.name,
        layout=entry.layout,
        positives_only=matched.positives_only,
        n_scored=len(scored),
        n_excluded=matched.n_excluded,
        assumed_negative=matched.assumed_negative,
        n_issues=n_issues,
        passage=passage,
        ci=bootstrap_intervals(passage.counts, n_resamples=n_resamples, seed=seed),
        span=span_scores((p.gold.spans, p.predicted) for p in scored),
        breakdown=breakdown(scored),
        false_positives=[_error_card(p) for p in false_positives[:MAX_ERROR_CARDS]],
        false_negatives=[_error_card(p) for p in false_negatives[:MAX_ERROR_CARDS]],
        span_jaccard=_span_jaccard(scored),
        threshold=report,
    )


# ---------------------------------------------------------------------- labeller agreement


def labeller_agreement(gold: Sequence[GoldPassage]) -> LabellerAgreement | None:
    """How far the human labellers agree with each other: a ceiling for the classifiers.

    The data format records spans, not who looked at a passage, so every labeller appearing
    anywhere in the gold is assumed to have seen every gold passage (a passage where they
    marked nothing is their negative). For each pair (a, b): Cohen's kappa and b's passage F1
    against a, and span-level scores of b's spans against a's. None when there is no gold.
    """
    if not gold:
        return None
    labellers = sorted({name for passage in gold for name in passage.spans_by_labeller})
    pairs = [_agreement_pair(gold, first, second) for first, second in combinations(labellers, 2)]
    ceiling = max(pairs, key=lambda pair: pair.passage.tp, default=None)
    return LabellerAgreement(labellers, len(gold), AGREEMENT_ASSUMPTION, pairs, ceiling)


def _agreement_pair(gold: Sequence[GoldPassage], first: str, second: str) -> AgreementPair:
    empty: SpanSet = frozenset()
    spans_a = [p.spans_by_labeller.get(first, empty) for p in gold]
    spans_b = [p.spans_by_labeller.get(second, empty) for p in gold]
    tp, fp, fn, tn = confusion_counts([bool(s) for s in spans_a], [bool(s) for s in spans_b])
    return AgreementPair(
        labellers=(first, second),
        passage=PassageScores.from_counts(tp, fp, fn, tn),
        kappa=cohens_kappa(tp, fn, fp, tn),  # the first labeller's answer first
        observed=(tp + tn) / len(gold),
        span=span_scores(zip(spans_a, spans_b, strict=True)),
    )


# ---------------------------------------------------------------------- the whole concept


def evaluate_concept(
    store: PredictionStore,
    qid: str,
    *,
    gold_source: str = "auto",
    feedback_passages: FeedbackPassages | None = None,
    threshold: float | None = None,
    n_resamples: int = 1_000,
    seed: int = 0,
) -> Evaluation:
    """Every classifier of concept `qid` against its gold labels (CONTRACT §5).

    `gold_source`: `concept` (labelled_passages of the concept file), `feedback` (reviewers'
    judgements), `both`, or `auto` (concept, else feedback). `feedback_passages` returns the
    reviewers' gold passages of `qid`; it is called only when the source needs them, and
    None means there are none. `threshold` (0..1): passages of classifiers with scores count
    as predicted positive only when their score is at least it. Raises `InvalidParameterError`
    for a bad id or source, `NotFoundError` for an unknown concept or when the chosen source
    holds no gold passage.
    """
    entry = store.catalogue().concept(qid)
    check_gold_source(gold_source)
    feedback: Sequence[LabelledPassage] = ()
    if feedback_passages is not None and needs_feedback(gold_source, entry.gold_passages):
        feedback = feedback_passages()
    source, gold = gold_passages(entry.gold_passages, feedback, qid, gold_source)
    if not gold:
        raise NotFoundError(_no_gold_message(qid, gold_source))
    classifiers = []
    for classifier in entry.classifiers.values():
        loaded = store.load_entry(classifier)
        matched = match_predictions(gold, loaded, qid)
        classifiers.append(
            score_classifier(
                classifier,
                matched,
                len(loaded.issues),
                threshold=threshold,
                n_resamples=n_resamples,
                seed=seed,
            )
        )
    return Evaluation(
        wikibase_id=qid,
        preferred_label=entry.concept.preferred_label,
        gold_source=source,
        n_gold=len(gold),
        n_gold_positive=sum(passage.is_positive for passage in gold),
        n_gold_spans=sum(len(passage.spans) for passage in gold),
        classifiers=classifiers,
        labeller_agreement=labeller_agreement(gold_from_passages(entry.gold_passages, qid)),
        small_slice=SMALL_SLICE,
        notes=NOTES,
        threshold=threshold,
    )


def _no_gold_message(qid: str, gold_source: str) -> str:
    missing = {
        "concept": "no gold labels",
        "feedback": "no reviewers' judgements (✓ correct / ✗ incorrect) yet",
    }.get(gold_source, "no gold labels and no reviewers' judgements")
    return f"concept {qid} has {missing}: " + HOW_TO_ADD_GOLD.format(qid=qid)


# ---------------------------------------------------------------------- where A beats B


@dataclass(frozen=True)
class SliceComparison:
    """One slice's F1 under two classifiers; `delta_f1` None when either F1 is undefined."""

    dimension: str
    value: str
    n_first: int
    n_second: int
    f1_first: float | None
    f1_second: float | None
    delta_f1: float | None
    small: bool


def compare_slices(result: Evaluation, first_id: str, second_id: str) -> list[SliceComparison]:
    """Where does `first_id` beat `second_id`: slices ranked by F1(first) - F1(second).

    Slices where either F1 is undefined come last. `n_first` and `n_second` can differ when
    the classifiers were scored on different passages (exclusions).
    """
    by_id = {classifier.id: classifier for classifier in result.classifiers}
    for name, value in (("a", first_id), ("b", second_id)):
        if value not in by_id:
            raise InvalidParameterError(name, f"classifier {value!r} is not in this evaluation")
    first, second = by_id[first_id].breakdown, by_id[second_id].breakdown
    rows = []
    for dimension in SLICE_DIMENSIONS:
        second_rows = {row.value: row for row in second[dimension]}
        for row in first[dimension]:
            other = second_rows.get(row.value)
            if other is None:
                continue
            f1, other_f1 = row.scores.f1, other.scores.f1
            delta = f1 - other_f1 if f1 is not None and other_f1 is not None else None
            rows.append(
                SliceComparison(
                    dimension=dimension,
                    value=row.value,
                    n_first=row.n,
                    n_second=other.n,
                    f1_first=f1,
                    f1_second=other_f1,
                    delta_f1=delta,
                    small=row.small or other.small,
                )
            )
    return sorted(rows, key=lambda r: (r.delta_f1 is None, -(r.delta_f1 or 0.0)))
