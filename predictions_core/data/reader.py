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

import pyarrow as pa

from predictions_core.data.sql import fetch_arrow

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


# what `validation._problem_with_spans` accepts: no spans, or a list of objects with integer
# start/end and, where present, lists of labellers and timestamps (json_extract's values are
# minified JSON, so the first character says an array, an object or a string)
_SPANS_OK = f"""
    CASE WHEN p[3] IS NULL OR p[3] = 'null' THEN true
         WHEN span_values IS NULL THEN false
         ELSE coalesce(list_bool_and(list_transform(span_values, lambda s: coalesce(
             json_type(s.start_index) {_INTEGER} AND json_type(s.end_index) {_INTEGER}
             AND {_list_or_null("s.labellers")} AND {_list_or_null("s.timestamps")}, false))), true)
    END"""

_RECORD_OK = f"""coalesce(
    json_type(p[1]) IN ('VARCHAR', 'BIGINT', 'UBIGINT')
    AND starts_with(p[2], '"')
    AND (p[4] IS NULL OR p[4] = 'null' OR starts_with(p[4], '{{'))
    AND {_SPANS_OK}, false)"""

_TYPED_SPANS = """list_transform(span_values, lambda s: struct_pack(
    start_index := s.start_index::BIGINT, end_index := s.end_index::BIGINT,
    concept_id := s.concept_id, labellers := s.labellers::VARCHAR[],
    timestamps := s.timestamps::VARCHAR[], prediction_probability := s.prediction_probability))"""

_STEM = "parse_filename(filename, true)"
_DOCUMENT_DEFAULTS = f"""json_object(
    'document_id', regexp_replace({_STEM}, '_translated_en$', ''),
    'translated', CASE WHEN ends_with({_STEM}, '_translated_en') THEN 'True' ELSE 'False' END)"""


_RAW_SQL = """
    SELECT filename, json AS item
    FROM read_json_objects(?, format='{fmt}', filename=true, ignore_errors=true,
                           maximum_object_size={max_bytes})"""


def _select_sql(raw: str, per_document: bool) -> str:
    known = ", ".join(f"'$.{key}'" for key in KNOWN_KEYS)
    removed = "{" + ", ".join(f'"{key}": null' for key in KNOWN_KEYS) + "}"
    n_known = " + ".join(f"(p[{i}] IS NOT NULL)::INTEGER" for i in range(1, 5))
    passage_id = "(p[1]->>'$')"
    metadata = "CASE WHEN starts_with(p[4], '{') THEN p[4] END"
    if per_document:
        # ids are unique only within a document; the file's name says which document and
        # whether it was translated, unless the passage's own metadata says otherwise
        passage_id = f"{_STEM} || '.' || {passage_id}"
        metadata = f"json_merge_patch({_DOCUMENT_DEFAULTS}, coalesce({metadata}, '{{}}'))"
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
    raw = fetch_arrow(raw_sql, [list(paths)]).combine_chunks()
    return fetch_arrow(
        _select_sql("SELECT * FROM raw_records", per_document), tables={"raw_records": raw}
    )


def empty_records() -> pa.Table:
    """A table with the columns of `read_records` and no rows."""
    columns = {"filename": "VARCHAR", "ok": "BOOLEAN", **READ_COLUMNS}
    casts = ", ".join(f"NULL::{kind} AS {name}" for name, kind in columns.items())
    return fetch_arrow(f"SELECT {casts} LIMIT 0")
