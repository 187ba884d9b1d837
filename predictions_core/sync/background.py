"""Refresh data without a restart: one process-wide S3 sync, on a timer and on demand.

`get_background_sync()` returns the process's single `BackgroundSync`. `start(settings)` runs
a daemon thread that syncs at once and then every `settings.sync_interval_s` seconds (when
> 0); `sync_now()` is the dashboard's "Refresh data" button. One sync runs at a time per
process: a `sync_now()` that arrives while a sync is running waits for that sync and returns
its report instead of starting a second one.

`data_version` goes up by one after every sync that downloaded or deleted a file, so the app
can drop in-memory caches when it changes (file caches key on size + mtime and need nothing).

Readiness: from `start()` until the first sync has finished (successfully or not),
`first_sync_pending` is True and `progress()` says how far the running sync is, so
`/api/health` can answer `"syncing"` and the dashboard can show a progress bar instead of an
empty concept list.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from predictions_core.data.location import app_settings
from predictions_core.settings import Settings
from predictions_core.sync.state import SyncProgress, SyncReport, normalise_prefix, utc_now


class BackgroundSync:
    """One S3 sync at a time for this process, with the outcome of the last one."""

    def __init__(self, session: Any = None):
        """`session`: a `boto3.session.Session` to use (default: a new one from the env)."""
        self._session = session
        self._lock = threading.Lock()
        self._running: Future[SyncReport] | None = None
        self._settings: Settings | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._progress: SyncProgress | None = None
        self._awaiting_first_sync = False
        self.last_report: SyncReport | None = None
        self.data_version = 0

    def start(self, settings: Settings) -> bool:
        """Start the sync thread unless it runs already or sync is off; True if started.

        Safe to call on every Streamlit rerun: later calls only update the settings used by
        `sync_now()` (the timer keeps the interval it started with).
        """
        with self._lock:
            self._settings = settings
            if not settings.sync_enabled:
                return False
            if self._thread is not None and self._thread.is_alive():
                return False
            self._stop.clear()
            # set before the thread runs, so no health check sees "ok" in between
            self._awaiting_first_sync = self.last_report is None
            self._thread = threading.Thread(
                target=self._run_timer,
                args=(settings.sync_interval_s,),
                name="predictions-s3-sync",
                daemon=True,  # never keeps the process alive on shutdown
            )
            self._thread.start()
            return True

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the timer thread (a sync in progress finishes first)."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)

    @property
    def is_running(self) -> bool:
        """True while a sync is in progress."""
        return self._running is not None

    @property
    def first_sync_pending(self) -> bool:
        """True from `start()` until the first sync has finished, whether it worked or not.

        A failed first sync ends the wait too (its error is in `last_error`): the data dir
        then holds whatever it held, and waiting longer would not change that.
        """
        return self._awaiting_first_sync

    def progress(self) -> dict[str, Any] | None:
        """How far the running sync is (`SyncProgress.to_dict`), or None when none runs."""
        progress = self._progress
        return progress.to_dict() if progress is not None else None

    def _run_timer(self, interval_s: float) -> None:
        self.sync_now()
        if interval_s <= 0:
            return
        while not self._stop.wait(interval_s):
            self.sync_now()

    def sync_now(self, settings: Settings | None = None) -> SyncReport:
        """Sync once now, or wait for the sync already running and return its report."""
        with self._lock:
            running = self._running
            is_owner = running is None
            if running is None:
                running = self._running = Future()
            settings = settings or self._settings
        if not is_owner:
            return running.result()
        try:
            report = self._sync_once(settings or app_settings())
        except BaseException as error:  # waiters must not hang on an interrupted sync
            running.set_exception(error)
            raise
        else:
            running.set_result(report)
        finally:
            with self._lock:
                self._running = None
                self._progress = None
        return report

    def _sync_once(self, settings: Settings) -> SyncReport:
        if not settings.sync_enabled:
            report = SyncReport(bucket="", prefix="", data_dir=settings.data_dir)
            report.error = "sync is off: set PREDICTIONS_S3_BUCKET (and SKIP_S3_SYNC=false)"
            report.finished_at = utc_now()
            return report  # not recorded: there was no sync
        from predictions_core.sync.s3 import sync_from_settings  # boto3 only when syncing

        progress = SyncProgress(settings.s3_bucket or "", normalise_prefix(settings.s3_prefix))
        with self._lock:
            self._progress = progress
        try:
            report = sync_from_settings(settings, self._session, progress)
        except Exception as error:  # a bug must not kill the timer thread silently
            report = SyncReport(settings.s3_bucket or "", settings.s3_prefix, settings.data_dir)
            report.error = f"unexpected error during sync: {type(error).__name__}: {error}"
            report.finished_at = utc_now()
        with self._lock:
            self.last_report = report
            self._awaiting_first_sync = False
            if report.changed_anything:
                self.data_version += 1
        return report

    @property
    def last_sync(self) -> datetime | None:
        """When the last sync finished (None before the first one)."""
        report = self.last_report
        return report.finished_at if report else None

    @property
    def last_error(self) -> str | None:
        """Why the last sync failed (whole-sync error or failed objects), or None."""
        report = self.last_report
        if report is None or report.ok:
            return None
        return report.error or "; ".join(f"{p.key}: {p.reason}" for p in report.failed)

    def status(self) -> dict[str, Any] | None:
        """JSON-ready status for `/api/health`'s `last_sync` and the dashboard (None: never)."""
        report = self.last_report
        if report is None:
            return None
        return {
            **report.to_dict(),
            "last_error": self.last_error,
            "data_version": self.data_version,
            "running": self.is_running,
        }


_singleton: BackgroundSync | None = None
_singleton_lock = threading.Lock()


def get_background_sync() -> BackgroundSync:
    """The process-wide `BackgroundSync` (created on first use)."""
    global _singleton
    with _singleton_lock:
        if _singleton is None:
            _singleton = BackgroundSync()
        return _singleton
