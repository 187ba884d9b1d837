"""Passage cards: a metadata line and the highlighted text, with an optional footer per card.

The only HTML that reaches `st.html` here comes from `predictions_core.ui.highlight`, which
escapes every piece of passage text and metadata it emits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa
import streamlit as st

from predictions_core.query.export import passages_from_batch
from predictions_core.query.filters import SearchPattern
from predictions_core.query.text_search import search_hits
from predictions_core.ui.highlight import (
    MARK_CSS,
    SEARCH_CLASS,
    MarkLayer,
    card_html,
    legend_html,
    span_ranges,
)

Footer = Callable[[dict], None]


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


def metadata_items(row: dict, number: int) -> list[tuple[str, object]]:
    """What the card's first line shows, in order (empty values are left out)."""
    translated = row.get("translated")
    return [
        ("#", f"{number:,}"),
        ("document", row.get("document_id")),
        ("region", row.get("region")),
        ("corpus", row.get("corpus")),
        ("translated", None if translated is None else ("yes" if translated else "no")),
        ("year", row.get("year")),
        ("spans", row.get("n_spans")),
        ("id", row.get("id")),
    ]


def render_cards(
    rows: pa.Table,
    span_columns: Sequence[SpanColumn],
    search: SearchPattern | None,
    first_number: int,
    footers: Sequence[tuple[str, Footer]] = (),
) -> None:
    """One bordered card per row: metadata, text with spans and search hits, then footers.

    `footers` are (span column, footer) pairs: each `footer(passage)` gets the row as a
    LabelledPassage dict (id, text, spans, metadata) whose spans are those of its column,
    so cards judged per classifier see that classifier's spans.
    """
    records = rows.to_pylist()
    hits = search_hits([record["text"] for record in records], search)
    passages = [_passages_with_spans_of(rows, column) for column, _ in footers]
    for offset, record in enumerate(records):
        layers = [
            MarkLayer(c.css_class, span_ranges(record.get(c.column)), c.title) for c in span_columns
        ]
        layers.append(MarkLayer(SEARCH_CLASS, hits[offset], "search match"))
        items = metadata_items(record, first_number + offset)
        with st.container(border=True):
            st.html(card_html(record["text"], layers, items))
            for (_, draw), column_passages in zip(footers, passages, strict=True):
                draw(column_passages[offset])


def _passages_with_spans_of(rows: pa.Table, column: str) -> list[dict]:
    columns = rows.select(["id", "text", column, "metadata"])
    return list(passages_from_batch(columns.rename_columns(["id", "text", "spans", "metadata"])))
