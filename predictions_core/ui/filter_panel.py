"""Filter, sort and paging widgets shared by Browse and the disagreement browser on Compare.

Every widget key starts with the page's prefix (`browse_search`, `compare_region`, ...), and
every widget maps to one URL parameter of CONTRACT §5. `filter_widgets` returns the raw
parameters (what the URL should say) and the `Filters` parsed from them (what is applied).
"""

from __future__ import annotations

import random

import streamlit as st

from predictions_core.errors import InvalidParameterError
from predictions_core.query.engine import Facets, QueryResult
from predictions_core.query.filters import DEFAULT_PAGE_SIZE, SORT_LABELS, Filters
from predictions_core.ui import url_state

PAGE_SIZES = [10, 25, 50, 100, 200]
TRI_STATE = {"any": None, "yes": True, "no": False}
SEARCH_HELP = (
    "Plain text matches anywhere, ignoring case (`net zero`). "
    "Wrap a regular expression in slashes: `/carbon (tax|price)/` (case-sensitive) or "
    "`/methane|CH4/i` (ignoring case). Regexes use RE2 syntax (no look-arounds or "
    "back-references)."
)


def seed_filter_widgets(prefix: str, filters: Filters, raw_search: str | None) -> None:
    """Set the widgets' state from URL filters (before the widgets are drawn)."""
    state = st.session_state
    state[f"{prefix}_search"] = raw_search or ""
    state[f"{prefix}_region"] = list(filters.region)
    state[f"{prefix}_corpus"] = list(filters.corpus)
    state[f"{prefix}_translated"] = _tri_word(filters.translated)
    state[f"{prefix}_has_spans"] = _tri_word(filters.has_spans)
    state[f"{prefix}_year_min"] = filters.year_min
    state[f"{prefix}_year_max"] = filters.year_max
    state[f"{prefix}_document_id"] = filters.document_id or ""
    state[f"{prefix}_sort"] = filters.sort
    state[f"{prefix}_seed"] = filters.seed
    state[f"{prefix}_page"] = filters.page
    state[f"{prefix}_page_size"] = filters.page_size


def seed_from_url_if_new(prefix: str) -> list[InvalidParameterError]:
    """When the URL is new this run, start the widgets from it; return what it got wrong."""
    if not url_state.url_is_new() and f"{prefix}_sort" in st.session_state:
        return []
    params = url_state.current_params()
    filters, problems = url_state.parse_filters(params)
    seed_filter_widgets(prefix, filters, url_state.first(params, "search"))
    return problems


def filter_widgets(
    prefix: str, facets: Facets
) -> tuple[dict[str, str | list[str]], Filters, list[InvalidParameterError]]:
    """Draw the filter and sort widgets.

    Returns the URL parameters (raw: what the user typed), the `Filters` applied (without
    any parameter that is wrong) and what was wrong.
    """
    st.text_input(
        "Search passage text",
        key=f"{prefix}_search",
        placeholder="text, /regex/ or /regex/i",
        help=SEARCH_HELP,
    )
    columns = st.columns([3, 3, 2, 2])
    with columns[0]:
        _facet_multiselect(prefix, "region", "Region", facets.regions)
    with columns[1]:
        _facet_multiselect(prefix, "corpus", "Corpus", facets.corpora)
    with columns[2]:
        st.radio("Translated", list(TRI_STATE), key=f"{prefix}_translated", horizontal=True)
    with columns[3]:
        st.radio("Has spans", list(TRI_STATE), key=f"{prefix}_has_spans", horizontal=True)
    columns = st.columns([2, 2, 3, 3])
    years = f"{facets.year_min}–{facets.year_max}" if facets.year_min is not None else "none"
    for column, bound in zip(columns[:2], ("year_min", "year_max"), strict=True):
        column.number_input(
            "From year" if bound == "year_min" else "To year",
            min_value=0,
            max_value=9999,
            value=None,
            step=1,
            key=f"{prefix}_{bound}",
            placeholder="any",
            help=f"Publication years in this data: {years}",
        )
    columns[2].text_input(
        "Document id contains", key=f"{prefix}_document_id", placeholder="e.g. CCLW.executive"
    )
    with columns[3]:
        _sort_widgets(prefix)
    params = widget_params(prefix)
    filters, problems = url_state.parse_filters(params)
    return params, filters, problems


def _facet_multiselect(prefix: str, name: str, label: str, counts: dict[str, int]) -> None:
    key = f"{prefix}_{name}"
    chosen = list(st.session_state.get(key) or [])
    # a value from the URL that this data lacks stays selectable (and matches nothing),
    # so the URL round-trips and the count says 0 rather than the filter vanishing
    options = list(counts) + [value for value in chosen if value not in counts]
    st.multiselect(
        label,
        options,
        key=key,
        format_func=lambda value: f"{value} ({counts.get(value, 0):,})",
        placeholder="any" if options else "none in this data",
        disabled=not options,
    )


