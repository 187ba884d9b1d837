"""Score classifiers against gold labels (CONTRACT §2 gold, §5 `GET /api/evaluation/{qid}`).

Rules (each result repeats them in `notes`):

- Gold: a passage is positive when it has at least one span of the concept (`concept_id`
  None or the QID), all labellers together. Span-level gold is the union of every labeller's
  spans with identical spans counted once. Gold passages with the same text are one passage
  (spans merged), so the concept file and reviewers' feedback can be combined.
- Matching: a gold passage is found in a classifier's predictions by id (when the texts agree),
  else by exact text. A gold passage that is not found is excluded from that classifier's
  scores (`n_excluded`) — except in a file with positives only (no row without spans, as the
  older layout writes): there a missing passage is a predicted negative (`assumed_negative`).
- Zero denominators: precision/recall/F1 are None (null), "undefined", never a made-up 0.
  Passage-level F1 is `2tp / (2tp + fp + fn)`: 0.0 when nothing was matched, None only when
  there is no positive on either side. Span-level F1 is the harmonic mean of precision and
  recall; 0.0 when one side has spans and nothing matched, None when neither side has any.
- Intervals: percentile bootstrap over passages (seeded). Passage-level scores depend only on
  the counts of tp/fp/fn/tn passages, and resampling n passages with replacement draws those
  counts from a multinomial, so each resample is one multinomial draw (vectorised, O(resamples)).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from predictions_core.data.catalogue import ClassifierEntry
from predictions_core.data.loading import LoadedPredictions
from predictions_core.data.models import LabelledPassage
from predictions_core.errors import InvalidParameterError, NotFoundError
from predictions_core.feedback.store import FeedbackStore

GOLD_SOURCES = ("auto", "concept", "feedback", "both")
DIMENSIONS = {
    "region": ("world_bank_region", "document_metadata.world_bank_region"),
    "corpus": ("document_metadata.corpus_type_name", "corpus_type_name"),
    "translated": ("translated",),
}
UNKNOWN = "(unknown)"
_TRANSLATED = {
    "true": "true",
    "1": "true",
    "yes": "true",
    "false": "false",
    "0": "false",
    "no": "false",
}
SMALL_SLICE = 10
MAX_ERROR_CARDS = 1_000
HOW_TO_ADD_GOLD = (
    "add `labelled_passages` to the concept file ({qid}/concept.json), or review predictions "
    "on the Browse page (✓ correct / ✗ incorrect) and choose reviewers' feedback as gold"
)
NOTES = [
    "A gold passage is positive when it has at least one span of the concept (all labellers).",
    "Gold passages missing from a classifier's predictions are excluded from its scores, "
    "except in positives-only files, where they count as predicted negatives.",
    "Precision, recall and F1 are null where their denominator is zero.",
    "Intervals: 95% percentile bootstrap over passages.",
]

SpanSet = frozenset[tuple[int, int]]


@dataclass(frozen=True)
class GoldPassage:
    """One gold passage: its spans of the concept, all labellers together and per labeller."""

    id: str
    text: str
    metadata: dict[str, Any]
    spans: SpanSet
    spans_by_labeller: dict[str, SpanSet] = field(default_factory=dict)

    @property
    def is_positive(self) -> bool:
        return bool(self.spans)


@dataclass(frozen=True)
class ScoredPassage:
    """A gold passage and what one classifier predicted on it."""

    gold: GoldPassage
    predicted: SpanSet

    @property
    def predicted_positive(self) -> bool:
        return bool(self.predicted)


# ---------------------------------------------------------------------- gold labels


def concept_spans(spans: Iterable[Any], qid: str, text_length: int) -> list[tuple[Any, int, int]]:
    """`(span, start, end)` of the spans of concept `qid` that lie inside the text.

    Spans are `Span` models (gold) or dicts (rows of a predictions table).
    """
    found = []
    for span in spans:
        fields = span if isinstance(span, dict) else span.__dict__
        start, end = fields.get("start_index"), fields.get("end_index")
        if fields.get("concept_id") in (None, qid) and 0 <= start < end <= text_length:
            found.append((span, start, end))
    return found


def gold_from_passages(passages: Iterable[LabelledPassage], qid: str) -> list[GoldPassage]:
    """Gold passages of concept `qid`, passages with the same text merged (spans united)."""
    by_text: dict[str, tuple[LabelledPassage, dict[str, set]]] = {}
    for passage in passages:
        _, by_labeller = by_text.setdefault(passage.text, (passage, {}))
        for span, start, end in concept_spans(passage.spans, qid, len(passage.text)):
            for labeller in span.labellers or ["(unnamed)"]:
                by_labeller.setdefault(labeller, set()).add((start, end))
    gold = []
    for text, (first, by_labeller) in by_text.items():
        union = frozenset().union(*by_labeller.values()) if by_labeller else frozenset()
        frozen = {name: frozenset(spans) for name, spans in sorted(by_labeller.items())}
        gold.append(GoldPassage(first.id, text, first.metadata, union, frozen))
    return gold


def gold_passages(
    concept_passages: Sequence[LabelledPassage],
    feedback_passages: Sequence[LabelledPassage],
    qid: str,
    source: str,
) -> tuple[str, list[GoldPassage]]:
    """The gold set for `source` and the source actually used (`auto` resolved).

    `auto` is the concept's gold labels when it has any, else reviewers' feedback.
    """
    if source not in GOLD_SOURCES:
        choices = ", ".join(GOLD_SOURCES)
        raise InvalidParameterError("gold_source", f"{source!r} is not one of {choices}")
    if source == "auto":
        source = "concept" if concept_passages else "feedback"
    chosen = {
        "concept": list(concept_passages),
        "feedback": list(feedback_passages),
        "both": [*concept_passages, *feedback_passages],
    }[source]
    return source, gold_from_passages(chosen, qid)


# ---------------------------------------------------------------------- scores


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is zero."""
    return numerator / denominator if denominator else None


