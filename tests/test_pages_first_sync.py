"""The dashboard while the first sync of a bucket runs (AppTest): a progress bar with the
bucket and the counts instead of an empty concept list (or "no data"), then the concepts.

The process's background sync is put in the state a running first sync leaves it in (its
timer never started, so no S3 is needed); `test_readiness.py` drives a real one.
"""

from __future__ import annotations

import shutil
from concurrent.futures import Future
from pathlib import Path

import pytest

from predictions_core.sync.background import BackgroundSync, get_background_sync
from predictions_core.sync.state import SyncProgress, SyncReport
from predictions_core.ui.sync_progress import progress_fraction, progress_text
from tests.page_support import open_page

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")
BUCKET = "predictions-live"


@pytest.fixture
def first_sync(monkeypatch: pytest.MonkeyPatch, use_data, tmp_path: Path) -> BackgroundSync:
    """An empty data dir synced from BUCKET, whose first sync has done 30 of 120 files."""
    use_data(tmp_path / "data")
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("PREDICTIONS_S3_BUCKET", BUCKET)
    monkeypatch.setenv("PREDICTIONS_S3_PREFIX", "live")
    monkeypatch.setenv("SKIP_S3_SYNC", "false")
    sync = get_background_sync()
    monkeypatch.setattr(sync, "start", lambda settings: False)
    monkeypatch.setattr(sync, "last_report", None)
    progress = SyncProgress(BUCKET, "live/")
    progress.listed(120)
    progress.advance(30)
    monkeypatch.setattr(sync, "_progress", progress)
    monkeypatch.setattr(sync, "_running", Future())
    monkeypatch.setattr(sync, "_awaiting_first_sync", True)
    return sync


def finish(sync: BackgroundSync, data_dir: Path, demo_copy: Path) -> None:
    """The first sync ends: the data has arrived and the report is recorded."""
    shutil.copytree(demo_copy, data_dir, dirs_exist_ok=True)
    sync._progress = sync._running = None
    sync._awaiting_first_sync = False
    sync.last_report = SyncReport(BUCKET, "live/", data_dir)


@pytest.mark.parametrize("page", [None, "pages/browse.py", "pages/compare.py"])
def test_the_first_sync_shows_a_progress_bar_not_an_empty_list(first_sync, page):
    at = open_page(page)
    [bar] = at.get("progress")
    assert bar.value == 25
    text = bar.text.replace("\\", "")  # the bucket's name is Markdown-escaped
    assert f"s3://{BUCKET}/live/" in text and "30 of 120 files" in text
    assert not at.info  # not "no predictions found: run predictions demo"
    assert not at.dataframe and not at.error
    status = " ".join(caption.value for caption in at.sidebar.caption)
    assert "Sync in progress: 30 of 120 files" in status


def test_the_concepts_appear_once_the_first_sync_has_finished(
    first_sync, demo_copy: Path, tmp_path: Path
):
    at = open_page()
    assert at.get("progress")
    finish(first_sync, tmp_path / "data", demo_copy)
    at.run()
    assert not at.exception
    assert not at.get("progress")
    assert len(at.dataframe("concepts_table").value) == 4


def test_partial_data_is_shown_under_the_bar(first_sync, demo_copy: Path, tmp_path: Path):
    shutil.copytree(demo_copy / "Q218", tmp_path / "data" / "Q218")
    at = open_page()
    assert "30 of 120 files" in at.get("progress")[0].text
    assert list(at.dataframe("concepts_table").value["QID"]) == ["Q218"]


def test_a_failed_first_sync_shows_no_bar_and_says_why(first_sync, tmp_path: Path):
    report = SyncReport(BUCKET, "live/", tmp_path / "data", error="access denied")
    first_sync._progress = first_sync._running = None
    first_sync._awaiting_first_sync = False
    first_sync.last_report = report
    at = open_page()
    assert not at.get("progress")
    assert "uv run predictions demo" in " ".join(info.value for info in at.info)
    status = " ".join(caption.value for caption in at.sidebar.caption)
    assert "Last sync failed: access denied." in status


def test_the_bar_before_the_listing_and_for_an_empty_bucket():
    before = progress_text(None, "b", "p/")
    assert before == "Syncing s3://b/p/ for the first time: listing the bucket…"
    listing = {"bucket": "b", "prefix": "", "done": 0, "total": None}
    assert progress_fraction(listing) == 0.0
    assert "listing the bucket" in progress_text(listing, "", "")
    assert progress_fraction({"bucket": "b", "prefix": "", "done": 0, "total": 0}) == 1.0
    counted = {"bucket": "b", "prefix": "", "done": 1_500, "total": 3_000}
    assert progress_fraction(counted) == 0.5
    assert progress_text(counted, "", "").endswith("1,500 of 3,000 files")
