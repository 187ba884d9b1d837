"""The one query path: a loaded predictions table + `Filters` → counts, a page, or every row.

Pages, HTTP routes and downloads all call these functions, so the same parameters give the
same rows in the same order everywhere. Queries run in DuckDB (`data.sql`) over the in-memory
Arrow table (zero-copy); regex is RE2, linear in the text length whatever the pattern.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from predictions_core.data.sql import cursor, fetch_rows
from predictions_core.query.filters import SCORE_SORTS, Filters

STREAM_BATCH_ROWS = 2_000
SCORE_COLUMN = "score"
"""The passage score (its spans' highest `prediction_probability`; NULL without one)."""


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
    n_scored: int = 0
    score_min: float | None = None
    score_max: float | None = None

    @property
    def has_scores(self) -> bool:
        """Whether any passage has a score (the score filter and sorts are worth showing)."""
        return self.n_scored > 0

    @property
    def has_years(self) -> bool:
        """Whether any passage has a publication year (the year bounds are worth showing)."""
        return self.year_min is not None


FacetCounts = dict[str, dict[str, int]]
"""`{"region": {value: n}, "corpus": {...}, "translated": {"true": n, "false": n}}`."""
FACET_COLUMNS = ("region", "corpus", "translated")


def query_predictions(table: pa.Table, filters: Filters) -> QueryResult:
    """Count, filter, sort and page `table` as `filters` say.

    One scan finds the positions of the filtered rows in the requested order (only the sort
    keys travel through the sort); the page's rows are then taken from the Arrow table, so
    texts are never copied for rows that are not shown.
    """
    positions = filtered_positions(table, filters)
    offset = (filters.page - 1) * filters.page_size
    page_positions = positions[offset : offset + filters.page_size]
    rows = pa.Table.from_batches(
        list(_take_in_batches(table, page_positions, filters.page_size)), schema=table.schema
    )
    return QueryResult(table.num_rows, len(positions), filters.page, filters.page_size, rows)


def iter_filtered_batches(
    table: pa.Table, filters: Filters, batch_rows: int = STREAM_BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """Every filtered row (page and page size ignored), sorted, in record batches.

    Memory stays flat whatever the size of `table`: only the row positions are sorted, and
    the rows are taken batch by batch as the consumer asks for them.
    """
    yield from _take_in_batches(table, filtered_positions(table, filters), batch_rows)


def filtered_positions(table: pa.Table, filters: Filters) -> np.ndarray:
    """The positions (0-based) in `table` of the filtered rows, in the requested order."""
    return _order_positions(table, _matching_positions(table, filters), filters)


# id(table) -> {filter key -> positions}; an entry leaves with its table (weakref.finalize),
# so a later table that happens to get the same id never sees another table's matches
_matches_cache: dict[int, dict[tuple, np.ndarray]] = {}
_matches_lock = threading.Lock()
_MATCHES_PER_TABLE = 16


def _matching_positions(table: pa.Table, filters: Filters) -> np.ndarray:
    """Positions of the rows that pass the filters, in file order.

    The text search (a scan over every text) and the column filters (cheap) are found
    separately and intersected, and each is cached per table: paging, re-sorting, every
    rerun of a page, and a new region or year on the same search reuse the scan.
    """
    found: np.ndarray | None = None
    for kind, (where, params) in (
        ("search", filters.search_sql()),
        ("columns", filters.columns_sql()),
    ):
        if where == "true":
            continue
        positions = _positions_where(table, where, params, kind)
        found = positions if found is None else np.intersect1d(found, positions, True)
    return np.arange(table.num_rows, dtype=np.int64) if found is None else found


def _positions_where(table: pa.Table, where: str, params: list[object], kind: str) -> np.ndarray:
    key = (where, repr(params), kind)
    with _matches_lock:
        known = _matches_for(table)
        if key in known:
            known[key] = known.pop(key)  # most recently used goes last
            return known[key]
    found = _scan_positions(table, where, params)
    found.flags.writeable = False
    with _matches_lock:
        known = _matches_for(table)
        known[key] = found
        # each kind has its own budget: a stream of new column filters must not evict the
        # text scans, which are the expensive entries (a rescan costs ~2 s at 1M rows)
        same_kind = [old for old in known if old[2] == kind]
        for old in same_kind[: max(0, len(same_kind) - _MATCHES_PER_TABLE)]:
            known.pop(old)
    return found


def _scan_positions(table: pa.Table, where: str, params: list[object]) -> np.ndarray:
    """Positions of the rows of `table` that satisfy `where`, in file order (one full scan)."""
    with cursor({"passages": _numbered(with_score(table))}) as con:
        sql = f"SELECT row_position FROM passages WHERE {where} ORDER BY row_position"
        return con.sql(sql, params=params).fetchnumpy()["row_position"].astype(np.int64)


def _numbered(table: pa.Table) -> pa.Table:
    """`table` with a `row_position` column (0-based), its other columns shared, not copied."""
    return table.append_column("row_position", pa.array(np.arange(table.num_rows, dtype=np.int64)))


def with_score(table: pa.Table) -> pa.Table:
    """`table`, with an all-NULL `score` column when it has none (a cache of an older format).

    Only used for a query's own view of the table: the cached positions stay keyed by the
    table itself.
    """
    if SCORE_COLUMN in table.column_names:
        return table
    return table.append_column(SCORE_COLUMN, pa.nulls(table.num_rows, pa.float64()))


def _matches_for(table: pa.Table) -> dict[tuple, np.ndarray]:
    table_id = id(table)
    if table_id not in _matches_cache:
        _matches_cache[table_id] = {}
        weakref.finalize(table, _matches_cache.pop, table_id, None)
    return _matches_cache[table_id]


def _order_positions(table: pa.Table, positions: np.ndarray, filters: Filters) -> np.ndarray:
    """`positions` in the order `filters.sort` asks for; ties keep file order (stable sorts)."""
    if filters.sort == "default" or not len(positions):
        return positions
    if filters.sort == "random":
        keys = shuffle_keys(table["source_line"].take(positions), filters.seed or 0)
        return positions[np.argsort(keys, kind="stable")]
    if filters.sort == "document":
        documents = table["document_id"].take(positions)
        order = pc.sort_indices(documents, sort_keys=[("document_id", "ascending", "at_end")])
        return positions[order.to_numpy()]
    if filters.sort in SCORE_SORTS:
        return positions[_score_order(table, positions, descending=filters.sort == "score_desc")]
    lengths = table["text_length"].take(positions).to_numpy()
    if filters.sort == "length_desc":
        lengths = -lengths.astype(np.int64)
    return positions[np.argsort(lengths, kind="stable")]


def _score_order(table: pa.Table, positions: np.ndarray, descending: bool) -> np.ndarray:
    """The order of `positions` by score; passages without a score last, ties in file order."""
    if SCORE_COLUMN not in table.column_names:
        return np.arange(len(positions))
    scores = table[SCORE_COLUMN].take(positions).to_numpy(zero_copy_only=False)
    keys = np.asarray(scores, dtype=np.float64)  # a NULL score reads as NaN
    keys = -keys if descending else keys
    # NaN (no score) sorts after every number, and a stable sort keeps file order in ties
    return np.argsort(keys, kind="stable")


def shuffle_keys(source_lines: pa.ChunkedArray | pa.Array, seed: int) -> np.ndarray:
    """A seeded pseudo-random key per row (splitmix64 of its line number).

    Written out here rather than taken from DuckDB's `hash`, so a shuffled URL shows the
    same order after any library upgrade.
    """
    with np.errstate(over="ignore"):
        x = source_lines.to_numpy().astype(np.uint64) + np.uint64(seed) * np.uint64(
            0x9E3779B97F4A7C15
        )
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _take_in_batches(
    table: pa.Table, positions: np.ndarray, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """The rows at `positions`, in that order, `batch_rows` at a time."""
    if not len(positions):
        return
    # per record batch: `Table.take` would first concatenate each column's chunks (a copy)
    batches = table.to_batches()
    offsets = np.cumsum([0, *(batch.num_rows for batch in batches)])
    for start in range(0, len(positions), batch_rows):
        wanted = np.asarray(positions[start : start + batch_rows])
        batch_of = np.searchsorted(offsets, wanted, side="right") - 1
        pieces, order = [], []
        for index in np.unique(batch_of):
            rows = np.flatnonzero(batch_of == index)
            pieces.append(batches[index].take(pa.array(wanted[rows] - offsets[index])))
            order.append(rows)
        taken = pa.Table.from_batches(pieces).combine_chunks()
        back = np.empty(len(wanted), dtype=np.int64)
        back[np.concatenate(order)] = np.arange(len(wanted))
        yield from taken.take(pa.array(back)).to_batches()


def filtered_metadata_keys(table: pa.Table, filters: Filters) -> list[str]:
    """The metadata keys present in the filtered rows, sorted (the CSV's last columns).

    The rows come from the cached positions of the filter, so a download's search is not
    scanned a second time to name its columns.
    """
    wanted = pa.table({"row_position": _matching_positions(table, filters)})
    numbered = _numbered(table.select(["metadata"]))
    sql = """
        SELECT DISTINCT unnest(json_keys(metadata::JSON)) AS key
        FROM passages SEMI JOIN wanted USING (row_position) ORDER BY key
    """
    return [row[0] for row in fetch_rows(sql, tables={"passages": numbered, "wanted": wanted})]


def facet_counts(table: pa.Table, filters: Filters) -> FacetCounts:
    """How many passages carry each region, corpus and translation under the other filters.

    A facet's own filter is left out of its counts (choosing "South Asia" leaves the other
    regions' counts as they would be if chosen instead), every other filter (search, years,
    spans, scores, document, the other facets) applies. One DuckDB query and one scan of the
    table: the passages under the filters that are not facets are counted per (region,
    corpus, translated), and each facet's counts are summed from those few combinations. A
    search reuses the cached positions of its matches, so the texts are not scanned again.
    """
    search_where, search_params = filters.search_sql()
    tables = {"passages": with_score(table)}
    join = ""
    if search_where != "true":
        found = _positions_where(table, search_where, search_params, "search")
        tables = {
            "passages": _numbered(tables["passages"]),
            "wanted": pa.table({"row_position": found}),
        }
        join = "SEMI JOIN wanted USING (row_position)"
    not_facets = filters.model_copy(update={"region": [], "corpus": [], "translated": None})
    where, params = not_facets.columns_sql()
    branches = []
    for column in FACET_COLUMNS:
        others, others_params = _facet_clauses(filters, exclude=column)
        branches.append(
            f"""SELECT '{column}' AS facet, {column}::VARCHAR AS value, sum(n)::BIGINT AS n
                FROM combinations WHERE {column} IS NOT NULL AND {others} GROUP BY ALL"""
        )
        params += others_params
    sql = f"""
        WITH combinations AS MATERIALIZED (
            SELECT region, corpus, translated, count(*) AS n FROM passages {join}
            WHERE {where} GROUP BY ALL
        )
        {" UNION ALL ".join(branches)}
        ORDER BY facet, n DESC, value"""
    counts: FacetCounts = {column: {} for column in FACET_COLUMNS}
    for facet, value, n in fetch_rows(sql, params, tables=tables):
        counts[facet][value] = int(n)
    return counts


def _facet_clauses(filters: Filters, exclude: str) -> tuple[str, list[object]]:
    """The region, corpus and translation filters but `exclude`'s, as SQL and parameters."""
    only_facets = Filters(
        region=filters.region if exclude != "region" else [],
        corpus=filters.corpus if exclude != "corpus" else [],
        translated=filters.translated if exclude != "translated" else None,
    )
    return only_facets.columns_sql()


def facet_values(table: pa.Table) -> Facets:
    """Region, corpus and translation counts, year range and document count of `table`."""
    counts = facet_counts(table, Filters())
    ((year_min, year_max, n_documents, n_scored, score_min, score_max),) = _fetch(
        table,
        """SELECT min(year), max(year), count(DISTINCT document_id),
                  count(score), min(score), max(score) FROM passages""",
        [],
    )
    return Facets(
        counts["region"],
        counts["corpus"],
        counts["translated"],
        year_min,
        year_max,
        n_documents,
        int(n_scored),
        score_min,
        score_max,
    )


def _fetch(table: pa.Table, sql: str, params: list[object]) -> list[tuple]:
    return fetch_rows(sql, params, tables={"passages": with_score(table)})