def passage_scores(tp: int, fp: int, fn: int, tn: int = 0) -> dict[str, Any]:
    """Counts, precision, recall and F1 (`2tp / (2tp + fp + fn)`), None where undefined."""
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
        "f1": ratio(2 * tp, 2 * tp + fp + fn),
    }


def confusion_counts(gold: np.ndarray, predicted: np.ndarray) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) of two boolean arrays."""
    gold, predicted = np.asarray(gold, dtype=bool), np.asarray(predicted, dtype=bool)
    return (
        int(np.sum(gold & predicted)),
        int(np.sum(~gold & predicted)),
        int(np.sum(gold & ~predicted)),
        int(np.sum(~gold & ~predicted)),
    )


def bootstrap_intervals(
    counts: Sequence[int], *, n_resamples: int = 1_000, seed: int = 0, confidence: float = 0.95
) -> dict[str, Any]:
    """Percentile bootstrap intervals of precision, recall and F1 from (tp, fp, fn, tn).

    Resamples where a score is undefined are left out of that score's interval; an interval
    is None when no resample defines it.
    """
    counts = np.asarray(counts, dtype=float)
    n = int(counts.sum())
    result: dict[str, Any] = {"n_resamples": n_resamples, "seed": seed, "confidence": confidence}
    result["method"] = "percentile bootstrap over passages"
    if n == 0:
        return result | {"precision": None, "recall": None, "f1": None}
    draws = np.random.default_rng(seed).multinomial(n, counts / n, size=n_resamples)
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
        low, high = np.percentile(defined, [tail, 100 - tail]) if defined.size else (None, None)
        result[name] = None if low is None else [float(low), float(high)]
    return result


def _span_f1(precision: float | None, recall: float | None, n_any: int) -> float | None:
    if n_any == 0:
        return None
    if precision is None or recall is None or precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _overlaps(span: tuple[int, int], others: SpanSet) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


def span_scores(pairs: Iterable[tuple[SpanSet, SpanSet]]) -> dict[str, dict[str, Any]]:
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
        predicted_overlapping += sum(_overlaps(span, gold) for span in predicted)
        gold_overlapped += sum(_overlaps(span, predicted) for span in gold)

    def scores(predicted_matched: int, gold_matched: int) -> dict[str, Any]:
        precision, recall = ratio(predicted_matched, n_predicted), ratio(gold_matched, n_gold)
        return {
            "n_predicted": n_predicted,
            "n_gold": n_gold,
            "predicted_matched": predicted_matched,
            "gold_matched": gold_matched,
            "precision": precision,
            "recall": recall,
            "f1": _span_f1(precision, recall, n_gold + n_predicted),
        }

    return {
        "exact": scores(exact, exact),
        "overlap": scores(predicted_overlapping, gold_overlapped),
    }


# ---------------------------------------------------------------------- matching predictions


@dataclass
class MatchedPredictions:
    """What one classifier predicted on the gold passages it can be scored on."""

    scored: list[ScoredPassage]
    n_excluded: int
    assumed_negative: int
    positives_only: bool


def match_predictions(
    gold: Sequence[GoldPassage], loaded: LoadedPredictions, qid: str
) -> MatchedPredictions:
    """Find each gold passage in a predictions table (by id, else by exact text).

    Missing passages are excluded, or predicted negatives in a positives-only file.
    """
    table = loaded.table
    positives_only = not bool(pc.any(pc.equal(table["n_spans"], 0)).as_py())
    if table.num_rows == 0 and loaded.issues:
        positives_only = False  # an unreadable file says nothing: every passage is excluded
    ids = pa.array([passage.id for passage in gold], type=pa.string())
    texts = pa.array([passage.text for passage in gold], type=pa.string())
    wanted = pc.or_(pc.is_in(table["id"], value_set=ids), pc.is_in(table["text"], value_set=texts))
    rows = table.filter(wanted).select(["id", "text", "spans"]).to_pylist()
    by_id: dict[str, dict] = {}
    by_text: dict[str, dict] = {}
    for row in rows:
        by_id.setdefault(row["id"], row)
        by_text.setdefault(row["text"], row)
    scored, n_excluded, assumed_negative = [], 0, 0
    for passage in gold:
        row = by_id.get(passage.id)
        if row is None or row["text"] != passage.text:
            row = by_text.get(passage.text) or row
        if row is not None:
            spans = concept_spans(row["spans"] or [], qid, len(row["text"]))
            predicted = frozenset((start, end) for _, start, end in spans)
            scored.append(ScoredPassage(passage, predicted))
        elif positives_only:
            scored.append(ScoredPassage(passage, frozenset()))
            assumed_negative += 1
        else:
            n_excluded += 1
    return MatchedPredictions(scored, n_excluded, assumed_negative, positives_only)


# ---------------------------------------------------------------------- per classifier


def metadata_text(metadata: dict[str, Any], keys: Sequence[str]) -> str | None:
    """The first non-empty value among `keys`, flat (`"a.b"`) or nested (`a` → `b`)."""
    for key in keys:
        value = metadata.get(key)
        if value is None and "." in key:
            value = metadata
            for part in key.split("."):
                value = value.get(part) if isinstance(value, dict) else None
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def slice_value(metadata: dict[str, Any], dimension: str) -> str:
    """The passage's value of a breakdown dimension (`region`, `corpus`, `translated`)."""
    value = metadata_text(metadata, DIMENSIONS[dimension])
    if dimension == "translated" and value is not None:
        value = _TRANSLATED.get(value.lower())
    return value or UNKNOWN


