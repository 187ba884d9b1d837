"""Filter, sort and paging widgets shared by Browse and the disagreement browser on Compare.

Each field of `Filters` (a URL parameter of CONTRACT §5) has one widget, keyed by the page's
prefix and the field's name (`browse_search`, `compare_region`, ...). `widget_params` gives
what the URL should say (raw: what the user typed); `applied_filters` gives the `Filters`
parsed from it (what is applied).

The panel is drawn in two parts: `plain_filter_widgets` (no counts in their labels) and
`facet_widgets` (a count beside each choice). A change to a plain filter reruns only the
page's keyed view fragment (`rerun_view`), which holds the facets and the cards: the counts
and the cards follow it, and the widgets it was made in are not redrawn.

A page may start a filter elsewhere than the API's default (`PAGE_DEFAULTS`: Browse opens on
the passages with spans). Its URL then always names that filter (`has_spans=true`, `false` or
`any`), so a copied link, and the same query on the API, give exactly the view shown.
"""

from __future__ import annotations

import random

import streamlit as st

from predictions_core.errors import InvalidParameterError
from predictions_core.query.engine import FacetCounts, Facets, QueryResult
from predictions_core.query.filters import FILTER_PARAMS, SCORE_SORTS, SORT_LABELS, Filters
from predictions_core.ui import url_state

PAGE_SIZES = [10, 25, 50, 100, 200]
TRI_STATE = {"any": None, "yes": True, "no": False}
PAGE_DEFAULTS: dict[str, dict[str, str]] = {"browse": {"has_spans": "true"}}
"""Per page prefix: URL parameters a page starts from when its URL does not name them."""
ABSENT_FACET_HELP = {
    "region": "These predictions carry no region (`world_bank_region`).",
    "corpus": "These predictions carry no corpus (`document_metadata.corpus_type_name`).",
}
SEARCH_HELP = (
    "Plain text matches anywhere, ignoring case (`net zero`). "
    "Wrap a regular expression in slashes: `/carbon (tax|price)/` (case-sensitive) or "
    "`/methane|CH4/i` (ignoring case). Regexes use RE2 syntax (no look-arounds or "
    "back-references)."
)
SCORE_HELP = (
    "A passage's score is the highest prediction probability among its spans. With the "
    "whole range (0–1) every passage is shown, scored or not; narrow it to see only the "
    "passages whose score is within it."
)
SCORE_STEP = 0.01


def seed_filter_widgets(prefix: str, filters: Filters, raw_search: str | None) -> None:
    """Set the widgets' state from URL filters (before the widgets are drawn)."""
    for name in FILTER_PARAMS:
        st.session_state[f"{prefix}_{name}"] = _to_widget(name, getattr(filters, name))
    # what the URL says, even a regex that does not compile (the box shows what was typed)
    st.session_state[f"{prefix}_search"] = raw_search or ""


def seed_from_url_if_new(prefix: str) -> list[InvalidParameterError]:
    """When the URL is new this run, start the widgets from it; return what it got wrong."""
    if not url_state.url_is_new() and f"{prefix}_sort" in st.session_state:
        return []
    params = url_state.current_params()
    defaults = {name: [value] for name, value in PAGE_DEFAULTS.get(prefix, {}).items()}
    filters, problems = url_state.parse_filters({**defaults, **params})
    seed_filter_widgets(prefix, filters, url_state.first(params, "search"))
    return problems


def view_fragment_key(prefix: str) -> str:
    """The key of the page's keyed fragment that holds the facet filters and the cards
    (`views.filtered_view`): what a filter without counts reruns."""
    return f"{prefix}_view"


def rerun_view(prefix: str) -> None:
    """Widget callback: rerun only the facet filters and the cards, not the panel the
    widget is in (the facet counts and the cards are what a filter changes)."""
    st.rerun(view_fragment_key(prefix))


def plain_filter_widgets(prefix: str, facets: Facets) -> None:
    """Draw the filters whose labels carry no counts: search, has spans, years, document
    id, sort and score.

    Each (bar the sort, which may add a "Shuffle again" button beside itself) reruns only
    the view (`rerun_view`), so a search does not redraw the panel it was typed in. A
    filter the data has no values for is disabled, saying why.
    """
    search, spans = st.columns([7, 3], vertical_alignment="bottom")
    search.text_input(
        "Search passage text",
        key=f"{prefix}_search",
        placeholder="text, /regex/ or /regex/i",
        help=SEARCH_HELP,
        on_change=rerun_view,
        args=(prefix,),
    )
    spans.radio(
        "Has spans",
        list(TRI_STATE),
        key=f"{prefix}_has_spans",
        horizontal=True,
        on_change=rerun_view,
        args=(prefix,),
    )
    columns = st.columns([2, 2, 3, 3])
    _year_inputs(prefix, facets, columns[:2])
    columns[2].text_input(
        "Document id contains",
        key=f"{prefix}_document_id",
        placeholder="e.g. CCLW.executive",
        on_change=rerun_view,
        args=(prefix,),
    )
    with columns[3]:
        _sort_widgets(prefix, facets.has_scores)
    if facets.has_scores:
        _score_slider(prefix, facets)
    elif _unset(prefix, "min_score") and _unset(prefix, "max_score"):
        st.caption("No passage here has a score, so there is no score filter or score order.")


