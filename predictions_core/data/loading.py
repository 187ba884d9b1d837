"""Load a classifier's predictions into one columnar (Arrow) table, with a persistent cache.

A classifier's predictions are one JSONL file (the per-classifier and older layouts) or a
folder of document files (the per-document layout, `documents`). Parsing is DuckDB's JSON
reader (multi-threaded C++, `reader`): a clean file or folder is read in one pass. When a
JSONL file has bad lines, `validation.find_bad_lines` reads it again in Python to say exactly
which lines and why, and DuckDB parses only the good ones. The result is written to
`<cache dir>/<name>-<digest>-<fingerprint>-v<format>.arrow` (Arrow IPC, memory-mapped on the
next load), so a process restart or a second worker costs milliseconds. A folder's cache
key is a digest of its files' names, sizes and modification times; a new process takes it
from the listing recorded beside the caches while the folder's mtime is unchanged, and
checks it in the background (`documents.current_files`).

One row per passage. Columns: those read from the file (`reader.READ_COLUMNS`: the
passage's `id`, `text`, `spans` (valid spans only), `metadata` (JSON text, every key kept),
`extra` (other top-level keys)), the columns `derive.derive_columns` adds for filters and
sorts (`document_id`, `translated`, `region`, `corpus`, `year`, `n_spans`, `text_length`,
`passage_key`, which joins the same passage across classifiers, `score`), and `source_line`
(the line of a JSONL file; the row's position for a folder).
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

from predictions_core.data.derive import derive_columns, empty_passage_table
from predictions_core.data.documents import (
    current_files,
    folder_fingerprint,
    list_and_record,
    read_document_folder,
)
from predictions_core.data.files import atomic_writer
from predictions_core.data.issues import LoadIssue
from predictions_core.data.reader import read_jsonl_typed, read_records
from predictions_core.data.validation import find_bad_lines, line_numbers_of_rows

# the DuckDB version is part of the cache key: `passage_key` is DuckDB's `hash(text)`, which
# may change between versions, and caches built by two versions must never be joined.
# "5a": `extra` (other top-level keys), spans' `prediction_probability`, `score`, top-level
# `publication_ts`, and folders of document files.
CACHE_FORMAT = "5a" + duckdb.__version__.replace(".", "").replace("-", "")


@dataclass
class LoadedPredictions:
    """Loaded predictions: the table, what was skipped, and whether the cache served it.

    `source` is the JSONL file, or the folder of document files (per-document layout).
    """

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
    """Identity of a file's current content for caching: size and modification time.

    For a folder of document files: a token that changes when a file is added, removed or
    replaced at once, and when one is rewritten in place within `documents.RECHECK_S`
    (`documents.folder_fingerprint`: one `stat`, cheap to ask on every request). Raises
    `OSError` for a missing path.
    """
    if path.is_dir():
        return folder_fingerprint(path)
    stat = path.stat()
    return f"{stat.st_size}-{stat.st_mtime_ns}"


def load_predictions_file(
    path: Path, cache_dir: Path | None = None, concept_id: str | None = None
) -> LoadedPredictions:
    """Load `path` (a JSONL file or a folder of document files), from `cache_dir` when a
    cache of this exact version exists.

    `concept_id` (the QID) says which spans count for a passage's `score`. Never raises for
    bad content: malformed lines, files and spans are skipped and listed in `issues` with
    file and line. An unreadable file gives an empty table and one issue.
    """
    documents = None
    try:
        if path.is_dir():  # the files are listed only when the listing is not known
            key, documents = current_files(path, cache_dir)
        else:
            key = fingerprint(path)
    except OSError as error:
        return _empty(path, f"unreadable file: {error.strerror or error}")
    cache_path = _cache_path(path, key, cache_dir, concept_id) if cache_dir else None
    if cache_path is not None and cache_path.is_file():
        cached = _read_cache(path, cache_path)
        if cached is not None:
            return cached
    if path.is_dir():
        if documents is None:  # the key came from an earlier listing: read what is there now
            key, documents = list_and_record(path)
            cache_path = _cache_path(path, key, cache_dir, concept_id) if cache_dir else None
        loaded = _parse_folder(path, documents, concept_id)
    else:
        loaded = _parse(path, concept_id)
    if cache_path is not None:
        _write_cache(cache_path, key, loaded)
    return loaded


def _parse(path: Path, concept_id: str | None) -> LoadedPredictions:
    try:
        rows = _duckdb_read(path)
        if pc.all(rows["ok"]).as_py() is not False:
            return _finish(path, rows, [], None, concept_id)
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
    rows, line_of_row = _read_good_lines(path, good_lines)
    return _finish(path, rows, issues, line_of_row, concept_id)


def _parse_folder(folder: Path, documents: list, concept_id: str | None) -> LoadedPredictions:
    """The per-document layout: every document file of `folder`, in one pass."""
    try:
        rows, issues = read_document_folder(folder, documents)
    except OSError as error:
        return _empty(folder, f"unreadable folder: {error.strerror or error}")
    derived, dropped_rows = derive_columns(rows, concept_id)
    files = rows["filename"]
    for row, n_dropped in dropped_rows:
        where = str(files[row])
        message = f"passage {derived['id'][row]}: {n_dropped} span(s) outside the text skipped"
        issues.append(LoadIssue(where, None, message))
    issues.sort(key=lambda issue: (issue.path, issue.line or 0))
    positions = pa.array(range(1, derived.num_rows + 1), type=pa.int64())
    table = derived.append_column("source_line", positions)
    return LoadedPredictions(source=folder, table=table, issues=issues)


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
        rows = _duckdb_read(Path(tmp.name))
    finally:
        os.unlink(tmp.name)
    # the Python check passes exactly what the reader accepts; should they ever disagree,
    # the row is still dropped rather than loaded half-read
    kept = rows["ok"]
    return rows.filter(kept), [n for n, ok in zip(good_lines, kept.to_pylist(), strict=True) if ok]


def _duckdb_read(path: Path) -> pa.Table:
    typed = read_jsonl_typed(str(path))  # the fast read, where it applies
    return typed if typed is not None else read_records([str(path)], "newline_delimited")


def _finish(
    path: Path,
    rows: pa.Table,
    issues: list[LoadIssue],
    line_of_row: list[int] | None,
    concept_id: str | None,
) -> LoadedPredictions:
    """Derive the filter columns and drop spans outside their text, reporting each."""
    derived, dropped_rows = derive_columns(rows, concept_id)
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


def _cache_path(path: Path, key: str, cache_dir: Path, concept_id: str | None) -> Path:
    """`<prefix>-<key>-v<format>.arrow`; the prefix names the source (and its concept)."""
    return cache_dir / f"{_cache_prefix(path, concept_id)}-{key}-v{CACHE_FORMAT}.arrow"


def _cache_prefix(path: Path, concept_id: str | None) -> str:
    source = f"{path.resolve()}|{concept_id or ''}"
    digest = hashlib.sha1(source.encode()).hexdigest()[:12]
    return f"{path.parent.name}-{path.stem}-{digest}"


def _read_cache(source: Path, cache_path: Path) -> LoadedPredictions | None:
    try:
        reader = pa.ipc.open_file(pa.memory_map(str(cache_path), "r"))
        table = reader.read_all()
    except (OSError, pa.ArrowInvalid):
        return None  # a damaged cache is rebuilt, never trusted
    raw_issues = json.loads((table.schema.metadata or {}).get(b"issues", b"[]"))
    issues = [LoadIssue(**item) for item in raw_issues]
    return LoadedPredictions(source, table.replace_schema_metadata(None), issues, from_cache=True)


def _write_cache(cache_path: Path, key: str, loaded: LoadedPredictions) -> None:
    """Write the cache atomically and remove older versions of the same source."""
    issues = json.dumps([i.to_dict() for i in loaded.issues]).encode()
    table = loaded.table.replace_schema_metadata({b"issues": issues})
    try:
        with atomic_writer(cache_path) as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    except OSError:
        return  # a read-only cache dir only costs speed
    prefix = cache_path.name[: -len(f"-{key}-v{CACHE_FORMAT}.arrow")]
    for old in cache_path.parent.glob(f"{prefix}-*.arrow"):
        if old != cache_path:
            old.unlink(missing_ok=True)