def _outcomes(scored: Sequence[ScoredPassage]) -> tuple[np.ndarray, np.ndarray]:
    gold = np.array([p.gold.is_positive for p in scored], dtype=bool)
    predicted = np.array([p.predicted_positive for p in scored], dtype=bool)
    return gold, predicted


def breakdown(scored: Sequence[ScoredPassage]) -> dict[str, list[dict[str, Any]]]:
    """Passage-level scores per value of each dimension; `small` when n < SMALL_SLICE."""
    result: dict[str, list[dict[str, Any]]] = {}
    for dimension in DIMENSIONS:
        groups: dict[str, list[ScoredPassage]] = {}
        for passage in scored:
            groups.setdefault(slice_value(passage.gold.metadata, dimension), []).append(passage)
        rows = []
        for value, members in groups.items():
            counts = confusion_counts(*_outcomes(members))
            row = {"value": value, "n": len(members), **passage_scores(*counts)}
            rows.append(row | {"small": len(members) < SMALL_SLICE})
        result[dimension] = sorted(rows, key=lambda row: (-row["n"], row["value"]))
    return result


def _error_card(passage: ScoredPassage) -> dict[str, Any]:
    metadata = passage.gold.metadata
    return {
        "id": passage.gold.id,
        "text": passage.gold.text,
        "gold_spans": sorted(passage.gold.spans),
        "predicted_spans": sorted(passage.predicted),
        **{dimension: slice_value(metadata, dimension) for dimension in DIMENSIONS},
    }


