"""The columns of a loaded predictions table: those read from the file, and those derived.

`reader.READ_COLUMNS` are read from each record; `derive_columns` adds, once at load time
in DuckDB SQL, the columns that filters and sorts use. Each row's metadata JSON is parsed once
(`json_extract_string` with a list of paths) and each span list filtered once: at a million
rows every extra pass over the text or the JSON shows.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from predictions_core.data.metadata import METADATA_PATHS
from predictions_core.data.reader import empty_records
from predictions_core.data.sql import fetch_arrow
from predictions_core.flags import sql_bool_case

# upstream writes 1900-01-01 (as epoch ms below, or as a date) where a date is unknown
_UNKNOWN_DATE_MS = "-2208988800000"
_SPAN_IS_VALID = "s.start_index >= 0 AND s.end_index > s.start_index AND s.end_index <= text_length"


# a passage's score: the highest probability (0..1) among its valid spans of the concept
# (`$concept`: its QID; NULL when unknown, and then every span counts)
_SCORE = """list_max(list_transform(list_filter(valid_spans, lambda s:
        s.prediction_probability BETWEEN 0 AND 1
        AND (s.concept_id IS NULL OR $concept::VARCHAR IS NULL
             OR s.concept_id = $concept::VARCHAR)),
    lambda s: s.prediction_probability))::DOUBLE"""


def _metadata_paths() -> tuple[list[str], dict[str, list[int]]]:
    """JSON paths for every metadata key, flat ("a.b") then nested (a → b), and their positions."""
    paths: list[str] = []
    positions: dict[str, list[int]] = {}
    for field, keys in METADATA_PATHS.items():
        for key in keys:
            variants = [f'$."{key}"'] + (["$." + key] if "." in key else [])
            for path in variants:
                paths.append(path)
                positions.setdefault(field, []).append(len(paths))  # SQL lists are 1-based
    return paths, positions


def _first_value(positions: list[int]) -> str:
    options = ", ".join(f"nullif(trim(meta_values[{i}]), '')" for i in positions)
    return f"coalesce({options})"


def _select_sql() -> str:
    paths, positions = _metadata_paths()
    path_list = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
    return f"""
    WITH parsed AS (
        SELECT id, text, coalesce(spans, []) AS all_spans, metadata, extra,
               json_extract_string(metadata, {path_list}) AS meta_values,
               length(text)::INTEGER AS text_length
        FROM source_rows
    ), fields AS (
        SELECT *,
               list_filter(all_spans, lambda s: {_SPAN_IS_VALID}) AS valid_spans,
               -- today's vibe-checker writes the date at the top level too
               coalesce({_first_value(positions["published"])},
                        nullif(trim(json_extract_string(extra, '$.publication_ts')), ''))
                   AS published,
               {_first_value(positions["translated"])} AS translated_text
        FROM parsed
    )
    SELECT
        id,
        text,
        valid_spans AS spans,
        (len(all_spans) - len(valid_spans))::INTEGER AS n_dropped,
        coalesce(metadata::VARCHAR, '{{}}') AS metadata,
        extra,
        {_first_value(positions["document_id"])} AS document_id,
        {sql_bool_case("translated_text")} AS translated,
        {_first_value(positions["region"])} AS region,
        {_first_value(positions["corpus"])} AS corpus,
        CASE
            WHEN published IS NULL OR published LIKE '{_UNKNOWN_DATE_MS}%'
                OR published LIKE '1900-01-01%' THEN NULL
            WHEN regexp_full_match(published, '-?[0-9]+(\\.[0-9]*)?')
                THEN try(year(epoch_ms(CAST(CAST(published AS DOUBLE) AS BIGINT))))
            ELSE try_cast(substr(published, 1, 4) AS INTEGER)
        END::INTEGER AS year,
        len(valid_spans)::INTEGER AS n_spans,
        text_length,
        hash(text) AS passage_key,
        {_SCORE} AS score
    FROM fields
    """


def derive_columns(
    table: pa.Table, concept_id: str | None = None
) -> tuple[pa.Table, list[tuple[int, int]]]:
    """Add the filter columns to a freshly read table (the `reader.READ_COLUMNS`).

    `concept_id` (the QID) says which spans count for the `score`. Returns the new table and
    `(row index, number of spans dropped)` for every row that had spans outside its text, so
    the caller can report them with line numbers.
    """
    derived = fetch_arrow(_select_sql(), {"concept": concept_id}, tables={"source_rows": table})
    dropped = derived["n_dropped"].to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(dropped)
    dropped_rows = [(int(row), int(dropped[row])) for row in rows]
    return derived.drop_columns(["n_dropped"]), dropped_rows


def empty_passage_table() -> pa.Table:
    """A table with no rows and the columns of a loaded file (for unreadable files)."""
    table, _ = derive_columns(empty_records().drop_columns(["filename", "ok"]))
    return table.append_column("source_line", pa.array([], type=pa.int64()))
