"""Building blocks the pages are made of: the concept and classifier headers, a filtered and
paged list of passage cards, and what to show when there is no data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import quote

import pyarrow as pa
import streamlit as st

from predictions_core.data.catalogue import ClassifierEntry, ConceptEntry
from predictions_core.errors import InvalidParameterError
from predictions_core.query.engine import QueryResult
from predictions_core.query.filters import FILTER_PARAMS, Filters
from predictions_core.query.links import concept_link
from predictions_core.ui import filter_panel, url_state
from predictions_core.ui.cards import Footer, SpanColumn, legend, render_cards
from predictions_core.ui.data import (
    current_settings,
    facets_of,
    load_classifier,
    positive_counts,
    query_page,
)

MAX_ALTERNATIVE_LABELS_SHOWN = 8
URL_SAFE = ":/?#[]@!$&'*+,;=%~"


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


def markdown_text(text: str) -> str:
    """Data text (labels, names) shown through Markdown without being read as Markdown."""
    special = "\\`*_{}[]()#+-.!|<>~$"
    return "".join(f"\\{char}" if char in special else char for char in text)


def filtered_cards(
    prefix: str,
    page_key: str,
    source: tuple[str, pa.Table],
    span_columns: Sequence[SpanColumn],
    footers: Sequence[tuple[str, Footer]] = (),
    owned_extra: Sequence[str] = (),
    extra_params: dict[str, str] | None = None,
    toolbar: Callable[[Filters, QueryResult], None] | None = None,
) -> tuple[Filters, QueryResult]:
    """Filter widgets, counts, pager and cards over `source` = (cache key, table).

    Keeps the page's URL in step: the filter parameters, plus `extra_params` (and removes
    the `owned_extra` keys it does not set). `toolbar(filters, result)` is drawn under the
    counts, above the cards (downloads, API link).
    """
    version, table = source
    url_problems = filter_panel.seed_from_url_if_new(prefix)
    with st.container(border=True):
        filters, problems = filter_panel.filter_widgets(prefix, facets_of(version, table))
    _report_problems(url_problems, problems)
    filters = filter_panel.reset_page_when_view_changes(prefix, filters)
    result = query_page(version, table, filters)
    clamped = filter_panel.clamp_page(prefix, filters, result.filtered_count)
    if clamped is not None:
        filters, result = clamped, query_page(version, table, clamped)
    params = {**filter_panel.widget_params(prefix), **(extra_params or {})}
    url_state.update_url(page_key, params, [*FILTER_PARAMS, *owned_extra])
    # the description quotes the user's search, which must not become Markdown
    st.markdown(f"**{filter_panel.showing_line(result)}** · {markdown_text(filters.describe())}")
    if toolbar is not None:
        toolbar(filters, result)
    if result.filtered_count:
        filter_panel.pager(prefix, result, "top")
        legend(span_columns, filters.search is not None)
        render_cards(
            result.rows,
            span_columns,
            filters.search_pattern,
            result.first_row_number,
            footers=footers,
            document_url=current_settings().document_url,
        )
        filter_panel.pager(prefix, result, "bottom")
    return filters, result


def _report_problems(
    url_problems: list[InvalidParameterError], widget_problems: list[InvalidParameterError]
) -> None:
    shown = set()
    for problem in widget_problems:
        st.error(f"**{problem.parameter}**: {_detail(problem)} (not applied)", icon="⚠️")
        shown.add(problem.parameter)
    for problem in url_problems:
        if problem.parameter not in shown:
            st.warning(f"**{problem.parameter}** in the URL ignored: {_detail(problem)}", icon="⚠️")


def _detail(problem: InvalidParameterError) -> str:
    message = problem.message.removeprefix(f"{problem.parameter}: ")
    # pydantic's wording for a validator's own ValueError; the rest quotes the URL's value
    return markdown_text(message.removeprefix("Value error, "))