def score_classifier(
    entry: ClassifierEntry,
    matched: MatchedPredictions,
    n_issues: int = 0,
    *,
    n_resamples: int = 1_000,
    seed: int = 0,
) -> dict[str, Any]:
    """Every score of one classifier on the gold passages it was matched to."""
    scored = matched.scored
    counts = confusion_counts(*_outcomes(scored))
    passage = passage_scores(*counts)
    passage["ci"] = bootstrap_intervals(counts, n_resamples=n_resamples, seed=seed)
    false_positives = [p for p in scored if p.predicted_positive and not p.gold.is_positive]
    false_negatives = [p for p in scored if p.gold.is_positive and not p.predicted_positive]
    return {
        "id": entry.id,
        "name": entry.classifier.name,
        "layout": entry.layout,
        "positives_only": matched.positives_only,
        "n_scored": len(scored),
        "n_excluded": matched.n_excluded,
        "assumed_negative": matched.assumed_negative,
        "n_issues": n_issues,
        "passage": passage,
        "span": span_scores((p.gold.spans, p.predicted) for p in scored),
        "breakdown": breakdown(scored),
        "false_positives": [_error_card(p) for p in false_positives[:MAX_ERROR_CARDS]],
        "false_negatives": [_error_card(p) for p in false_negatives[:MAX_ERROR_CARDS]],
    }


# ---------------------------------------------------------------------- labeller agreement


def labeller_agreement(gold: Sequence[GoldPassage]) -> dict[str, Any] | None:
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
    ceiling = max(pairs, key=lambda pair: pair["passage"]["tp"], default=None)
    return {
        "labellers": labellers,
        "n_passages": len(gold),
        "assumption": "every labeller is assumed to have seen every gold passage",
        "pairs": pairs,
        "ceiling": ceiling,
    }


def _agreement_pair(gold: Sequence[GoldPassage], first: str, second: str) -> dict[str, Any]:
    empty: SpanSet = frozenset()
    spans_a = [p.spans_by_labeller.get(first, empty) for p in gold]
    spans_b = [p.spans_by_labeller.get(second, empty) for p in gold]
    tp, fp, fn, tn = confusion_counts([bool(s) for s in spans_a], [bool(s) for s in spans_b])
    n = tp + fp + fn + tn
    observed = (tp + tn) / n
    expected = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n)
    kappa = None if expected == 1 else (observed - expected) / (1 - expected)
    return {
        "labellers": [first, second],
        "passage": passage_scores(tp, fp, fn, tn) | {"kappa": kappa, "observed": observed},
        "span": span_scores(zip(spans_a, spans_b, strict=True)),
    }


# ---------------------------------------------------------------------- the whole concept


