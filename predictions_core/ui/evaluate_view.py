"""The Evaluate page's pieces: concept and gold-source choice, score tables, cards, charts.

Passage text reaches the page only through `highlight.card_html`, which escapes it.
The score threshold (`threshold=` in the URL, as in the API) and its charts are here too.
"""

from __future__ import annotations

import hashlib

import altair as alt
import pandas as pd
import streamlit as st

from predictions_core.analysis.evaluation import (
    HOW_TO_ADD_GOLD,
    SLICE_DIMENSIONS,
    SliceComparison,
    evaluate_concept,
)
from predictions_core.analysis.metrics import Interval, SpanScores
from predictions_core.analysis.results import ErrorCard, Evaluation, LabellerAgreement
from predictions_core.analysis.thresholds import NO_SCORES, parse_threshold
from predictions_core.data.catalogue import ConceptEntry
from predictions_core.data.loading import fingerprint
from predictions_core.data.store import PredictionStore
from predictions_core.errors import InvalidParameterError, PredictionsError
from predictions_core.ui import url_state
from predictions_core.ui.feedback import current_feedback_store
from predictions_core.ui.highlight import MARK_CSS, MarkLayer, card_html, legend_html
from predictions_core.ui.views import markdown_text

GOLD_SOURCE_LABELS = {
    "concept": "Concept's gold labels",
    "feedback": "Reviewers' feedback",
    "both": "Both",
}
GOLD_LAYER = MarkLayer("pc-gold", (), "gold span")
PREDICTED_LAYER = MarkLayer("pc-predicted", (), "predicted span")
_CSS = """
<style>
mark.pc-gold { background: transparent; border-bottom: 3px solid rgba(0, 160, 90, 0.9); }
mark.pc-predicted { background: rgba(255, 170, 0, 0.38); }
mark.pc-gold.pc-predicted { background: rgba(255, 170, 0, 0.38); }
</style>
"""
CARDS_PER_PAGE = 10
SLICE_LABELS = {
    "world_bank_region": "Region (world_bank_region)",
    "document_metadata.corpus_type_name": "Corpus (document_metadata.corpus_type_name)",
    "translated": "Translated",
}
THRESHOLD_ON, THRESHOLD_VALUE = "evaluate_threshold_on", "evaluate_threshold"


def inject_css() -> None:
    """The dashboard's mark styles plus gold (underline) and predicted (fill) marks."""
    st.html(MARK_CSS + _CSS)


def no_gold_message(qid: str) -> str:
    """What to do when a concept has no gold labels (shown instead of the scores)."""
    return f"**{qid} has no gold labels yet.** To evaluate it, " + HOW_TO_ADD_GOLD.format(qid=qid)


def format_score(value: float | None, interval: Interval | None = None) -> str:
    """`0.912 [0.871–0.950]`, or `—` for an undefined score."""
    if value is None:
        return "—"
    text = f"{value:.3f}"
    return text + (f" [{interval[0]:.3f}–{interval[1]:.3f}]" if interval else "")


# ---------------------------------------------------------------------- data


@st.cache_data(max_entries=32, show_spinner="Scoring classifiers against the gold labels…")
def _cached_evaluation(
    _store: PredictionStore,
    data_dir: str,
    qid: str,
    source: str,
    version: tuple,
    threshold: float | None,
) -> Evaluation:
    # `version` changes whenever a predictions file, the concept or the feedback changes
    feedback = current_feedback_store()
    return evaluate_concept(
        _store,
        qid,
        gold_source=source,
        feedback_passages=lambda: feedback.labelled_passages(qid),
        threshold=threshold,
    )


def data_version(entry: ConceptEntry, last_judgement_id: int) -> tuple:
    """What an evaluation of the concept depends on, by content, never by object identity.

    Each classifier's id, name, layout and predictions file fingerprint; a hash of the
    concept (its labels and gold passages); the concept's last judgement id. A rescanned
    catalogue of unchanged files gives the same key.
    """
    files = []
    for classifier in entry.classifiers.values():
        try:
            version = fingerprint(classifier.predictions_path)
        except OSError:
            version = "missing"
        files.append((classifier.id, classifier.classifier.name, classifier.layout, version))
    concept = hashlib.sha256(entry.concept.model_dump_json().encode()).hexdigest()
    return (tuple(sorted(files)), concept, last_judgement_id)


