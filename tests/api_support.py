"""Plain helpers of the HTTP route tests (`test_api*.py`); their fixtures are in conftest.py.

- `api_environment` / `set_api_environment`: point `app_settings()` at a data dir;
  `mounted_api` / `make_client`: the API mounted at `/api` as `app.py` mounts it.
- `write_rich_data_dir`: a concept's gold passages (rich metadata: region, corpus,
  translation, publication date) written as a classifier's predictions file.
- Independent oracles (`publication_year`, `region_of`, ...) read the raw passages in Python,
  so the tests do not check the SQL against itself.
- `start_uvicorn` / `stop_process`: a real server in a subprocess (also used by benchmarks).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount

from predictions_core.api.responses import ApiErrorShapeMiddleware
from predictions_core.api.routes import create_api
from predictions_core.data.location import app_settings
from predictions_core.data.store import get_store
from tests.local_ports import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
RICH_QID = "Q787"
RICH_CLASSIFIER = "gold.v1"
_UNKNOWN_DATE_MS = "-2208988800000"
STARTUP_TIMEOUT_S = 90.0


def api_environment(data_dir: Path, work_dir: Path) -> dict[str, str]:
    """The variables that make `app_settings()` read `data_dir` and nothing else."""
    return {
        "PREDICTIONS_DATA_DIR": str(data_dir),
        "PREDICTIONS_CACHE_DIR": str(work_dir / "cache"),
        "PREDICTIONS_FEEDBACK_DB": str(work_dir / "feedback.sqlite"),
        "SKIP_S3_SYNC": "true",
    }


def set_api_environment(monkeypatch: pytest.MonkeyPatch, data_dir: Path, work_dir: Path) -> None:
    """Apply `api_environment`, unset the bucket, and leave any `.env` of the repo behind."""
    monkeypatch.chdir(work_dir)
    monkeypatch.delenv("PREDICTIONS_S3_BUCKET", raising=False)
    for name, value in api_environment(data_dir, work_dir).items():
        monkeypatch.setenv(name, value)


def mounted_api() -> Starlette:
    """The API under `/api` with the error-shape middleware, as `app.py` serves it.

    Streamlit's routes are left out; paths the mount cannot match (an id with a newline)
    fall through to Starlette's plain-text 404, which the middleware turns into JSON.
    """
    return Starlette(
        routes=[Mount("/api", app=create_api())],
        middleware=[Middleware(ApiErrorShapeMiddleware)],
    )


def make_client(**options: Any):
    """A Starlette TestClient of `mounted_api()`."""
    return client_of(mounted_api(), **options)


def client_of(app: Any, **options: Any):
    """A Starlette TestClient of `app` (its httpx deprecation notice silenced)."""
    from starlette.exceptions import StarletteDeprecationWarning

    with warnings.catch_warnings():
        # starlette 1.x wants `httpx2`, which is not a dependency; httpx works as before
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient

        return TestClient(app, **options)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def write_rich_data_dir(target: Path, concept_file: Path) -> list[dict[str, Any]]:
    """`concept_file`'s gold passages as the predictions of classifier `gold.v1`; returns them.

    `concept_file` is a concept.json with `labelled_passages` (the demo's Q787, or the real
    one of ../shared). Passages of CCLW documents get the corpus "CCLW" (every real passage
    says "UNFCCC"), so that a corpus filter has something to narrow.
    """
    concept = json.loads(concept_file.read_text(encoding="utf-8"))
    passages = []
    for passage in concept["labelled_passages"]:
        metadata = dict(passage["metadata"])
        if str(metadata.get("document_id", "")).startswith("CCLW."):
            metadata["document_metadata.corpus_type_name"] = "CCLW"
        passages.append({**passage, "metadata": metadata})
    folder = target / RICH_QID / RICH_CLASSIFIER
    folder.mkdir(parents=True)
    shutil.copy(concept_file, target / RICH_QID / "concept.json")
    (folder / "classifier.json").write_text(
        json.dumps({"id": RICH_CLASSIFIER, "name": "Human gold labels", "date": "2024-03-01"})
    )
    with (folder / "predictions.jsonl").open("w", encoding="utf-8") as sink:
        for passage in passages:
            sink.write(json.dumps(passage, ensure_ascii=False) + "\n")
    return passages


def _text(metadata: dict[str, Any], key: str) -> str | None:
    value = metadata.get(key)
    return str(value).strip() or None if value is not None else None


def region_of(passage: dict[str, Any]) -> str | None:
    return _text(passage["metadata"], "world_bank_region")


def corpus_of(passage: dict[str, Any]) -> str | None:
    return _text(passage["metadata"], "document_metadata.corpus_type_name")


def document_of(passage: dict[str, Any]) -> str | None:
    return _text(passage["metadata"], "document_id")


def translated_of(passage: dict[str, Any]) -> bool | None:
    value = (_text(passage["metadata"], "translated") or "").lower()
    return {"true": True, "false": False}.get(value)


def publication_year(passage: dict[str, Any]) -> int | None:
    """The publication year: epoch milliseconds (the 1900 placeholder is unknown) or ISO text."""
    metadata = passage["metadata"]
    raw = _text(metadata, "document_metadata.publication_ts") or _text(metadata, "publication_ts")
    if raw is None or raw.startswith(_UNKNOWN_DATE_MS):
        return None
    if re.fullmatch(r"-?\d+(\.\d*)?", raw):
        return datetime.fromtimestamp(float(raw) / 1000, UTC).year
    return int(raw[:4])


def start_uvicorn(target: str, env_overrides: dict[str, str], *options: str, cwd: Path = REPO_ROOT):
    """`python -m uvicorn target` on 127.0.0.1 in a subprocess: (process, base URL, log path)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PREDICTIONS_S3_BUCKET"}
    env.update(env_overrides)
    log_handle, log_name = tempfile.mkstemp(prefix="api-server-", suffix=".log")
    command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port)]
    command += options
    with os.fdopen(log_handle, "wb") as log:
        # the child keeps its own copy of the descriptor
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited early; see {log_name}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, base_url, Path(log_name)
        except OSError:
            time.sleep(0.2)
    stop_process(process)
    raise RuntimeError(f"uvicorn did not start within {STARTUP_TIMEOUT_S} s; see {log_name}")


def stop_process(process: subprocess.Popen) -> None:
    """End the child we started, by its own handle."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def rich_url(query: str = "") -> str:
    return f"/api/predictions/{RICH_QID}/{RICH_CLASSIFIER}" + (f"?{query}" if query else "")


def current_table(qid: str, classifier_id: str):
    """The table the API serves, through the same store (the environment is set by `serve`)."""
    store = get_store(app_settings())
    catalogue = store.catalogue()
    return (
        catalogue.concept(qid),
        catalogue.classifier(qid, classifier_id),
        store.predictions(qid, classifier_id).table,
    )


def ids_of(answer) -> list[str]:
    return [p["id"] for p in answer.json()["predictions"]]
