"""Filters → query: every parameter of CONTRACT §5 against an independent Python computation.

The bundled demo data (rich metadata) is the data; the real gold passages add a second layer
where ../shared is present.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from predictions_core.data.loading import load_predictions_file
from predictions_core.errors import InvalidParameterError
from predictions_core.query.engine import facet_values, iter_filtered_batches, query_predictions
from predictions_core.query.filters import Filters, SearchPattern


@pytest.fixture(scope="module")
def real_gold(tmp_path_factory, real_fixtures: Path):
    """Q787's 130 real gold passages (real upstream metadata) written as a predictions file."""
    concept = json.loads((real_fixtures / "concepts_with_gold/Q787.json").read_text())
    path = tmp_path_factory.mktemp("q787") / "predictions.jsonl"
    with path.open("w") as sink:
        for item in concept["labelled_passages"]:
            sink.write(json.dumps(item) + "\n")
    return concept["labelled_passages"], load_predictions_file(path).table


def ids(filters: Filters, table) -> list[str]:
    everything = filters.model_copy(update={"page_size": 1000})
    return query_predictions(table, everything).rows["id"].to_pylist()


def test_substring_search_is_case_insensitive_and_literal(demo_table):
    passages, table = demo_table
    for term in ["FOREST", "wood", "100%", "_", "a.b"]:
        expected = [p["id"] for p in passages if term.lower() in p["text"].lower()]
        assert ids(Filters(search=term), table) == expected


@pytest.mark.parametrize(
    ("search", "flags"), [("/fores(t|ts)\\b/", 0), ("/FOREST/i", re.I), ("/^The/", 0)]
)
def test_regex_search_matches_python_re(demo_table, search, flags):
    passages, table = demo_table
    pattern = SearchPattern.parse(search).pattern
    expected = [p["id"] for p in passages if re.search(pattern, p["text"], flags)]
    assert expected, "the pattern should match something in the demo data"
    assert ids(Filters(search=search), table) == expected


def test_regex_search_matches_python_re_on_real_passages(real_gold):
    passages, table = real_gold
    for search, flags in (("/fores(t|ts)\\b/", 0), ("/FOREST/i", re.I), ("/^The/", 0)):
        pattern = SearchPattern.parse(search).pattern
        expected = [p["id"] for p in passages if re.search(pattern, p["text"], flags)]
        assert expected, f"{search} should match something in the real data"
        assert ids(Filters(search=search), table) == expected


def test_metadata_filters(demo_table):
    passages, table = demo_table
    meta = [p["metadata"] for p in passages]
    regions = ["Europe & Central Asia", "South Asia"]
    assert ids(Filters(region=regions), table) == [
        p["id"] for p, m in zip(passages, meta, strict=True) if m["world_bank_region"] in regions
    ]
    assert ids(Filters(translated=True), table) == [
        p["id"] for p, m in zip(passages, meta, strict=True) if m["translated"] == "True"
    ]
    corpus_key = "document_metadata.corpus_type_name"
    assert ids(Filters(corpus=["UNFCCC", "Litigation"]), table) == [
        p["id"] for p in passages if p["metadata"][corpus_key] in ("UNFCCC", "Litigation")
    ]
    assert ids(Filters(corpus=["Nope"]), table) == []
    needle = "cclw"
    assert ids(Filters(document_id=needle), table) == [
        p["id"] for p, m in zip(passages, meta, strict=True) if needle in m["document_id"].lower()
    ]


def test_year_bounds_are_inclusive(demo_table):
    _, table = demo_table
    facets = facet_values(table)
    assert facets.year_min is not None and facets.year_min < facets.year_max
    rows = query_predictions(table, Filters(year_min=2015, year_max=2015, page_size=1000)).rows
    assert set(rows["year"].to_pylist()) == {2015}
    later = query_predictions(table, Filters(year_min=2016, page_size=1000)).rows
    assert min(later["year"].to_pylist()) >= 2016


def test_has_spans(demo_table):
    passages, table = demo_table
    assert ids(Filters(has_spans=False), table) == [p["id"] for p in passages if not p["spans"]]
    assert ids(Filters(has_spans=True), table) == [p["id"] for p in passages if p["spans"]]


def test_sorts(demo_table):
    passages, table = demo_table
    by_length = sorted(passages, key=lambda p: len(p["text"]))
    lengths = [len(p["text"]) for p in by_length]
    rows = query_predictions(table, Filters(sort="length_asc", page_size=1000)).rows
    assert rows["text_length"].to_pylist() == lengths
    rows = query_predictions(table, Filters(sort="length_desc", page_size=1000)).rows
    assert rows["text_length"].to_pylist() == sorted(lengths, reverse=True)
    docs = query_predictions(table, Filters(sort="document", page_size=1000)).rows["document_id"]
    assert docs.to_pylist() == sorted(docs.to_pylist())


