"""The one JSON reader of predictions: files of LabelledPassages into rows, in one DuckDB pass.

Every layout of CONTRACT §2 is read here: a per-classifier or older-layout JSONL file, and
the per-document layout's folder of files (JSONL, or a JSON array of LabelledPassage objects
or of JSON strings of them), all of one folder in one `read_json_objects` over the list of
files. Each record is checked in SQL against what `validation` checks in Python (so the rows
kept here are the lines it passes), and split into `READ_COLUMNS`: the passage's `id`,
`text`, `spans` (with each span's `prediction_probability`), `metadata` (JSON text, every key
kept) and `extra`: the record's other top-level keys (such as the pipeline's
`marked_up_text`) as JSON text, NULL when there are none, kept for downloads.

Rows come out in file order (files in the order given). Bad records are not dropped here:
`ok` is false for them, so the caller can say which files need the exact Python check.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from predictions_core.data.sql import fetch_arrow, fetch_rows

MAX_RECORD_BYTES = 512 * 1024 * 1024
KNOWN_KEYS = ("id", "text", "spans", "metadata")
SPAN_TYPE = (
    "STRUCT(start_index BIGINT, end_index BIGINT, concept_id VARCHAR, labellers VARCHAR[], "
    "timestamps VARCHAR[], prediction_probability DOUBLE)[]"
)
READ_COLUMNS: dict[str, str] = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "spans": SPAN_TYPE,
    "metadata": "JSON",
    "extra": "VARCHAR",
}
"""The columns read from each record, with their DuckDB types."""

# json_transform's description of a span: the checked keys stay JSON text (one parse of the
# span list; `_SPANS_OK` then checks their types as `validation` does, on the small values)
_SPAN_SHAPE = (
    '[{"start_index": "JSON", "end_index": "JSON", "concept_id": "VARCHAR", '
    '"labellers": "JSON", "timestamps": "JSON", "prediction_probability": "DOUBLE"}]'
)
_INTEGER = "IN ('BIGINT', 'UBIGINT')"


def _list_or_null(value: str) -> str:
    return f"({value} IS NULL OR {value} = 'null' OR starts_with({value}, '['))"


def _each_span_ok(span_values: str) -> str:
    """True when every span of a list of `_SPAN_SHAPE` structs (NULL or empty: none) has
    integer start/end and, where present, lists of labellers and timestamps."""
    return f"""coalesce(list_bool_and(list_transform({span_values}, lambda s: coalesce(
        json_type(s.start_index) {_INTEGER} AND json_type(s.end_index) {_INTEGER}
        AND {_list_or_null("s.labellers")} AND {_list_or_null("s.timestamps")}, false))), true)"""


def _record_ok(passage_id: str, text: str, metadata: str, spans_ok: str) -> str:
    """What `validation.problem_with_record` accepts, over the record's values as minified
    JSON text (so the first character says a string, an array or an object)."""
    return f"""coalesce(
        json_type({passage_id}) IN ('VARCHAR', 'BIGINT', 'UBIGINT')
        AND starts_with({text}, '"')
        AND ({metadata} IS NULL OR {metadata} = 'null' OR starts_with({metadata}, '{{'))
        AND {spans_ok}, false)"""


# what `validation._problem_with_spans` accepts: no spans, or a list of objects (checked by
# `_each_span_ok`)
_SPANS_OK = f"""
    CASE WHEN p[3] IS NULL OR p[3] = 'null' THEN true
         WHEN span_values IS NULL THEN false
         ELSE {_each_span_ok("span_values")}
    END"""

_RECORD_OK = _record_ok("p[1]", "p[2]", "p[4]", _SPANS_OK)


def _typed_spans(span_values: str) -> str:
    return f"""list_transform({span_values}, lambda s: struct_pack(
    start_index := s.start_index::BIGINT, end_index := s.end_index::BIGINT,
    concept_id := s.concept_id, labellers := s.labellers::VARCHAR[],
    timestamps := s.timestamps::VARCHAR[], prediction_probability := s.prediction_probability))"""


_TYPED_SPANS = _typed_spans("span_values")

_STEM = "parse_filename(filename, true)"
_DOCUMENT_DEFAULTS = f"""json_object(
    'document_id', regexp_replace({_STEM}, '_translated_en$', ''),
    'translated', CASE WHEN ends_with({_STEM}, '_translated_en') THEN 'True' ELSE 'False' END)"""


_RAW_SQL = """
    SELECT filename, json AS item
    FROM read_json_objects(?, format='{fmt}', filename=true, ignore_errors=true,
                           maximum_object_size={max_bytes})"""


def _id_and_metadata(passage_id: str, metadata: str, per_document: bool) -> tuple[str, str]:
    """SQL of a row's `id` and `metadata` from the record's own (`metadata`: an object or NULL).

    Per-document files: ids are unique only within a document, and the file's name says which
    document and whether it was translated, unless the passage's own metadata says otherwise.
    """
    if not per_document:
        return passage_id, metadata
    return (
        f"{_STEM} || '.' || {passage_id}",
        f"json_merge_patch({_DOCUMENT_DEFAULTS}, coalesce({metadata}, '{{}}'))",
    )


def _select_sql(raw: str, per_document: bool) -> str:
    known = ", ".join(f"'$.{key}'" for key in KNOWN_KEYS)
    removed = "{" + ", ".join(f'"{key}": null' for key in KNOWN_KEYS) + "}"
    n_known = " + ".join(f"(p[{i}] IS NOT NULL)::INTEGER" for i in range(1, 5))
    passage_id, metadata = _id_and_metadata(
        "(p[1]->>'$')", "CASE WHEN starts_with(p[4], '{') THEN p[4] END", per_document
    )
    return f"""
    WITH raw AS ({raw}), records AS (
        -- older per-document files: a JSON array of JSON strings, each one passage
        SELECT filename,
               CASE WHEN json_type(item) = 'VARCHAR' THEN try_cast(item->>'$' AS JSON)
                    ELSE item END AS record
        FROM raw
    ), parts AS (
        SELECT filename, record, json_extract(record, [{known}]) AS p FROM records
    ), spans AS (
        SELECT *, json_transform(p[3], '{_SPAN_SHAPE}') AS span_values FROM parts
    ), checked AS (
        SELECT *, {_RECORD_OK} AS ok FROM spans
    )
    SELECT
        filename,
        ok,
        CASE WHEN ok THEN {passage_id} END AS id,
        CASE WHEN ok THEN (p[2]->>'$') END AS text,
        CASE WHEN ok THEN {_TYPED_SPANS} END AS spans,
        CASE WHEN ok THEN {metadata} END AS metadata,
        CASE WHEN ok AND len(json_keys(record)) > {n_known}
             THEN json_merge_patch(record, '{removed}')::VARCHAR END AS extra
    FROM checked
    """


def read_records(
    paths: Sequence[str],
    fmt: str,
    per_document: bool = False,
    max_record_bytes: int = MAX_RECORD_BYTES,
) -> pa.Table:
    """Rows `filename, ok, id, text, spans, metadata, extra` of every record of `paths`.

    `fmt` is DuckDB's: `newline_delimited` for JSONL files, `auto` for per-document files
    (each file JSONL or a JSON array). Raises `duckdb.Error` when DuckDB refuses a file as a
    whole (a malformed JSON array); a malformed line is a row with `ok` false instead.
    `paths` must not be empty. DuckDB sets aside `max_record_bytes` of buffer per file: over
    thousands of small files, a smaller limit is much faster (a record over it is an error).
    """
    raw_sql = _RAW_SQL.format(fmt=fmt, max_bytes=int(max_record_bytes))
    if len(paths) == 1:
        return fetch_arrow(_select_sql(raw_sql, per_document), [list(paths)])
    # many small files arrive as many small vectors, and the checks and conversions below
    # cost per vector: read the records first, then convert them in full-size vectors
    raw = _raw_records(list(paths), fmt, max_record_bytes)
    return fetch_arrow(
        _select_sql("SELECT * FROM raw_records", per_document), tables={"raw_records": raw}
    )


# The fast read of one JSONL file: DuckDB's reader types the known keys itself (one parse of
# each line, no JSON text of the whole record). Each value stays as strict as `_record_ok`
# needs: ids, texts, span offsets, labellers and timestamps arrive as JSON text, and a line
# DuckDB cannot type at all (not JSON, spans not a list, a span not an object) is an error,
# after which the caller reads the file with `read_records`.
_TYPED_SPAN = (
    "STRUCT(start_index JSON, end_index JSON, concept_id VARCHAR, labellers JSON, "
    "timestamps JSON, prediction_probability DOUBLE)[]"
)
_TYPED_COLUMNS = {"id": "JSON", "text": "JSON", "spans": _TYPED_SPAN, "metadata": "JSON"}
_TYPED_OK = _record_ok("id", "text", "metadata", _each_span_ok("spans"))

FILE_KEY = "__predictions_source_file__"
"""The key `read_jsonl_typed` takes a record's file name from in a concatenation of files
(`file_key=True`), which must be every record's first key."""


