"""A real moto S3 server process on 127.0.0.1, and helpers to watch and break its traffic.

Plain helpers; the fixtures `moto_server`, `s3` and `breaking_proxy` in conftest.py wrap them
(and import this module only when an S3 test runs).

- `MotoServer`: `python -m moto.server` in a subprocess on a free port, reached over HTTP
  through `AWS_ENDPOINT_URL`, with IAM enforcement switchable over moto's HTTP API.
- `RequestCounter`: counts each HTTP request botocore really sends, by operation name.
- `BreakingProxy`: a tiny HTTP server forwarding to moto that records every request and
  can cut a chosen object's GET body half-way, then drop the connection, or slow every
  object download down (`download_delay_s`) so a sync in progress can be watched.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest

from tests.local_ports import free_port

STARTUP_TIMEOUT_S = 60.0
TEST_REGION = "us-east-1"


class MotoServer:
    """`python -m moto.server` as a child process bound to 127.0.0.1."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        log_handle, self._log_path = tempfile.mkstemp(prefix="moto-server-", suffix=".log")
        self._log = os.fdopen(log_handle, "wb")
        env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto server exited early; see {self._log_path}")
            try:
                self._request("GET", "/moto-api/data.json")
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto server did not start within {STARTUP_TIMEOUT_S} s")

    def _request(self, method: str, path: str, body: bytes | None = None) -> bytes:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body)
            return connection.getresponse().read()
        finally:
            connection.close()

    def set_iam_enforcement(self, enabled: bool) -> None:
        """Make moto check signatures and IAM policies (on) or accept anything (off)."""
        self._request("POST", "/moto-api/reset-auth", b"0" if enabled else b"inf")

    def stop(self) -> None:
        """End the child process we started (by its own handle, nothing broader)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()
        Path(self._log_path).unlink(missing_ok=True)


class RequestCounter:
    """Counts the HTTP requests a boto3 session's clients send, by operation name.

    `before-send` fires once per HTTP attempt (retries included), right before the bytes go
    out, so the counts are real requests, not API calls.
    """

    def __init__(self, session: Any) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        session.events.register("before-send.s3", self._on_send)

    def _on_send(self, event_name: str, **_: Any) -> None:
        with self._lock:
            self.counts[event_name.rsplit(".", 1)[-1]] += 1

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)


def make_session(**options: Any) -> Any:
    """A boto3 session built from the (monkeypatched) environment, as the app would."""
    return boto3.session.Session(**options)


@dataclass
class S3Bucket:
    """A fresh bucket on the moto server, a session for the code under test, and a counter."""

    server: MotoServer
    name: str
    session: Any
    counter: RequestCounter
    admin: Any  # a client on its own session: setting up the bucket is not counted

    def put(self, key: str, body: bytes) -> None:
        self.admin.put_object(Bucket=self.name, Key=key, Body=body)

    def delete(self, key: str) -> None:
        self.admin.delete_object(Bucket=self.name, Key=key)

    def get(self, key: str) -> bytes:
        return self.admin.get_object(Bucket=self.name, Key=key)["Body"].read()

    def put_tree(self, local_dir: Path, prefix: str = "") -> dict[str, bytes]:
        """Upload every file under `local_dir` with plain put_object; returns key → bytes."""
        uploaded = {}
        for path in sorted(local_dir.rglob("*")):
            if path.is_file():
                key = prefix + path.relative_to(local_dir).as_posix()
                uploaded[key] = path.read_bytes()
                self.put(key, uploaded[key])
        return uploaded


def new_bucket(server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> S3Bucket:
    """Point boto3's own environment at `server` and create an empty bucket there."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", TEST_REGION)
    # no ~/.aws of the developer's may change what the tests see
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    admin = make_session().client("s3")
    name = f"predictions-{uuid.uuid4().hex[:12]}"
    admin.create_bucket(Bucket=name)
    session = make_session()
    return S3Bucket(server, name, session, RequestCounter(session), admin)


_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "server",
    "date",
    "host",
}


class BreakingProxy:
    """HTTP endpoint on 127.0.0.1 that forwards to moto, logs requests, and can cut downloads.

    Objects whose path (`/bucket/key`) is in `break_paths` get their GET answered with the
    full Content-Length but only half the body, then the socket is closed: a download that
    really breaks half-way over HTTP.
    """

    def __init__(self, upstream: MotoServer) -> None:
        self.upstream_port = upstream.port
        self.break_paths: set[str] = set()
        self.download_delay_s = 0.0  # before answering each object GET (not listings)
        self.requests: list[tuple[str, str, str]] = []
        self.cut_count = 0
        self._lock = threading.Lock()
        handler = type("Handler", (_ProxyHandler,), {"proxy": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.endpoint_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def break_object(self, bucket: str, key: str) -> None:
        self.break_paths.add(f"/{bucket}/{key}")

    def hold_download(self) -> None:
        """Wait `download_delay_s`, re-read as it passes: lowering it releases held downloads."""
        started = time.monotonic()
        while time.monotonic() - started < self.download_delay_s:
            time.sleep(0.05)

    def mend_all(self) -> None:
        self.break_paths.clear()

    def record(self, method: str, path: str, query: str) -> None:
        with self._lock:
            self.requests.append((method, path, query))

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy: BreakingProxy

    def log_message(self, *_: Any) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        self._forward()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_GET

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection("127.0.0.1", self.proxy.upstream_port, timeout=30)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            payload = response.read()
            response_headers = response.getheaders()
        finally:
            upstream.close()
        split = urlsplit(self.path)
        self.proxy.record(self.command, unquote(split.path), split.query)
        is_object = split.path.strip("/").count("/") >= 1  # /bucket/key, not /bucket?list
        if self.command == "GET" and is_object:
            self.proxy.hold_download()
        self.send_response(response.status)
        for name, value in response_headers:
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if self.command == "GET" and unquote(split.path) in self.proxy.break_paths:
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            with self.proxy._lock:
                self.proxy.cut_count += 1
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(payload)


def local_tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` (POSIX relative path → bytes), the sync manifest left out."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".sync-manifest.json"
    }
