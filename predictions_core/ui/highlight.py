"""Passage text as HTML with spans and search hits marked — every text segment escaped.

Where the search hits are is search logic (`query.text_search.search_hits`); this module only
marks the ranges it is given.

Pure functions (no Streamlit). The dashboard passes `passage_html` output, and only that,
to `st.html`: whatever a passage contains (`<script>`, `<img onerror=…>`, `&`, quotes) is
escaped here, so it shows as text and runs nothing.

Offsets are Python `str` indices (code points), the unit spans use; emoji and combining
accents therefore need no correction. Marks never nest: the text is cut at every range
boundary and each piece gets one `<mark>` whose classes say which layers cover it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from predictions_core.query.text_search import Range

SEARCH_CLASS = "pc-search"
SPAN_CLASS = "pc-span"


@dataclass(frozen=True)
class MarkLayer:
    """Ranges to mark with one CSS class (a classifier's spans, or search hits)."""

    css_class: str
    ranges: Sequence[Range]
    title: str = ""


def merge_ranges(ranges: Iterable[Range], text_length: int) -> list[Range]:
    """Clip ranges to `[0, text_length]`, drop empty ones, merge overlapping or touching."""
    clipped = sorted(
        (max(0, start), min(text_length, end))
        for start, end in ranges
        if min(text_length, end) > max(0, start)
    )
    merged: list[Range] = []
    for start, end in clipped:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def span_ranges(spans: Iterable[dict] | None) -> list[Range]:
    """`(start_index, end_index)` of span dicts as the loaded table holds them."""
    return [(int(s["start_index"]), int(s["end_index"])) for s in spans or []]


def passage_html(text: str, layers: Sequence[MarkLayer]) -> str:
    """`text`, escaped, with each layer's (merged) ranges wrapped in `<mark>` elements.

    Where layers overlap, the piece carries both classes (`<mark class="a b">`), so the
    CSS can show the overlap; a piece outside every range is plain escaped text.
    """
    merged = [(layer, merge_ranges(layer.ranges, len(text))) for layer in layers]
    cuts = {0, len(text)}
    for _, ranges in merged:
        for start, end in ranges:
            cuts.update((start, end))
    bounds = sorted(cuts)
    parts: list[str] = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        segment = html.escape(text[start:end], quote=True)
        covering = [layer for layer, ranges in merged if _covers(ranges, start, end)]
        if not covering:
            parts.append(segment)
            continue
        classes = " ".join(layer.css_class for layer in covering)
        titles = ", ".join(layer.title for layer in covering if layer.title)
        title = f' title="{html.escape(titles, quote=True)}"' if titles else ""
        parts.append(f'<mark class="{html.escape(classes, quote=True)}"{title}>{segment}</mark>')
    return "".join(parts)


def _covers(ranges: list[Range], start: int, end: int) -> bool:
    # cuts include every boundary, so a piece is either inside a range or outside all of them
    return any(low <= start and end <= high for low, high in ranges)


@dataclass(frozen=True)
class Link:
    """A metadata value shown as a link (`url` None: as plain text).

    `url` must come from `query.links` (an `http`/`https` URL whose values are URL-encoded);
    `link_html` checks the scheme again and escapes both parts.
    """

    text: str
    url: str | None = None


def link_html(link: Link) -> str:
    """`<a>` to `link.url` (opened in a new tab, no referrer), or the escaped text alone."""
    text = html.escape(link.text)
    url = link.url or ""
    if not url.lower().startswith(("http://", "https://")):
        return text
    return (
        f'<a href="{html.escape(url, quote=True)}" target="_blank" '
        f'rel="noopener noreferrer">{text}</a>'
    )


def metadata_html(items: Iterable[tuple[str, object]]) -> str:
    """A line of `label: value` pairs (missing values left out), escaped; a `Link` as a link.

    Plain text apart from links: a page draws 50 of these lines on every rerun, and each
    element more per item (a `<span>`, a `<b>`) made a click measurably slower in Chromium.
    The label "#" (the card's number) is written before its value without a colon ("#51").
    """
    shown = [
        f"#{_value_html(value)}" if label == "#" else f"{html.escape(label)}: {_value_html(value)}"
        for label, value in items
        if value not in (None, "") and not (isinstance(value, Link) and not value.text)
    ]
    return " · ".join(shown)


def _value_html(value: object) -> str:
    return link_html(value) if isinstance(value, Link) else html.escape(str(value))


def card_html(
    text: str,
    layers: Sequence[MarkLayer],
    metadata: Iterable[tuple[str, object]],
    judged: str = "",
) -> str:
    """One passage card: the metadata line above the highlighted text, then `judged` (a line
    of plain text saying who judged the passage how; escaped here, left out when empty)."""
    line = f'<div class="pc-judged">{html.escape(judged)}</div>' if judged else ""
    return (
        f'<div class="pc-card"><div class="pc-meta">{metadata_html(metadata)}</div>'
        f'<div class="pc-text">{passage_html(text, layers)}</div>{line}</div>'
    )


def card_list_html(cards: Iterable[str]) -> str:
    """Cards made by `card_html`, one after the other, as one block (one element to draw)."""
    return '<div class="pc-cards">' + "".join(cards) + "</div>"


def legend_html(layers: Sequence[MarkLayer]) -> str:
    """A legend: one sample mark per layer, labelled with its title (escaped)."""
    samples = [
        f'<mark class="{html.escape(layer.css_class, quote=True)}">'
        f"{html.escape(layer.title or layer.css_class)}</mark>"
        for layer in layers
    ]
    return '<div class="pc-legend">' + " ".join(samples) + "</div>"


MARK_CSS = """
<style>
.pc-cards .pc-card { border: 1px solid rgba(128, 128, 128, 0.3); border-radius: 0.5rem;
  padding: 0.75rem 1rem; margin-bottom: 0.75rem; }
.pc-card .pc-judged { font-size: 0.8rem; opacity: 0.75; margin-top: 0.35rem; }
.pc-card .pc-text { white-space: pre-wrap; line-height: 1.6; overflow-wrap: anywhere; }
.pc-card .pc-meta { font-size: 0.8rem; opacity: 0.75; margin-bottom: 0.35rem; }
.pc-card .pc-meta a { color: inherit; text-decoration: underline; }
.pc-card mark, .pc-legend mark {
  color: inherit; background: transparent; padding: 0 0.1em; border-radius: 0.2em; }
mark.pc-span, mark.pc-a { background: rgba(255, 170, 0, 0.38); }
mark.pc-b { background: rgba(0, 150, 255, 0.32); }
mark.pc-a.pc-b { background: rgba(160, 90, 255, 0.38); }
mark.pc-search { outline: 2px solid rgba(220, 40, 90, 0.85); outline-offset: -1px; }
.pc-legend { font-size: 0.85rem; margin: 0.25rem 0 0.5rem 0; }
.pc-legend mark { margin-right: 0.5rem; }
</style>
"""
