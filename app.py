"""Entry point: `uv run streamlit run app.py` and `uvicorn app:app` serve the same thing.

Streamlit runs this file as `__main__` on every rerun: the router below draws the shared
shell (page config, sidebar) and runs the current page. uvicorn imports it as the module
`app` and only needs `app` (the dashboard plus the HTTP routes under /api).
"""

import streamlit as st
from starlette.middleware import Middleware
from starlette.routing import Mount

from predictions_core.api.lifespan import server_lifespan
from predictions_core.api.responses import ApiErrorShapeMiddleware
from predictions_core.api.routes import create_api

app = st.App(
    "app.py",
    routes=[Mount("/api", app=create_api())],
    middleware=[Middleware(ApiErrorShapeMiddleware)],
    lifespan=server_lifespan,
)

# A `pages/` folder beside this script makes Streamlit run its old "pages directory" mode for
# a process's first script run (a v1 menu, the page file run without this router). The pages
# are defined by st.navigation below, which flips the same switch, but only once it has run;
# `streamlit run` and uvicorn import this module first, so flip it here. (`start_page` in each
# page covers the case where the switch is not reachable, and AppTest, which resets it.)
try:
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
except (ImportError, AttributeError):  # a Streamlit without that switch has no such mode
    pass

if __name__ == "__main__":
    from predictions_core.ui.shell import SHARED_DEFAULTS, configure_page, router_shell

    configure_page()
    for shared_key, default in SHARED_DEFAULTS.items():
        st.session_state.setdefault(shared_key, default)
    pages = [
        st.Page("pages/concepts.py", title="Concepts", icon="🗂️", default=True),
        st.Page("pages/browse.py", title="Browse", icon="🔎", url_path="browse"),
        st.Page("pages/compare.py", title="Compare", icon="⚖️", url_path="compare"),
        st.Page("pages/evaluate.py", title="Evaluate", icon="🎯", url_path="evaluate"),
    ]
    page = st.navigation(pages)
    with router_shell(page.url_path or "concepts"):
        page.run()