def _typed_sql(file_key: bool) -> str:
    columns = {**_TYPED_COLUMNS, **({FILE_KEY: "VARCHAR"} if file_key else {})}
    column_list = ", ".join(f"'{key}': '{kind}'" for key, kind in columns.items())
    passage_id, metadata = _id_and_metadata(
        "(id->>'$')", "CASE WHEN starts_with(metadata, '{') THEN metadata END", file_key
    )
    return f"""
    WITH records AS (
        SELECT {f'"{FILE_KEY}"' if file_key else "filename"} AS filename, id, text, spans, metadata
        FROM read_json(?, format='newline_delimited', filename=true, ignore_errors=false,
                       columns={{{column_list}}}, maximum_object_size={MAX_RECORD_BYTES})
    ), checked AS (
        SELECT *, {_TYPED_OK} AS ok FROM records
    )
    SELECT filename, ok,
        CASE WHEN ok THEN {passage_id} END AS id,
        CASE WHEN ok THEN text->>'$' END AS text,
        CASE WHEN ok THEN {_typed_spans("spans")} END AS spans,
        CASE WHEN ok THEN {metadata} END AS metadata,
        NULL::VARCHAR AS extra
    FROM checked"""


def _other_keys_sql(file_key: bool) -> str:
    allowed = [*KNOWN_KEYS, *([FILE_KEY] if file_key else [])]
    return f"""
    SELECT count(*) FROM read_ndjson_objects(?, maximum_object_size = 1073741824)
    WHERE NOT list_has_all({allowed!r}, json_keys(json))"""


