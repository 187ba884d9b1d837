"""The first sync of a bucket, on screen: a progress bar with the bucket and the file counts.

While the process's first sync runs, the data dir is empty or partial. Pages then show this
bar (instead of an empty concept list, or above a partial one), redrawn every second by a
fragment; when the sync has finished, the fragment reruns the whole page, which then shows
the synced data.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from predictions_core.sync.background import get_background_sync
from predictions_core.ui.data import current_settings
from predictions_core.ui.views import markdown_text

REFRESH_EVERY_S = 1.0


def first_sync_running() -> bool:
    """True while the first sync of the configured bucket has not finished."""
    return current_settings().sync_enabled and get_background_sync().first_sync_pending


def progress_text(progress: dict[str, Any] | None, bucket: str, prefix: str) -> str:
    """ "Syncing s3://b/p for the first time: N of M files" (or "listing the bucket…")."""
    if progress is not None:
        bucket, prefix = progress["bucket"], progress["prefix"]
    where = f"s3://{bucket}/{prefix}"
    if progress is None or progress.get("total") is None:
        return f"Syncing {where} for the first time: listing the bucket…"
    return (
        f"Syncing {where} for the first time: {progress['done']:,} of {progress['total']:,} files"
    )


def progress_fraction(progress: dict[str, Any] | None) -> float:
    """Done / total in 0..1 (0 while the total is unknown, 1 for an empty bucket)."""
    if progress is None or progress.get("total") is None:
        return 0.0
    total = progress["total"]
    return 1.0 if total == 0 else min(1.0, progress["done"] / total)


@st.fragment(run_every=REFRESH_EVERY_S)
def first_sync_progress() -> None:
    """The bar, redrawn every second; reruns the page once the first sync has finished."""
    if not first_sync_running():
        st.rerun()  # the whole page, now with the synced data
    settings = current_settings()
    progress = get_background_sync().progress()
    text = progress_text(progress, settings.s3_bucket or "", settings.s3_prefix)
    # bucket names and keys are the deployer's text, never markup
    st.progress(progress_fraction(progress), text=markdown_text(text))
    st.caption("The concepts appear as soon as the first sync has finished.")
