"""Search SQL: the prefilters may only ever skip work, never rows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from predictions_core.data.loading import load_predictions_file
from predictions_core.query.engine import query_predictions
from predictions_core.query.filters import Filters, SearchPattern
from predictions_core.query.text_search import re2_literal, required_literal


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
def gold_table(tmp_path_factory, real_fixtures: Path):
    concept = json.loads((real_fixtures / "concepts_with_gold/Q787.json").read_text())
    path = tmp_path_factory.mktemp("q787") / "predictions.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in concept["labelled_passages"]))
    texts = {p["id"]: p["text"] for p in concept["labelled_passages"]}
    return texts, load_predictions_file(path).table


@pytest.mark.parametrize(
    "search",
    [
        r"/\bforest\b/",
        r"/\bforests?\b/i",
        "/Forest[a-z]*/",
        "/wood(s|land)?/i",
        "/(?i)FORESTRY/",
        "/colou?r/",
        "/forest|wood/i",
        "/Forest|timber|logging/",
        "/(?i)forestry|WOOD/",
        r"/sustainable forest(ry)?|\bpulp\b/",
        "forest management",
        "Forest Management",
        "sustainable forest",
    ],
)
def test_prefiltered_searches_find_what_python_re_finds(gold_table, search):
    texts, table = gold_table
    parsed = SearchPattern.parse(search)
    pattern = parsed.pattern if parsed.is_regex else re.escape(parsed.pattern)
    flags = re.I if parsed.case_insensitive else 0
    expected = [pid for pid, text in texts.items() if re.search(pattern, text, flags)]
    rows = query_predictions(table, Filters(search=search, page_size=1000)).rows
    assert rows["id"].to_pylist() == expected


def test_a_new_filter_on_the_same_search_reuses_the_text_scan(gold_table):
    from predictions_core.query import engine as query

    _, table = gold_table
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
