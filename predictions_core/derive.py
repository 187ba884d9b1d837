"""The columns that filters and sorts use, derived once at load time in DuckDB SQL."""

from __future__ import annotations

import duckdb
import pyarrow as pa

# upstream writes 1900-01-01 (epoch ms below) where a document's date is unknown
_UNKNOWN_DATE_MS = "-2208988800000"
_SPAN_IS_VALID = (
    "s.start_index >= 0 AND s.end_index > s.start_index AND s.end_index <= length(text)"
)


def _json_text(keys: list[str]) -> str:
    """SQL for the first non-empty string among metadata keys, flat ("a.b") or nested (a → b)."""
    options = []
    for key in keys:
        options.append(f"metadata->>'$.\"{key}\"'")
        if "." in key:
            options.append("metadata->>'$." + ".".join(key.split(".")) + "'")
    return "nullif(trim(coalesce(" + ", ".join(options) + ")), '')"


def _select_sql(meta: dict[str, list[str]]) -> str:
    published = _json_text(meta["published"])
    translated = f"lower({_json_text(meta['translated'])})"
    return f"""
    SELECT
        id,
        text,
        list_filter(coalesce(spans, []), lambda s: {_SPAN_IS_VALID}) AS spans,
        len(coalesce(spans, [])) - len(list_filter(coalesce(spans, []), lambda s: {_SPAN_IS_VALID}))
            AS n_dropped,
        coalesce(metadata::VARCHAR, '{{}}') AS metadata,
        {_json_text(meta["document_id"])} AS document_id,
        CASE WHEN {translated} IN ('true', '1', 'yes') THEN true
             WHEN {translated} IN ('false', '0', 'no') THEN false END AS translated,
        {_json_text(meta["region"])} AS region,
        {_json_text(meta["corpus"])} AS corpus,
        CASE
            WHEN {published} IS NULL OR {published} LIKE '{_UNKNOWN_DATE_MS}%' THEN NULL
            WHEN regexp_full_match({published}, '-?[0-9]+(\\.[0-9]*)?')
                THEN try(year(epoch_ms(CAST(CAST({published} AS DOUBLE) AS BIGINT))))
            ELSE try_cast(substr({published}, 1, 4) AS INTEGER)
        END::INTEGER AS year,
        length(text)::INTEGER AS text_length,
        hash(text) AS passage_key
    FROM source_rows
    """


def derive_columns(
    con: duckdb.DuckDBPyConnection, table: pa.Table, meta: dict[str, list[str]]
) -> tuple[pa.Table, list[tuple[int, int]]]:
    """Add the filter columns to a freshly read table.

    Returns the new table and `(row index, number of spans dropped)` for every row that had
    spans outside its text, so the caller can report them with line numbers.
    """
    con.register("source_rows", table)
    try:
        derived = con.sql(_select_sql(meta)).to_arrow_table()
    finally:
        con.unregister("source_rows")
    dropped = derived["n_dropped"].to_pylist()
    dropped_rows = [(row, n) for row, n in enumerate(dropped) if n]
    derived = derived.drop_columns(["n_dropped"])
    n_spans = pa.compute.list_value_length(derived["spans"]).cast(pa.int32())
    index = derived.schema.get_field_index("text_length")
    derived = derived.add_column(index, "n_spans", n_spans.fill_null(0))
    return derived, dropped_rows


def empty_passage_table() -> pa.Table:
    """A table with no rows and the columns of a loaded file (for unreadable files)."""
    from predictions_core.loading import _READ_COLUMNS, _META

    con = duckdb.connect()
    casts = ", ".join(f"NULL::{kind} AS {name}" for name, kind in _READ_COLUMNS.items())
    empty = con.sql(f"SELECT {casts} LIMIT 0").to_arrow_table()
    table, _ = derive_columns(con, empty, _META)
    return table.append_column("source_line", pa.array([], type=pa.int64()))
