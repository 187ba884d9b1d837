"""What `/api/health` reports: liveness, readiness (the first sync), the data, the feedback DB.

`status` is `"syncing"` from the moment the background sync starts until its first sync of
the bucket has finished (successfully or not: a failed one says why in `sync_error`), then
`"ok"`. `sync_progress` is how far the running sync is (`{"done", "total", ...}`, `total`
null until the bucket is listed), null when no sync runs.

Readiness for the load balancer is the same route with `ready=true`: 503 with
`{"error": ..., "status": "syncing", ...}` while the first sync runs, 200 after. The feedback
database's state is reported (`feedback_db`) but never makes a task unready: the dashboard and
the read routes work without it, and a database outage must not take every task out of the
load balancer at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from predictions_core.data.store import PredictionStore
from predictions_core.errors import PredictionsError
from predictions_core.feedback.engines import FeedbackDatabase, is_postgres_target
from predictions_core.settings import Settings
from predictions_core.sync.background import get_background_sync

# how long one health request waits for the feedback DB's answer, and how long an answer
# is reused: the load balancer and Docker each ask every few seconds, per task
FEEDBACK_PROBE_WAIT_S = 1.0
FEEDBACK_PROBE_REUSE_S = 5.0

OPENAPI_HEALTH_PARAMETERS = [
    {
        "name": "ready",
        "in": "query",
        "required": False,
        "description": (
            "`true`: the readiness check of the load balancer: 503 while the first sync of "
            "the bucket runs, 200 once it has finished"
        ),
        "schema": {"type": "string", "enum": ["true", "false"]},
    }
]


def health_report(store: PredictionStore) -> dict[str, Any]:
    """The body of `/api/health` (JSON-ready)."""
    sync = get_background_sync()
    syncing = store.settings.sync_enabled and sync.first_sync_pending
    return {
        "status": "syncing" if syncing else "ok",
        "sync_progress": sync.progress(),
        "concepts": len(store.catalogue().concepts),
        "last_sync": sync.status(),
        "sync_error": sync.last_error,
        "sync_enabled": store.settings.sync_enabled,
        "data_dir": str(store.data_dir),
        "data_dir_is_demo": store.settings.data_dir_is_demo,
        "issues": len(store.loaded_issues()),
        "feedback_db": feedback_db_health(store.settings),
    }


def not_ready_message(report: dict[str, Any]) -> str:
    """Why a task is not ready yet, for the 503 of `ready=true` (names the bucket, counts)."""
    progress = report.get("sync_progress") or {}
    where = f"s3://{progress.get('bucket', '')}/{progress.get('prefix', '')}"
    if progress.get("total") is None:
        counts = "listing the bucket"
    else:
        counts = f"{progress['done']:,} of {progress['total']:,} files"
    return f"not ready: the first sync of {where} is still running ({counts})"


# --- the feedback database ----------------------------------------------------------------


class _ProbeCache:
    """The last answer of a feedback DB probe, reused for a few seconds; one probe at a time.

    A probe runs on its own thread and a request waits for it at most
    `FEEDBACK_PROBE_WAIT_S`: an unreachable server (a connect timeout of several seconds)
    must not make the health check itself time out.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: str | None = None
        self._answer: dict[str, Any] | None = None
        self._answered_at = 0.0
        self._running: Future[dict[str, Any]] | None = None

    def answer(self, key: str, probe: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        with self._lock:
            fresh = time.monotonic() - self._answered_at < FEEDBACK_PROBE_REUSE_S
            if self._key == key and self._answer is not None and fresh:
                return self._answer
            if self._running is None or self._key != key or self._running.done():
                self._key = key
                self._running = _in_daemon_thread(probe)
            running = self._running
        try:
            answer = running.result(timeout=FEEDBACK_PROBE_WAIT_S)
        except FutureTimeout:
            return {"ok": False, "error": f"no answer within {FEEDBACK_PROBE_WAIT_S:g} s"}
        except Exception as error:  # a health check reports, it never answers 500
            answer = {"ok": False, "error": f"the check failed ({type(error).__name__})"}
        with self._lock:
            if self._running is running:
                self._answer, self._answered_at, self._running = answer, time.monotonic(), None
        return answer


def _in_daemon_thread(probe: Callable[[], dict[str, Any]]) -> Future[dict[str, Any]]:
    # a daemon thread: a probe stuck on an unreachable server never delays the process's exit
    future: Future[dict[str, Any]] = Future()

    def run() -> None:
        try:
            future.set_result(probe())
        except BaseException as error:  # noqa: BLE001 - handed to the waiting request
            future.set_exception(error)

    threading.Thread(target=run, name="feedback-db-probe", daemon=True).start()
    return future


_probes = _ProbeCache()


def feedback_db_health(settings: Settings) -> dict[str, Any]:
    """`{"kind": "sqlite"|"postgresql", "ok": bool, "error"?: str}`: can judgements be read?

    One cheap query (PostgreSQL: `SELECT 1`; SQLite: a look at its schema, which reads the
    file's header). A SQLite file that does not exist yet is fine: reading never creates it,
    the first judgement does. Never shows a password, a host or a path.
    """
    try:
        target = settings.resolved_feedback_db
    except PredictionsError as error:  # PostgreSQL in parts, with a part missing
        return {"kind": "postgresql", "ok": False, "error": error.message}
    kind = "postgresql" if is_postgres_target(target) else "sqlite"
    return {"kind": kind, **_probes.answer(str(target), lambda: _probe(target, kind))}


def _probe(target: Path | str, kind: str) -> dict[str, Any]:
    if kind == "sqlite" and not Path(target).exists():
        return {"ok": True, "exists": False}
    try:
        database = FeedbackDatabase.of(target)
        with database.engine.connect() as connection:
            connection.execute(text(_PROBE_QUERIES[kind])).all()
    except (SQLAlchemyError, OSError) as error:
        return {"ok": False, "error": _probe_error(kind, error)}
    return {"ok": True} if kind == "postgresql" else {"ok": True, "exists": True}


_PROBE_QUERIES = {"postgresql": "SELECT 1", "sqlite": "SELECT count(*) FROM sqlite_master"}


def _probe_error(kind: str, error: BaseException) -> str:
    if kind == "postgresql":
        # the driver's text names the host, port and user: keep to the kind of failure
        return f"the PostgreSQL server cannot be reached or refused us ({type(error).__name__})"
    cause = getattr(error, "orig", None) or error
    first_line = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    if "/" in first_line:  # an OS error quoting the file's path
        first_line = type(cause).__name__
    return f"the SQLite file cannot be read ({first_line})"
