"""Honest readiness: while the first sync of a bucket runs, the app says so and how far it is.

A real moto S3 server; the downloads are held back (a gate on boto3's `before-send` of
GetObject, or a proxy that slows every object GET) so the first sync can be watched:
`SyncProgress` counts, `BackgroundSync.first_sync_pending`, `/api/health`'s `"syncing"` with
`sync_progress`, and the readiness check `/api/health?ready=true` (503, then 200). The last
test does it all against `uvicorn app:app` in its own process.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

import predictions_core.api.health as health_module
from predictions_core.settings import Settings
from predictions_core.sync.background import BackgroundSync
from predictions_core.sync.s3 import sync_bucket
from predictions_core.sync.state import SyncProgress
from tests.api_support import start_uvicorn, stop_process

pytestmark = pytest.mark.s3
WAIT_S = 30.0


def wait_for(condition, timeout_s: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class DownloadGate:
    """Holds every GetObject of a boto3 session until `open()` (listings pass)."""

    def __init__(self, session) -> None:
        self._open = threading.Event()
        session.events.register("before-send.s3.GetObject", self._wait)

    def _wait(self, **_) -> None:
        self._open.wait(WAIT_S)

    def open(self) -> None:
        self._open.set()


def put_many(s3, prefix: str, small_demo_tree: Path, fillers: int) -> int:
    """The small demo tree (two concepts) plus `fillers` small objects; how many in all."""
    demo = s3.put_tree(small_demo_tree, prefix=prefix)
    for number in range(fillers):
        s3.put(f"{prefix}notes/{number:03}.txt", b"not a concept\n")
    return len(demo) + fillers


# --- the sync counts ----------------------------------------------------------------------


def test_progress_counts_every_listed_object_once(s3, tmp_path):
    for number in range(12):
        s3.put(f"Q1/c/doc-{number}.json", b"{}\n")
    s3.put(".cache/evil", b"x")  # refused: counted as dealt with at once
    gate = DownloadGate(s3.session)
    progress = SyncProgress(s3.name, "")
    assert progress.to_dict()["total"] is None  # unknown before the listing
    reports = []
    worker = threading.Thread(
        target=lambda: reports.append(
            sync_bucket(s3.name, "", tmp_path / "data", s3.session, progress=progress)
        )
    )
    worker.start()
    try:
        assert wait_for(lambda: progress.to_dict()["total"] is not None)
        held = progress.to_dict()
        assert (held["done"], held["total"]) == (1, 13)  # downloads held: only the refusal
        assert held["bucket"] == s3.name and held["prefix"] == ""
    finally:
        gate.open()
        worker.join(WAIT_S)
    [report] = reports
    assert len(report.downloaded) == 12 and len(report.refused) == 1
    assert progress.to_dict()["done"] == 13

    again = SyncProgress(s3.name, "")
    sync_bucket(s3.name, "", tmp_path / "data", s3.session, progress=again)
    assert (again.to_dict()["done"], again.to_dict()["total"]) == (13, 13)  # all unchanged


def test_first_sync_is_pending_from_start_until_it_ends(s3, tmp_path):
    for number in range(5):
        s3.put(f"Q1/c/doc-{number}.json", b"{}\n")
    gate = DownloadGate(s3.session)
    refresher = BackgroundSync(session=s3.session)
    settings = Settings(data_dir=tmp_path / "data", s3_bucket=s3.name, s3_prefix="/")
    try:
        assert not refresher.first_sync_pending and refresher.progress() is None
        assert refresher.start(settings)
        assert refresher.first_sync_pending  # at once: no health check may see "ok" early
        assert wait_for(lambda: (refresher.progress() or {}).get("total") == 5)
        assert refresher.progress()["done"] == 0 and refresher.progress()["prefix"] == ""
        gate.open()
        assert wait_for(lambda: not refresher.first_sync_pending)
        assert refresher.last_report.ok and refresher.progress() is None
        refresher.sync_now(settings)  # later syncs never make it pending again
        assert not refresher.first_sync_pending
    finally:
        gate.open()
        refresher.stop()


def test_a_failed_first_sync_ends_the_wait_and_says_why(s3, tmp_path):
    refresher = BackgroundSync(session=s3.session)
    settings = Settings(data_dir=tmp_path / "data", s3_bucket="no-such-bucket-here")
    try:
        assert refresher.start(settings)
        assert wait_for(lambda: not refresher.first_sync_pending)
        assert "does not exist" in refresher.last_error
    finally:
        refresher.stop()


# --- /api/health in the test client ----------------------------------------------------------


@pytest.fixture
def syncing_api(s3, small_demo_tree, serve, tmp_path, monkeypatch):
    """(client, refresher, gate, n objects): the API of a process whose first sync is held."""
    total = put_many(s3, "ready/", small_demo_tree, fillers=4)
    client = serve(tmp_path / "data")
    monkeypatch.setenv("PREDICTIONS_S3_BUCKET", s3.name)
    monkeypatch.setenv("PREDICTIONS_S3_PREFIX", "ready/")
    monkeypatch.setenv("SKIP_S3_SYNC", "false")
    gate = DownloadGate(s3.session)
    refresher = BackgroundSync(session=s3.session)
    monkeypatch.setattr(health_module, "get_background_sync", lambda: refresher)
    try:
        yield client, refresher, gate, total
    finally:
        gate.open()
        refresher.stop()


def test_health_says_syncing_with_progress_then_ok(syncing_api, s3):
    client, refresher, gate, total = syncing_api
    from predictions_core.data.location import app_settings

    refresher.start(app_settings())
    assert wait_for(lambda: (refresher.progress() or {}).get("total") == total)
    body = client.get("/api/health").json()
    assert body["status"] == "syncing"
    assert body["sync_progress"]["done"] == 0 and body["sync_progress"]["total"] == total
    assert body["sync_progress"]["bucket"] == s3.name and body["last_sync"] is None

    not_ready = client.get("/api/health?ready=true")
    assert not_ready.status_code == 503
    answer = not_ready.json()
    assert answer["status"] == "syncing" and answer["sync_progress"]["total"] == total
    assert answer["error"] == (
        f"not ready: the first sync of s3://{s3.name}/ready/ is still running (0 of {total} files)"
    )

    gate.open()
    assert wait_for(lambda: not refresher.first_sync_pending)
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["sync_progress"] is None
    assert body["concepts"] == 2 and body["last_sync"]["downloaded"] == total
    assert body["sync_error"] is None
    ready = client.get("/api/health?ready=true")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"


def test_ready_after_a_failed_first_sync_with_the_reason(syncing_api, monkeypatch):
    client, refresher, _, _ = syncing_api
    from predictions_core.data.location import app_settings

    monkeypatch.setenv("PREDICTIONS_S3_BUCKET", "no-such-bucket-here")
    refresher.start(app_settings())
    assert wait_for(lambda: not refresher.first_sync_pending)
    answer = client.get("/api/health?ready=true")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok" and "does not exist" in body["sync_error"]
    assert body["last_sync"]["ok"] is False


def test_ready_is_a_true_false_parameter(demo_copy, serve):
    client = serve(demo_copy)
    assert client.get("/api/health?ready=true").status_code == 200  # no bucket: ready at once
    assert client.get("/api/health?ready=false").json()["status"] == "ok"
    wrong = client.get("/api/health?ready=soon")
    assert wrong.status_code == 400 and wrong.json()["parameter"] == "ready"
    document = client.get("/api/openapi.json").json()
    assert [p["name"] for p in document["paths"]["/health"]["get"]["parameters"]] == ["ready"]


# --- the real server ---------------------------------------------------------------------------


@pytest.fixture
def slow_server(s3, small_demo_tree, breaking_proxy, tmp_path):
    """(client, n objects, proxy): `uvicorn app:app` whose first sync of 60 objects goes
    through a proxy holding every download until the test lowers `download_delay_s`."""
    total = put_many(s3, "slow/", small_demo_tree, fillers=54)
    breaking_proxy.download_delay_s = 120.0
    process, base_url, log = start_uvicorn(
        "app:app",
        {
            "PREDICTIONS_DATA_DIR": str(tmp_path / "data"),
            "PREDICTIONS_CACHE_DIR": str(tmp_path / "cache"),
            "PREDICTIONS_FEEDBACK_DB": str(tmp_path / "feedback.sqlite"),
            "PREDICTIONS_S3_BUCKET": s3.name,
            "PREDICTIONS_S3_PREFIX": "slow/",
            "SKIP_S3_SYNC": "false",
            "AWS_ENDPOINT_URL": breaking_proxy.endpoint_url,
        },
    )
    try:
        with httpx.Client(base_url=base_url, timeout=10) as client:
            yield client, total, breaking_proxy
    finally:
        breaking_proxy.download_delay_s = 0.0
        stop_process(process)
        log.unlink(missing_ok=True)


def test_a_real_server_is_syncing_then_ok_and_ready(slow_server, s3):
    client, total, proxy = slow_server
    first = client.get("/api/health").json()
    assert first["status"] == "syncing"  # from the very first answer
    assert wait_for(lambda: client.get("/api/health").json()["sync_progress"]["total"] == total)
    held = client.get("/api/health?ready=true")
    assert held.status_code == 503 and held.json()["status"] == "syncing"
    assert held.json()["error"].endswith(f"s3://{s3.name}/slow/ is still running (0 of 60 files)")

    proxy.download_delay_s = 0.2  # 60 objects, 8 at a time: about 1.5 s
    seen, ready_codes = [], []
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        body = client.get("/api/health").json()
        seen.append(body)
        ready_codes.append(client.get("/api/health?ready=true").status_code)
        if body["status"] == "ok":
            break
        time.sleep(0.05)
    assert seen[-1]["status"] == "ok", f"still syncing after {WAIT_S} s"
    dones = [body["sync_progress"]["done"] for body in seen if body["status"] == "syncing"]
    assert dones == sorted(dones)  # it moved forward, never back
    assert ready_codes[-1] == 200 and set(ready_codes[: ready_codes.index(200)]) <= {503}
    assert seen[-1]["concepts"] == 2 and seen[-1]["last_sync"]["downloaded"] == total
    assert seen[-1]["sync_progress"] is None and seen[-1]["sync_error"] is None
    assert seen[-1]["feedback_db"] == {"kind": "sqlite", "ok": True, "exists": False}
