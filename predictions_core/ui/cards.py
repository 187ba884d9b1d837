"""Passage cards: a metadata line, the highlighted text and who judged it; controls to judge.

The only HTML that reaches `st.html` here comes from `predictions_core.ui.highlight`, which
escapes every piece of passage text and metadata it emits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import orjson
import pyarrow as pa
import streamlit as st

from predictions_core.query.export import passages_from_batch
from predictions_core.query.filters import SearchPattern
from predictions_core.query.links import document_link
from predictions_core.query.text_search import search_hits
from predictions_core.ui.highlight import (
    MARK_CSS,
    SEARCH_CLASS,
    Link,
    MarkLayer,
    card_html,
    card_list_html,
    legend_html,
    span_ranges,
)


@dataclass(frozen=True)
class SpanColumn:
    """A column of span lists to mark, with its CSS class and legend title."""

    column: str
    css_class: str
    title: str


def inject_css() -> None:
    """The mark colours (semi-transparent, text colour inherited: light and dark themes)."""
    st.html(MARK_CSS)


def legend(span_columns: Sequence[SpanColumn], with_search: bool) -> None:
    """One sample mark per layer shown on the cards."""
    layers = [MarkLayer(c.css_class, (), c.title) for c in span_columns]
    if len(span_columns) > 1:  # where classifiers' spans overlap, the mark has every class
        overlap = "both" if len(span_columns) == 2 else "all of them"
        layers.append(MarkLayer(" ".join(c.css_class for c in span_columns), (), overlap))
    if with_search:
        layers.append(MarkLayer(SEARCH_CLASS, (), "search match"))
    st.html(legend_html(layers))


def metadata_items(row: dict, number: int, document_url: str = "") -> list[tuple[str, object]]:
    """What the card's first line shows, in order (empty values are left out).

    The document is its name (`document_name`) when the metadata has one, else its id, linked
    to the source document when `document_url` (`PREDICTIONS_DOCUMENT_URL`) makes a link.
    """
    translated = row.get("translated")
    metadata = _metadata_of(row)
    document_id = row.get("document_id")
    name = metadata.get("document_name")
    name = str(name).strip() if isinstance(name, str | int | float) else ""
    document = Link(name or str(document_id or ""), document_link(document_url, metadata))
    score = row.get("score")
    return [
        ("#", f"{number:,}"),
        ("document", document),
        ("document id", document_id if name and name != document_id else None),
        ("score", None if score is None else f"{score:.3f}"),
        ("region", row.get("region")),
        ("corpus", row.get("corpus")),
        ("translated", None if translated is None else ("yes" if translated else "no")),
        ("year", row.get("year")),
        ("spans", row.get("n_spans")),
        ("id", row.get("id")),
    ]


def _metadata_of(row: dict) -> dict:
    try:
        metadata = orjson.loads(row.get("metadata") or "{}")
    except orjson.JSONDecodeError:
        return {}
    return metadata if isinstance(metadata, dict) else {}


class Judging(Protocol):
    """How cards show and take judgements (made by `ui.feedback.passage_judging`)."""

    columns: Sequence[str]
    """The span columns judged: each card's controls get one passage per column."""

    def begin(self, review: bool) -> None:
        """Read the judgements for this run of the card list (say so if they cannot be)."""
        ...

    def header(self) -> None:
        """Above the cards in review mode: what a judgement means, who judges, exports."""
        ...

    def summary(self, record: dict) -> str:
        """One line of plain text: who judged the card's passage how ("" when nobody did)."""
        ...

    def controls(self, passages: Sequence[dict]) -> None:
        """Draw the judgement controls of one card (review mode)."""
        ...


def render_cards(
    rows: pa.Table,
    span_columns: Sequence[SpanColumn],
    search: SearchPattern | None,
    first_number: int,
    document_url: str = "",
    judging: Judging | None = None,
    review: bool = False,
) -> None:
    """The cards of `rows`: metadata, text with spans and search hits, who judged it how.

    Read mode draws every card in ONE `st.html` element: a browser draws and diffs one block
    much faster than a container and widgets per card. In `review` mode each card is a
    bordered container with `judging`'s controls under the text, which get the row as
    LabelledPassage dicts (id, text, spans, metadata), one per judged column, so a card judged
    per classifier sees that classifier's spans. `document_url` is the template of each card's
    link to its source document (empty: no links).
    """
    records = rows.to_pylist()
    hits = search_hits([record["text"] for record in records], search)
    cards = []
    for offset, record in enumerate(records):
        layers = [
            MarkLayer(c.css_class, span_ranges(record.get(c.column)), c.title) for c in span_columns
        ]
        layers.append(MarkLayer(SEARCH_CLASS, hits[offset], "search match"))
        items = metadata_items(record, first_number + offset, document_url)
        judged = judging.summary(record) if judging is not None else ""
        cards.append(card_html(record["text"], layers, items, judged))
    if judging is None or not review:
        st.html(card_list_html(cards))
        return
    passages = [_passages_with_spans_of(rows, column) for column in judging.columns]
    for offset, card in enumerate(cards):
        with st.container(border=True):
            st.html(card)
            judging.controls([column[offset] for column in passages])


def id_column_of(spans_column: str, columns: Sequence[str]) -> str:
    """The column holding the passage id of the classifier whose spans are `spans_column`:
    `id_b` beside `spans_b` on Compare (passages are matched by text, and B's file may give
    the passage another id than A's), `id` where the rows have no such column."""
    own = "id" + spans_column.removeprefix("spans")
    return own if own != "id" and own in columns else "id"


def _passages_with_spans_of(rows: pa.Table, column: str) -> list[dict]:
    id_column = id_column_of(column, rows.column_names)
    columns = rows.select([id_column, "text", column, "metadata"])
    return list(passages_from_batch(columns.rename_columns(["id", "text", "spans", "metadata"])))
