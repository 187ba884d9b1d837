"""Render a filtered view as JSON, JSONL or CSV (CONTRACT §5).

The rows come from `query`; these functions only serialise them. The streaming functions
yield `bytes` record batch by record batch, so a download of a million rows never builds one
big string, and the dashboard's download buttons and the HTTP routes share them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.csv as pa_csv

from predictions_core.data.catalogue import ClassifierEntry, ConceptEntry
from predictions_core.data.sql import cursor
from predictions_core.query.engine import (
    QueryResult,
    filtered_metadata_keys,
    iter_filtered_batches,
    query_predictions,
    with_score,
)
from predictions_core.query.filters import Filters

EXPORT_FORMATS = ("json", "jsonl", "csv")
MEDIA_TYPES = {
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
}
_CSV_FIXED_COLUMNS = ["id", "text", "labelled_text", "spans", "n_spans", "score"]


def download_filename(qid: str, classifier_id: str, fmt: str) -> str:
    """The attachment name of CONTRACT §5."""
    return f"{qid}-{classifier_id}-predictions.{fmt}"


def passages_from_batch(batch: pa.RecordBatch | pa.Table) -> Iterator[dict[str, Any]]:
    """Rows as LabelledPassage dicts: id, text, spans (with their labelled text), metadata,
    then the record's other top-level keys as the file had them (`extra`, e.g. the
    pipeline's `marked_up_text`). A span's `prediction_probability` is kept where it has one.
    """
    names = ["id", "text", "spans", "metadata"]
    columns = batch.select(names).to_pydict()
    # `extra`: absent from caches written before it existed
    extras = batch.column("extra").to_pylist() if "extra" in batch.schema.names else None
    for row, (passage_id, text, spans, metadata) in enumerate(
        zip(*(columns[name] for name in names), strict=True)
    ):
        passage = {
            "id": passage_id,
            "text": text,
            "spans": [_span_dict(span, text) for span in spans or []],
            "metadata": orjson.loads(metadata) if metadata else {},
        }
        if extras and extras[row]:
            passage.update(orjson.loads(extras[row]))
        yield passage


def _span_dict(span: dict[str, Any], text: str) -> dict[str, Any]:
    out = {**span, "labelled_text": text[span["start_index"] : span["end_index"]]}
    if out.get("prediction_probability") is None:
        out.pop("prediction_probability", None)  # a span without a score has no such key
    return out


def query_description(
    concept: ConceptEntry, classifier: ClassifierEntry, filters: Filters
) -> dict[str, Any]:
    """The `query` block of a JSON answer: where these rows came from."""
    return {
        "parameters": filters.to_query_params(),
        "description": filters.describe(),
        "concept": {
            "wikibase_id": concept.wikibase_id,
            "preferred_label": concept.concept.preferred_label,
            "description": concept.concept.description,
        },
        "classifier": classifier.classifier.model_dump(mode="json"),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def json_page(
    concept: ConceptEntry, classifier: ClassifierEntry, result: QueryResult, filters: Filters
) -> dict[str, Any]:
    """The paged JSON answer of `GET /api/predictions/{qid}/{classifier_id}`."""
    return {
        "wikibase_id": concept.wikibase_id,
        "classifier_id": classifier.id,
        "total_count": result.total_count,
        "filtered_count": result.filtered_count,
        "page": result.page,
        "page_size": result.page_size,
        "predictions": list(passages_from_batch(result.rows)),
        "query": query_description(concept, classifier, filters),
    }


def stream_json(
    table: pa.Table, concept: ConceptEntry, classifier: ClassifierEntry, filters: Filters
) -> Iterator[bytes]:
    """Every filtered row as one JSON document, written piece by piece."""
    counts = query_predictions(table, filters.model_copy(update={"page": 1, "page_size": 1}))
    head = {
        "wikibase_id": concept.wikibase_id,
        "classifier_id": classifier.id,
        "total_count": counts.total_count,
        "filtered_count": counts.filtered_count,
        "page": 1,
        "page_size": counts.filtered_count,
        "query": query_description(concept, classifier, filters),
    }
    yield orjson.dumps(head)[:-1] + b', "predictions": ['
    first = True
    for batch in iter_filtered_batches(table, filters):
        pieces = [orjson.dumps(p) for p in passages_from_batch(batch)]
        if pieces:
            yield (b"" if first else b",") + b",".join(pieces)
            first = False
    yield b"]}"


def stream_jsonl(table: pa.Table, filters: Filters) -> Iterator[bytes]:
    """Every filtered row as one LabelledPassage JSON line."""
    for batch in iter_filtered_batches(table, filters):
        lines = [orjson.dumps(p) for p in passages_from_batch(batch)]
        if lines:
            yield b"\n".join(lines) + b"\n"


def stream_csv(table: pa.Table, filters: Filters) -> Iterator[bytes]:
    """Every filtered row as CSV: the fixed columns, then one column per metadata key.

    `score` (the last fixed column) is empty for a passage without one.

    Each batch's cells are computed in DuckDB and written by Arrow's CSV writer: no Python
    object per row, so a million rows take seconds, not a minute.
    """
    metadata_keys = filtered_metadata_keys(table, filters)
    yield _csv_lines([[*_CSV_FIXED_COLUMNS, *metadata_keys]])
    paths = [f'$."{key}"' for key in metadata_keys]
    key_columns = "".join(f", meta_values[{i + 1}]" for i in range(len(paths)))
    sql = f"""
        SELECT id, text,
            array_to_string(list_transform(spans, lambda s:
                substring(text, s.start_index + 1, s.end_index - s.start_index)), ' | '),
            to_json(list_transform(spans, lambda s: [s.start_index, s.end_index]))::VARCHAR,
            n_spans, score{key_columns}
        FROM (SELECT *, json_extract_string(metadata, ?::VARCHAR[]) AS meta_values FROM batch)
    """
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    # one cursor for the whole stream (closed when the stream ends or is dropped): a cursor
    # per batch re-plans the same query every 2,000 rows
    with cursor() as con:
        for batch in iter_filtered_batches(table, filters):
            con.register("batch", with_score(pa.Table.from_batches([batch])))
            cells = con.sql(sql, params=[paths]).to_arrow_table()
            sink = io.BytesIO()
            pa_csv.write_csv(cells, sink, write_options=options)
            yield sink.getvalue()


def _csv_lines(rows: Iterable[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def render_download(
    fmt: str, table: pa.Table, concept: ConceptEntry, classifier: ClassifierEntry, filters: Filters
) -> Iterator[bytes]:
    """Every filtered row in `fmt` (json, jsonl or csv), as a stream of bytes."""
    if fmt == "json":
        return stream_json(table, concept, classifier, filters)
    if fmt == "jsonl":
        return stream_jsonl(table, filters)
    return stream_csv(table, filters)
