"""Text search: the prefilters may only ever skip work, never rows; hits at exact offsets."""

from __future__ import annotations

import re

import pytest

from predictions_core.query.engine import query_predictions
from predictions_core.query.filters import Filters, SearchPattern
from predictions_core.query.text_search import (
    re2_literal,
    regex_hits,
    required_literal,
    search_hits,
    substring_hits,
)


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        (r"\bforest\b", "forest"),
        ("forests?", "forest"),
        ("colou?r", "colo"),
        ("carbon (tax|price)", "carbon "),
        ("(green ?house|GHG)", None),  # a top-level choice: nothing is required
        ("forest|wood", None),
        (r"\b20[3-5]0\b", None),
        (r"\x66orest", None),  # an escape with arguments: no guess
        ("[abc]defg", "defg"),
        ("(?i)forestry", "forestry"),
        (r"C\+\+ code", "C++ code"),
        ("ab.cd", None),
        ("emissions{2,3}", "emission"),
    ],
)
def test_required_literal(pattern, literal):
    assert required_literal(pattern) == literal


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        ("black carbon|peatland", ["black carbon", "peatland"]),
        ("CO₂|carbon dioxide", ["CO₂", "carbon dioxide"]),
        ("forest|wo", None),  # a branch with no literal long enough: no prefilter
        ("a[|]b|cde", None),
        (r"x\|yz|abc", ["x|yz", "abc"]),
        ("(green ?house|GHG)", None),
    ],
)
def test_required_literals_one_per_branch(pattern, literals):
    from predictions_core.query.text_search import required_literals

    assert required_literals(pattern) == literals


@pytest.mark.parametrize("text", ["a.b", "100%", "(x)", "back\\slash", "C++", "[1]", "e\u0301"])
def test_re2_literal_matches_exactly_its_text(text):
    assert re.fullmatch(re2_literal(text), text)


@pytest.fixture(scope="module")
def demo_texts(demo_table):
    """The demo passages' texts by id, and their loaded table."""
    lines, table = demo_table
    return {line["id"]: line["text"] for line in lines}, table


@pytest.mark.parametrize(
    "search",
    [
        r"/\bforest\b/",
        r"/\bforests?\b/i",
        "/Forest[a-z]*/",
        "/wood(s|land)?/i",
        "/(?i)FORESTRY/",
        "/plantations?/",
        "/forest|wood/i",
        "/Forest|timber|logging/",
        "/(?i)forestry|WOOD/",
        r"/sustainable forest(ry)?|\bpulp\b/",
        "forest management",
        "Forest Management",
        "sustainable forest",
    ],
)
def test_prefiltered_searches_find_what_python_re_finds(demo_texts, search):
    texts, table = demo_texts
    parsed = SearchPattern.parse(search)
    pattern = parsed.pattern if parsed.is_regex else re.escape(parsed.pattern)
    flags = re.I if parsed.case_insensitive else 0
    expected = [pid for pid, text in texts.items() if re.search(pattern, text, flags)]
    assert expected, f"{search} should match something in the demo data"
    rows = query_predictions(table, Filters(search=search, page_size=1000)).rows
    assert rows["id"].to_pylist() == expected


def test_a_new_filter_on_the_same_search_reuses_the_text_scan(demo_texts):
    from predictions_core.query import engine as query

    _, table = demo_texts
    copy = table.slice(0)
    query.filtered_positions(copy, Filters(search="forest"))
    query.filtered_positions(copy, Filters(search="forest", translated=True))
    query.filtered_positions(copy, Filters(search="forest", translated=False, sort="random"))
    searches = [key for key in query._matches_cache[id(copy)] if "regexp_matches" in key[0]]
    assert len(searches) == 1


@pytest.mark.parametrize("text", ["Sahel", "CO2 tax", "Côte d’Ivoire", "straße", "ΣΑΣ", "a.b*c"])
def test_caseless_literal_matches_every_letter_case_and_nothing_else(text):
    from predictions_core.query.text_search import re2_caseless_literal

    pattern = re.compile(re2_caseless_literal(text))
    for variant in (text, text.lower(), text.upper(), text.swapcase()):
        if len(variant) == len(text):  # ß upper-cases to SS: a different text
            assert pattern.fullmatch(variant), variant
    assert not pattern.fullmatch(text + "x")


def test_substring_hits_ignore_case_and_keep_original_offsets():
    # "İ" lowers to two code points: offsets must still index the original text
    text = "İstanbul: Methane, METHANE and methane"
    hits = substring_hits(text, "methane")
    assert [text[start:end] for start, end in hits] == ["Methane", "METHANE", "methane"]
    assert substring_hits(text, "") == []
    assert substring_hits("a.b", ".") == [(1, 2)]  # a literal dot, not a regex


def test_regex_hits_follow_re2_and_case_flag():
    texts = ["Cat concat cat 🌍 CAT", "no match here", ""]
    sensitive = regex_hits(texts, r"\bcat", case_insensitive=False)
    insensitive = regex_hits(texts, r"\bcat", case_insensitive=True)
    assert [texts[0][s:e] for s, e in sensitive[0]] == ["cat"]
    assert [texts[0][s:e] for s, e in insensitive[0]] == ["Cat", "cat", "CAT"]
    assert insensitive[1] == [] and insensitive[2] == []


def test_regex_hits_skip_patterns_that_do_not_compile_or_match_empty():
    assert regex_hits(["abc"], "(", case_insensitive=False) == [[]]
    # a pattern that matches the empty string everywhere gets no marks, not wrong ones
    assert regex_hits(["abab"], "", case_insensitive=False) == [[]]
    # where empty and non-empty matches mix, the pieces DuckDB returns do not add up to the
    # text: no marks rather than shifted ones
    assert regex_hits(["xaaay", "aaa"], "a*", case_insensitive=False) == [[], [(0, 3)]]


def test_search_hits_dispatch_on_the_parsed_search_value():
    texts = ["Methane and CH4", "nothing"]
    assert search_hits(texts, None) == [[], []]
    substring = search_hits(texts, SearchPattern.parse("ch4"))
    assert [texts[0][s:e] for s, e in substring[0]] == ["CH4"]
    regex = search_hits(texts, SearchPattern.parse("/methane|ch4/i"))
    assert [texts[0][s:e] for s, e in regex[0]] == ["Methane", "CH4"]
    assert regex[1] == []
