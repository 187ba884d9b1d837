"""Building blocks the pages are made of: the concept and classifier headers, a filtered and
paged list of passage cards, and what to show when there is no data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import pyarrow as pa
import streamlit as st
from streamlit.errors import StreamlitAPIException

from predictions_core.data.catalogue import ClassifierEntry, ConceptEntry
from predictions_core.errors import InvalidParameterError
from predictions_core.query.engine import QueryResult
from predictions_core.query.filters import FILTER_PARAMS, Filters
from predictions_core.query.links import concept_link
from predictions_core.ui import filter_panel, url_state
from predictions_core.ui.cards import Judging, SpanColumn, legend, render_cards
from predictions_core.ui.data import (
    current_settings,
    facet_counts_under,
    facets_of,
    load_classifier,
    positive_counts,
    query_page,
)

MAX_ALTERNATIVE_LABELS_SHOWN = 8
URL_SAFE = ":/?#[]@!$&'*+,;=%~"
REVIEW_PARAM = "review"


def no_data_message() -> None:
    """How to get data, for an empty data dir (not an error: a first start)."""
    settings = current_settings()
    st.info(
        f"No predictions found in `{settings.data_dir}` yet. To get some:\n\n"
        "- `uv run predictions demo` builds the bundled demo data "
        "(used when `PREDICTIONS_DATA_DIR` is not set);\n"
        "- `uv run predictions sync --bucket BUCKET` fetches predictions from S3 "
        "(or set `PREDICTIONS_S3_BUCKET` and restart);\n"
        "- `uv run predictions predict Q123 --passages passages.jsonl` runs classifiers "
        "over your own passages.\n\n"
        "Then press **Refresh data** in the sidebar's data box.",
        icon="📂",
    )


def concept_header(entry: ConceptEntry) -> None:
    """Preferred label, QID, description, alternative labels and the concept's page.

    The page is `PREDICTIONS_CONCEPT_URL` filled with the QID (no link when it is empty).
    """
    concept = entry.concept
    st.title(f"{markdown_text(concept.preferred_label)} ({entry.wikibase_id})")
    if concept.description:
        st.markdown(markdown_text(concept.description))
    alternatives = [label for label in concept.alternative_labels if label.strip()]
    line = []
    if alternatives:
        shown = ", ".join(
            markdown_text(label) for label in alternatives[:MAX_ALTERNATIVE_LABELS_SHOWN]
        )
        more = len(alternatives) - MAX_ALTERNATIVE_LABELS_SHOWN
        line.append(f"Also: {shown}" + (f" and {more} more" if more > 0 else ""))
    page = concept_link(current_settings().concept_url, entry.wikibase_id)
    if page:
        # parentheses and spaces would end the Markdown link early
        line.append(f"[Concept page ↗]({quote(page, safe=URL_SAFE)})")
    if line:
        st.caption(" · ".join(line))
    if len(alternatives) > MAX_ALTERNATIVE_LABELS_SHOWN:
        with st.expander(f"All {len(alternatives)} alternative labels"):
            st.markdown(", ".join(markdown_text(label) for label in alternatives))


def classifier_header(concept: ConceptEntry, classifier: ClassifierEntry) -> None:
    """Name, id and date of the classifier, its counts, and whether lines were skipped."""
    n_positives, n_passages = positive_counts(concept, classifier)
    date = classifier.classifier.date_text
    st.caption(
        f"Classifier **{markdown_text(classifier.classifier.name)}** (`{classifier.id}`"
        + (f", {date}" if date else "")
        + f") · {n_positives:,} positive of {n_passages:,} passages in its file"
    )
    issues = load_classifier(concept, classifier).issues
    if issues:
        st.warning(
            f"{len(issues)} lines of this file were skipped (see the sidebar's data box).",
            icon="⚠️",
        )


def page_link(page: str, label: str, query_params: dict[str, str]) -> None:
    """A link to another page of the app (`page`: its file, e.g. "pages/evaluate.py"),
    opened in the same tab. Where the router has not declared the pages (a page run on its
    own: Streamlit's first run of a process, page tests), a plain link to its URL instead."""
    try:
        st.page_link(page, label=label, query_params=query_params)
    except StreamlitAPIException:
        path = Path(page).stem
        st.markdown(f"[{markdown_text(label)}]({path}?{urlencode(query_params)})")


def markdown_text(text: str) -> str:
    """Data text (labels, names) shown through Markdown without being read as Markdown."""
    special = "\\`*_{}[]()#+-.!|<>~$"
    return "".join(f"\\{char}" if char in special else char for char in text)


@st.fragment
def filtered_cards(
    prefix: str,
    page_key: str,
    source: tuple[str, pa.Table],
    span_columns: Sequence[SpanColumn],
    judging: Judging | None = None,
    owned_extra: Sequence[str] = (),
    extra_params: dict[str, str] | None = None,
    toolbar: Callable[[Filters, QueryResult], None] | None = None,
) -> None:
    """Filter widgets, then (`filtered_view`) the facet filters, counts, pager and cards over
    `source` = (cache key, table).

    Keeps the page's URL in step: the filter parameters, `review=true` in review mode, plus
    `extra_params` (and removes the `owned_extra` keys it does not set). `toolbar(filters,
    result)` is drawn under the counts, above the cards (downloads, API link). With `judging`,
    a "Review" toggle (`{prefix}_review`) switches the cards to review mode.

    Three fragments, so a click redraws no more than it changes: this one (the sort order
    reruns it, not the sidebar and the page's header); `filtered_view`, which a search or
    any other filter reruns alone; `card_list`, which paging and judging rerun alone.
    """
    owned = (*FILTER_PARAMS, *owned_extra, REVIEW_PARAM)
    version, table = source
    # read by `filtered_view` on this run only: its own reruns get the arguments of the
    # last full run, which would repeat a URL's problems after the user fixed them
    st.session_state[_url_problems_key(prefix)] = filter_panel.seed_from_url_if_new(prefix)
    if url_state.url_is_new() or f"{prefix}_review" not in st.session_state:
        asked = url_state.first(url_state.current_params(), REVIEW_PARAM)
        st.session_state[f"{prefix}_review"] = asked == "true" and judging is not None
    with st.container(border=True):
        filter_panel.plain_filter_widgets(prefix, facets_of(version, table))
    view = CardView(
        prefix, page_key, source, span_columns, judging, owned, extra_params or {}, toolbar
    )
    st.fragment(filtered_view, key=filter_panel.view_fragment_key(prefix))(view)


@dataclass(frozen=True)
class CardView:
    """What `filtered_cards` hands its inner fragments (their reruns reuse it as it was in the
    last full run: anything that changes between clicks is read from the session state)."""

    prefix: str
    page_key: str
    source: tuple[str, pa.Table]
    span_columns: Sequence[SpanColumn]
    judging: Judging | None
    owned: Sequence[str]
    extra_params: dict[str, str]
    toolbar: Callable[[Filters, QueryResult], None] | None


def filtered_view(view: CardView) -> None:
    """The facet filters with their counts under the other filters, what is wrong with the
    filters, then `card_list`. Run as a keyed fragment (`filter_panel.rerun_view`)."""
    prefix, (version, table) = view.prefix, view.source
    counts = facet_counts_under(version, table, filter_panel.current_filters(prefix))
    with st.container(border=True):
        filter_panel.facet_widgets(prefix, facets_of(version, table), counts)
    url_problems = st.session_state.pop(_url_problems_key(prefix), [])
    _report_problems(url_problems, filter_panel.applied_filters(prefix)[1])
    card_list(view)


def _url_problems_key(prefix: str) -> str:
    return f"{prefix}_url_problems"


@st.fragment
def card_list(view: CardView) -> None:
    """Counts, toolbar, review toggle, pager and cards: a fragment, so paging, the page size,
    the review toggle and judging rerun only this, not the filter panel and the sidebar.

    The filters are read from the widgets' state (a fragment's run gets the arguments of the
    last full run, not the page just clicked).
    """
    prefix, (version, table), judging = view.prefix, view.source, view.judging
    filters = filter_panel.reset_page_when_view_changes(
        prefix, filter_panel.current_filters(prefix)
    )
    result = query_page(version, table, filters)
    clamped = filter_panel.clamp_page(prefix, filters, result.filtered_count)
    if clamped is not None:
        filters, result = clamped, query_page(version, table, clamped)
    review = bool(st.session_state.get(f"{prefix}_review")) and judging is not None
    params = {**filter_panel.widget_params(prefix), **view.extra_params}
    review_param = {REVIEW_PARAM: "true"} if review else {}
    url_state.update_url(view.page_key, {**params, **review_param}, view.owned)
    # the description quotes the user's search, which must not become Markdown
    st.markdown(f"**{filter_panel.showing_line(result)}** · {markdown_text(filters.describe())}")
    if view.toolbar is not None:
        view.toolbar(filters, result)
    if judging is not None:
        st.toggle(
            "Review: judge passages",
            key=f"{prefix}_review",
            help="Show a ✓/✗/? control under each card to judge the classifier's prediction "
            "(saved at once, with the reviewer name of the sidebar).",
        )
        judging.begin(review)
    if result.filtered_count:
        filter_panel.pager(prefix, result, "top")
        legend(view.span_columns, filters.search is not None)
        if review and judging is not None:
            judging.header()
        render_cards(
            result.rows,
            view.span_columns,
            filters.search_pattern,
            result.first_row_number,
            document_url=current_settings().document_url,
            judging=judging,
            review=review,
        )
        filter_panel.pager(prefix, result, "bottom")


def _report_problems(
    url_problems: list[InvalidParameterError], widget_problems: list[InvalidParameterError]
) -> None:
    shown = set()
    for problem in widget_problems:
        # an invalid search falls back to no search: say so, and that downloads wait for it
        effect = (
            "not applied: the list is not searched, and downloads are off until it is fixed"
            if problem.parameter == "search"
            else "not applied"
        )
        st.error(f"**{problem.parameter}**: {_detail(problem)} ({effect})", icon="⚠️")
        shown.add(problem.parameter)
    for problem in url_problems:
        if problem.parameter not in shown:
            st.warning(f"**{problem.parameter}** in the URL ignored: {_detail(problem)}", icon="⚠️")


def _detail(problem: InvalidParameterError) -> str:
    # the message is written for people (`Filters` words it); it quotes the URL's value
    return markdown_text(problem.message.removeprefix(f"{problem.parameter}: "))
