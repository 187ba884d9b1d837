"""What a sync did and what it created: reports, the sync manifest, and which keys are safe.

No boto3 here (that lives in `predictions_core.sync.s3`), so the dashboard and the HTTP routes can
read a report or a manifest without importing the AWS SDK.

The manifest (`<data dir>/.sync-manifest.json`) lists every file a sync created, with the
object's size and ETag. It serves two purposes: an object whose size and ETag are unchanged
and whose local file is still there is not downloaded again, and a file is only ever deleted
because its object left the bucket when the manifest says a sync created it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from predictions_core.data.files import PART_MARKER, write_bytes_atomically

MANIFEST_NAME = ".sync-manifest.json"
CACHE_DIR_NAME = ".cache"
FEEDBACK_DB_PREFIX = "feedback.sqlite"


@dataclass(frozen=True)
class KeyProblem:
    """An object key that was refused or failed, and why (written for a person)."""

    key: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "reason": self.reason}


def utc_now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


@dataclass
class SyncReport:
    """Summary of one `sync_bucket` run. `ok` is False on a whole-sync error or any failed key.

    Refused keys (unsafe names, the cache dir, the feedback DB) are warnings, not failures:
    they are a property of the bucket that every later sync would hit again.
    """

    bucket: str
    prefix: str
    data_dir: Path
    downloaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    kept_local: list[KeyProblem] = field(default_factory=list)
    refused: list[KeyProblem] = field(default_factory=list)
    failed: list[KeyProblem] = field(default_factory=list)
    started_at: datetime = field(default_factory=utc_now)
    finished_at: datetime | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed

    @property
    def changed_anything(self) -> bool:
        """True when files appeared, changed or disappeared, so in-memory caches are stale."""
        return bool(self.downloaded or self.deleted)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary for `/api/health` and the dashboard's data status."""
        return {
            "bucket": self.bucket,
            "prefix": self.prefix,
            "data_dir": str(self.data_dir),
            "ok": self.ok,
            "error": self.error,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "downloaded": len(self.downloaded),
            "unchanged": len(self.unchanged),
            "deleted": len(self.deleted),
            "kept_local": [problem.to_dict() for problem in self.kept_local],
            "refused": [problem.to_dict() for problem in self.refused],
            "failed": [problem.to_dict() for problem in self.failed],
        }


class SyncProgress:
    """How far one running sync is: files checked or downloaded so far, out of how many.

    Thread-safe: the sync's download workers advance it while `/api/health` and the dashboard
    read it. `total` is None until the bucket's listing is complete (its length is unknown
    before); then every listed object counts once, when it is found unchanged, refused,
    downloaded or failed, so `done` reaches `total` when the downloads are over.
    """

    def __init__(self, bucket: str, prefix: str):
        """A sync of `s3://bucket/prefix` that has just started (nothing listed yet)."""
        self.bucket = bucket
        self.prefix = prefix
        self.started_at = utc_now()
        self._lock = threading.Lock()
        self._done = 0
        self._total: int | None = None

    def listed(self, total: int) -> None:
        """The listing is complete: `total` objects are to be checked or downloaded."""
        with self._lock:
            self._total = total

    def advance(self, count: int = 1) -> None:
        """`count` more objects were found unchanged, refused, downloaded or failed."""
        with self._lock:
            self._done += count

    def to_dict(self) -> dict[str, Any]:
        """`{"bucket", "prefix", "done", "total", "started_at"}` as it is now (JSON-ready)."""
        with self._lock:
            done, total = self._done, self._total
        return {
            "bucket": self.bucket,
            "prefix": self.prefix,
            "done": done,
            "total": total,
            "started_at": self.started_at.isoformat(),
        }


@dataclass
class UploadReport:
    """Summary of one `upload_directory` run. `ok` is False on a whole-run error or a failure."""

    bucket: str
    prefix: str
    local_dir: Path
    uploaded: list[str] = field(default_factory=list)
    skipped: list[KeyProblem] = field(default_factory=list)
    failed: list[KeyProblem] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed


def normalise_prefix(prefix: str | None) -> str:
    """`"a/b"`, `"/a/b/"` → `"a/b/"`; empty stays empty, so a prefix names a folder, not a stem.

    Without the trailing slash a prefix `preds` would also match `preds-old/...`.
    """
    stripped = (prefix or "").strip().strip("/")
    return f"{stripped}/" if stripped else ""


def is_sync_internal_name(name: str) -> bool:
    """True for the manifest and for our temp download files (never synced, never uploaded)."""
    return name == MANIFEST_NAME or (name.startswith(".") and PART_MARKER in name)


