"""Load a predictions JSONL file into one columnar (Arrow) table, with a persistent cache.

Parsing is DuckDB's JSON reader (multi-threaded C++). A clean file is read once. When a file
has bad lines, `validation.find_bad_lines` reads it again in Python to say exactly which
lines and why, and DuckDB parses only the good ones. The result is written to
`<cache dir>/<name>-<fingerprint>.arrow` (Arrow IPC, memory-mapped on the next load), so a
process restart or a second worker costs milliseconds.

One row per passage. Columns: those read from the file (`derive.READ_COLUMNS`: the
passage's `id`, `text`, `spans` (valid spans only), `metadata` (JSON text, every key kept)),
the columns `derive.derive_columns` adds for filters and sorts (`document_id`, `translated`,
`region`, `corpus`, `year`, `n_spans`, `text_length`, `passage_key`, which joins the same
passage across classifiers), and `source_line`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from predictions_core.data.derive import READ_COLUMNS, derive_columns, empty_passage_table
from predictions_core.data.files import atomic_writer
from predictions_core.data.issues import LoadIssue
from predictions_core.data.sql import fetch_arrow
from predictions_core.data.validation import find_bad_lines, line_numbers_of_rows

# the DuckDB version is part of the cache key: `passage_key` is DuckDB's `hash(text)`, which
# may change between versions, and caches built by two versions must never be joined.
# "4e": `translated` reads the one true/false word list (`flags`), which added on/off.
CACHE_FORMAT = "4e" + duckdb.__version__.replace(".", "").replace("-", "")
_MAX_LINE_BYTES = 512 * 1024 * 1024


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


def _duckdb_read(path: Path) -> pa.Table:
    columns = ", ".join(f"'{k}': '{v}'" for k, v in READ_COLUMNS.items())
    sql = f"""
        SELECT id, text, spans, metadata
        FROM read_json(?, format='newline_delimited', columns={{{columns}}},
                       ignore_errors=true, maximum_object_size={_MAX_LINE_BYTES})
    """
    return fetch_arrow(sql, [str(path)])


def _count_null_rows(table: pa.Table) -> int:
    missing = pc.or_(pc.is_null(table["id"]), pc.is_null(table["text"]))
    return int(pc.sum(missing).as_py() or 0)


def _finish(
    path: Path, table: pa.Table, issues: list[LoadIssue], line_of_row: list[int] | None
) -> LoadedPredictions:
    """Derive the filter columns and drop spans outside their text, reporting each."""
    derived, dropped_rows = derive_columns(table)
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
    issues = json.dumps([i.to_dict() for i in loaded.issues]).encode()
    table = loaded.table.replace_schema_metadata({b"issues": issues})
    try:
        with atomic_writer(cache_path) as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    except OSError:
        return  # a read-only cache dir only costs speed
    stem = cache_path.name.rsplit("-", 3)[0]
    for old in cache_path.parent.glob(f"{stem}-*.arrow"):
        if old != cache_path:
            old.unlink(missing_ok=True)
