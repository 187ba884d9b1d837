"""Download buttons and the "API link" of a filtered view.

The downloads are `export.render_download`, the very bytes the HTTP route sends for the same
parameters. They are built when the button is clicked (a callable `data`, run by Streamlit on
its own thread), so drawing the page never serialises a million rows.

While the search box holds something that is not a valid search (a regex that does not
compile), the view falls back to no search: the downloads and the API link are withheld then,
so nobody exports every row believing it is the searched view.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import streamlit as st

from predictions_core.data.catalogue import ClassifierEntry, ConceptEntry
from predictions_core.data.loading import LoadedPredictions
from predictions_core.query.engine import QueryResult
from predictions_core.query.export import (
    EXPORT_FORMATS,
    MEDIA_TYPES,
    download_filename,
    render_download,
)
from predictions_core.query.filters import Filters
from predictions_core.ui.views import markdown_text


def api_path(qid: str, classifier_id: str, filters: Filters, fmt: str = "json") -> str:
    """The route of CONTRACT §5 for this view (paging kept for JSON, dropped for streams)."""
    params = filters.to_query_params()
    if fmt != "json":
        params = {k: v for k, v in params.items() if k not in ("page", "page_size")}
        params["format"] = fmt
    query = urlencode(params, doseq=True)
    path = f"/api/predictions/{quote(qid)}/{quote(classifier_id, safe='')}"
    return f"{path}?{query}" if query else path


def api_url(path: str, page_path: str) -> str:
    """`path` (from the server root, `/api/...`) on the server the browser is talking to.

    `st.context.url` is the page's URL: `http://host[/baseUrlPath]/{page_path}`. The routes are
    mounted beside Streamlit's own, outside `server.baseUrlPath` (which only prefixes
    Streamlit's routes), so both are taken off. Relative (`/api/...`) when the URL is unknown.
    """
    return f"{server_root(st.context.url, page_path, _base_url_path())}{path}"


def server_root(page_url: str | None, page_path: str, base_url_path: str) -> str:
    """The scheme, host and any outer prefix of `page_url`, without the page or base path."""
    if not page_url:
        return ""
    parts = urlsplit(page_url)
    path = parts.path.rstrip("/")
    for suffix in (page_path.strip("/"), base_url_path.strip("/")):
        if suffix and (path == f"/{suffix}" or path.endswith(f"/{suffix}")):
            path = path[: -len(suffix) - 1]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _base_url_path() -> str:
    return str(st.get_option("server.baseUrlPath") or "")


def invalid_search(key_prefix: str, filters: Filters) -> str | None:
    """What the search box holds when it is not applied (an invalid search), else None."""
    typed = st.session_state.get(f"{key_prefix}_search")
    if isinstance(typed, str) and typed.strip() and filters.search is None:
        return typed
    return None


def download_buttons(
    concept: ConceptEntry,
    classifier: ClassifierEntry,
    loaded: LoadedPredictions,
    filters: Filters,
    key_prefix: str,
    disabled_because: str | None = None,
) -> None:
    """JSON, CSV and JSONL downloads of every filtered row (not just this page).

    `disabled_because`: the buttons are shown greyed out, with this as their help.
    """
    columns = st.columns(len(EXPORT_FORMATS))
    for column, fmt in zip(columns, EXPORT_FORMATS, strict=True):

        def build(fmt: str = fmt) -> bytes:
            return b"".join(render_download(fmt, loaded.table, concept, classifier, filters))

        column.download_button(
            f"⬇ {fmt.upper()}",
            data=build,
            file_name=download_filename(concept.wikibase_id, classifier.id, fmt),
            mime=MEDIA_TYPES[fmt],
            key=f"{key_prefix}_download_{fmt}",
            on_click="ignore",
            help=disabled_because
            or f"Every filtered passage as {fmt.upper()}, the same as the API gives "
            "(built when clicked: a large view takes a few seconds)",
            width="stretch",
            disabled=disabled_because is not None,
        )


def downloads_and_api_link(
    concept: ConceptEntry,
    classifier: ClassifierEntry,
    loaded: LoadedPredictions,
    key_prefix: str,
    page_path: str | None = None,
) -> Callable[[Filters, QueryResult], None]:
    """A `filtered_cards` toolbar: the downloads of the whole filtered set and its API URL.

    `page_path`: the page's URL path (`browse`); by default `key_prefix`, which is the same
    for every page of the app.
    """

    def toolbar(filters: Filters, result: QueryResult) -> None:
        typed = invalid_search(key_prefix, filters)
        with st.popover("⬇ Download this view · API link"):
            if typed is None:
                st.caption(
                    f"All {result.filtered_count:,} filtered passages (not just this page), "
                    "in the order shown: the same bytes the API gives for these parameters."
                )
                why = None
            else:
                why = (
                    f"The search “{typed}” is not valid, so the list is not searched: "
                    "fix or clear the search to download this view."
                )
                st.warning(markdown_text(why), icon="⚠️")
            download_buttons(concept, classifier, loaded, filters, key_prefix, why)
            api_link(
                concept.wikibase_id, classifier.id, filters, key_prefix, page_path, typed is None
            )

    return toolbar


def api_link(
    qid: str,
    classifier_id: str,
    filters: Filters,
    key_prefix: str,
    page_path: str | None = None,
    valid: bool = True,
) -> None:
    """The API URL of this view in a code block (which has a copy button).

    With `valid` False (the search box holds an invalid search) no URL is shown: it would
    name the fallback view, not the one asked for.
    """
    fmt = st.radio(
        "API format",
        EXPORT_FORMATS,
        key=f"{key_prefix}_api_format",
        horizontal=True,
        help="json: this page; csv / jsonl: every filtered row, streamed",
        disabled=not valid,
    )
    if not valid:
        st.caption("No API link while the search is invalid.")
        return
    path = api_path(qid, classifier_id, filters, fmt or "json")
    st.code(api_url(path, page_path or key_prefix), language=None)