def read_jsonl_typed(path: str, file_key: bool = False) -> pa.Table | None:
    """`read_records([path], "newline_delimited")` of a JSONL file, faster, or None when the
    fast read does not apply: a line DuckDB cannot type or parse, or a record with a top-level
    key other than `KNOWN_KEYS` (kept as `extra` only by the record-by-record read).

    Every record's keys are checked (in DuckDB, a fraction of the read's cost), so a key that
    only some records carry is never dropped. With `file_key`, `path` is a concatenation of
    per-document files whose records carry their file's name as `FILE_KEY`, and the rows are
    those of `read_records(files, "auto", per_document=True)`; None when a record lacks it.
    """
    try:
        ((other_keys,),) = fetch_rows(_other_keys_sql(file_key), [path])
        if other_keys:
            return None
        rows = fetch_arrow(_typed_sql(file_key), [path])
    except duckdb.Error:
        return None  # a line the typed read refuses: the record-by-record read says which
    if file_key and rows["filename"].null_count:
        return None
    return rows


def _raw_records(paths: list[str], fmt: str, max_record_bytes: int) -> pa.Table:
    """`filename, item` of every record of `paths`, in file order.

    DuckDB's `auto` format costs about twice the time of `newline_delimited` per file, over
    thousands of files. So with `auto`, every file is read as JSONL first, and only the files
    where that found a line that is not JSON or a JSON array (a JSON array file, a malformed
    line) are read again with `auto`, and their rows put back in place.
    """
    sql = _RAW_SQL.format(
        fmt="newline_delimited" if fmt == "auto" else fmt, max_bytes=int(max_record_bytes)
    )
    lines = fetch_arrow(sql, [paths]).combine_chunks()
    if fmt != "auto":
        return lines
    odd = fetch_arrow(
        "SELECT DISTINCT filename FROM lines WHERE item IS NULL OR starts_with(item, '[')",
        tables={"lines": lines},
    )["filename"].to_pylist()
    if not odd:
        return lines
    redo = set(odd)
    again = fetch_arrow(
        _RAW_SQL.format(fmt="auto", max_bytes=int(max_record_bytes)),
        [[path for path in paths if path in redo]],
    )
    order = pa.table({"filename": paths, "file_position": range(len(paths))})
    kept = lines.filter(pc.invert(pc.is_in(lines["filename"], pa.array(odd))))
    merged = pa.concat_tables([kept, again.cast(kept.schema)])
    merged = merged.append_column("row_position", pa.array(np.arange(merged.num_rows)))
    return fetch_arrow(
        """SELECT m.filename, m.item FROM merged m JOIN file_order o USING (filename)
           ORDER BY o.file_position, m.row_position""",
        tables={"merged": merged, "file_order": order},
    ).combine_chunks()


def empty_records() -> pa.Table:
    """A table with the columns of `read_records` and no rows."""
    columns = {"filename": "VARCHAR", "ok": "BOOLEAN", **READ_COLUMNS}
    casts = ", ".join(f"NULL::{kind} AS {name}" for name, kind in columns.items())
    return fetch_arrow(f"SELECT {casts} LIMIT 0")
