"""`/api/health` reports the feedback database: its kind, whether it answers, and why not.

SQLite (missing, a real database, a file that is not one) and PostgreSQL (a real server from
the `postgres_url` fixture, one that does not answer, settings in parts with one missing).
The report never shows a password, a host or a file path, and an unreachable server neither
slows the health check down nor makes the task unready.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import predictions_core.api.health as health_module
from tests.local_ports import free_port


@pytest.fixture(autouse=True)
def fresh_probe_answers(monkeypatch):
    """Each test sees its own probe answers (they are reused for a few seconds per process)."""
    monkeypatch.setattr(health_module, "_probes", health_module._ProbeCache())


def feedback_report(client) -> dict:
    answer = client.get("/api/health?ready=true")
    assert answer.status_code == 200  # the feedback DB never makes a task unready
    return answer.json()["feedback_db"]


def test_a_sqlite_file_not_made_yet_is_fine(demo_copy, serve, tmp_path: Path):
    report = feedback_report(serve(demo_copy))
    assert report == {"kind": "sqlite", "ok": True, "exists": False}
    assert not (tmp_path / "feedback.sqlite").exists()  # a health check never creates it


def test_a_sqlite_database_with_judgements_answers(demo_copy, serve, tmp_path: Path):
    import sqlite3

    with sqlite3.connect(tmp_path / "feedback.sqlite") as connection:
        connection.execute("CREATE TABLE judgements (id INTEGER PRIMARY KEY)")
    assert feedback_report(serve(demo_copy)) == {"kind": "sqlite", "ok": True, "exists": True}


def test_a_file_that_is_not_a_database_is_reported_without_its_path(
    demo_copy, serve, tmp_path: Path
):
    (tmp_path / "feedback.sqlite").write_bytes(b"certainly not SQLite " * 100)
    report = feedback_report(serve(demo_copy))
    assert report["kind"] == "sqlite" and report["ok"] is False
    assert "not a database" in report["error"] and str(tmp_path) not in report["error"]


def test_a_postgresql_server_that_answers(demo_copy, serve, monkeypatch, postgres_url):
    client = serve(demo_copy)
    monkeypatch.setenv("PREDICTIONS_FEEDBACK_DB", postgres_url)
    assert feedback_report(client) == {"kind": "postgresql", "ok": True}


def test_an_unreachable_postgresql_server_is_reported_quickly_and_without_secrets(
    demo_copy, serve, monkeypatch
):
    client = serve(demo_copy)
    secret = "s3cret-Pa55"
    url = f"postgresql://reviewer:{secret}@127.0.0.1:{free_port()}/judgements"
    monkeypatch.setenv("PREDICTIONS_FEEDBACK_DB", url)
    started = time.monotonic()
    answer = client.get("/api/health?ready=true")
    assert time.monotonic() - started < 5  # bounded by the probe's wait, not a connect timeout
    assert answer.status_code == 200 and answer.json()["status"] == "ok"
    report = answer.json()["feedback_db"]
    assert report["kind"] == "postgresql" and report["ok"] is False and report["error"]
    assert secret not in answer.text and "reviewer" not in answer.text


def test_postgresql_in_parts_with_a_part_missing_says_which(demo_copy, serve, monkeypatch):
    client = serve(demo_copy)
    monkeypatch.delenv("PREDICTIONS_FEEDBACK_DB")
    monkeypatch.setenv("PREDICTIONS_FEEDBACK_DB_HOST", "db.internal")
    monkeypatch.setenv("PREDICTIONS_FEEDBACK_DB_USER", "reviewer")
    monkeypatch.setenv("PREDICTIONS_FEEDBACK_DB_PASSWORD", "s3cret-Pa55")
    answer = client.get("/api/health")
    report = answer.json()["feedback_db"]
    assert report["kind"] == "postgresql" and report["ok"] is False
    assert "PREDICTIONS_FEEDBACK_DB_NAME" in report["error"]
    assert "s3cret" not in answer.text
