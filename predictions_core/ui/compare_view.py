"""Sections of the Compare page: summary, agreement, overlaps, breakdowns, disagreements."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from predictions_core.analysis import compare
from predictions_core.analysis.compare import Agreement
from predictions_core.analysis.thresholds import parse_threshold
from predictions_core.data.catalogue import ClassifierEntry, ConceptEntry
from predictions_core.errors import InvalidParameterError
from predictions_core.ui import compare_charts, url_state
from predictions_core.ui.cards import SpanColumn
from predictions_core.ui.data import disagreement_rows, load_classifier, version_of
from predictions_core.ui.views import filtered_cards, markdown_text

SHOW_LABELS = {"only_a": "Only A", "only_b": "Only B", "both": "Both"}
PAIR_PARAMS = ("a", "b", "show")
THRESHOLD_KEY = "compare_threshold"


def summary_section(result: dict) -> None:
    """Positives, spans, share positive, spans per positive and date per classifier."""
    st.dataframe(
        compare_charts.summary_frame(result["summary"]),
        hide_index=True,
        width="stretch",
        column_config={
            "Share positive": st.column_config.NumberColumn(
                format="percent", help="Only where the file lists its negatives"
            ),
            "Spans per positive": st.column_config.NumberColumn(format="%.2f"),
        },
    )


def agreement_section(ids: list[str], result: dict) -> None:
    """Heat maps of Jaccard (positive sets) and Cohen's kappa (where negatives are known)."""
    agreements: list[Agreement] = result["agreement"]
    frame = compare_charts.agreement_frame(ids, agreements)
    left, right = st.columns(2)
    with left:
        st.markdown("**Jaccard of the positive passages**")
        st.altair_chart(compare_charts.heatmap(frame, "jaccard", ids), width="content")
    with right:
        st.markdown("**Cohen's κ over the passages both saw**")
        if any(pair.kappa is not None for pair in agreements):
            st.altair_chart(compare_charts.heatmap(frame, "kappa", ids), width="content")
        else:
            st.caption(
                "n/a: kappa needs both classifiers' negatives, and at least one of these "
                "files lists positives only (the older layout)."
            )
    st.caption(
        "Passages are matched by their text (`passage_key`, a hash of the text), not by id. "
        "Kappa is computed only for pairs whose files both list negatives, over the passages "
        "both classifiers saw; n/a where it is undefined."
    )


def overlap_section(ids: list[str], result: dict) -> None:
    """UpSet-style bars: positives by the exact set of classifiers that found them."""
    intersections = result["intersections"]
    if not intersections:
        st.caption("No positive passages to overlap.")
        return
    st.altair_chart(compare_charts.upset(intersections, ids), width="content")


def breakdown_section(result: dict) -> None:
    """Positives by region, corpus and year, one tab each."""
    tabs = st.tabs(["Region", "Corpus", "Year"])
    for tab, column in zip(tabs, ("region", "corpus", "year"), strict=True):
        with tab:
            frame = result["breakdowns"][column]
            if frame.empty or set(frame["value"]) == {"(none)"}:
                st.caption(f"These predictions carry no {column} metadata.")
            else:
                st.altair_chart(compare_charts.breakdown_chart(frame, column), width="stretch")


def pick_pair(ids: list[str], agreements: list[Agreement]) -> tuple[str, str, str]:
    """Classifier A, classifier B and which set to show (seeded from `a`, `b`, `show`)."""
    if url_state.url_is_new() or "compare_pair_a" not in st.session_state:
        params = url_state.current_params()
        asked_a, asked_b = url_state.first(params, "a"), url_state.first(params, "b")
        st.session_state["compare_pair_a"] = asked_a if asked_a in ids else ids[0]
        st.session_state["compare_pair_b"] = asked_b if asked_b in ids else ids[1]
        asked_show = url_state.first(params, "show")
        st.session_state["compare_show"] = asked_show if asked_show in SHOW_LABELS else "only_a"
        if asked_show is not None and asked_show not in SHOW_LABELS:
            got = markdown_text(repr(asked_show))
            st.warning(f"**show**: expected one of {', '.join(SHOW_LABELS)}, got {got}.")
        for name, value in (("a", asked_a), ("b", asked_b)):
            if value is not None and value not in ids:
                got = markdown_text(repr(value))
                st.warning(f"**{name}**: {got} is not among the compared classifiers.")
    for key, fallback in (("compare_pair_a", ids[0]), ("compare_pair_b", ids[1])):
        if st.session_state.get(key) not in ids:
            st.session_state[key] = fallback
    left, right, show = st.columns([2, 2, 3], vertical_alignment="bottom")
    a = left.selectbox("Classifier A", ids, key="compare_pair_a")
    b = right.selectbox("Classifier B", ids, key="compare_pair_b")
    counts = _pair_counts(a, b, agreements)
    show.segmented_control(
        "Show passages",
        list(SHOW_LABELS),
        key="compare_show",
        required=True,
        format_func=lambda k: (
            f"{SHOW_LABELS[k]} ({counts[k]:,})" if k in counts else SHOW_LABELS[k]
        ),
    )
    return a, b, st.session_state["compare_show"] or "only_a"