def facet_widgets(prefix: str, facets: Facets, counts: FacetCounts) -> None:
    """Draw the region, corpus and translation filters, each choice with its count under
    the other filters as they stand (`current_filters`); a facet the data has no values
    for is disabled, saying why."""
    columns = st.columns([4, 4, 3])
    with columns[0]:
        _facet_multiselect(prefix, "region", "Region", list(facets.regions), counts["region"])
    with columns[1]:
        _facet_multiselect(prefix, "corpus", "Corpus", list(facets.corpora), counts["corpus"])
    with columns[2]:
        _translated_radio(prefix, bool(facets.translated), counts["translated"])


def applied_filters(prefix: str) -> tuple[Filters, list[InvalidParameterError]]:
    """The `Filters` the widgets hold, without any parameter that is wrong, and what was
    wrong (in the user's words)."""
    return url_state.parse_filters(widget_params(prefix))


def current_filters(prefix: str) -> Filters:
    """The filters the widgets hold in this run (their values are in the session state before
    they are drawn), without any that is wrong."""
    return applied_filters(prefix)[0]


def _unset(prefix: str, name: str) -> bool:
    """Whether the widget of `name` holds no value (a URL value keeps a widget usable)."""
    return _from_widget(name, st.session_state.get(f"{prefix}_{name}")) in (None, [])


def _translated_radio(prefix: str, in_data: bool, counts: dict[str, int]) -> None:
    def label(word: str) -> str:
        value = TRI_STATE[word]
        return word if value is None else f"{word} ({counts.get(str(value).lower(), 0):,})"

    disabled = not in_data and _unset(prefix, "translated")
    _send_fresh_label(f"{prefix}_translated")
    st.radio(
        "Translated",
        list(TRI_STATE),
        key=f"{prefix}_translated",
        horizontal=True,
        format_func=label,
        disabled=disabled,
        help="These predictions do not say whether they were translated."
        if disabled
        else "Whether the passage was machine-translated into English (counts: under the "
        "other filters)",
    )


def _year_inputs(prefix: str, facets: Facets, columns: list) -> None:
    years = f"{facets.year_min}–{facets.year_max}" if facets.has_years else None
    for column, bound in zip(columns, ("year_min", "year_max"), strict=True):
        disabled = years is None and _unset(prefix, bound)
        column.number_input(
            "From year" if bound == "year_min" else "To year",
            min_value=0,
            max_value=9999,
            value=None,
            step=1,
            key=f"{prefix}_{bound}",
            placeholder="no years" if disabled else "any",
            disabled=disabled,
            help="These predictions carry no publication year."
            if years is None
            else f"Publication years in this data: {years}",
            on_change=rerun_view,
            args=(prefix,),
        )


def _score_slider(prefix: str, facets: Facets) -> None:
    """A range slider over the score; it holds `min_score`/`max_score`, the URL's fields.

    The whole range means no bound (unscored passages shown too), so moving the slider back
    to 0–1 clears the filter rather than hiding the passages without a score.
    """
    low = _unit(st.session_state.get(f"{prefix}_min_score"), 0.0)
    high = _unit(st.session_state.get(f"{prefix}_max_score"), 1.0)
    st.session_state[f"{prefix}_score_range"] = (min(low, high), high)
    st.slider(
        "Score",
        min_value=0.0,
        max_value=1.0,
        step=SCORE_STEP,
        key=f"{prefix}_score_range",
        help=SCORE_HELP
        + f" In this data: {facets.n_scored:,} passages have a score, from "
        + f"{facets.score_min:.3f} to {facets.score_max:.3f}.",
        on_change=_score_range_changed,
        args=(prefix,),
    )


def _score_range_changed(prefix: str) -> None:
    low, high = st.session_state[f"{prefix}_score_range"]
    # rounded to the slider's step: 0.35, not 0.35000000000000003, in the URL
    st.session_state[f"{prefix}_min_score"] = None if low <= 0 else round(low, 2)
    st.session_state[f"{prefix}_max_score"] = None if high >= 1 else round(high, 2)
    rerun_view(prefix)


def _unit(value: object, default: float) -> float:
    """A score bound as the slider can show it (within 0..1; `default` when unset)."""
    if not isinstance(value, int | float) or value != value:  # None, or NaN
        return default
    return min(1.0, max(0.0, float(value)))