def _sort_widgets(prefix: str) -> None:
    sort_key, seed_key = f"{prefix}_sort", f"{prefix}_seed"
    choice, again = st.columns([4, 1], vertical_alignment="bottom")
    choice.selectbox("Sort", list(SORT_LABELS), key=sort_key, format_func=SORT_LABELS.get)
    if st.session_state[sort_key] == "random":
        if st.session_state.get(seed_key) is None:
            st.session_state[seed_key] = _new_seed()
        again.button(
            "🔀",
            key=f"{prefix}_reshuffle",
            help="Shuffle again (a new seed, kept in the URL so the order can be shared)",
            on_click=_reshuffle,
            args=(seed_key,),
        )


def _reshuffle(seed_key: str) -> None:
    st.session_state[seed_key] = _new_seed()


def _new_seed() -> int:
    return random.randrange(1, 2**31 - 1)


def widget_params(prefix: str) -> dict[str, str | list[str]]:
    """The non-default widget values as URL parameters (raw: an invalid regex is kept)."""
    state = st.session_state

    def value(name: str):
        return state.get(f"{prefix}_{name}")

    def text(name: str) -> str | None:
        return value(name) if value(name) and value(name).strip() else None

    def whole(name: str) -> int | None:
        return None if value(name) is None else int(value(name))

    sort = value("sort") or "default"
    # unvalidated on purpose: the URL keeps what the user typed, `parse_filters` judges it
    view = Filters.model_construct(
        search=text("search"),
        document_id=text("document_id"),
        region=list(value("region") or []),
        corpus=list(value("corpus") or []),
        translated=TRI_STATE.get(value("translated") or "any"),
        has_spans=TRI_STATE.get(value("has_spans") or "any"),
        year_min=whole("year_min"),
        year_max=whole("year_max"),
        sort=sort,
        seed=whole("seed") if sort == "random" else None,
        page=whole("page") or 1,
        page_size=whole("page_size") or DEFAULT_PAGE_SIZE,
    )
    return view.to_query_params()


def reset_page_when_view_changes(prefix: str, filters: Filters) -> Filters:
    """Back to page 1 when anything but the page changed since the last run."""
    signature = filters.model_copy(update={"page": 1}).model_dump_json()
    signature_key = f"{prefix}_view_signature"
    previous = st.session_state.get(signature_key)
    st.session_state[signature_key] = signature
    if previous is not None and previous != signature and filters.page != 1:
        st.session_state[f"{prefix}_page"] = 1
        return filters.model_copy(update={"page": 1})
    return filters


def clamp_page(prefix: str, filters: Filters, filtered_count: int) -> Filters | None:
    """A copy of `filters` on the last page when its page is past the end (else None)."""
    last_page = max(1, -(-filtered_count // filters.page_size))
    if filters.page <= last_page:
        return None
    st.warning(
        f"**page**: {filters.page} is past the last page ({last_page}); showing page {last_page}."
    )
    st.session_state[f"{prefix}_page"] = last_page
    return filters.model_copy(update={"page": last_page})


def pager(prefix: str, result: QueryResult, position: str) -> None:
    """Page number, previous/next and page size (`position`: "top" or "bottom")."""
    page_key = f"{prefix}_page"
    last_page = result.page_count
    left, number, right, size = st.columns([1, 2, 1, 2], vertical_alignment="bottom")
    left.button(
        "‹ Previous",
        key=f"{prefix}_previous_{position}",
        disabled=result.page <= 1,
        on_click=_set_page,
        args=(page_key, result.page - 1),
    )
    right.button(
        "Next ›",
        key=f"{prefix}_next_{position}",
        disabled=result.page >= last_page,
        on_click=_set_page,
        args=(page_key, result.page + 1),
    )
    if position == "top":
        st.session_state[page_key] = min(max(1, result.page), last_page)
        number.number_input(f"Page (of {last_page:,})", 1, last_page, step=1, key=page_key)
        sizes = sorted({*PAGE_SIZES, result.page_size})
        size.selectbox("Per page", sizes, key=f"{prefix}_page_size")
    else:
        number.caption(f"Page {result.page:,} of {last_page:,}")


def _set_page(page_key: str, page: int) -> None:
    st.session_state[page_key] = page


def _tri_word(value: bool | None) -> str:
    return "any" if value is None else ("yes" if value else "no")


def showing_line(result: QueryResult) -> str:
    """ "Showing X–Y of N filtered (M total)", or that nothing matches."""
    if result.filtered_count == 0:
        return f"No passage matches (of {result.total_count:,} in total)"
    return (
        f"Showing {result.first_row_number:,}–{result.last_row_number:,} of "
        f"{result.filtered_count:,} filtered ({result.total_count:,} total)"
    )
