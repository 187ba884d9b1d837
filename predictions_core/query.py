"""The one query path: a loaded predictions table + `Filters` → counts, a page, or every row.

Pages, HTTP routes and downloads all call these functions, so the same parameters give the
same rows in the same order everywhere. Queries run in DuckDB over the in-memory Arrow table
(zero-copy); regex is RE2, linear in the text length whatever the pattern.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from predictions_core.filters import Filters

_database = duckdb.connect()
_database_lock = threading.Lock()
STREAM_BATCH_ROWS = 2_000


def _cursor() -> duckdb.DuckDBPyConnection:
    # each query gets its own cursor on one shared in-memory database: cursors are cheap
    # and, unlike one shared connection, safe to use from several threads at once
    with _database_lock:
        return _database.cursor()


@dataclass
class QueryResult:
    """One page of a filtered, sorted view, with the counts around it."""

    total_count: int
    filtered_count: int
    page: int
    page_size: int
    rows: pa.Table

    @property
    def first_row_number(self) -> int:
        return 0 if not self.rows.num_rows else (self.page - 1) * self.page_size + 1

    @property
    def last_row_number(self) -> int:
        return (self.page - 1) * self.page_size + self.rows.num_rows

    @property
    def page_count(self) -> int:
        return max(1, -(-self.filtered_count // self.page_size))


@dataclass
class Facets:
    """The values a view can be filtered by, with how many passages carry each."""

    regions: dict[str, int] = field(default_factory=dict)
    corpora: dict[str, int] = field(default_factory=dict)
    translated: dict[str, int] = field(default_factory=dict)
    year_min: int | None = None
    year_max: int | None = None
    n_documents: int = 0


def query_predictions(table: pa.Table, filters: Filters) -> QueryResult:
    """Count, filter, sort and page `table` as `filters` say."""
    where, order_by, params = filters.to_sql()
    offset = (filters.page - 1) * filters.page_size
    cursor = _cursor()
    try:
        cursor.register("passages", table)
        filtered = cursor.sql(
            f"SELECT count(*) FROM passages WHERE {where}",
            params=_where_params(filters, params),
        ).fetchall()[0][0]
        rows = cursor.sql(
            f"SELECT * FROM passages WHERE {where} ORDER BY {order_by} LIMIT ? OFFSET ?",
            params=[*params, filters.page_size, offset],
        ).to_arrow_table()
    finally:
        cursor.close()
    return QueryResult(table.num_rows, int(filtered), filters.page, filters.page_size, rows)


def iter_filtered_batches(
    table: pa.Table, filters: Filters, batch_rows: int = STREAM_BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """Every filtered row (page and page size ignored), sorted, in record batches."""
    where, order_by, params = filters.to_sql()
    cursor = _cursor()
    try:
        cursor.register("passages", table)
        reader = cursor.sql(
            f"SELECT * FROM passages WHERE {where} ORDER BY {order_by}", params=params
        ).to_arrow_reader(batch_rows)
        yield from reader
    finally:
        cursor.close()


def filtered_metadata_keys(table: pa.Table, filters: Filters) -> list[str]:
    """The metadata keys present in the filtered rows, sorted (the CSV's last columns)."""
    where, _, params = filters.to_sql()
    sql = f"""
        SELECT DISTINCT unnest(json_keys(metadata::JSON)) AS key
        FROM passages WHERE {where} ORDER BY key
    """
    return [row[0] for row in _fetch(table, sql, _where_params(filters, params))]


def facet_values(table: pa.Table) -> Facets:
    """Region, corpus and translation counts, year range and document count of `table`."""

    def counts(column: str) -> dict[str, int]:
        sql = f"""SELECT {column}, count(*) FROM passages WHERE {column} IS NOT NULL
                  GROUP BY 1 ORDER BY 2 DESC, 1"""
        return {str(value): int(n) for value, n in _fetch(table, sql, [])}

    ((year_min, year_max, n_documents),) = _fetch(
        table, "SELECT min(year), max(year), count(DISTINCT document_id) FROM passages", []
    )
    translated = {("true" if k == "True" else "false"): v for k, v in counts("translated").items()}
    return Facets(counts("region"), counts("corpus"), translated, year_min, year_max, n_documents)


def _fetch(table: pa.Table, sql: str, params: list[object]) -> list[tuple]:
    cursor = _cursor()
    try:
        cursor.register("passages", table)
        return cursor.sql(sql, params=params).fetchall()
    finally:
        cursor.close()


def _where_params(filters: Filters, params: list[object]) -> list[object]:
    # random order appends its seed after the WHERE parameters; a count has no ORDER BY
    return params[:-1] if filters.sort == "random" else params