def evaluation(
    store: PredictionStore, qid: str, source: str, threshold: float | None = None
) -> Evaluation | None:
    """The evaluation (at `threshold`, if any), or None after showing why it cannot be made."""
    try:
        entry = store.catalogue().concept(qid)
        version = data_version(entry, current_feedback_store().last_judgement_id(qid))
        return _cached_evaluation(store, str(store.data_dir), qid, source, version, threshold)
    except PredictionsError as error:
        st.error(error.message)
        return None


def gold_source_picker(qid: str, sources: list[str]) -> str:
    """Concept gold / reviewers' feedback / both; `gold_source=` in the URL (as in the API)."""
    key = f"evaluate_gold_{qid}"
    asked = url_state.first(url_state.current_params(), "gold_source")
    if url_state.url_is_new() and asked is not None:
        if asked in sources:
            st.session_state[key] = asked
        else:
            st.warning(
                f"**gold_source**: {asked!r} is not available for {qid} (choose "
                f"{', '.join(sources)}). Showing {GOLD_SOURCE_LABELS[sources[0]]}.",
                icon="⚠️",
            )
    if st.session_state.get(key) not in sources:
        st.session_state[key] = sources[0]
    source = st.radio(
        "Gold labels",
        sources,
        format_func=GOLD_SOURCE_LABELS.get,
        horizontal=True,
        key=key,
        help="Reviewers' feedback: ✓ correct makes the predicted spans gold, ✗ incorrect makes "
        "the passage a negative; 'unsure' is left out. Feedback covers judged passages only.",
    )
    url_state.update_url("evaluate", {"gold_source": source}, ["gold_source"])
    return source


def available_sources(store: PredictionStore, qid: str) -> list[str]:
    """The gold sources that hold something for `qid`: concept, feedback, both."""
    has_concept = bool(store.catalogue().concept(qid).gold_passages)
    try:
        has_feedback = bool(current_feedback_store().labelled_passages(qid))
    except PredictionsError:
        has_feedback = False
    sources = ["concept"] if has_concept else []
    sources += ["feedback"] if has_feedback else []
    return sources + (["both"] if has_concept and has_feedback else [])


# ---------------------------------------------------------------------- tables


def summary_frame(result: Evaluation) -> pd.DataFrame:
    """One row per classifier: passage P/R/F1 with intervals, counts, span scores, exclusions."""
    rows = []
    for classifier in result.classifiers:
        passage, ci, span = classifier.passage, classifier.ci, classifier.span
        rows.append(
            {
                "classifier": classifier.name,
                "id": classifier.id,
                "precision": format_score(passage.precision, ci.precision),
                "recall": format_score(passage.recall, ci.recall),
                "F1": format_score(passage.f1, ci.f1),
                "TP": passage.tp,
                "FP": passage.fp,
                "FN": passage.fn,
                "gold covered": f"{classifier.n_covered} of {result.n_gold}",
                "span exact P/R/F1": _three(span.exact),
                "span overlap P/R/F1": _three(span.overlap),
                "scored": classifier.n_scored,
                "excluded": classifier.n_excluded,
                "assumed negative": classifier.assumed_negative,
                "skipped lines": classifier.n_issues,
            }
        )
    return pd.DataFrame(rows)


def span_jaccard_frame(result: Evaluation) -> pd.DataFrame:
    """One row per classifier and Jaccard threshold: the upstream evaluation's span counts."""
    rows = []
    for classifier in result.classifiers:
        for threshold, scores in classifier.span_jaccard.items():
            rows.append(
                {
                    "classifier": classifier.name,
                    "Jaccard >": threshold,
                    "TP": scores.tp,
                    "FP": scores.fp,
                    "FN": scores.fn,
                    "precision": format_score(scores.precision),
                    "recall": format_score(scores.recall),
                    "F1": format_score(scores.f1),
                }
            )
    return pd.DataFrame(rows)


def _three(scores: SpanScores) -> str:
    return " / ".join(format_score(value) for value in (scores.precision, scores.recall, scores.f1))


def agreement_frame(agreement: LabellerAgreement) -> pd.DataFrame:
    """One row per pair of labellers: kappa, passage F1 and span scores of one against the other."""
    rows = []
    for pair in agreement.pairs:
        passage = pair.passage
        rows.append(
            {
                "labellers": " vs ".join(pair.labellers),
                "Cohen's kappa": format_score(pair.kappa),
                "passage F1": format_score(passage.f1),
                "both positive": passage.tp,
                "only second": passage.fp,
                "only first": passage.fn,
                "both negative": passage.tn,
                "span exact F1": format_score(pair.span.exact.f1),
                "span overlap F1": format_score(pair.span.overlap.f1),
            }
        )
    return pd.DataFrame(rows)


