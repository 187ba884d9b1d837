"""The server's start-up does the first request's one-off work (imports, catalogue scan).

Each case runs in a fresh interpreter, as a restarted server is: what a process has already
imported is the whole point, and the test process has imported everything long ago.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.api_support import REPO_ROOT, api_environment

# One `/api/predictions/...` request on a server that has imported `predictions_core.api`
# (as `app.py` has before it serves), with or without the lifespan's start-up before it.
# Prints which modules the request imported and how often it scanned the catalogue.
FIRST_REQUEST = """
import asyncio, json, sys
from starlette.requests import Request
from predictions_core.api import routes
from predictions_core.api.lifespan import server_lifespan
from predictions_core.data import store as store_module

scans = []
real_scan = store_module.scan_catalogue
store_module.scan_catalogue = lambda data_dir: scans.append(data_dir) or real_scan(data_dir)

def first_request():
    scans.clear()
    before = set(sys.modules)
    request = Request({"type": "http", "query_string": b"search=forest", "headers": []})
    response = routes.get_predictions("Q787", "vzyanawi", request, routes.current_store())
    assert response.status_code == 200 and json.loads(response.body)["filtered_count"] > 0
    return {"imported": sorted(set(sys.modules) - before), "scans": len(scans)}

async def after_start_up():
    async with server_lifespan(None):
        return first_request()

print(json.dumps(asyncio.run(after_start_up()) if sys.argv[1] == "start-up" else first_request()))
"""


def _first_request(data_dir: Path, work_dir: Path, mode: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PREDICTIONS_S3_BUCKET"}
    env.update(api_environment(data_dir, work_dir))
    env["PYTHONPATH"] = str(REPO_ROOT)
    done = subprocess.run(
        [sys.executable, "-c", FIRST_REQUEST, mode],
        cwd=work_dir,  # away from any `.env` of the checkout
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_after_start_up_the_first_request_imports_nothing_and_scans_nothing(demo_copy, tmp_path):
    # the first run also writes the columnar cache, so the second is a warm-cache restart
    without = _first_request(demo_copy, tmp_path, "none")
    assert without["imported"] and without["scans"] == 1  # the work this start-up moves
    after = _first_request(demo_copy, tmp_path, "start-up")
    assert after == {"imported": [], "scans": 0}
