"""The per-document layout (CONTRACT §2, third layout): a classifier folder of document files.

The upstream inference pipeline writes `{QID}/{classifier_id}/{document_stem}.json`, one
file per document: JSONL, or (older files) a JSON array of JSON strings of LabelledPassages.
All files of a folder are read in one DuckDB pass (`reader.read_records` over the list of
files): no Python work per passage. A passage's id becomes `{document_stem}.{id}` (ids are
unique only within a document); its metadata gets `document_id` (the stem without
`_translated_en`) and `translated` (whether the stem ends with it), unless it has its own.

Bad files follow the rules of bad lines: an empty file, a file that is not JSON, a malformed
line or array item is skipped and reported with the file's name (and line or item number);
the rest loads. Only files with a bad record are checked again, in Python, to say why.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from predictions_core.data.issues import LoadIssue
from predictions_core.data.reader import MAX_RECORD_BYTES, empty_records, read_records
from predictions_core.data.validation import find_bad_records_in_document

METADATA_FILES = frozenset({"classifier.json", "concept.json"})
"""Files of a classifier folder that are metadata, not documents."""

DOCUMENT_RECORD_BYTES = 16 * 1024 * 1024
"""DuckDB's `maximum_object_size` for the one pass over a folder: its default, because the
buffer it sets aside per file costs time over thousands of files. Should DuckDB refuse a
larger record, that file is read on its own with `reader.MAX_RECORD_BYTES`."""

RECHECK_S = 2.0
"""How long `folder_fingerprint` trusts its last listing while the folder's own mtime is
unchanged. Adding, removing or replacing a file (as the sync does) changes that mtime, so it
is seen at once; a file rewritten in place is seen within this many seconds."""

_listings: dict[Path, tuple[int, float, str]] = {}
_listings_lock = threading.Lock()


@dataclass(frozen=True)
class DocumentFile:
    """One document file of a folder as listed: what the cache key is made of."""

    path: Path
    size: int
    mtime_ns: int


def is_document_file(name: str) -> bool:
    """True for a document file's name: `*.json`, not hidden, not a metadata file."""
    return name.endswith(".json") and not name.startswith(".") and name not in METADATA_FILES


def has_document_files(folder: Path) -> bool:
    """True when `folder` holds at least one document file (stops at the first one)."""
    try:
        with os.scandir(folder) as entries:
            return any(is_document_file(e.name) and e.is_file() for e in entries)
    except OSError:
        return False


def list_document_files(folder: Path) -> list[DocumentFile]:
    """The folder's document files, sorted by name (the order their passages load in)."""
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if is_document_file(entry.name) and entry.is_file():
                stat = entry.stat()
                found.append(DocumentFile(Path(entry.path), stat.st_size, stat.st_mtime_ns))
    return sorted(found, key=lambda document: document.path.name)


def listing_key(files: list[DocumentFile]) -> str:
    """A digest of the files' names, sizes and mtimes: changes when one file changes, or one
    is added or removed."""
    digest = hashlib.sha1()
    for document in files:
        digest.update(f"{document.path.name}\0{document.size}\0{document.mtime_ns}\n".encode())
    return f"{len(files)}docs-{digest.hexdigest()[:16]}"


def folder_fingerprint(folder: Path) -> str:
    """`listing_key` of the folder's document files, cheap enough to ask on every request.

    Listing 10,000 files takes a noticeable time on some file systems, so the last listing is
    reused while the folder's own mtime is unchanged, for up to `RECHECK_S` seconds. Raises
    `OSError` when the folder cannot be read.
    """
    folder_mtime = folder.stat().st_mtime_ns
    now = time.monotonic()
    with _listings_lock:
        known = _listings.get(folder)
    if known is not None and known[0] == folder_mtime and now - known[1] < RECHECK_S:
        return known[2]
    key = listing_key(list_document_files(folder))
    with _listings_lock:
        _listings[folder] = (folder_mtime, now, key)
    return key


def read_document_folder(
    folder: Path, files: list[DocumentFile] | None = None
) -> tuple[pa.Table, list[LoadIssue]]:
    """Every usable passage of the folder's document files (`files`, as listed by
    `list_document_files`; listed now when not given), and what was skipped.

    The table has the columns of `reader.read_records` without `ok` (`filename` says which
    file each passage came from).
    """
    files = list_document_files(folder) if files is None else files
    issues = [LoadIssue(str(f.path), None, "empty file: no passages") for f in files if f.size == 0]
    paths = [str(f.path) for f in files if f.size > 0]
    if not paths:
        return _no_rows(), issues
    rows, refused = _read_all(paths)
    issues += refused
    bad = pc.value_counts(rows.filter(pc.invert(rows["ok"]))["filename"]).to_pylist()
    for counted in sorted(bad, key=lambda item: item["values"]):
        issues += _explain(Path(counted["values"]), counted["counts"])
    rows = rows.filter(rows["ok"]).drop_columns(["ok"])
    return rows, issues


def _read_all(paths: list[str]) -> tuple[pa.Table, list[LoadIssue]]:
    """One DuckDB pass over every file; if DuckDB refuses one, set aside those Python can't
    parse and read the rest again; if it still refuses, read file by file."""
    try:
        return read_records(paths, "auto", True, DOCUMENT_RECORD_BYTES), []
    except duckdb.Error:
        pass
    issues = [issue for path in paths if (issue := _unparsable_array(Path(path))) is not None]
    refused = {issue.path for issue in issues}
    rest = [path for path in paths if path not in refused]
    if not rest:
        return _no_rows(), issues
    try:
        return read_records(rest, "auto", True, DOCUMENT_RECORD_BYTES), issues
    except duckdb.Error:
        pass
    tables = []
    for path in rest:
        try:
            tables.append(read_records([path], "auto", True, MAX_RECORD_BYTES))
        except duckdb.Error:
            issues.append(LoadIssue(path, None, "unreadable file: not JSON lines or a JSON array"))
    return (pa.concat_tables(tables) if tables else _no_rows()), issues


def _unparsable_array(path: Path) -> LoadIssue | None:
    """An issue when `path` is meant as a JSON array (starts with `[`) but does not parse."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        return LoadIssue(str(path), None, f"unreadable file: {error.strerror or error}")
    if not raw.lstrip().startswith(b"["):
        return None
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return LoadIssue(str(path), error.lineno, f"malformed JSON ({error.msg})")
    return None


def _explain(path: Path, n_bad: int) -> list[LoadIssue]:
    """The exact issues of a file that had `n_bad` unusable records (Python's check)."""
    try:
        issues = find_bad_records_in_document(path)
    except OSError as error:
        return [LoadIssue(str(path), None, f"unreadable file: {error.strerror or error}")]
    # DuckDB and Python check the same things; should they ever disagree, the count stays true
    return issues or [LoadIssue(str(path), None, f"{n_bad} unreadable passage(s) skipped")]


def _no_rows() -> pa.Table:
    return empty_records()
