"""Page a freshly loaded large table in, in the background, and stop safely at exit.

The first scan of a freshly memory-mapped table pages its texts in and sets up DuckDB's scan:
about a second at a million rows, which would otherwise land on the user's first search. So
the store starts one scan in a background thread right after a large table is loaded.

A thread still inside DuckDB when the interpreter finalises aborts the whole process
(`terminate called after throwing an instance of ''`, exit 134): a script that loads a file
and returns at once would crash. So an `atexit` hook interrupts every running warm-up scan
and waits for its thread; `atexit` runs while daemon threads are still alive, before the
interpreter tears them down.
"""

from __future__ import annotations

import atexit
import threading
from typing import Any

import duckdb
import pyarrow as pa

from predictions_core.data.sql import cursor

WARM_UP_MIN_ROWS = 50_000
# a scan for a character no text holds: it reads every text once and keeps nothing
_SCAN_SQL = "SELECT count(*) FROM passages WHERE regexp_matches(text, ?, 'c')"

_lock = threading.Lock()
_threads: set[threading.Thread] = set()
_cursors: set[Any] = set()
_stopping = False


def warm_up_in_background(table: pa.Table) -> threading.Thread | None:
    """Scan the texts of `table` once in a background thread; None for a small table.

    Small tables are not worth a thread. The thread is a daemon (it never holds up a normal
    exit) and is interrupted and joined at exit.
    """
    if table.num_rows < WARM_UP_MIN_ROWS:
        return None
    thread = threading.Thread(target=_scan, args=(table,), name="predictions-warm-up", daemon=True)
    with _lock:
        if _stopping:
            return None
        _threads.add(thread)
        thread.start()  # under the lock, so `stop_warm_ups` never joins an unstarted thread
    return thread


def _scan(table: pa.Table) -> None:
    try:
        with cursor({"passages": table}) as con:
            with _lock:
                if _stopping:
                    return
                _cursors.add(con)
            try:
                con.execute(_SCAN_SQL, ["\x00"]).fetchall()
            except duckdb.InterruptException:
                pass  # stopped by `stop_warm_ups`: the process is exiting
            finally:
                with _lock:
                    _cursors.discard(con)
    finally:
        with _lock:
            _threads.discard(threading.current_thread())


def stop_warm_ups() -> None:
    """Interrupt every running warm-up scan and wait for its thread (run at exit)."""
    global _stopping
    with _lock:
        _stopping = True
        threads = list(_threads)
    for thread in threads:
        while thread.is_alive():
            # again and again: an interrupt that lands just before a scan starts is lost
            _interrupt_scans()
            thread.join(timeout=0.05)


def _interrupt_scans() -> None:
    # under the lock: a scan removes its cursor (under the lock) before closing it
    with _lock:
        for con in _cursors:
            con.interrupt()


atexit.register(stop_warm_ups)