def breakdown_frame(result: Evaluation, dimension: str) -> pd.DataFrame:
    """Slices of one dimension (rows) × classifiers (columns: "F1 (tp/fp/fn)"), n, small flag."""
    slices: dict[str, dict[str, object]] = {}
    for classifier in result.classifiers:
        for row in classifier.breakdown[dimension]:
            entry = slices.setdefault(row.value, {dimension: row.value, "n": row.n})
            entry["n"] = max(entry["n"], row.n)
            scores = row.scores
            counts = f"{scores.tp}/{scores.fp}/{scores.fn}"
            entry[classifier.name] = f"{format_score(scores.f1)} ({counts})"
    frame = pd.DataFrame(list(slices.values()))
    if not frame.empty:
        frame["small"] = frame["n"].map(lambda n: "⚠ small" if n < result.small_slice else "")
    return frame


def comparison_frame(rows: list[SliceComparison]) -> pd.DataFrame:
    """`compare_slices` rows as a table: slice, n, both F1s and the difference."""
    return pd.DataFrame(
        [
            {
                "slice": f"{row.dimension}: {row.value}",
                "n": max(row.n_first, row.n_second),
                "F1 A": row.f1_first,
                "F1 B": row.f1_second,
                "ΔF1 (A − B)": row.delta_f1,
                "small": "⚠ small" if row.small else "",
            }
            for row in rows
        ],
        columns=["slice", "n", "F1 A", "F1 B", "ΔF1 (A − B)", "small"],
    )


def render_comparison(frame: pd.DataFrame) -> None:
    """The ΔF1 bar chart and the ranked table of slices."""
    st.altair_chart(comparison_chart(frame), width="stretch")
    scores = ("F1 A", "F1 B", "ΔF1 (A − B)")
    config = {name: st.column_config.NumberColumn(format="%.3f") for name in scores}
    st.dataframe(frame, hide_index=True, column_config=config)


def comparison_chart(frame: pd.DataFrame) -> alt.Chart:
    """Horizontal bars of ΔF1 per slice, best for A at the top; small slices paler."""
    data = frame.dropna(subset=["ΔF1 (A − B)"]).assign(
        better=lambda f: f["ΔF1 (A − B)"].map(lambda d: "A" if d > 0 else "B" if d < 0 else "tie")
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("ΔF1 (A − B):Q", title="F1 of A minus F1 of B"),
            y=alt.Y("slice:N", sort=None, title=None, axis=alt.Axis(labelLimit=320)),
            color=alt.Color(
                "better:N",
                title="better",
                scale=alt.Scale(domain=["A", "B", "tie"], range=["#1f77b4", "#ff7f0e", "#9e9e9e"]),
            ),
            opacity=alt.condition(alt.datum.small == "", alt.value(1.0), alt.value(0.4)),
            tooltip=["slice", "n", "F1 A", "F1 B", "ΔF1 (A − B)", "small"],
        )
    )


# ---------------------------------------------------------------------- cards


def error_card_html(card: ErrorCard) -> str:
    """A false positive or negative: escaped text, gold spans underlined, predicted filled."""
    layers = [
        MarkLayer(GOLD_LAYER.css_class, card.gold_spans, "gold span"),
        MarkLayer(PREDICTED_LAYER.css_class, card.predicted_spans, "predicted"),
    ]
    metadata = [("id", card.id)] + [
        (dimension, card.slices[dimension]) for dimension in SLICE_DIMENSIONS
    ]
    return card_html(card.text, layers, metadata)


