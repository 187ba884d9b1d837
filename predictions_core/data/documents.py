"""The per-document layout (CONTRACT §2, third layout): a classifier folder of document files.

The upstream inference pipeline writes `{QID}/{classifier_id}/{document_stem}.json`, one
file per document: JSONL, or (older files) a JSON array of JSON strings of LabelledPassages.
All files of a folder are read in one DuckDB pass, with no Python loop per passage: a folder
of JSONL files (or of older JSON-string arrays) as one temporary JSONL file, each record
tagged with its file's name (`_read_as_one_file`: DuckDB pays per file, and 10,000 files
cost it more than their bytes), any other folder by `reader.read_records` over the list of
files. A passage's id becomes `{document_stem}.{id}` (ids are unique only within a
document); its metadata gets `document_id` (the stem without `_translated_en`) and
`translated` (whether the stem ends with it), unless it has its own.

Bad files follow the rules of bad lines: an empty file, a file that is not JSON, a malformed
line or array item is skipped and reported with the file's name (and line or item number);
the rest loads. Only files with a bad record are checked again, in Python, to say why.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from predictions_core.data.files import write_bytes_atomically
from predictions_core.data.issues import LoadIssue
from predictions_core.data.reader import (
    FILE_KEY,
    MAX_RECORD_BYTES,
    empty_records,
    read_jsonl_typed,
    read_records,
)
from predictions_core.data.validation import find_bad_records_in_document

METADATA_FILES = frozenset({"classifier.json", "concept.json"})
"""Files of a classifier folder that are metadata, not documents."""

DOCUMENT_RECORD_BYTES = 16 * 1024 * 1024
"""DuckDB's `maximum_object_size` for the one pass over a folder: its default, because the
buffer it sets aside per file costs time over thousands of files. Should DuckDB refuse a
larger record, that file is read on its own with `reader.MAX_RECORD_BYTES`."""

RECHECK_S = 2.0
"""How long a listing of a folder's files is trusted without looking again while the folder's
own mtime is unchanged. Adding, removing or replacing a file (as the sync does) changes that
mtime, so it is seen at once; a file rewritten in place is seen within about this many seconds
(a background listing finds it)."""

SETTLED_NS = 2_000_000_000
"""A listing recorded in the cache dir is trusted by a new process only when it was taken this
long after the folder's last change: a file added within the same clock tick as the listing
would leave the folder's mtime as it was."""

_LISTING_FORMAT = 1


@dataclass
class _Listing:
    """What this process knows of one folder: its mtime, its `listing_key` (None until known),
    a version that changes whenever the key does, and when its files were last listed."""

    folder_mtime_ns: int
    key: str | None = None
    version: int = 0
    checked: float = -math.inf
    checking: bool = False
    memo_path: Path | None = None


_listings: dict[Path, _Listing] = {}
_listings_lock = threading.Lock()
_checks: list[threading.Thread] = []


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
    """A token for the folder's current content, cheap enough to ask on every request: one
    `stat` of the folder, never a listing of its files.

    It changes when the folder's mtime does (a file added, removed or replaced) and when a
    background listing, started here once the last one is `RECHECK_S` old, finds that a
    file's size or mtime changed. Raises `OSError` when the folder cannot be read.
    """
    mtime = folder.stat().st_mtime_ns
    with _listings_lock:
        known = _known(folder, mtime)
        token = f"{mtime}.{known.version}"
        stale = time.monotonic() - known.checked >= RECHECK_S
    if stale:
        _check_in_background(folder)
    return token


def current_files(folder: Path, cache_dir: Path | None) -> tuple[str, list[DocumentFile] | None]:
    """The folder's `listing_key`, and its files when they had to be listed to know it.

    Listing 10,000 files costs a noticeable time, so the key is taken, in this order, from
    this process's listing (unchanged folder mtime, at most `RECHECK_S` old), from the
    listing recorded in `cache_dir` by an earlier process (same folder mtime, taken
    `SETTLED_NS` after it; then checked again in the background), or from listing the files
    now. Raises `OSError` when the folder cannot be read.
    """
    mtime = folder.stat().st_mtime_ns
    memo_path = _memo_path(cache_dir, folder) if cache_dir is not None else None
    with _listings_lock:
        known = _known(folder, mtime)
        known.memo_path = memo_path or known.memo_path
        if known.key is not None and time.monotonic() - known.checked < RECHECK_S:
            return known.key, None
        never_listed = known.checked == -math.inf
    recorded = _read_memo(memo_path) if memo_path is not None and never_listed else None
    if recorded is not None and recorded[0] == mtime:
        with _listings_lock:
            key = _settle(folder, mtime, recorded[1], listed_at=None)
        _check_in_background(folder)
        return key, None
    files, key = _list_and_settle(folder, mtime)
    return key, files


def list_and_record(folder: Path) -> tuple[str, list[DocumentFile]]:
    """List the folder's files now: their `listing_key` and the files (recorded for
    `current_files` and `folder_fingerprint`). Raises `OSError` when the folder cannot be read."""
    mtime = folder.stat().st_mtime_ns
    with _listings_lock:
        _known(folder, mtime)
    files, key = _list_and_settle(folder, mtime)
    return key, files


def wait_for_checks(timeout_s: float = 30.0) -> None:
    """Wait for the background listings started so far (tests and benchmarks)."""
    deadline = time.monotonic() + timeout_s
    for thread in list(_checks):
        thread.join(max(0.0, deadline - time.monotonic()))


def forget_listings() -> None:
    """Drop what this process knows of every folder, as a new process would start."""
    wait_for_checks()
    with _listings_lock:
        _listings.clear()


