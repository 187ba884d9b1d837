"""Sections of the Compare page: summary, agreement, overlaps, breakdowns, disagreements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from predictions_core.analysis import compare
from predictions_core.analysis.compare import Agreement
from predictions_core.analysis.evaluation import evaluate_concept
from predictions_core.analysis.thresholds import parse_threshold
from predictions_core.data.catalogue import ClassifierEntry, ConceptEntry
from predictions_core.errors import InvalidParameterError, PredictionsError
from predictions_core.ui import compare_charts, url_state
from predictions_core.ui.cards import SpanColumn
from predictions_core.ui.data import (
    current_catalogue,
    current_store,
    disagreement_rows,
    load_classifier,
    version_of,
)
from predictions_core.ui.evaluate_view import data_version
from predictions_core.ui.feedback import passage_judging
from predictions_core.ui.views import filtered_cards, markdown_text, page_link

SHOW_LABELS = {"only_a": "Only A", "only_b": "Only B", "both": "Both"}
PAIR_PARAMS = ("a", "b", "show")
THRESHOLD_KEY = "compare_threshold"


def summary_section(
    result: dict, names: Mapping[str, str], gold: dict[str, GoldScores] | None = None
) -> None:
    """Positives, spans, share positive, spans per positive and date per classifier; with
    `gold` (see `gold_scores`), each classifier's passage P/R/F1 against the gold labels."""
    frame = compare_charts.summary_frame(result["summary"], names)
    config = {
        "Share positive": st.column_config.NumberColumn(
            format="percent", help="Only where the file lists its negatives"
        ),
        "Spans per positive": st.column_config.NumberColumn(format="%.2f"),
    }
    if gold is not None:
        frame, gold_config = gold_columns(frame, gold)
        config.update(gold_config)
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config)


# ---------------------------------------------------------------------- gold labels


@dataclass(frozen=True)
class GoldScores:
    """One classifier's passage-level scores against the concept's gold labels (as Evaluate)."""

    precision: float | None
    recall: float | None
    f1: float | None
    covered: int  # gold passages found among its predictions (the only ones scored)


@st.cache_data(show_spinner=False, max_entries=16)
def _gold_scores(data_dir: str, qid: str, version: tuple, _store) -> dict[str, GoldScores]:
    # `version` (the files' fingerprints and the concept's hash) changes with the data
    result = evaluate_concept(_store, qid, gold_source="concept")
    return {
        item.id: GoldScores(
            item.passage.precision, item.passage.recall, item.passage.f1, item.n_covered
        )
        for item in result.classifiers
    }


def gold_scores(concept: ConceptEntry) -> dict[str, GoldScores] | None:
    """Each classifier's passage P/R/F1 on the concept's gold passages; None without any.

    The same figures as Evaluate with the concept's gold labels and no threshold.
    """
    if not concept.gold_passages:
        return None
    store = current_store()
    version = data_version(concept, 0)  # concept gold only: reviewers' judgements play no part
    n_gold = len(concept.gold_passages)
    with st.spinner(f"Scoring the classifiers against {n_gold:,} gold passages…"):
        try:
            return _gold_scores(str(store.data_dir), concept.wikibase_id, version, store)
        except PredictionsError as error:
            st.warning(f"Gold-label scores are not available: {error.message}", icon="⚠️")
            return None


def gold_columns(frame: pd.DataFrame, gold: dict[str, GoldScores]) -> tuple[pd.DataFrame, dict]:
    """The summary table with gold P/R/F1 columns after the classifier, and their config."""
    scores = [gold.get(cid) for cid in frame["Id"]]
    columns = {
        "Gold P": [s.precision if s else None for s in scores],
        "Gold R": [s.recall if s else None for s in scores],
        "Gold F1": [s.f1 if s else None for s in scores],
        "Gold covered": [s.covered if s else 0 for s in scores],
    }
    frame = frame.copy()
    for offset, (column, values) in enumerate(columns.items(), start=1):
        frame.insert(offset, column, values)
    what = "against the concept's gold labels, passage level (as on Evaluate)"
    config = {
        "Gold P": st.column_config.NumberColumn(format="%.3f", help=f"Precision {what}"),
        "Gold R": st.column_config.NumberColumn(format="%.3f", help=f"Recall {what}"),
        "Gold F1": st.column_config.NumberColumn(format="%.3f", help=f"F1 {what}"),
        "Gold covered": st.column_config.NumberColumn(
            help="Gold passages found among the classifier's predictions: only those are scored"
        ),
    }
    return frame, config


