"""A running server picks up new and changed predictions from S3 without a restart.

Everything is real: a moto S3 server process, `uvicorn app:app` in a subprocess syncing it
every half second, and `predictions predict --save-to-s3` publishing into the bucket.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from predictions_core.data.location import DEMO_DATA_DIR
from tests.api_support import REPO_ROOT, start_uvicorn, stop_process

pytestmark = pytest.mark.s3
SYNCED = "Q218/6o77pbch"  # a rules classifier: the keyword one published below is another id
WAIT_S = 30


def poll(client: httpx.Client, path: str, until, what: str):
    """GET `path` until `until(json)` holds; fail with `what` after WAIT_S seconds."""
    deadline = time.monotonic() + WAIT_S
    body = None
    while time.monotonic() < deadline:
        answer = client.get(path)
        if answer.status_code == 200:
            body = answer.json()
            if until(body):
                return body
        time.sleep(0.3)
    pytest.fail(f"{what} did not happen within {WAIT_S} s; last answer: {body}")


@pytest.fixture
def live_server(s3, small_demo_tree: Path, tmp_path: Path):
    s3.put_tree(small_demo_tree, prefix="live/")
    process, base_url, log = start_uvicorn(
        "app:app",
        {
            "PREDICTIONS_DATA_DIR": str(tmp_path / "data"),
            "PREDICTIONS_CACHE_DIR": str(tmp_path / "cache"),
            "PREDICTIONS_S3_BUCKET": s3.name,
            "PREDICTIONS_S3_PREFIX": "live/",
            "PREDICTIONS_SYNC_INTERVAL_S": "0.5",
            "SKIP_S3_SYNC": "false",
        },
    )
    try:
        with httpx.Client(base_url=base_url, timeout=10) as client:
            yield client
    finally:
        stop_process(process)
        log.unlink(missing_ok=True)


def publish_keyword_classifier(bucket: str, tmp_path: Path) -> str:
    """Run `predictions predict ... --save-to-s3` in its own process; the classifier id."""
    passages = tmp_path / "passages.jsonl"
    lines = (DEMO_DATA_DIR / "passages.jsonl").read_text().splitlines()[:300]
    passages.write_text("\n".join(lines) + "\n")
    command = [
        sys.executable,
        "-m",
        "predictions_core.cli.main",
        "predict",
        "Q218",
        "--passages",
        str(passages),
        "--concept",
        str(DEMO_DATA_DIR / "Q218" / "concept.json"),
        "--classifier",
        "keyword",
        "--out",
        str(tmp_path / "published"),
        "--save-to-s3",
    ]
    env = {"PREDICTIONS_S3_BUCKET": bucket, "PREDICTIONS_S3_PREFIX": "live/"}
    result = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    [published] = [p.name for p in (tmp_path / "published/Q218").iterdir() if p.is_dir()]
    return published


def test_changed_and_published_predictions_appear_while_running(live_server, s3, tmp_path):
    client = live_server
    health = poll(
        client, "/api/health", lambda b: b["concepts"] == 2 and b["last_sync"], "first sync"
    )
    assert health["sync_enabled"] is True
    url = f"/api/predictions/{SYNCED}?search=zebra%20crossing"
    assert client.get(url).json()["filtered_count"] == 0

    # a pipeline rewrites a predictions file in the bucket
    key = f"live/{SYNCED}/predictions.jsonl"
    extra = {"id": "new.1", "text": "A zebra crossing near the methane plant.", "spans": []}
    s3.put(key, s3.get(key) + (json.dumps(extra) + "\n").encode())
    changed = poll(client, url, lambda b: b["filtered_count"] == 1, "the changed file showing")
    assert changed["predictions"][0]["id"] == "new.1"

    # and `predictions predict --save-to-s3` publishes a new classifier
    before = [c["id"] for c in client.get("/api/concepts/Q218").json()["classifiers"]]
    published = publish_keyword_classifier(s3.name, tmp_path)
    assert published not in before
    concept = poll(
        client,
        "/api/concepts/Q218",
        lambda b: published in [c["id"] for c in b["classifiers"]],
        "the published classifier",
    )
    entry = next(c for c in concept["classifiers"] if c["id"] == published)
    assert entry["n_predictions"] > 0
    rows = client.get(f"/api/predictions/Q218/{published}?has_spans=true&page_size=5").json()
    assert rows["filtered_count"] == entry["n_predictions"]
