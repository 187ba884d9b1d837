"""Download buttons and the "API link" of a filtered view.

The downloads are `export.render_download`, the very bytes the HTTP route sends for the same
parameters. They are built when the button is clicked (a callable `data`, run by Streamlit on
its own thread), so drawing the page never serialises a million rows.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlencode

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


def api_path(qid: str, classifier_id: str, filters: Filters, fmt: str = "json") -> str:
    """The route of CONTRACT §5 for this view (paging kept for JSON, dropped for streams)."""
    params = filters.to_query_params()
    if fmt != "json":
        params = {k: v for k, v in params.items() if k not in ("page", "page_size")}
        params["format"] = fmt
    query = urlencode(params, doseq=True)
    path = f"/api/predictions/{quote(qid)}/{quote(classifier_id, safe='')}"
    return f"{path}?{query}" if query else path


def api_url(path: str) -> str:
    """`path` on the server the browser is talking to (relative when that is unknown)."""
    base = st.context.url
    return f"{base.rstrip('/')}{path}" if base else path


def download_buttons(
    concept: ConceptEntry,
    classifier: ClassifierEntry,
    loaded: LoadedPredictions,
    filters: Filters,
    key_prefix: str,
) -> None:
    """JSON, CSV and JSONL downloads of every filtered row (not just this page)."""
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
            help=f"Every filtered passage as {fmt.upper()}, the same as the API gives",
            width="stretch",
        )


def downloads_and_api_link(
    concept: ConceptEntry,
    classifier: ClassifierEntry,
    loaded: LoadedPredictions,
    key_prefix: str,
) -> Callable[[Filters, QueryResult], None]:
    """A `filtered_cards` toolbar: the downloads of the whole filtered set and its API URL."""

    def toolbar(filters: Filters, result: QueryResult) -> None:
        with st.expander("⬇ Download this view · API link"):
            st.caption(
                f"All {result.filtered_count:,} filtered passages (not just this page), in the "
                "order shown: the same bytes the API gives for these parameters."
            )
            download_buttons(concept, classifier, loaded, filters, key_prefix)
            api_link(concept.wikibase_id, classifier.id, filters, key_prefix)

    return toolbar


def api_link(qid: str, classifier_id: str, filters: Filters, key_prefix: str) -> None:
    """The API URL of this view in a code block (which has a copy button)."""
    fmt = st.radio(
        "API format",
        EXPORT_FORMATS,
        key=f"{key_prefix}_api_format",
        horizontal=True,
        help="json: this page; csv / jsonl: every filtered row, streamed",
    )
    st.code(api_url(api_path(qid, classifier_id, filters, fmt or "json")), language=None)
