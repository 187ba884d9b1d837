"""Many sessions at once: search hits and queries give every caller the complete answer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa

from predictions_core.query.engine import query_predictions
from predictions_core.query.filters import Filters
from predictions_core.query.text_search import regex_hits

THREADS = 16
CALLS_PER_THREAD = 6


def _texts(n: int) -> list[str]:
    return [
        f"Forest {i}: forestry and FORESTS store carbon; reforestation plan {i}. " * 8
        for i in range(n)
    ]


def test_regex_hits_are_complete_when_many_threads_search_at_once():
    # A shared DuckDB connection refuses a second thread ("connection is busy"): the cards of
    # one session silently lost their marks while another session searched.
    texts = _texts(200)
    expected = regex_hits(texts, r"\bfores\w*", case_insensitive=True)
    assert all(len(hits) == 3 * 8 for hits in expected)  # each text has its marks

    def search_repeatedly(_: int) -> list[list[list[tuple[int, int]]]]:
        return [
            regex_hits(texts, r"\bfores\w*", case_insensitive=True) for _ in range(CALLS_PER_THREAD)
        ]

    with ThreadPoolExecutor(THREADS) as pool:
        answers = [
            answer for batch in pool.map(search_repeatedly, range(THREADS)) for answer in batch
        ]
    assert len(answers) == THREADS * CALLS_PER_THREAD
    assert all(answer == expected for answer in answers)


def test_queries_with_different_searches_at_once_each_get_their_rows(demo_table):
    _, table = demo_table
    searches = ["/\\bforest\\w*/i", "/carbon|methane/", "emissions", "/^The/"]
    expected = {s: _ids(table, s) for s in searches}
    assert all(expected.values()), "each search should match something in the demo data"

    def run(index: int) -> bool:
        search = searches[index % len(searches)]
        return _ids(table, search, copy=True) == expected[search]

    with ThreadPoolExecutor(THREADS) as pool:
        assert all(pool.map(run, range(THREADS * 4)))


def _ids(table: pa.Table, search: str, copy: bool = False) -> list[str]:
    # a fresh table object per call: each thread scans instead of reading the cached positions
    view = table.slice(0) if copy else table
    filters = Filters(search=search, page_size=1000)
    return query_predictions(view, filters).rows["id"].to_pylist()