def evaluate_concept(
    store: Any,
    qid: str,
    *,
    gold_source: str = "auto",
    feedback_store: FeedbackStore | None = None,
    n_resamples: int = 1_000,
    seed: int = 0,
) -> dict[str, Any]:
    """Every classifier of concept `qid` against its gold labels (CONTRACT §5).

    `store` is a `PredictionStore`. `gold_source`: `concept` (labelled_passages of the
    concept file), `feedback` (reviewers' judgements), `both`, or `auto` (concept, else
    feedback). `feedback_store` defaults to the settings' feedback database. Raises
    `InvalidParameterError` for a bad id or source, `NotFoundError` for an unknown concept
    or when the chosen source holds no gold passage.
    """
    entry = store.catalogue().concept(qid)
    feedback: list[LabelledPassage] = []
    if gold_source in ("feedback", "both") or (gold_source == "auto" and not entry.gold_passages):
        feedback_store = feedback_store or FeedbackStore(store.settings.resolved_feedback_db)
        feedback = feedback_store.labelled_passages(qid)
    source, gold = gold_passages(entry.gold_passages, feedback, qid, gold_source)
    if not gold:
        raise NotFoundError(_no_gold_message(qid, gold_source))
    classifiers = []
    for classifier in entry.classifiers.values():
        loaded = store.load_entry(classifier)
        matched = match_predictions(gold, loaded, qid)
        scores = score_classifier(
            classifier, matched, len(loaded.issues), n_resamples=n_resamples, seed=seed
        )
        classifiers.append(scores)
    concept_gold = gold_from_passages(entry.gold_passages, qid)
    return {
        "wikibase_id": qid,
        "preferred_label": entry.concept.preferred_label,
        "gold_source": source,
        "n_gold": len(gold),
        "n_gold_positive": sum(passage.is_positive for passage in gold),
        "n_gold_spans": sum(len(passage.spans) for passage in gold),
        "classifiers": classifiers,
        "labeller_agreement": labeller_agreement(concept_gold),
        "small_slice": SMALL_SLICE,
        "notes": NOTES,
    }


def _no_gold_message(qid: str, gold_source: str) -> str:
    missing = {
        "concept": "no gold labels",
        "feedback": "no reviewers' judgements (✓ correct / ✗ incorrect) yet",
    }.get(gold_source, "no gold labels and no reviewers' judgements")
    return f"concept {qid} has {missing}: " + HOW_TO_ADD_GOLD.format(qid=qid)


def compare_slices(result: dict[str, Any], first_id: str, second_id: str) -> list[dict[str, Any]]:
    """Where does `first_id` beat `second_id`: breakdown slices ranked by F1(first) - F1(second).

    Slices where either F1 is undefined come last. `n_first` and `n_second` can differ when
    the classifiers were scored on different passages (exclusions).
    """
    by_id = {classifier["id"]: classifier for classifier in result["classifiers"]}
    for name, value in (("a", first_id), ("b", second_id)):
        if value not in by_id:
            raise InvalidParameterError(name, f"classifier {value!r} is not in this evaluation")
    first, second = by_id[first_id]["breakdown"], by_id[second_id]["breakdown"]
    rows = []
    for dimension in DIMENSIONS:
        second_rows = {row["value"]: row for row in second[dimension]}
        for row in first[dimension]:
            other = second_rows.get(row["value"])
            if other is None:
                continue
            defined = row["f1"] is not None and other["f1"] is not None
            delta = row["f1"] - other["f1"] if defined else None
            rows.append(
                {
                    "dimension": dimension,
                    "value": row["value"],
                    "n_first": row["n"],
                    "n_second": other["n"],
                    "f1_first": row["f1"],
                    "f1_second": other["f1"],
                    "delta_f1": delta,
                    "small": row["small"] or other["small"],
                }
            )
    return sorted(rows, key=lambda r: (r["delta_f1"] is None, -(r["delta_f1"] or 0.0)))