def _pair_counts(a: str, b: str, agreements: list[Agreement]) -> dict[str, int]:
    for pair in agreements:
        if (pair.a, pair.b) == (a, b):
            return {"only_a": pair.n_only_a, "only_b": pair.n_only_b, "both": pair.n_both}
        if (pair.a, pair.b) == (b, a):
            return {"only_a": pair.n_only_b, "only_b": pair.n_only_a, "both": pair.n_both}
    return {}


def disagreement_browser(
    concept: ConceptEntry,
    ids: list[str],
    agreements: list[Agreement],
    feedback: Callable[..., None],
) -> None:
    """Passages one classifier flagged and the other did not (or both), both spans shown."""
    a, b, show = pick_pair(ids, agreements)
    if a == b:
        st.warning("Pick two different classifiers as A and B.")
        return
    pair = (concept.classifiers[a], concept.classifiers[b])
    span_columns = [
        SpanColumn("spans_a", "pc-a", f"A: {a}"),
        SpanColumn("spans_b", "pc-b", f"B: {b}"),
    ]
    sides = {"only_a": [("spans_a", a)], "only_b": [("spans_b", b)]}
    footers = [
        (column, _feedback_footer(feedback, concept.wikibase_id, classifier_id))
        for column, classifier_id in sides.get(show, [("spans_a", a), ("spans_b", b)])
    ]
    with st.spinner("Matching passages…"):
        source = disagreement_rows(concept, pair, show)
    filtered_cards(
        "compare",
        "compare",
        source,
        span_columns,
        footers=footers,
        owned_extra=PAIR_PARAMS,
        extra_params={"a": a, "b": b, "show": show},
    )


def _feedback_footer(feedback: Callable[..., None], qid: str, classifier_id: str):
    def footer(passage: dict) -> None:
        st.caption(f"Judge **{markdown_text(classifier_id)}**'s spans on this passage:")
        feedback(qid, classifier_id, passage, "compare")

    return footer


# ---------------------------------------------------------------------- a score threshold


@st.cache_data(show_spinner=False, max_entries=32)
def _at_threshold(versions: tuple[str, ...], threshold: float, _items: tuple) -> dict:
    items = [
        compare.ComparedClassifier(
            i.id, compare.at_threshold(i.table, threshold), i.knows_negatives, i.name
        )
        for i in _items
    ]
    return {"summary": compare.summary_rows(items), "agreement": compare.pairwise_agreement(items)}


def threshold_section(concept: ConceptEntry, entries: list[ClassifierEntry]) -> None:
    """Positives and agreement when only passages scoring >= a threshold count (`threshold=`)."""
    items = []
    for entry in entries:
        table = load_classifier(concept, entry).table
        knows = compare.knows_negatives(entry.layout, table)
        items.append(compare.ComparedClassifier(entry.id, table, knows, entry.classifier.name))
    scored = [item.name or item.id for item in items if compare.has_scores(item.table)]
    if not scored:
        st.caption(
            "None of these classifiers has scores (spans without prediction_probability): "
            "a threshold does not apply."
        )
        url_state.update_url("compare", {}, ["threshold"])
        return
    if url_state.url_is_new() or THRESHOLD_KEY not in st.session_state:
        try:
            asked = parse_threshold(url_state.first(url_state.current_params(), "threshold"))
        except InvalidParameterError as error:
            st.warning(f"{error.message}. Using 0.5.", icon="⚠️")
            asked = None
        st.session_state[THRESHOLD_KEY] = 0.5 if asked is None else asked
    threshold = st.slider("Score threshold", 0.0, 1.0, step=0.01, key=THRESHOLD_KEY)
    url_state.update_url("compare", {"threshold": f"{threshold:g}"}, ["threshold"])
    versions = tuple(version_of(entry) for entry in entries)
    result = _at_threshold(versions, float(threshold), tuple(items))
    frame = threshold_frame(result["summary"], {i.id: compare.has_scores(i.table) for i in items})
    st.dataframe(frame, hide_index=True, width="stretch")
    pairs = compare_charts.agreement_frame([i.id for i in items], result["agreement"])
    st.altair_chart(compare_charts.heatmap(pairs, "jaccard", [i.id for i in items]))
    st.caption(
        f"A passage of a classifier with scores ({', '.join(scored)}) counts as positive only "
        f"when its score (the highest prediction_probability of its spans) is at least "
        f"{threshold:g}; classifiers without scores are unaffected. The heat map: Jaccard of "
        "the positive passages at this threshold."
    )


def threshold_frame(summary: list[dict], scored: dict[str, bool]) -> pd.DataFrame:
    """Positives at the threshold per classifier, and whether the threshold applies to it."""
    return pd.DataFrame(
        [
            {
                "Classifier": row["classifier"],
                "Name": row["name"],
                "Has scores": scored[row["classifier"]],
                "Positives at threshold": row["positives"],
                "Passages in file": row["passages"],
            }
            for row in summary
        ]
    )