def _known(folder: Path, mtime: int) -> _Listing:
    """This process's record of `folder` at `mtime` (a new one when the mtime moved on).
    Called with the lock held."""
    known = _listings.get(folder)
    if known is None:
        known = _listings[folder] = _Listing(mtime)
    elif known.folder_mtime_ns != mtime:
        # the version keeps counting, so a token never comes back for other content
        known = _listings[folder] = _Listing(
            mtime, version=known.version + 1, memo_path=known.memo_path
        )
    return known


def _settle(folder: Path, mtime: int, key: str, listed_at: float | None) -> str:
    """Record `key` for `folder` at `mtime` (`listed_at`: when the files were listed, None for
    a listing recorded by another process) and return the key this process now holds.
    Called with the lock held."""
    known = _listings.get(folder)
    if known is None or known.folder_mtime_ns != mtime:
        return key  # the folder moved on while it was listed: the next request lists again
    if known.key is None:
        known.key = key
    elif known.key != key:
        if listed_at is None:
            return known.key  # this process's own listing wins over a recorded one
        known.key = key
        known.version += 1
    if listed_at is not None:
        known.checked = max(known.checked, listed_at)
    return known.key


def _list_and_settle(folder: Path, mtime: int) -> tuple[list[DocumentFile], str]:
    started, started_ns = time.monotonic(), time.time_ns()
    files = list_document_files(folder)
    key = listing_key(files)
    with _listings_lock:
        _settle(folder, mtime, key, listed_at=started)
        known = _listings.get(folder)
        memo_path = known.memo_path if known is not None else None
    if memo_path is not None and started_ns - mtime >= SETTLED_NS:
        _write_memo(memo_path, mtime, key)
    return files, key


def _check_in_background(folder: Path) -> None:
    """List the folder's files in a daemon thread (one listing at a time per folder)."""
    with _listings_lock:
        known = _listings.get(folder)
        if known is None or known.checking:
            return
        known.checking = True
        thread = threading.Thread(
            target=_check, args=(folder, known), name="document-listing", daemon=True
        )
        _checks[:] = [*(t for t in _checks if t.is_alive()), thread]
    thread.start()


def _check(folder: Path, known: _Listing) -> None:
    try:
        _list_and_settle(folder, folder.stat().st_mtime_ns)
    except OSError:
        pass  # an unreadable folder is reported by the next load
    finally:
        with _listings_lock:
            known.checking = False


def _memo_path(cache_dir: Path, folder: Path) -> Path:
    digest = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:12]
    return cache_dir / f"{folder.parent.name}-{folder.name}-{digest}.listing.json"


def _read_memo(path: Path) -> tuple[int, str] | None:
    """(folder mtime, listing key) recorded by an earlier listing, or None."""
    try:
        recorded = orjson.loads(path.read_bytes())
        if recorded.get("format") == _LISTING_FORMAT:
            return int(recorded["folder_mtime_ns"]), str(recorded["key"])
    except (OSError, orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        pass  # a missing or damaged record only costs a listing
    return None


def _write_memo(path: Path, mtime: int, key: str) -> None:
    record = {"format": _LISTING_FORMAT, "folder_mtime_ns": mtime, "key": key}
    with contextlib.suppress(OSError):  # a read-only cache dir only costs speed
        write_bytes_atomically(path, orjson.dumps(record))


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
    typed = _read_as_one_file(paths)
    if typed is not None:
        return typed, []
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


def _read_as_one_file(paths: list[str]) -> pa.Table | None:
    """The rows of JSONL document files through DuckDB's typed read of one file, or None
    when it does not apply (then `read_records` reads the files as they are).

    DuckDB's reader pays per file (about twice the parse of their bytes, over 10,000 small
    files) and its typed read more still, so the files are copied into one temporary JSONL
    file, each record given its file's name as its first key (`reader.FILE_KEY`): a bytes
    split and join per file, no Python loop per passage (an older file's array of JSON strings
    is joined into lines). It does not apply to a JSON array of objects, a record that does not
    start a line with `{`, or anything the typed read refuses.
    """
    with tempfile.TemporaryDirectory(prefix="predictions-documents-") as scratch:
        joined = Path(scratch) / "documents.jsonl"
        try:
            with joined.open("wb") as sink:
                for path in paths:
                    if not _copy_with_file_key(Path(path), sink):
                        return None
        except (OSError, orjson.JSONEncodeError):
            # the reads one file at a time say which file is unreadable; a file name that is
            # not valid UTF-8 cannot be a JSON string
            return None
        return read_jsonl_typed(str(joined), file_key=True)


def _copy_with_file_key(path: Path, sink: BinaryIO) -> bool:
    """Append `path`'s records to `sink` as lines, each starting with `FILE_KEY`; False when
    the file is neither JSONL whose records start their lines nor an array of JSON strings."""
    lines = _records_as_lines(path.read_bytes())
    if lines is None:
        return False
    opening = b'{"' + FILE_KEY.encode() + b'":' + orjson.dumps(str(path)) + b","
    # split and join: a third faster than `bytes.replace` here, and still no loop in Python
    sink.write((b"\n" + opening).join((b"\n" + lines).split(b"\n{"))[1:])
    if not lines.endswith(b"\n"):
        sink.write(b"\n")
    return True


def _records_as_lines(raw: bytes) -> bytes | None:
    """A JSONL file as it is; an older file (a JSON array of JSON strings of passages) as
    those strings, one per line; None for anything else (a JSON array of objects, a blank
    first line, a byte-order mark, an empty array)."""
    if raw.startswith(b"{"):
        return raw
    if not raw.lstrip().startswith(b"["):
        return None
    try:
        lines = "\n".join(orjson.loads(raw))  # a TypeError unless every item is a string
        return lines.encode() if lines.startswith("{") else None
    except (orjson.JSONDecodeError, TypeError, UnicodeEncodeError):
        return None


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
