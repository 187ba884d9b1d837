"""What the server does once per process, at start-up and shutdown (not once per session)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from predictions_core.data.location import app_settings
from predictions_core.errors import PredictionsError
from predictions_core.sync.background import get_background_sync


@asynccontextmanager
async def server_lifespan(_app: Any) -> AsyncIterator[None]:
    """Start the S3 sync (when a bucket is configured) before the first request.

    The sync runs in a background thread, so the server answers at once on the local data it
    has; `/api/health` and the dashboard's data status say when the first sync finished.
    Under `streamlit run` each session's shell calls `start()` too, which is then a no-op.
    """
    sync = get_background_sync()
    try:
        sync.start(app_settings())
    except PredictionsError as error:  # a bad setting is shown by the pages, not a crash
        print(f"predictions: not syncing: {error.message}")
    yield
    sync.stop(timeout_s=5)
