"""What the server does once per process, at start-up and shutdown (not once per session)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from predictions_core.data.derive import empty_passage_table
from predictions_core.data.location import app_settings
from predictions_core.data.store import get_store
from predictions_core.errors import PredictionsError
from predictions_core.query.engine import query_predictions
from predictions_core.query.filters import Filters
from predictions_core.settings import Settings
from predictions_core.sync.background import get_background_sync

# a regex search on a region: the query path's every step (DuckDB scan, RE2, facet columns)
_WARM_UP_FILTERS = Filters(search="/warm.?up/i", region=["nowhere"])


def warm_up(settings: Settings) -> None:
    """Do the one-off work of the first request now, so no user waits for it.

    Without this, the first `/api/predictions/...` after a restart took ~1.5 s where the
    second took ~15 ms: DuckDB imports pandas the first time an Arrow table is registered, and
    the catalogue was scanned in the request. This scans the catalogue and runs one query on
    an empty table; it loads no predictions file (a data dir may hold gigabytes).
    """
    get_store(settings).catalogue()
    query_predictions(empty_passage_table(), _WARM_UP_FILTERS)


@asynccontextmanager
async def server_lifespan(_app: Any) -> AsyncIterator[None]:
    """Warm up the query path and start the S3 sync, before the server reports ready.

    The sync runs in a background thread, so the server answers at once on the local data it
    has. It is started first, so from the very first request `/api/health` says `"syncing"`
    (with its progress) and `?ready=true` answers 503 until the first sync has finished.
    Under `streamlit run` each session's shell calls `start()` too, which is then a no-op.
    """
    sync = get_background_sync()
    try:
        settings = app_settings()
        sync.start(settings)
    except PredictionsError as error:  # a bad setting is shown by the pages, not a crash
        print(f"predictions: not syncing: {error.message}")
    else:
        try:
            await asyncio.to_thread(warm_up, settings)
        except (PredictionsError, OSError) as error:  # only a speed-up: pages report bad data
            print(f"predictions: no warm-up: {error}")
    yield
    sync.stop(timeout_s=5)