def test_random_order_is_a_reproducible_shuffle(demo_table):
    _, table = demo_table
    one = ids(Filters(sort="random", seed=1), table)
    assert one == ids(Filters(sort="random", seed=1), table)
    assert one != ids(Filters(sort="random", seed=2), table)
    assert sorted(one) == sorted(ids(Filters(), table))


def test_paging_covers_every_row_once(demo_table):
    passages, table = demo_table
    total = len(passages)
    pages = -(-total // 40)
    seen = []
    for page in range(1, pages + 1):
        result = query_predictions(table, Filters(page=page, page_size=40, sort="length_desc"))
        seen += result.rows["id"].to_pylist()
        assert result.filtered_count == total and result.page_count == pages
    assert seen == ids(Filters(sort="length_desc"), table)
    last = query_predictions(table, Filters(page=pages, page_size=40))
    assert (last.first_row_number, last.last_row_number) == ((pages - 1) * 40 + 1, total)
    beyond = query_predictions(table, Filters(page=pages + 5, page_size=40))
    assert beyond.rows.num_rows == 0 and beyond.filtered_count == total


def test_streamed_rows_equal_the_pages(demo_table):
    _, table = demo_table
    filters = Filters(search="forest", sort="random", seed=7)
    streamed = [
        i for b in iter_filtered_batches(table, filters, batch_rows=16) for i in b["id"].to_pylist()
    ]
    assert streamed == ids(filters, table)


def test_facets_count_the_metadata(demo_table):
    passages, table = demo_table
    facets = facet_values(table)
    expected_regions = {}
    for p in passages:
        region = p["metadata"]["world_bank_region"]
        if region:
            expected_regions[region] = expected_regions.get(region, 0) + 1
    assert facets.regions == expected_regions
    corpora = Counter(p["metadata"]["document_metadata.corpus_type_name"] for p in passages)
    assert facets.corpora == dict(corpora)
    translated = Counter(p["metadata"]["translated"].lower() for p in passages)
    assert facets.translated == dict(translated)
    assert facets.n_documents == len({p["metadata"]["document_id"] for p in passages})


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"page": "0"}, "page"),
        ({"page_size": "5000"}, "page_size"),
        ({"year_min": "abc"}, "year_min"),
        ({"search": "/(unclosed/"}, "search"),
        ({"translated": "maybe"}, "translated"),
        ({"sort": "alphabetical"}, "sort"),
        ({"has_spans": "2"}, "has_spans"),
        ({"seed": "-1"}, "seed"),
        ({"year_min": "2020", "year_max": "2010"}, "year_min"),
    ],
)
def test_bad_parameters_name_themselves(params, parameter):
    with pytest.raises(InvalidParameterError) as raised:
        Filters.from_query_params(params)
    assert raised.value.parameter == parameter
    assert raised.value.message.startswith(f"{parameter}:")


def test_query_params_round_trip():
    filters = Filters(
        search="/ghg/i",
        region=["South Asia", "Europe & Central Asia"],
        translated=False,
        year_min=2010,
        has_spans=True,
        sort="random",
        seed=3,
        page=2,
    )
    params = filters.to_query_params()
    assert Filters.from_query_params(params) == filters
    assert Filters.from_query_params({**params, "concept": "Q1", "format": "csv"}) == filters
    assert Filters().to_query_params() == {}
    assert "containing" in Filters(search="gas").describe()
    assert "South Asia" in filters.describe() and "seed 3" in filters.describe()


def test_regex_is_linear_time_on_a_pathological_pattern(tmp_path):
    # (a+)+$ is catastrophic for backtracking engines; RE2 answers at once
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"id": "x", "text": "a" * 5000 + "!", "spans": []}) + "\n")
    table = load_predictions_file(path).table
    assert ids(Filters(search="/(a+)+$/"), table) == []


def _splitmix64(value: int) -> int:
    mask = 2**64 - 1
    x = value & mask
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & mask
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & mask
    return x ^ (x >> 31)


def test_shuffle_keys_are_splitmix64_so_orders_survive_upgrades():
    import pyarrow as pa

    from predictions_core.query.engine import shuffle_keys

    lines = [1, 2, 3, 1000, 2**40]
    for seed in (0, 1, 12345):
        expected = [_splitmix64(line + seed * 0x9E3779B97F4A7C15) for line in lines]
        assert shuffle_keys(pa.array(lines), seed).tolist() == expected


def test_repeated_filters_reuse_the_scan_and_forget_freed_tables(demo_table):
    import gc

    from predictions_core.query import engine as query

    _, table = demo_table
    copy = table.slice(0)  # a distinct table object with the same rows
    filters = Filters(search="forest")
    first = query.filtered_positions(copy, filters)
    again = query.filtered_positions(copy, filters.model_copy(update={"page": 2}))
    assert again is first  # paging does not scan again
    assert id(copy) in query._matches_cache
    copy_id = id(copy)
    del copy
    gc.collect()
    assert copy_id not in query._matches_cache
