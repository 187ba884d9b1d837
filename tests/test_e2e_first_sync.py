"""End to end in a real browser: while `streamlit run app.py` does its first sync of a bucket,
the Concepts page shows the progress bar, which refreshes by itself and gives way to the
concepts when the sync ends, without a reload.

A moto S3 server behind a proxy that slows every download (tests/s3_server.py). Needs
Chromium at /usr/bin/chromium; skipped without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser_support import NEEDS_CHROMIUM, browser_page, running_app

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.s3,
    NEEDS_CHROMIUM,
]


def test_the_progress_bar_gives_way_to_the_concepts_by_itself(
    s3, small_demo_tree: Path, breaking_proxy, tmp_path: Path
):
    s3.put_tree(small_demo_tree, prefix="live/")
    for number in range(34):
        s3.put(f"live/notes/{number:03}.txt", b"not a concept\n")
    breaking_proxy.download_delay_s = 120.0  # held until the bar has been seen
    bucket = {
        "PREDICTIONS_S3_BUCKET": s3.name,
        "PREDICTIONS_S3_PREFIX": "live/",
        "SKIP_S3_SYNC": "false",
        "AWS_ENDPOINT_URL": breaking_proxy.endpoint_url,
    }
    with (
        running_app(tmp_path / "data", tmp_path, bucket) as base,
        browser_page() as (page, _),
    ):
        page.goto(base)
        bar = page.get_by_text("for the first time", exact=False)
        bar.first.wait_for(timeout=30_000)
        assert f"s3://{s3.name}/live/" in bar.first.inner_text()
        assert page.get_by_text("No predictions found").count() == 0
        breaking_proxy.download_delay_s = 0.0  # let the sync finish
        # no reload: the fragment notices the end of the sync and reruns the page
        page.get_by_text("for the first time", exact=False).first.wait_for(
            state="detached", timeout=45_000
        )
        # both synced concepts; while a rerun replaces the page, Streamlit may briefly show the
        # previous run's element beside the new one, so wait for the page to settle on one
        concepts_line = page.get_by_text("2 of 2 concepts")
        concepts_line.first.wait_for(timeout=30_000)
        page.wait_for_function(
            "() => document.querySelectorAll('[data-testid=stDataFrame]').length === 1",
            timeout=30_000,
        )
