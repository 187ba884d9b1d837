"""What every page shares: page config, shared session state, the URL bookkeeping, the sidebar.

`app.py` (the router) draws it before running the current page. A page also calls
`start_page` itself, which does nothing when the router already drew the shell in this run.
That covers the one case where Streamlit runs a page file without the router: a `pages/`
folder beside the entry script makes Streamlit run its "pages directory" mode for the first
run of a process (and AppTest for every run), which runs `pages/browse.py` on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from predictions_core.data.catalogue import ConceptEntry
from predictions_core.errors import PredictionsError
from predictions_core.sync.background import get_background_sync
from predictions_core.ui import url_state
from predictions_core.ui.data import current_catalogue, current_settings
from predictions_core.ui.sidebar import render_sidebar
from predictions_core.ui.sync_progress import first_sync_progress, first_sync_running
from predictions_core.ui.views import markdown_text, no_data_message

SHARED_DEFAULTS = {"concept": None, "classifier": None, "classifiers": []}
_DRAWN_BY_ROUTER = "_shell_drawn_by_router"


def configure_page() -> None:
    """Wide layout and the browser tab's title (calls are additive: safe to repeat)."""
    st.set_page_config(
        page_title="Concept classifier predictions",
        page_icon="🔎",
        layout="wide",
        initial_sidebar_state="expanded",
    )


def draw_shell(page_key: str) -> None:
    """Page config, shared state, background sync, URL bookkeeping and the sidebar.

    While the first sync of a bucket runs, a progress bar heads every page (the data is
    missing or partial until it ends).
    """
    configure_page()
    for key, default in SHARED_DEFAULTS.items():
        st.session_state.setdefault(key, default)
    try:
        current_settings()
    except PredictionsError as error:  # e.g. PREDICTIONS_SYNC_INTERVAL_S=soon
        st.error(
            f"The dashboard's settings are wrong: {markdown_text(error.message)}. "
            "Fix the environment variable (or `.env`) and restart.",
            icon="⚠️",
        )
        st.stop()
    get_background_sync().start(current_settings())  # no-op when sync is off or already running
    url_state.begin_run(page_key)
    render_sidebar(page_key, current_catalogue())
    if first_sync_running():
        first_sync_progress()


@contextmanager
def router_shell(page_key: str) -> Iterator[None]:
    """Draw the shell, then run the page inside this block (which `start_page` then skips)."""
    draw_shell(page_key)
    st.session_state[_DRAWN_BY_ROUTER] = True
    try:
        yield
    finally:
        # also on st.stop / st.switch_page / st.rerun, which end a run with an exception
        st.session_state[_DRAWN_BY_ROUTER] = False


def start_page(page_key: str) -> None:
    """Draw the shell unless the router already did in this run."""
    if not st.session_state.get(_DRAWN_BY_ROUTER):
        draw_shell(page_key)


def start_concept_page(page_key: str, title: str) -> ConceptEntry:
    """Start the page and return the chosen concept; with no data, say how to get some, stop."""
    start_page(page_key)
    catalogue = current_catalogue()
    if not catalogue.concepts:
        st.title(title)
        stop_without_data()
    return catalogue.concepts[st.session_state["concept"]]


def stop_without_data() -> None:
    """End a page that has no concept to show: how to get data, or (while the first sync
    runs) nothing more than the shell's progress bar."""
    if not first_sync_running():
        no_data_message()
    st.stop()
