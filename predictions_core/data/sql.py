"""The one way this package talks to DuckDB.

Policy: one in-memory DuckDB database per process, and one **cursor per query**. A cursor is a
connection of its own to that database: cheap to make, used by one thread only, closed as soon
as its rows are fetched. Tables are Arrow tables registered on the cursor under a name (a
zero-copy view visible to that cursor only), so concurrent queries from Streamlit sessions,
API threads and background threads never share a connection ("connection is busy"), never
see each other's names, and never block each other.

Never use `duckdb.sql(...)` or `duckdb.cursor()` (the module's shared default connection) nor
a long-lived connection per thread. A background thread must not be inside DuckDB when the
interpreter finalises (the process aborts with `terminate called ...`): interrupt its cursor
and join it at exit, as `warm_up` does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa

_database = duckdb.connect()
_database_lock = threading.Lock()


@contextmanager
def cursor(tables: Mapping[str, pa.Table | pa.RecordBatch] | None = None) -> Iterator[Any]:
    """A fresh cursor on the process database, with `tables` registered by name; closed after."""
    with _database_lock:  # creating a cursor is the one step that touches shared state
        con = _database.cursor()
    try:
        for name, table in (tables or {}).items():
            con.register(name, table)
        yield con
    finally:
        con.close()


def fetch_arrow(
    sql: str,
    params: Sequence[Any] | Mapping[str, Any] | None = None,
    tables: Mapping[str, pa.Table | pa.RecordBatch] | None = None,
) -> pa.Table:
    """Run `sql` on a fresh cursor and return the whole result as an Arrow table."""
    with cursor(tables) as con:
        # a relation, not `execute`: its Arrow result is made without an extra copy
        return con.sql(sql, params=params or None).to_arrow_table()


def fetch_rows(
    sql: str,
    params: Sequence[Any] | Mapping[str, Any] | None = None,
    tables: Mapping[str, pa.Table | pa.RecordBatch] | None = None,
) -> list[tuple]:
    """Run `sql` on a fresh cursor and return its rows as tuples."""
    with cursor(tables) as con:
        return con.execute(sql, params or []).fetchall()