def render_error_cards(cards: list[ErrorCard], key_prefix: str) -> None:
    """One page of a classifier's false positives or negatives, as cards."""
    if not cards:
        st.caption("None.")
        return
    st.html(legend_html([GOLD_LAYER, PREDICTED_LAYER]))
    pages = max(1, -(-len(cards) // CARDS_PER_PAGE))
    page = 1
    if pages > 1:
        page = st.number_input("Page", 1, pages, 1, key=f"{key_prefix}_page")
    start = (page - 1) * CARDS_PER_PAGE
    st.caption(f"{start + 1}–{min(start + CARDS_PER_PAGE, len(cards))} of {len(cards)}")
    for card in cards[start : start + CARDS_PER_PAGE]:
        with st.container(border=True):
            st.html(error_card_html(card))


# ---------------------------------------------------------------------- scores and thresholds


def threshold_picker(result: Evaluation) -> float | None:
    """A toggle and a slider (`threshold=` in the URL) when some classifier has scores."""
    asked = url_state.first(url_state.current_params(), "threshold")
    if not any(c.threshold.has_scores for c in result.classifiers):
        if asked is not None and url_state.url_is_new():
            st.info(f"**threshold**: no classifier of {result.wikibase_id} has scores; ignored.")
        url_state.update_url("evaluate", {}, ["threshold"])
        return None
    if url_state.url_is_new():
        try:
            parsed = parse_threshold(asked)
        except InvalidParameterError as error:
            st.warning(f"{error.message}. Showing the scores without a threshold.", icon="⚠️")
            parsed = None
        st.session_state[THRESHOLD_ON] = parsed is not None
        if parsed is not None:
            st.session_state[THRESHOLD_VALUE] = parsed
    st.session_state.setdefault(THRESHOLD_VALUE, 0.5)
    on = st.toggle(
        "Apply a score threshold",
        key=THRESHOLD_ON,
        help="A passage counts as predicted positive only when its score (the highest "
        "prediction_probability of its spans) is at least the threshold. Classifiers "
        "without scores are unaffected.",
    )
    value = st.slider("Score threshold", 0.0, 1.0, step=0.01, key=THRESHOLD_VALUE, disabled=not on)
    url_state.update_url("evaluate", {"threshold": f"{value:g}"} if on else {}, ["threshold"])
    return float(value) if on else None


def best_threshold_lines(result: Evaluation) -> list[str]:
    """One sentence per classifier: its best threshold and F1 with interval, or why none."""
    lines = []
    for classifier in result.classifiers:
        report, name = classifier.threshold, markdown_text(classifier.name)
        if not report.has_scores:
            lines.append(f"{name}: {NO_SCORES}.")
        elif report.best is None or report.best_ci is None:
            lines.append(f"{name}: no threshold gives a defined F1.")
        else:
            best = report.best.scores
            f1 = format_score(best.f1, report.best_ci.f1)
            lines.append(
                f"{name}: best threshold **{report.best.threshold:.3f}**, F1 {f1} "
                f"(precision {format_score(best.precision)}, recall {format_score(best.recall)})"
            )
    return lines


def curve_frame(result: Evaluation) -> pd.DataFrame:
    """Every classifier's curve points: classifier, threshold, precision, recall, F1."""
    rows = [
        {"classifier": c.name, **point.to_json()}
        for c in result.classifiers
        for point in c.threshold.curve
    ]
    columns = ["classifier", "threshold", "tp", "fp", "fn", "precision", "recall", "f1"]
    return pd.DataFrame(rows, columns=columns)


def precision_recall_chart(frame: pd.DataFrame) -> alt.Chart:
    """Precision against recall, one line per classifier, points ordered by threshold."""
    return (
        alt.Chart(frame.dropna(subset=["precision", "recall"]))
        .mark_line(point=True)
        .encode(
            x=alt.X("recall:Q", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("precision:Q", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("classifier:N"),
            order=alt.Order("threshold:Q", sort="descending"),
            tooltip=["classifier", "threshold", "precision", "recall", "f1"],
        )
        .properties(title="Precision–recall")
    )


def f1_chart(frame: pd.DataFrame, threshold: float | None) -> alt.LayerChart | alt.Chart:
    """F1 by threshold, one line per classifier; a rule at the threshold applied."""
    lines = (
        alt.Chart(frame.dropna(subset=["f1"]))
        .mark_line(point=True)
        .encode(
            x=alt.X("threshold:Q", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("f1:Q", title="F1", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("classifier:N"),
            tooltip=["classifier", "threshold", "f1", "tp", "fp", "fn"],
        )
        .properties(title="F1 by threshold")
    )
    if threshold is None:
        return lines
    rule = alt.Chart(pd.DataFrame({"threshold": [threshold]})).mark_rule(strokeDash=[4, 4])
    return lines + rule.encode(x="threshold:Q")


def render_thresholds(result: Evaluation) -> None:
    """The best threshold of each classifier, and the two charts when any has scores."""
    for line in best_threshold_lines(result):
        st.markdown(f"- {line}")
    frame = curve_frame(result)
    if frame.empty:
        return
    left, right = st.columns(2)
    left.altair_chart(precision_recall_chart(frame), width="stretch")
    right.altair_chart(f1_chart(frame, result.threshold), width="stretch")
    st.caption(
        "Each point: passages scoring at least that threshold count as positive. Best: the "
        "highest passage F1 (the higher threshold on a tie). Its interval is a 95% bootstrap "
        "at that threshold, optimistic since the threshold was chosen on the same passages."
    )
