"""Where judgements are kept: one SQLAlchemy engine per database per process, migrated once.

`PREDICTIONS_FEEDBACK_DB` names either a SQLite file (the embedded default) or a PostgreSQL
server (`postgresql://...`, shared by every replica). Both go through one code path, SQLAlchemy
Core; this module is the only place that knows which one it is:

- `FeedbackDatabase.of(target)` gives the process's one `FeedbackDatabase` for a path or URL:
  its pooled engine (never one per call) and the knowledge of whether its schema is migrated.
- `ensure_schema()` runs the versioned Alembic migrations (`feedback/migrations/`) on first use,
  safely when several processes start at once: inside one transaction holding PostgreSQL's
  advisory lock, or SQLite's write lock (`BEGIN IMMEDIATE`). A database made by the code before
  migrations existed (a `judgements` table, no version table) is stamped at the first version,
  then upgraded: adopted, never lost.
- `FeedbackUnavailableError`: the database cannot be reached or stays locked (HTTP 503), with a
  message that shows the URL without its password.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from predictions_core.errors import DataError

POSTGRES_SCHEMES = ("postgresql://", "postgresql+psycopg://", "postgres://")
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "0001"
CONNECT_TIMEOUT_S = 5
# any fixed number: every process of this app agrees on it (pg_advisory_xact_lock's key)
_MIGRATION_LOCK_KEY = 7_231_004_913


class FeedbackUnavailableError(DataError):
    """The feedback database cannot be reached, or stayed locked too long: try again later."""

    http_status = 503


def is_postgres_target(target: Path | str) -> bool:
    """True when `target` is a PostgreSQL URL rather than a SQLite file path."""
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def postgres_url(target: str) -> URL:
    """The SQLAlchemy URL of a `postgresql://` target, with the psycopg 3 driver."""
    url = make_url(target.replace("postgres://", "postgresql://", 1))
    return url.set(drivername="postgresql+psycopg")


def describe_target(target: Path | str) -> str:
    """How a message names the database: a file's name, or the URL with its password hidden."""
    if is_postgres_target(target):
        return postgres_url(str(target)).render_as_string(hide_password=True)
    return f"SQLite file {Path(target).name}"


@dataclass
class FeedbackDatabase:
    """One database's engine and migration state, shared by every store of the process."""

    target: Path | str
    engine: Engine
    kind: str  # "sqlite" or "postgresql"
    migrated: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def description(self) -> str:
        """The database as a message names it (never with a password)."""
        return describe_target(self.target)

    @classmethod
    def of(cls, target: Path | str) -> FeedbackDatabase:
        """The process's `FeedbackDatabase` for `target` (made on first use)."""
        global _databases_pid
        key = str(target) if is_postgres_target(target) else str(Path(target).resolve())
        with _databases_lock:
            if _databases_pid != os.getpid():
                # a forked child must not use its parent's pooled connections
                for database in _databases.values():
                    database.engine.dispose(close=False)
                _databases.clear()
                _databases_pid = os.getpid()
            database = _databases.get(key)
            if database is None:
                database = _databases[key] = _new_database(target)
            return database

    def ensure_schema(self, busy_timeout_ms: int = 30_000) -> None:
        """Create or upgrade the schema to the newest migration, once per process.

        On SQLite, waits at most `busy_timeout_ms` for another writer's lock.
        """
        if self.migrated:
            return
        with self.lock:
            if self.migrated:
                return
            if self.kind == "sqlite":
                _use_wal(self.engine, busy_timeout_ms)
            options = {"write": True, "busy_timeout_ms": busy_timeout_ms}
            with self.engine.execution_options(**options).begin() as connection:
                if self.kind == "postgresql":
                    lock = text("SELECT pg_advisory_xact_lock(:key)")
                    connection.execute(lock, {"key": _MIGRATION_LOCK_KEY})
                _upgrade(connection)
            self.migrated = True


_databases: dict[str, FeedbackDatabase] = {}
_databases_lock = threading.Lock()
_databases_pid = os.getpid()


def dispose_engines() -> None:
    """Close every pooled connection and forget every database (tests; process exit)."""
    with _databases_lock:
        for database in _databases.values():
            database.engine.dispose()
        _databases.clear()


def _new_database(target: Path | str) -> FeedbackDatabase:
    if is_postgres_target(target):
        engine = create_engine(
            postgres_url(str(target)),
            pool_pre_ping=True,  # a server restarted since: replace the dead connection
            pool_size=5,
            max_overflow=10,
            pool_timeout=CONNECT_TIMEOUT_S * 2,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
        )
        return FeedbackDatabase(target, engine, "postgresql")
    engine = create_engine(f"sqlite:///{Path(target)}")
    _take_over_sqlite_transactions(engine)
    return FeedbackDatabase(Path(target), engine, "sqlite")


def _take_over_sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, start transactions, so that DDL is transactional
    and a write transaction takes the write lock at once (`BEGIN IMMEDIATE`): two writers then
    queue on SQLite's busy handler instead of failing to upgrade a read lock.

    Execution options: `write=True` (IMMEDIATE), `busy_timeout_ms` (how long to wait for it).
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the sqlite3 module issues no BEGIN itself

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        options = connection.get_execution_options()
        timeout_ms = int(options.get("busy_timeout_ms", 30_000))
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {timeout_ms}")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get("write") else "BEGIN")


def _use_wal(engine: Engine, busy_timeout_ms: int) -> None:
    # WAL: readers never block the writer; the mode is stored in the file. Set outside any
    # transaction (SQLite refuses it inside one), on the raw connection SQLAlchemy does not wrap.
    # Two processes switching a new file at once can get "locked" without the busy handler
    # waiting; raised as SQLAlchemy's error, the caller's retry-until-deadline covers it.
    connection = engine.raw_connection()
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        connection.execute("PRAGMA journal_mode = WAL")
    except sqlite3.OperationalError as error:
        raise OperationalError("PRAGMA journal_mode = WAL", None, error) from error
    finally:
        connection.close()


def _upgrade(connection: Any) -> None:
    """Alembic `upgrade head` on `connection`, inside its transaction (held under a lock)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    tables = set(inspect(connection).get_table_names())
    if "judgements" in tables and "alembic_version" not in tables:
        # made before migrations existed: its schema is the first version's
        command.stamp(config, FIRST_REVISION)
    command.upgrade(config, "head")
