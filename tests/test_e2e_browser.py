"""End to end in a real browser: the dashboard served by `streamlit run`, driven by Playwright.

Data: the real fixtures (both layouts) plus a hostile concept whose passage holds `<script>`
and `<img onerror>` markup, which must show as text and run nothing.
Needs Chromium at /usr/bin/chromium (`apt-get install -y chromium`); skipped without it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

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
HOSTILE_TEXT = (
    'Hostile passage <script>window.__xss=1</script> and <img src=x onerror="window.__xss=2"> '
    'about greenhouse gas & "quotes".'
)
STARTUP_TIMEOUT_S = 60

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_app(data_dir: Path, work_dir: Path) -> Iterator[str]:
    """`streamlit run app.py` on a free local port; yields its base URL, stops it after."""
    port = free_port()
    env = {
        **os.environ,
        "PREDICTIONS_DATA_DIR": str(data_dir),
        "PREDICTIONS_CACHE_DIR": str(work_dir / "cache"),
        "PREDICTIONS_FEEDBACK_DB": str(work_dir / "feedback.sqlite"),
        "SKIP_S3_SYNC": "true",
    }
    env.pop("PREDICTIONS_S3_BUCKET", None)
    command = [
        *(sys.executable, "-m", "streamlit", "run", "app.py"),
        *("--server.headless", "true", "--server.port", str(port)),
        *("--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"),
    ]
    log = (work_dir / "streamlit.log").open("wb")
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(base, process, work_dir / "streamlit.log")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


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


def write_hostile_concept(data_dir: Path) -> None:
    """Q9999: a concept and passage full of markup, with a span over part of it."""
    folder = data_dir / "Q9999" / "hostile"
    folder.mkdir(parents=True)
    start = HOSTILE_TEXT.index("greenhouse gas")
    passage = {
        "id": "hostile-1",
        "text": HOSTILE_TEXT,
        "spans": [
            {"start_index": start, "end_index": start + 14, "concept_id": "Q9999"},
            {"start_index": 16, "end_index": 40, "concept_id": "Q9999"},  # inside <script>
        ],
        "metadata": {"document_id": '<img src=x onerror="window.__xss=3">'},
    }
    (folder / "predictions.jsonl").write_text(json.dumps(passage) + "\n", encoding="utf-8")
    concept = {
        "wikibase_id": "Q9999",
        "preferred_label": "hostile <b>label</b>",
        "description": '<img src=x onerror="window.__xss=4"> described',
    }
    (data_dir / "Q9999" / "concept.json").write_text(json.dumps(concept), encoding="utf-8")


@pytest.fixture
def e2e_data(both_layouts: Path) -> Path:
    """The real fixtures in both layouts, plus the hostile concept Q9999."""
    write_hostile_concept(both_layouts)
    return both_layouts


def wait_for_app(page) -> None:
    """Until the script run is over (no 'running' indicator) and the page has content."""
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_selector("[data-testid='stMainBlockContainer'] h1")
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stStatusWidget']\")", timeout=60_000
    )


def test_browse_search_marks_and_hostile_text_runs_nothing(e2e_data: Path, tmp_path: Path):
    with running_app(e2e_data, tmp_path) as base, browser_page() as (page, dialogs):
        page.goto(base)
        wait_for_app(page)
        assert page.get_by_role("heading", name="Concepts").is_visible()

        # pick a concept in the sidebar's searchable picker, then open Browse
        picker = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first
        picker.click()
        page.keyboard.type("carbon dioxide")
        page.keyboard.press("Enter")
        page.wait_for_function("() => location.search.includes('concept=Q223')")
        page.get_by_role("link", name="Browse").first.click()
        page.get_by_role("heading", name="carbon dioxide (Q223)").wait_for()
        page.wait_for_selector("mark.pc-span")

        search = page.get_by_role("textbox", name="Search passage text")
        search.fill("emissions")
        search.press("Enter")
        page.wait_for_function("() => location.search.includes('search=emissions')")
        page.wait_for_selector("mark.pc-search")
        assert page.locator("mark.pc-search").count() > 0
        assert page.locator("mark.pc-span").count() > 0
        assert "concept=Q223" in page.url and "classifier=36bhx4mu" in page.url

        page.goto(f"{base}/browse?concept=Q9999")
        page.get_by_text("Hostile passage", exact=False).first.wait_for()
        wait_for_app(page)
        assert page.evaluate("() => typeof window.__xss") == "undefined"
        assert dialogs == []
        text = page.locator(".pc-card .pc-text").first.inner_text()
        assert "<script>window.__xss=1</script>" in text
        assert '<img src=x onerror="window.__xss=2">' in text
        assert page.locator(".pc-card script, .pc-card img").count() == 0
        assert page.get_by_text("<script>window.__xss=1</script>", exact=False).first.is_visible()
        assert page.get_by_role("heading", name="hostile <b>label</b> (Q9999)").is_visible()
