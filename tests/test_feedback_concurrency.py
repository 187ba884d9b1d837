"""Judgements through several app processes at once (issue 13, section 6).

Real servers: two `uvicorn app:app` processes on 127.0.0.1 sharing one feedback database, a
PostgreSQL server (Debian's `postgresql`, the `postgres_url` fixture) or, on every machine, one
SQLite file. 20 reviewers post 10 judgements each at the same time through both processes:
every acknowledged judgement is readable from either process, and still there after a
restart. Then PostgreSQL goes away under a running app: the write route answers 503
`{"error": ...}`, the rest of the API keeps answering, and writes work again once it is back.
Bounded: 200 judgements, 30 s per request. Speed is measured in `benchmarks/bench_feedback.py`.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
import pytest

from predictions_core.data.location import DEMO_DATA_DIR
from tests.feedback_load import (
    CLASSIFIER,
    QID,
    AppProcesses,
    judge_concurrently,
    judgement_ids,
    passage_ids,
)
from tests.postgres_server import PASSWORD, PostgresServer, postgres_binaries

REVIEWERS, PER_REVIEWER = 20, 10
WRITE_URL = f"/api/feedback/{QID}/{CLASSIFIER}"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not DEMO_DATA_DIR.is_dir():
        pytest.skip("data/demo has not been generated yet (`uv run predictions demo`)")
    target = tmp_path_factory.mktemp("served") / "data"
    shutil.copytree(DEMO_DATA_DIR, target, ignore=shutil.ignore_patterns(".cache", "*.sqlite*"))
    return target


@pytest.fixture(params=["sqlite", "postgresql"])
def feedback_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "feedback.sqlite")
    return request.getfixturevalue("postgres_url")


def test_twenty_reviewers_through_two_processes_lose_nothing(feedback_db, data_dir, tmp_path):
    apps = AppProcesses(data_dir, tmp_path, feedback_db, count=2)
    try:
        passages = passage_ids(apps.urls[0], PER_REVIEWER)
        answers = judge_concurrently(apps.urls, passages, REVIEWERS, PER_REVIEWER)
        refused = [(a.status, a.body) for a in answers if a.status != 201]
        assert not refused, refused[:5]
        acknowledged = {a.body["judgement_id"] for a in answers}
        assert len(acknowledged) == REVIEWERS * PER_REVIEWER  # no id handed out twice
        for answer in answers:  # each acknowledgement is the judgement that was sent
            assert (answer.body["reviewer"], answer.body["passage_id"]) == (
                answer.reviewer,
                answer.passage_id,
            )
        for url in apps.urls:
            assert judgement_ids(url) == acknowledged
        apps.restart(0)  # a deploy replaces a task: the new one sees everything
        assert judgement_ids(apps.urls[0]) == acknowledged
        assert judgement_ids(apps.urls[1]) == acknowledged
    finally:
        apps.stop()


def _post(base_url: str, passage_id: str) -> httpx.Response:
    body = {"passage_id": passage_id, "judgement": "correct", "reviewer": "ann"}
    return httpx.post(f"{base_url}{WRITE_URL}", json=body, timeout=30)


def test_postgres_going_away_is_a_503_on_writes_and_the_rest_keeps_answering(data_dir, tmp_path):
    if postgres_binaries() is None:
        pytest.skip("PostgreSQL is not installed (initdb/pg_ctl; `apt-get install postgresql`)")
    server = PostgresServer()  # its own: this test stops it
    apps = None
    try:
        apps = AppProcesses(data_dir, tmp_path, server.new_database(), count=1)
        base = apps.urls[0]
        passage_id = passage_ids(base, 1)[0]
        assert _post(base, passage_id).status_code == 201
        server.stop()
        answer = _post(base, passage_id)
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"] and PASSWORD not in answer.text
        for path in ("/api/health", "/api/concepts", f"/api/predictions/{QID}/{CLASSIFIER}"):
            assert httpx.get(f"{base}{path}", timeout=30).status_code == 200, path
        server.start()
        deadline, status = time.monotonic() + 30, 0
        while time.monotonic() < deadline and status != 201:
            status = _post(base, passage_id).status_code
            if status != 201:
                time.sleep(0.5)
        assert status == 201  # writes resume once the database is back, no restart needed
        assert len(judgement_ids(base)) == 1  # ann's latest judgement of the one passage
    finally:
        if apps is not None:
            apps.stop()
        server.close()
