"""A real browser on the served dashboard: `streamlit run app.py` on a free port, Chromium
driven by Playwright. Used by the end-to-end test and by `benchmarks/screenshots.py`.

Needs Chromium at /usr/bin/chromium (`apt-get install -y chromium`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.api_support import stop_process
from tests.local_ports import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
STARTUP_TIMEOUT_S = 60
NEEDS_CHROMIUM = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium (apt-get install chromium)"
)
"""Marks a browser test: it skips, saying why, where Debian's chromium is not installed."""


@contextmanager
def running_app(
    data_dir: Path, work_dir: Path, env_overrides: dict[str, str] | None = None
) -> Iterator[str]:
    """`streamlit run app.py` on a free local port; yields its base URL, stops it after.

    It reads `data_dir` with no bucket, unless `env_overrides` sets one (and anything else).
    """
    env = {
        **os.environ,
        "PREDICTIONS_DATA_DIR": str(data_dir),
        "PREDICTIONS_CACHE_DIR": str(work_dir / "cache"),
        "PREDICTIONS_FEEDBACK_DB": str(work_dir / "feedback.sqlite"),
        "SKIP_S3_SYNC": "true",
    }
    env.pop("PREDICTIONS_S3_BUCKET", None)
    env.update(env_overrides or {})
    with running_streamlit("app.py", work_dir, env) as base:
        yield base


@contextmanager
def running_streamlit(script: str, work_dir: Path, env: dict[str, str]) -> Iterator[str]:
    """`streamlit run SCRIPT` (relative to the repository) on a free local port, headless;
    yields its base URL once healthy, stops it after. Its output goes to work_dir/streamlit.log."""
    port = free_port()
    command = [
        *(sys.executable, "-m", "streamlit", "run", script),
        *("--server.headless", "true", "--server.port", str(port)),
        *("--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"),
    ]
    log_path = work_dir / "streamlit.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(base, process, log_path)
        yield base
    finally:
        stop_process(process)


def _wait_for_health(base: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"streamlit did not become healthy:\n{log_path.read_text()[-3000:]}")


@contextmanager
def browser_page(width: int = 1400, height: int = 1000):
    """A Chromium page (Playwright sync API) with a list of the dialogs it tried to open."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            dialogs: list[str] = []

            def dismiss(dialog) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", dismiss)
            page.set_default_timeout(30_000)
            yield page, dialogs
        finally:
            browser.close()


def wait_for_app(page) -> None:
    """Until the script run is over (no 'running' indicator) and the page has content."""
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_selector("[data-testid='stMainBlockContainer'] h1")
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stStatusWidget']\")", timeout=60_000
    )
