"""The feedback database's schema: versioned migrations, adopting files of the code before them,
and several processes starting at once.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from predictions_core.feedback.engines import (
    MIGRATIONS_DIR,
    FeedbackUnavailableError,
    dispose_engines,
    postgres_url,
)
from predictions_core.feedback.schema import judgements
from predictions_core.feedback.store import FeedbackStore

# the schema exactly as the store wrote it before migrations existed (commit dbe22bc)
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS judgements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    concept_id TEXT NOT NULL,
    classifier_id TEXT NOT NULL,
    passage_id TEXT NOT NULL,
    passage_text TEXT NOT NULL,
    predicted_spans TEXT NOT NULL,
    passage_metadata TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('correct', 'incorrect', 'unsure')),
    note TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS judgements_by_passage
    ON judgements (concept_id, classifier_id, passage_id, reviewer, id);
"""
OLD_ROWS = [
    ("Q787", "kw", "p1", "Forest.", '[{"start_index":0,"end_index":6,"concept_id":"Q787"}]',
     '{"document_id":"D1"}', "correct", "", "ann", "2025-01-01T10:00:00.000001+00:00"),
    ("Q787", "kw", "p1", "Forest.", "[]", "{}", "incorrect", "changed my mind", "ann",
     "2025-01-01T10:05:00.000001+00:00"),
    ("Q787", "kw", "p2", "Timber.", "[]", "{}", "unsure", "", "",
     "2025-01-01T10:06:00.000001+00:00"),
]  # fmt: skip
HEAD = sorted(path.name.split("_")[0] for path in (MIGRATIONS_DIR / "versions").glob("0*.py"))[-1]


def _old_database(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.executescript(OLD_SCHEMA)
        columns = "concept_id, classifier_id, passage_id, passage_text, predicted_spans, "
        columns += "passage_metadata, verdict, note, reviewer, created_at"
        connection.executemany(
            f"INSERT INTO judgements ({columns}) VALUES ({', '.join('?' * 10)})", OLD_ROWS
        )


def _sqlite(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path)


def test_a_file_of_the_code_before_migrations_is_adopted_not_lost(tmp_path):
    path = tmp_path / "feedback.sqlite"
    _old_database(path)
    store = FeedbackStore(path)
    history = store.history("Q787")
    assert [(j["judgement_id"], j["verdict"], j["note"]) for j in history] == [
        (1, "correct", ""),
        (2, "incorrect", "changed my mind"),
        (3, "unsure", ""),
    ]
    assert history[0]["predicted_spans"] == [
        {"start_index": 0, "end_index": 6, "concept_id": "Q787"}
    ]
    assert history[2]["reviewer"] is None
    latest = store.list_judgements("Q787", "kw")
    assert [(j["passage_id"], j["verdict"]) for j in latest] == [
        ("p1", "incorrect"),
        ("p2", "unsure"),
    ]
    with _sqlite(path) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
        uids = [row[0] for row in connection.execute("SELECT uid FROM judgements")]
        assert len(set(uids)) == 3 and all(uids)  # every old judgement got its stable id
    # new judgements go on after the old ones
    store.record("Q787", "kw", {"id": "p3", "text": "x", "spans": [], "metadata": {}}, "correct")
    assert [j["judgement_id"] for j in store.history("Q787")] == [1, 2, 3, 4]
    # another process (a fresh start) finds it migrated and changes nothing
    dispose_engines()
    assert len(FeedbackStore(path).history("Q787")) == 4


def test_a_unique_uid_is_enforced_after_the_migration(tmp_path):
    path = tmp_path / "feedback.sqlite"
    FeedbackStore(path).record("Q1", "kw", {"id": "p", "text": "t"}, "correct")
    with _sqlite(path) as connection, pytest.raises(sqlite3.IntegrityError):
        connection.execute("INSERT INTO judgements SELECT NULL, concept_id, classifier_id, "
                           "passage_id, passage_text, predicted_spans, passage_metadata, verdict, "
                           "note, reviewer, created_at, uid FROM judgements")  # fmt: skip


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_migrated_schema_is_the_one_queries_are_built_on(kind, tmp_path, request):
    target = tmp_path / "fb.sqlite" if kind == "sqlite" else request.getfixturevalue("postgres_url")
    FeedbackStore(target).record("Q1", "kw", {"id": "p", "text": "t"}, "correct")
    url = postgres_url(target) if kind == "postgresql" else f"sqlite:///{target}"
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        columns = {column["name"] for column in inspector.get_columns("judgements")}
        indexes = {index["name"] for index in inspector.get_indexes("judgements")}
    finally:
        engine.dispose()
    assert columns == {column.name for column in judgements.columns}
    assert {"judgements_by_passage", "judgements_uid"} <= indexes


STARTER = """
import os, sys, time
from predictions_core.feedback.store import FeedbackStore
target, go, name = sys.argv[1], sys.argv[2], sys.argv[3]
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.005)
stored = FeedbackStore(target).record("Q1", "kw", {"id": name, "text": name}, "correct")
print(stored["judgement_id"])
"""


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
@pytest.mark.timeout(120)
def test_processes_starting_at_once_on_a_fresh_database_all_succeed(kind, tmp_path, request):
    target = tmp_path / "fb.sqlite" if kind == "sqlite" else request.getfixturevalue("postgres_url")
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, str(target), str(go), f"p{index}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(2)
    ]
    for process in processes:  # every process imported and waiting: their migrations race
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    go.touch()
    outputs = [process.communicate(timeout=90) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    history = FeedbackStore(target).history("Q1")
    assert sorted(j["passage_id"] for j in history) == ["p0", "p1"]
    url = postgres_url(target) if kind == "postgresql" else f"sqlite:///{target}"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    finally:
        engine.dispose()
    assert versions == [(HEAD,)]


def _hold_a_read_lock(path: Path) -> sqlite3.Connection:
    """Another process's reader on a file still in rollback mode: it blocks the switch to WAL."""
    reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    reader.execute("CREATE TABLE IF NOT EXISTS other (x)")
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM other").fetchall()
    return reader


def test_a_reader_holding_the_new_file_delays_the_switch_to_wal_not_the_write(tmp_path):
    # SQLite refuses the switch at once ("locked") without waiting on its busy handler
    target = tmp_path / "fb.sqlite"
    reader = _hold_a_read_lock(target)
    release = threading.Timer(0.4, reader.commit)
    release.start()
    try:
        stored = FeedbackStore(target, busy_timeout_s=10).record(
            "Q1", "kw", {"id": "p1", "text": "t"}, "correct"
        )
    finally:
        release.join()
        reader.close()
    assert [j["judgement_id"] for j in FeedbackStore(target).history("Q1")] == [
        stored["judgement_id"]
    ]
    with sqlite3.connect(target) as check:
        assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_reader_that_never_lets_go_gives_a_busy_message_not_a_traceback(tmp_path):
    target = tmp_path / "fb.sqlite"
    reader = _hold_a_read_lock(target)
    try:
        with pytest.raises(FeedbackUnavailableError, match="is busy"):
            FeedbackStore(target, busy_timeout_s=0.5).record(
                "Q1", "kw", {"id": "p1", "text": "t"}, "correct"
            )
    finally:
        reader.close()
