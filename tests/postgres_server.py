"""A throwaway PostgreSQL server process on 127.0.0.1, from Debian's `postgresql` package.

Plain helpers; the fixtures `postgres_server` and `postgres_url` in conftest.py wrap them (and
import this module only when a PostgreSQL test runs).

- `PostgresServer()`: `initdb` into a fresh directory, then `pg_ctl start` on a free port bound to
  127.0.0.1 only (its Unix socket in the same private directory). PostgreSQL refuses to run as
  root, so as root (CI, containers) the server runs as the `postgres` user through `runuser`.
  The superuser `postgres` has a password full of URL-special characters, so every URL made here
  exercises the encoding of credentials. `stop()` / `start()` stop and restart the same cluster
  (tests of "the database went away"); `close()` stops it and deletes its files.
- `new_database()` creates an empty database and returns its `postgresql://` URL.
- `postgres_binaries()` finds `initdb`/`pg_ctl` (PATH or /usr/lib/postgresql/*/bin), or None.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

from tests.local_ports import free_port

SUPERUSER = "postgres"
# URL-special characters on purpose: a URL built without encoding them cannot connect
PASSWORD = "p@ss:w/rd%?#"
START_TIMEOUT_S = 60


def postgres_binaries() -> Path | None:
    """The directory holding `initdb` and `pg_ctl`, or None where PostgreSQL is not installed."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.insert(0, Path(on_path).resolve().parent)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    return None


class PostgresServer:
    """One PostgreSQL cluster in a private temporary directory, served on 127.0.0.1."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        found = bin_dir or postgres_binaries()
        if found is None:
            raise RuntimeError("PostgreSQL's initdb/pg_ctl are not installed")
        self.bin_dir = found
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="predictions-pg-"))
        self.data_dir = self.root / "data"
        self.log_path = self.root / "server.log"
        self._as_user: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root
            self._as_user = ["runuser", "-u", SUPERUSER, "--"]
            shutil.chown(self.root, user=SUPERUSER)
        self._names = itertools.count(1)
        self._init_cluster()
        self.start()

    # ------------------------------------------------------------------ lifecycle

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self._as_user, *args], capture_output=True, text=True, timeout=START_TIMEOUT_S
        )
        if result.returncode != 0:
            log = self.log_path.read_text() if self.log_path.is_file() else ""
            raise RuntimeError(f"{args[0]} failed: {result.stderr or result.stdout}\n{log}")

    def _init_cluster(self) -> None:
        password_file = self.root / "pwfile"
        password_file.write_text(PASSWORD + "\n")
        if self._as_user:
            shutil.chown(password_file, user=SUPERUSER)
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            f"--pwfile={password_file}",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        password_file.unlink()

    def start(self) -> None:
        """Start (or restart) the server and wait until it accepts connections."""
        # fsync off: tests kill clients, never the machine; the server's own crash safety is
        # PostgreSQL's business, and fsync would make every test commit slow
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_path),
            "-o",
            options,
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "start",
        )

    def stop(self) -> None:
        """Stop the server (fast shutdown: open connections are cut)."""
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "stop")

    def close(self) -> None:
        """Stop the server if it runs and delete its files."""
        with contextlib.suppress(RuntimeError):  # already stopped
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------------ databases

    def url(self, database: str = "postgres") -> str:
        """`postgresql://postgres:<password>@127.0.0.1:<port>/<database>`."""
        password = quote(PASSWORD, safe="")
        return f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        name = f"test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database of `url`, cutting any connection still open to it."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
