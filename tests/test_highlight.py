"""`predictions_core.ui.highlight`: merged spans, exact offsets, marks that overlap, escaping."""

from __future__ import annotations

import html
import re

import pytest

from predictions_core.query.text_search import substring_hits
from predictions_core.ui.highlight import (
    SEARCH_CLASS,
    SPAN_CLASS,
    MarkLayer,
    card_html,
    legend_html,
    merge_ranges,
    passage_html,
)

MARK = re.compile(r'<mark class="([^"]*)"(?: title="[^"]*")?>(.*?)</mark>', re.S)


def marked(fragment: str) -> list[tuple[str, str]]:
    """(classes, unescaped text) of every mark in an HTML fragment, in order."""
    return [(classes, html.unescape(body)) for classes, body in MARK.findall(fragment)]


def plain_text(fragment: str) -> str:
    """The text a browser would show: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def spans_html(text: str, ranges) -> str:
    return passage_html(text, [MarkLayer(SPAN_CLASS, ranges)])


def test_overlapping_and_touching_spans_become_one_mark():
    text = "greenhouse gas emissions rose"
    fragment = spans_html(text, [(0, 10), (5, 14), (14, 24)])
    assert marked(fragment) == [(SPAN_CLASS, "greenhouse gas emissions")]
    assert plain_text(fragment) == text


def test_separate_spans_stay_separate_in_order():
    text = "CO2 and CH4 and N2O"
    fragment = spans_html(text, [(16, 19), (0, 3), (8, 11)])
    assert [body for _, body in marked(fragment)] == ["CO2", "CH4", "N2O"]


def test_merge_ranges_clips_to_text_and_drops_empty_ranges():
    assert merge_ranges([(-3, 2), (4, 4), (8, 50), (9, 12)], text_length=10) == [(0, 2), (8, 10)]
    assert merge_ranges([], text_length=0) == []


def test_offsets_are_code_points_after_emoji():
    text = "🌍 Our planet: greenhouse gas 🌍 matters"
    start = text.index("greenhouse gas")
    # code point index, as spans store it (the emoji is one code point, two UTF-16 units)
    assert start == 14
    fragment = spans_html(text, [(start, start + len("greenhouse gas"))])
    assert marked(fragment) == [(SPAN_CLASS, "greenhouse gas")]
    assert plain_text(fragment) == text


def test_offsets_exact_with_combining_accents():
    # "é" written as e + U+0301: two code points, shown as one character
    text = "Pe\u0301rou: émissions de gaz"
    start = text.index("émissions")
    fragment = spans_html(text, [(start, start + len("émissions"))])
    assert marked(fragment) == [(SPAN_CLASS, "émissions")]
    assert plain_text(fragment) == text


def test_spans_at_the_very_start_and_end():
    text = "methane is a greenhouse gas"
    fragment = spans_html(text, [(0, 7), (13, len(text))])
    assert fragment.startswith(f'<mark class="{SPAN_CLASS}">methane</mark>')
    assert fragment.endswith("greenhouse gas</mark>")


def test_empty_text_and_no_layers():
    assert passage_html("", [MarkLayer(SPAN_CLASS, [(0, 3)])]) == ""
    assert passage_html("plain", []) == "plain"


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>window.__xss=1</script>",
        '<img src=x onerror="window.__xss=2">',
        "Fish & Chips \"quoted\" 'single' </mark><b>x</b>",
    ],
)
def test_every_text_segment_is_escaped(hostile: str):
    text = f"before {hostile} after"
    start = text.index(hostile)
    # a span that cuts the hostile markup in the middle must not let any of it through
    fragment = passage_html(
        text,
        [
            MarkLayer(SPAN_CLASS, [(start + 2, start + 12)], title='"><script>alert(1)</script>'),
            MarkLayer(SEARCH_CLASS, [(0, start + 5)]),
        ],
    )
    assert "<script" not in fragment and "<img" not in fragment and "<b>" not in fragment
    assert plain_text(fragment) == text
    tags = re.findall(r"<(/?[a-z]+)", fragment)
    assert set(tags) <= {"mark", "/mark"}


def test_card_and_legend_escape_metadata_and_titles():
    card = card_html(
        "text",
        [MarkLayer(SPAN_CLASS, [(0, 4)], "classifier <b>")],
        [("document", "<script>x</script>"), ("year", 2020), ("region", None)],
    )
    assert "<script>" not in card and "&lt;script&gt;" in card
    assert "region" not in card  # missing values are left out
    legend = legend_html([MarkLayer("pc-a", (), "A: <img onerror=1>")])
    assert "<img" not in legend and "&lt;img onerror=1&gt;" in legend


def test_search_and_span_overlap_carry_both_classes():
    text = "net zero emissions by 2050"
    fragment = passage_html(
        text,
        [
            MarkLayer(SPAN_CLASS, [(9, 18)]),
            MarkLayer(SEARCH_CLASS, substring_hits(text, "ZERO EM")),
        ],
    )
    assert marked(fragment) == [
        (SEARCH_CLASS, "zero "),
        (f"{SPAN_CLASS} {SEARCH_CLASS}", "em"),
        (SPAN_CLASS, "issions"),
    ]


def test_the_judged_line_is_escaped_and_cards_make_one_block():
    from predictions_core.ui.highlight import card_html, card_list_html

    judged = 'Your judgement: ✓ correct · ✗ <img src=x onerror="alert(1)">'
    card = card_html("text", [], [("#", "1")], judged)
    assert '<div class="pc-judged">Your judgement: ✓ correct · ✗ &lt;img' in card
    assert "<img" not in card
    assert "pc-judged" not in card_html("text", [], [("#", "1")])  # nobody judged: no line
    block = card_list_html([card, card])
    assert block.startswith('<div class="pc-cards">') and block.count('class="pc-card"') == 2


def test_the_metadata_line_is_text_with_no_element_but_the_document_link():
    # 50 cards per page: an element more per item made every click slower in Chromium
    from predictions_core.ui.highlight import Link, metadata_html

    line = metadata_html(
        [
            ("#", "51"),
            ("document", Link("Plan <A>", "https://example.org/d")),
            ("score", None),
            ("region", "Europe & Asia"),
        ]
    )
    assert line == (
        '#51 · document: <a href="https://example.org/d" target="_blank" '
        'rel="noopener noreferrer">Plan &lt;A&gt;</a> · region: Europe &amp; Asia'
    )
