"""Judgements survive what happens to processes and servers: a writer killed mid-write, a
PostgreSQL server that is unreachable or restarts, the connection given in parts (as on AWS).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from urllib.parse import unquote, urlsplit

import pytest

from predictions_core.feedback.store import FeedbackStore, FeedbackUnavailableError
from predictions_core.settings import Settings

WRITER = """
import sys
from predictions_core.feedback.store import FeedbackStore
store = FeedbackStore(sys.argv[1])
for index in range(100_000):
    passage = {"id": f"p{index}", "text": f"passage {index}", "spans": [], "metadata": {}}
    stored = store.record("Q1", "kw", passage, "correct", note=str(index))
    print(stored["judgement_id"], flush=True)  # acknowledged: committed before it is printed
"""
PASSAGE = {"id": "p1", "text": "Forest.", "spans": [], "metadata": {}}


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    if request.param == "sqlite":
        return tmp_path / "fb.sqlite"
    return request.getfixturevalue("postgres_url")


@pytest.mark.timeout(60)
def test_a_writer_killed_mid_write_loses_nothing_it_acknowledged(target):
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True
    )
    acknowledged = []
    assert writer.stdout is not None
    while len(acknowledged) < 50:
        line = writer.stdout.readline()
        assert line, "the writer stopped before writing 50 judgements"
        acknowledged.append(int(line))
    os.kill(writer.pid, signal.SIGKILL)  # mid-write: it was writing as fast as it could
    writer.wait(timeout=10)
    stored = {j["judgement_id"] for j in FeedbackStore(target).history("Q1")}
    assert set(acknowledged) <= stored
    # and the database is usable afterwards
    FeedbackStore(target).record("Q1", "kw", PASSAGE, "incorrect")


def _unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_server_is_a_clear_error_without_the_password():
    url = f"postgresql://app:top%40secret@127.0.0.1:{_unused_port()}/predictions"
    store = FeedbackStore(url)
    started = time.monotonic()
    with pytest.raises(FeedbackUnavailableError) as raised:
        store.record("Q1", "kw", PASSAGE, "correct")
    assert time.monotonic() - started < 10
    message = raised.value.message
    assert "cannot be reached" in message and "127.0.0.1" in message
    assert "secret" not in message and raised.value.http_status == 503
    with pytest.raises(FeedbackUnavailableError):
        store.list_judgements("Q1", "kw")
    report = store.check()
    assert report["kind"] == "postgresql" and report["ok"] is False
    assert "secret" not in report["error"]


@pytest.mark.timeout(120)
def test_a_restarted_server_is_used_again_without_a_restart_of_the_app():
    from tests.postgres_server import PostgresServer, postgres_binaries

    if postgres_binaries() is None:
        pytest.skip("PostgreSQL is not installed (initdb/pg_ctl; `apt-get install postgresql`)")
    server = PostgresServer()  # its own server: this test stops it
    try:
        store = FeedbackStore(server.new_database())
        store.record("Q1", "kw", PASSAGE, "correct")
        server.stop()
        with pytest.raises(FeedbackUnavailableError):
            store.record("Q1", "kw", PASSAGE, "incorrect")
        assert store.check()["ok"] is False
        server.start()
        store.record("Q1", "kw", PASSAGE, "unsure")  # the pool replaced its dead connections
        assert [j["verdict"] for j in store.history("Q1")] == ["correct", "unsure"]
        assert store.check() == {"kind": "postgresql", "ok": True}
    finally:
        server.close()


def test_the_connection_in_parts_reaches_the_server(postgres_url):
    parts = urlsplit(postgres_url)
    settings = Settings(
        _env_file=None,
        data_dir=".",
        feedback_db_host=parts.hostname,
        feedback_db_port=parts.port,
        feedback_db_name=parts.path.lstrip("/"),
        feedback_db_user=parts.username,
        feedback_db_password=unquote(parts.password or ""),  # URL-special characters in it
    )
    store = FeedbackStore(settings.resolved_feedback_db)
    store.record("Q1", "kw", PASSAGE, "correct")
    assert len(FeedbackStore(postgres_url).history("Q1")) == 1
    assert unquote(parts.password or "") not in store.description