def _facet_multiselect(
    prefix: str, name: str, label: str, values: list[str], counts: dict[str, int]
) -> None:
    """A multiselect of the file's `values`, each with its count under the other filters."""
    key = f"{prefix}_{name}"
    _send_fresh_label(key)
    chosen = list(st.session_state.get(key) or [])
    # a value from the URL that this data lacks stays selectable (and matches nothing),
    # so the URL round-trips and the count says 0 rather than the filter vanishing
    options = values + [value for value in chosen if value not in values]
    st.multiselect(
        label,
        options,
        key=key,
        format_func=lambda value: f"{value} ({counts.get(value, 0):,})",
        placeholder="any" if options else "none in this data",
        disabled=not options,
        help=ABSENT_FACET_HELP[name]
        if not values
        else "Counts: the passages each choice would show, with the other filters as they are",
    )


def _send_fresh_label(key: str) -> None:
    """Make the facet widget `key` send its choice to the browser again, under this run's
    labels.

    Streamlit holds a radio's or a multiselect's choice as its label, and ours carry counts
    that change with the other filters. A browser that kept "no (99)" after the counts
    became "no (76)" sends "no (99)" with its next rerun, which matches no option: the
    choice would be lost. Setting the value anew sends the label it has now.
    """
    value = st.session_state.get(key)
    if value not in (None, [], "any"):
        st.session_state[key] = value


def _sort_widgets(prefix: str, has_scores: bool) -> None:
    sort_key, seed_key = f"{prefix}_sort", f"{prefix}_seed"
    choice, again = st.columns([3, 2], vertical_alignment="bottom")
    # orders by score only where there are scores (or the URL asks for one: it stays shown)
    options = [
        order
        for order in SORT_LABELS
        if has_scores or order not in SCORE_SORTS or order == st.session_state.get(sort_key)
    ]
    choice.selectbox("Sort", options, key=sort_key, format_func=SORT_LABELS.get)
    if st.session_state[sort_key] == "random":
        if st.session_state.get(seed_key) is None:
            st.session_state[seed_key] = _new_seed()
        again.button(
            "Shuffle again",
            icon="🔀",
            key=f"{prefix}_reshuffle",
            help="Shuffle again (a new seed, kept in the URL so the order can be shared)",
            on_click=_reshuffle,
            args=(prefix,),
        )


def _reshuffle(prefix: str) -> None:
    st.session_state[f"{prefix}_seed"] = _new_seed()
    rerun_view(prefix)


def _new_seed() -> int:
    return random.randrange(1, 2**31 - 1)


def widget_params(prefix: str) -> dict[str, str | list[str]]:
    """The non-default widget values as URL parameters (raw: an invalid regex is kept)."""
    values = {}
    for name, field in Filters.model_fields.items():
        value = _from_widget(name, st.session_state.get(f"{prefix}_{name}"))
        values[name] = field.get_default(call_default_factory=True) if value is None else value
    if values["sort"] != "random":  # a seed only means something to a shuffle
        values["seed"] = None
    # unvalidated on purpose: the URL keeps what the user typed, `parse_filters` judges it
    params = Filters.model_construct(**values).to_query_params()
    for name in PAGE_DEFAULTS.get(prefix, {}):
        # named even when it is the API's default ("any"): absent means the page's default
        params.setdefault(name, "any")
    return params


def _widget_kind(name: str) -> str:
    """How the widget of a `Filters` field holds its value (the field's type says)."""
    annotation = Filters.model_fields[name].annotation
    if annotation == bool | None:
        return "tri_state"  # a radio of any / yes / no
    if annotation == list[str]:
        return "list"  # a multiselect
    if annotation == str | None:
        return "text"  # a text box, "" when empty
    if annotation == float | None:
        return "fraction"  # a score bound, held for the range slider
    return "as_is"  # whole numbers and the sort order


def _to_widget(name: str, value: object) -> object:
    kind = _widget_kind(name)
    if kind == "tri_state":
        return _tri_word(value)
    if kind == "list":
        return list(value)
    if kind == "text":
        return value or ""
    return value


def _from_widget(name: str, value: object) -> object:
    """The field's value from its widget's (None: the widget is empty)."""
    kind = _widget_kind(name)
    if kind == "tri_state":
        return TRI_STATE.get(value or "any")
    if kind == "list":
        return list(value or [])
    if kind == "text":
        return value if value and value.strip() else None
    if kind == "fraction":
        return float(value) if isinstance(value, int | float) else None
    if isinstance(value, int | float):  # number inputs: years, seed, page, page size
        return int(value)
    return value or None  # the sort order


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
    """Previous/next and the page (`position`: "top" or "bottom"); at the bottom, the page
    number and the page size are inputs.

    The inputs stay below the cards: every widget type drawn above the first card is one more
    piece of the browser's code to fetch and draw before the card shows (0.3-0.5 s of a first
    load in chromium, `benchmarks/bench_browser.py`)."""
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
    if position == "bottom":
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
