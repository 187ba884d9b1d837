"""Load a predictions JSONL file into one columnar (Arrow) table, with a persistent cache.

Parsing is DuckDB's JSON reader (multi-threaded C++). A clean file is read once. When a file
has bad lines, `validation.find_bad_lines` reads it again in Python to say exactly which
lines and why, and DuckDB parses only the good ones. The result is written to
`<cache dir>/<name>-<fingerprint>.arrow` (Arrow IPC, memory-mapped on the next load), so a
process restart or a second worker costs milliseconds.

One row per passage. Columns (see `PASSAGE_SCHEMA`): the passage's `id`, `text`, `spans`
(valid spans only), `metadata` (JSON text, every key kept), and the derived columns that
filters and sorts use: `document_id`, `translated`, `region`, `corpus`, `year`, `n_spans`,
`text_length`, `passage_key` (joins the same passage across classifiers), `source_line`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from predictions_core.data.issues import LoadIssue
from predictions_core.data.validation import find_bad_lines, line_numbers_of_rows

# the DuckDB version is part of the cache key: `passage_key` is DuckDB's `hash(text)`, which
# may change between versions, and caches built by two versions must never be joined
CACHE_FORMAT = "4d" + duckdb.__version__.replace(".", "").replace("-", "")
_SPAN_TYPE = (
    "STRUCT(start_index BIGINT, end_index BIGINT, concept_id VARCHAR, "
    "labellers VARCHAR[], timestamps VARCHAR[])[]"
)
_READ_COLUMNS = {"id": "VARCHAR", "text": "VARCHAR", "spans": _SPAN_TYPE, "metadata": "JSON"}
_MAX_LINE_BYTES = 512 * 1024 * 1024
# The metadata keys for filters: flat dotted keys as upstream writes them, then nested forms.
_META = {
    "document_id": ["document_id"],
    "region": ["world_bank_region", "document_metadata.world_bank_region"],
    "corpus": ["document_metadata.corpus_type_name", "corpus_type_name"],
    "published": ["document_metadata.publication_ts", "publication_ts"],
    "translated": ["translated"],
}


@dataclass
class LoadedPredictions:
    """A loaded predictions file: the table, what was skipped, and whether the cache served it."""

    source: Path
    table: pa.Table
    issues: list[LoadIssue] = field(default_factory=list)
    from_cache: bool = False

    @property
    def n_passages(self) -> int:
        return self.table.num_rows

    @property
    def n_positives(self) -> int:
        import pyarrow.compute as pc

        return int(pc.sum(pc.greater(self.table["n_spans"], 0)).as_py() or 0)


def fingerprint(path: Path) -> str:
    """Identity of a file's current content for caching: size and modification time."""
    stat = path.stat()
    return f"{stat.st_size}-{stat.st_mtime_ns}"


def load_predictions_file(path: Path, cache_dir: Path | None = None) -> LoadedPredictions:
    """Load `path`, from `cache_dir` when a cache of this exact file version exists.

    Never raises for bad content: malformed lines and spans are skipped and listed in
    `issues` with file and line. An unreadable file gives an empty table and one issue.
    """
    try:
        key = fingerprint(path)
    except OSError as error:
        return _empty(path, f"unreadable file: {error.strerror or error}")
    cache_path = _cache_path(path, key, cache_dir) if cache_dir else None
    if cache_path is not None and cache_path.is_file():
        cached = _read_cache(path, cache_path)
        if cached is not None:
            return cached
    loaded = _parse(path)
    if cache_path is not None:
        _write_cache(cache_path, loaded)
    return loaded


def _parse(path: Path) -> LoadedPredictions:
    try:
        table = _duckdb_read(path)
        bad_rows = _count_null_rows(table)
        if bad_rows == 0:
            return _finish(path, table, [], None)
        issues, good_lines = find_bad_lines(path)
    except (OSError, duckdb.Error) as error:
        # DuckDB may refuse a whole file (an over-long line, a file that is not JSON at all):
        # the exact Python pass then says which lines are at fault.
        try:
            issues, good_lines = find_bad_lines(path)
        except OSError as read_error:
            return _empty(path, f"unreadable file: {read_error}")
        if not issues:
            return _empty(path, f"unreadable file: {error}")
    table, line_of_row = _read_good_lines(path, good_lines)
    return _finish(path, table, issues, line_of_row)