def local_path_for_key(
    relative_key: str, data_dir: Path, protected_paths: tuple[Path, ...] = ()
) -> tuple[Path | None, str | None]:
    """Map a key (prefix already removed) to a path inside `data_dir`, or say why not.

    Returns `(path, None)` or `(None, reason)`. `data_dir` and `protected_paths` must already
    be resolved. A key is refused when it could write outside the data dir or over files a
    sync must never touch (the columnar cache, the feedback DB, the manifest).
    """
    reason = _unsafe_key_reason(relative_key)
    if reason:
        return None, reason
    parts = PurePosixPath(relative_key).parts
    if parts[0] == CACHE_DIR_NAME:
        return None, "lands in the cache dir (.cache/), which a sync never writes"
    if parts[-1].startswith(FEEDBACK_DB_PREFIX):
        return None, "is a feedback database file, which a sync never overwrites"
    if is_sync_internal_name(parts[-1]):
        return None, "collides with the sync manifest or a temp download file"
    # resolve() follows symlinks already in data_dir, so a linked folder cannot lead outside
    target = data_dir.joinpath(*parts).resolve()
    if not target.is_relative_to(data_dir) or target == data_dir:
        return None, "resolves outside the data dir"
    for protected in protected_paths:
        # a name prefix also covers an SQLite DB's companions (`-wal`, `-shm`, `-journal`)
        same_stem = target.parent == protected.parent and target.name.startswith(protected.name)
        if same_stem or target.is_relative_to(protected):
            return None, f"lands on a protected path ({protected})"
    return target, None


def _unsafe_key_reason(relative_key: str) -> str | None:
    if not relative_key:
        return "is empty once the prefix is removed"
    if "\\" in relative_key:
        return "contains a backslash"
    if "\x00" in relative_key:
        return "contains a NUL character"
    if relative_key.startswith("/"):
        return "is an absolute path"
    parts = relative_key.split("/")
    if any(part == "" for part in parts):
        return "has an empty path part (//)"
    if any(part in {".", ".."} for part in parts):
        return "has a '.' or '..' path part"
    return None


@dataclass
class ManifestEntry:
    """One file a sync created: where it came from and what it was when written."""

    bucket: str
    key: str
    size: int
    etag: str
    path: str  # relative to the data dir, POSIX separators
    mtime_ns: int  # of the local file right after the sync wrote it

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _ENTRY_FIELDS}

    def local_file_is_as_synced(self, data_dir: Path, *, check_mtime: bool) -> bool:
        """True when the local file still exists with the size (and mtime) the sync left."""
        try:
            stat = (data_dir / self.path).stat()
        except OSError:
            return False
        if stat.st_size != self.size:
            return False
        return not check_mtime or stat.st_mtime_ns == self.mtime_ns


class SyncManifest:
    """The files syncs created in one data dir, keyed by `s3://bucket/key`."""

    def __init__(self, data_dir: Path, entries: dict[str, ManifestEntry] | None = None):
        self.data_dir = data_dir
        self.entries: dict[str, ManifestEntry] = entries or {}
        self.changed = False  # a sync that changed nothing does not rewrite the manifest

    @staticmethod
    def uri(bucket: str, key: str) -> str:
        return f"s3://{bucket}/{key}"

    @classmethod
    def load(cls, data_dir: Path) -> SyncManifest:
        """Read the manifest; a missing or unreadable one is empty (files are re-downloaded)."""
        try:
            raw = json.loads((data_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
            entries = {
                uri: ManifestEntry(**{name: value[name] for name in _ENTRY_FIELDS})
                for uri, value in raw.get("objects", {}).items()
            }
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            entries = {}
        return cls(data_dir, entries)

    def get(self, bucket: str, key: str) -> ManifestEntry | None:
        return self.entries.get(self.uri(bucket, key))

    def put(self, entry: ManifestEntry) -> None:
        self.entries[self.uri(entry.bucket, entry.key)] = entry
        self.changed = True

    def forget(self, bucket: str, key: str) -> None:
        if self.entries.pop(self.uri(bucket, key), None) is not None:
            self.changed = True

    def entries_under(self, bucket: str, prefix: str) -> list[ManifestEntry]:
        """Entries that came from `bucket` under `prefix` (only those may be deleted by it)."""
        return [e for e in self.entries.values() if e.bucket == bucket and e.key.startswith(prefix)]

    def save(self) -> None:
        """Write atomically: a crash leaves the previous manifest, never half of one."""
        payload = {
            "version": 1,
            "objects": {uri: entry.to_dict() for uri, entry in sorted(self.entries.items())},
        }
        write_bytes_atomically(
            self.data_dir / MANIFEST_NAME, json.dumps(payload, indent=1).encode("utf-8")
        )


_ENTRY_FIELDS = ("bucket", "key", "size", "etag", "path", "mtime_ns")