def gold_note(concept: ConceptEntry, ids: list[str], gold: dict[str, GoldScores]) -> None:
    """What the gold columns are, who has no score and why, and the way to Evaluate."""
    names = concept.short_names
    n_gold = len(concept.gold_passages)
    text = (
        f"Gold P/R/F1: passage-level precision, recall and F1 against the concept's "
        f"{n_gold:,} gold passages, the figures Evaluate shows (no threshold)."
    )
    uncovered = [names.get(cid, cid) for cid in ids if gold.get(cid) and not gold[cid].covered]
    if uncovered:
        text += (
            f" No score for {', '.join(markdown_text(n) for n in uncovered)}: none of the gold "
            "passages is among its predictions (`predictions predict` predicts them too)."
        )
    st.caption(text)
    page_link(
        "pages/evaluate.py",
        "🎯 Evaluate these classifiers against the gold labels",
        {"concept": concept.wikibase_id},
    )


# ---------------------------------------------------------------------- too few classifiers


def too_few_classifiers(concept: ConceptEntry, ids: list[str]) -> None:
    """Why there is nothing to compare yet, and a button that compares them all."""
    label = markdown_text(concept.concept.preferred_label)
    n_all = len(concept.classifiers)
    if n_all < 2:
        st.info(
            f"{label} has {n_all} classifier(s): comparing needs two or more. "
            "Pick another concept in the sidebar."
        )
        return
    if ids:
        name = markdown_text(concept.short_name(ids[0]))
        st.info(
            f"You opened Compare with one classifier (**{name}**): comparing needs two. "
            "Choose at least one more in the sidebar, or compare them all."
        )
    else:
        st.info("Choose two or more classifiers in the sidebar to compare them.")
    st.button(
        f"Compare with all {n_all} classifiers",
        key="compare_all_classifiers",
        on_click=_choose_all,
        args=(list(concept.classifiers),),
    )


def _choose_all(ids: list[str]) -> None:
    # a callback runs before the sidebar's picker is drawn, so its value may still be set
    st.session_state["compare_classifiers"] = ids
    st.session_state["classifiers"] = ids


def agreement_section(ids: list[str], result: dict, names: Mapping[str, str]) -> None:
    """Heat maps of Jaccard (positive sets) and Cohen's kappa (where negatives are known)."""
    agreements: list[Agreement] = result["agreement"]
    frame = compare_charts.agreement_frame(ids, agreements, names)
    order = [names.get(cid, cid) for cid in ids]
    # side by side while two heat maps fit a wide page; one under the other beyond that
    left, right = st.columns(2) if len(ids) <= 4 else (st.container(), st.container())
    with left:
        st.markdown("**Jaccard of the positive passages**")
        st.altair_chart(compare_charts.heatmap(frame, "jaccard", order), width="content")
    with right:
        st.markdown("**Cohen's κ over the passages both saw**")
        if any(pair.kappa is not None for pair in agreements):
            st.altair_chart(compare_charts.heatmap(frame, "kappa", order), width="content")
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


def overlap_section(ids: list[str], result: dict, names: Mapping[str, str]) -> None:
    """UpSet-style bars: positives by the exact set of classifiers that found them."""
    intersections = result["intersections"]
    if not intersections:
        st.caption("No positive passages to overlap.")
        return
    st.altair_chart(compare_charts.upset(intersections, ids, names), width="content")


def breakdown_section(result: dict, names: Mapping[str, str]) -> None:
    """Positives by region, corpus and year, one tab each."""
    tabs = st.tabs(["Region", "Corpus", "Year"])
    for tab, column in zip(tabs, ("region", "corpus", "year"), strict=True):
        with tab:
            frame = result["breakdowns"][column]
            if frame.empty or set(frame["value"]) == {"(none)"}:
                st.caption(f"These predictions carry no {column} metadata.")
            else:
                chart = compare_charts.breakdown_chart(frame, column, names)
                st.altair_chart(chart, width="stretch")


