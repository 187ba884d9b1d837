"""The process-wide view of a data dir: its catalogue and its loaded predictions.

The dashboard (every session) and the HTTP routes share one `PredictionStore` per data dir,
so a file is parsed once per process and a changed file is reloaded on the next request:
each access compares the file's fingerprint (one `stat`; for a per-document folder, one
`stat` of the folder, while a background listing every 2 s finds files rewritten in place:
`data.documents`) with the one it was loaded at.
"""

from __future__ import annotations

import threading
from pathlib import Path

from predictions_core.data.catalogue import Catalogue, ClassifierEntry, scan_catalogue
from predictions_core.data.issues import LoadIssue
from predictions_core.data.loading import LoadedPredictions, fingerprint, load_predictions_file
from predictions_core.data.warm_up import warm_up_in_background
from predictions_core.settings import Settings


class PredictionStore:
    """Catalogue and loaded tables of one data dir, safe to share between threads."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.RLock()
        self._catalogue: Catalogue | None = None
        self._catalogue_signature: tuple | None = None
        self._loaded: dict[Path, tuple[str, LoadedPredictions]] = {}
        self._file_locks: dict[Path, threading.Lock] = {}

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def catalogue(self) -> Catalogue:
        """The catalogue, rescanned when files were added, removed or replaced."""
        signature = _layout_signature(self.data_dir)
        with self._lock:
            if self._catalogue is None or signature != self._catalogue_signature:
                self._catalogue = scan_catalogue(self.data_dir)
                self._catalogue_signature = signature
            return self._catalogue

    def predictions(self, qid: str, classifier_id: str) -> LoadedPredictions:
        """The loaded predictions of one classifier (ids validated; 404-style errors raised)."""
        entry = self.catalogue().classifier(qid, classifier_id)
        return self.load_entry(entry)

    def load_entry(self, entry: ClassifierEntry) -> LoadedPredictions:
        path = entry.predictions_path
        with self._lock:
            file_lock = self._file_locks.setdefault(path, threading.Lock())
        # one loader per file: concurrent first requests wait for it instead of parsing twice
        with file_lock:
            try:
                key = fingerprint(path)
            except OSError:
                key = "missing"
            known = self._loaded.get(path)
            if known is not None and known[0] == key:
                return known[1]
            loaded = load_predictions_file(
                path, self.settings.resolved_cache_dir, concept_id=entry.concept_id
            )
            self._loaded[path] = (key, loaded)
            warm_up_in_background(loaded.table)
            return loaded

    def loaded_issues(self) -> list[LoadIssue]:
        """Everything skipped so far: unreadable metadata, and bad lines of loaded files.

        Paths are relative to the data dir (`Q218/abc/predictions.jsonl`): people are shown
        which file, never where the server keeps its data.
        """
        issues = list(self.catalogue().issues)
        for _, loaded in list(self._loaded.values()):
            issues.extend(loaded.issues)
        return [_within_data_dir(issue, self.data_dir) for issue in issues]

    def forget(self) -> None:
        """Drop what is in memory (the on-disk caches stay valid)."""
        with self._lock:
            self._catalogue = None
            self._loaded.clear()


def _within_data_dir(issue: LoadIssue, data_dir: Path) -> LoadIssue:
    """`issue` with its path, and any mention of the data dir in its message, made relative."""
    root = str(data_dir.resolve()), str(data_dir)
    path, message = issue.path, issue.message
    for prefix in root:
        if path.startswith(prefix + "/"):
            path = path[len(prefix) + 1 :]
        message = message.replace(prefix + "/", "")
    return LoadIssue(path, issue.line, message)


_stores: dict[tuple[Path, Path], PredictionStore] = {}
_stores_lock = threading.Lock()


def get_store(settings: Settings | None = None) -> PredictionStore:
    """The process's store for these settings' data dir (created on first use)."""
    if settings is None:
        from predictions_core.data.location import app_settings

        settings = app_settings()
    key = (settings.data_dir.resolve(), settings.resolved_cache_dir.resolve())
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = PredictionStore(settings)
        return store


def _layout_signature(data_dir: Path) -> tuple:
    """Modification times of the folders and metadata files that make up the catalogue."""
    entries: list[tuple[str, int]] = []
    folders = [data_dir, data_dir / "predictions", data_dir / "classifiers", data_dir / "concepts"]
    for folder in folders:
        if not folder.is_dir():
            continue
        entries.append((str(folder), folder.stat().st_mtime_ns))
        for child in folder.iterdir():
            if child.name.startswith("Q"):
                entries.extend(_stat_tree(child))
    return tuple(entries)


def _stat_tree(path: Path) -> list[tuple[str, int]]:
    try:
        found = [(str(path), path.stat().st_mtime_ns)]
        if path.is_dir():
            for child in path.iterdir():
                if child.is_dir() or child.suffix == ".json":
                    found.append((str(child), child.stat().st_mtime_ns))
    except OSError:
        return []
    return found