def _read_good_lines(path: Path, good_lines: list[int]) -> tuple[pa.Table, list[int]]:
    """Parse only the given (1-based) lines, through a temporary file DuckDB can read."""
    wanted = set(good_lines)
    with (
        tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as tmp,
        path.open("rb") as source,
    ):
        for number, raw in enumerate(source, start=1):
            if number in wanted:
                tmp.write(raw if raw.endswith(b"\n") else raw + b"\n")
    try:
        return _duckdb_read(Path(tmp.name)), good_lines
    finally:
        os.unlink(tmp.name)


_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    # one connection per thread: DuckDB connections are not safe to share between threads
    con = getattr(_local, "con", None)
    if con is None:
        con = duckdb.connect()
        _local.con = con
    return con


def _duckdb_read(path: Path) -> pa.Table:
    columns = ", ".join(f"'{k}': '{v}'" for k, v in _READ_COLUMNS.items())
    sql = f"""
        SELECT id, text, spans, metadata
        FROM read_json(?, format='newline_delimited', columns={{{columns}}},
                       ignore_errors=true, maximum_object_size={_MAX_LINE_BYTES})
    """
    return _connection().sql(sql, params=[str(path)]).to_arrow_table()


def _count_null_rows(table: pa.Table) -> int:
    import pyarrow.compute as pc

    missing = pc.or_(pc.is_null(table["id"]), pc.is_null(table["text"]))
    return int(pc.sum(missing).as_py() or 0)


def _finish(
    path: Path, table: pa.Table, issues: list[LoadIssue], line_of_row: list[int] | None
) -> LoadedPredictions:
    """Derive the filter columns and drop spans outside their text, reporting each."""
    from predictions_core.data.derive import derive_columns

    derived, dropped_rows = derive_columns(_connection(), table, _META)
    if line_of_row is None:
        line_of_row = line_numbers_of_rows(path) if dropped_rows else []
    for row, n_dropped in dropped_rows:
        issues.append(
            LoadIssue(str(path), line_of_row[row], f"{n_dropped} span(s) outside the text skipped")
        )
    issues.sort(key=lambda issue: issue.line or 0)
    lines = pa.array(line_of_row or range(1, derived.num_rows + 1), type=pa.int64())
    derived = derived.append_column("source_line", lines)
    return LoadedPredictions(source=path, table=derived, issues=issues)


def _empty(path: Path, message: str) -> LoadedPredictions:
    from predictions_core.data.derive import empty_passage_table

    return LoadedPredictions(path, empty_passage_table(), [LoadIssue(str(path), None, message)])


def _cache_path(path: Path, key: str, cache_dir: Path) -> Path:
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    return cache_dir / f"{path.parent.name}-{path.stem}-{digest}-{key}-v{CACHE_FORMAT}.arrow"


def _read_cache(source: Path, cache_path: Path) -> LoadedPredictions | None:
    try:
        reader = pa.ipc.open_file(pa.memory_map(str(cache_path), "r"))
        table = reader.read_all()
    except (OSError, pa.ArrowInvalid):
        return None  # a damaged cache is rebuilt, never trusted
    raw_issues = json.loads((table.schema.metadata or {}).get(b"issues", b"[]"))
    issues = [LoadIssue(**item) for item in raw_issues]
    return LoadedPredictions(source, table.replace_schema_metadata(None), issues, from_cache=True)


def _write_cache(cache_path: Path, loaded: LoadedPredictions) -> None:
    """Write the cache atomically and remove older versions of the same source."""
    try:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        issues = json.dumps([i.to_dict() for i in loaded.issues]).encode()
        table = loaded.table.replace_schema_metadata({b"issues": issues})
        fd, tmp = tempfile.mkstemp(dir=cache_path.parent, suffix=".part")
        with os.fdopen(fd, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        os.replace(tmp, cache_path)
    except OSError:
        return  # a read-only cache dir only costs speed
    stem = cache_path.name.rsplit("-", 3)[0]
    for old in cache_path.parent.glob(f"{stem}-*.arrow"):
        if old != cache_path:
            old.unlink(missing_ok=True)