def pick_pair(
    ids: list[str], agreements: list[Agreement], names: Mapping[str, str] | None = None
) -> tuple[str, str, str]:
    """Classifier A, classifier B and which set to show (seeded from `a`, `b`, `show`).

    The pickers show `names` (short names by id) where given; the URL keeps the ids.
    """
    names = names or _shown_concept_names()
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
    shown = lambda cid: names.get(cid, cid)  # noqa: E731
    a = left.selectbox("Classifier A", ids, key="compare_pair_a", format_func=shown)
    b = right.selectbox("Classifier B", ids, key="compare_pair_b", format_func=shown)
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


def _shown_concept_names() -> dict[str, str]:
    """The short names of the page's concept (the sidebar's pick), for callers passing none."""
    concept = current_catalogue().concepts.get(st.session_state.get("concept"))
    return concept.short_names if concept is not None else {}


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
) -> None:
    """Passages one classifier flagged and the other did not (or both), both spans shown.

    Cards are judged as on Browse (review mode, `compare_review`): one ✓/✗/? per card, for
    the classifier that flagged the passage; on "Both", one verdict saved for both.
    """
    a, b, show = pick_pair(ids, agreements)
    if a == b:
        st.warning("Pick two different classifiers as A and B.")
        return
    pair = (concept.classifiers[a], concept.classifiers[b])
    span_columns = [
        SpanColumn("spans_a", "pc-a", f"A: {concept.short_name(a)}"),
        SpanColumn("spans_b", "pc-b", f"B: {concept.short_name(b)}"),
    ]
    sides = {"only_a": [("spans_a", a)], "only_b": [("spans_b", b)]}
    judged = sides.get(show, [("spans_a", a), ("spans_b", b)])
    with st.spinner("Matching passages…"):
        source = disagreement_rows(concept, pair, show)
    filtered_cards(
        "compare",
        "compare",
        source,
        span_columns,
        judging=passage_judging(concept.wikibase_id, judged, "compare", concept.short_names),
        owned_extra=PAIR_PARAMS,
        extra_params={"a": a, "b": b, "show": show},
    )


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
    names = concept.short_names
    items = []
    for entry in entries:
        table = load_classifier(concept, entry).table
        knows = compare.knows_negatives(entry.layout, table)
        items.append(compare.ComparedClassifier(entry.id, table, knows, entry.classifier.name))
    scored = [markdown_text(names.get(i.id, i.id)) for i in items if compare.has_scores(i.table)]
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
    with st.spinner(f"Counting positives and agreement at a score of {threshold:g}…"):
        result = _at_threshold(versions, float(threshold), tuple(items))
    has_scores = {i.id: compare.has_scores(i.table) for i in items}
    frame = threshold_frame(result["summary"], has_scores, names)
    st.dataframe(frame, hide_index=True, width="stretch")
    ids = [i.id for i in items]
    pairs = compare_charts.agreement_frame(ids, result["agreement"], names)
    order = [names.get(cid, cid) for cid in ids]
    st.altair_chart(compare_charts.heatmap(pairs, "jaccard", order), width="content")
    st.caption(
        f"A passage of a classifier with scores ({', '.join(scored)}) counts as positive only "
        f"when its score (the highest prediction_probability of its spans) is at least "
        f"{threshold:g}; classifiers without scores are unaffected. The heat map: Jaccard of "
        "the positive passages at this threshold."
    )


def threshold_frame(
    summary: list[dict], scored: dict[str, bool], names: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Positives at the threshold per classifier, and whether the threshold applies to it."""
    return pd.DataFrame(
        [
            {
                "Classifier": (names or {}).get(row["classifier"], row["classifier"]),
                "Id": row["classifier"],
                "Has scores": scored[row["classifier"]],
                "Positives at threshold": row["positives"],
                "Passages in file": row["passages"],
            }
            for row in summary
        ]
    )
