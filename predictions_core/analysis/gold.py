"""Gold sets (CONTRACT §2 gold) and finding their passages in a classifier's predictions.

- Gold: a passage is positive when it has at least one span of the concept (`concept_id`
  None or the QID), all labellers together. Span-level gold is the union of every labeller's
  spans with identical spans counted once. Gold passages with the same text are one passage
  (spans merged), so the concept file and reviewers' feedback can be combined.
- Matching: a gold passage is found in a classifier's predictions by id (when the texts agree),
  else by exact text. A gold passage that is not found is excluded from that classifier's
  scores (`n_excluded`) — except in a file with positives only (no row without spans, as the
  older layout writes): there a missing passage is a predicted negative (`assumed_negative`).
- Scores: a matched passage's score is the highest `prediction_probability` among its spans of
  the concept (else the table's `score` column, where the loader wrote one); None without one.
  `ScoredPassage.at_threshold(T)` keeps a passage positive only when its score is >= T.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from predictions_core.analysis.metrics import SpanSet
from predictions_core.data.loading import LoadedPredictions
from predictions_core.data.models import LabelledPassage
from predictions_core.errors import InvalidParameterError

GOLD_SOURCES = ("auto", "concept", "feedback", "both")


@dataclass(frozen=True)
class GoldPassage:
    """One gold passage: its spans of the concept, all labellers together and per labeller."""

    id: str
    text: str
    metadata: dict[str, Any]
    spans: SpanSet
    spans_by_labeller: dict[str, SpanSet] = field(default_factory=dict)
    # every labeller's spans of the concept in the order the file lists them, repeats kept:
    # the upstream evaluation merges them in this order (`span_jaccard`)
    listed_spans: tuple[tuple[int, int], ...] = ()

    @property
    def is_positive(self) -> bool:
        """True when any labeller marked a span of the concept."""
        return bool(self.spans)


@dataclass(frozen=True)
class ScoredPassage:
    """A gold passage and what one classifier predicted on it.

    `predicted_listed` is the predicted spans as the file lists them (repeats kept) with
    their `probabilities` (None where a span has none); `score` the passage's score.
    """

    gold: GoldPassage
    predicted: SpanSet
    predicted_listed: tuple[tuple[int, int], ...] = ()
    probabilities: tuple[float | None, ...] = ()
    score: float | None = None

    @property
    def predicted_positive(self) -> bool:
        """True when the classifier found at least one span of the concept."""
        return bool(self.predicted)

    def at_threshold(self, threshold: float) -> ScoredPassage:
        """What the classifier predicts when only passages scoring >= `threshold` count.

        Below the threshold (or without a score) the passage has no predicted span; above
        it, spans whose own probability is below the threshold are dropped too.
        """
        if self.score is not None and self.score >= threshold:
            kept = [
                (span, p)
                for span, p in zip(self.predicted_listed, self.probabilities, strict=True)
                if p is None or p >= threshold
            ]
        else:
            kept = []
        listed = tuple(span for span, _ in kept)
        probabilities = tuple(p for _, p in kept)
        return replace(
            self, predicted=frozenset(listed), predicted_listed=listed, probabilities=probabilities
        )


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
    by_text: dict[str, tuple[LabelledPassage, dict[str, set], list]] = {}
    for passage in passages:
        _, by_labeller, listed = by_text.setdefault(passage.text, (passage, {}, []))
        for span, start, end in concept_spans(passage.spans, qid, len(passage.text)):
            listed.append((start, end))
            for labeller in span.labellers or ["(unnamed)"]:
                by_labeller.setdefault(labeller, set()).add((start, end))
    gold = []
    for text, (first, by_labeller, listed) in by_text.items():
        union = frozenset().union(*by_labeller.values()) if by_labeller else frozenset()
        frozen = {name: frozenset(spans) for name, spans in sorted(by_labeller.items())}
        gold.append(GoldPassage(first.id, text, first.metadata, union, frozen, tuple(listed)))
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
    check_gold_source(source)
    if source == "auto":
        source = "concept" if concept_passages else "feedback"
    chosen = {
        "concept": list(concept_passages),
        "feedback": list(feedback_passages),
        "both": [*concept_passages, *feedback_passages],
    }[source]
    return source, gold_from_passages(chosen, qid)


def check_gold_source(source: str) -> None:
    """`InvalidParameterError` unless `source` is one of `GOLD_SOURCES`."""
    if source not in GOLD_SOURCES:
        choices = ", ".join(GOLD_SOURCES)
        raise InvalidParameterError("gold_source", f"{source!r} is not one of {choices}")


def needs_feedback(source: str, concept_passages: Sequence[LabelledPassage]) -> bool:
    """Whether the gold set of `source` reads reviewers' feedback (`auto`: when no concept gold)."""
    return source in ("feedback", "both") or (source == "auto" and not concept_passages)


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
    # `score`: the loader's column where it writes one (older caches have none)
    columns = ["id", "text", "spans"] + (["score"] if "score" in table.column_names else [])
    rows = table.filter(wanted).select(columns).to_pylist()
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
            scored.append(_scored_passage(passage, row, qid))
        elif positives_only:
            scored.append(ScoredPassage(passage, frozenset()))
            assumed_negative += 1
        else:
            n_excluded += 1
    return MatchedPredictions(scored, n_excluded, assumed_negative, positives_only)


def _scored_passage(passage: GoldPassage, row: dict, qid: str) -> ScoredPassage:
    spans = concept_spans(row["spans"] or [], qid, len(row["text"]))
    listed = tuple((start, end) for _, start, end in spans)
    probabilities = tuple(_probability(span) for span, _, _ in spans)
    known = [p for p in probabilities if p is not None]
    score = max(known) if known else row.get("score")
    if score is not None and listed and not known:
        # a score from the table's column only: every span carries the passage's score
        probabilities = (score,) * len(listed)
    return ScoredPassage(passage, frozenset(listed), listed, probabilities, score)


def _probability(span: dict) -> float | None:
    value = span.get("prediction_probability")
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
