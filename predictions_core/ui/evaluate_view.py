"""The Evaluate page's pieces: the evaluation (cached, classifiers by short name), what it
covers, the score tables, the labellers' ceiling, and the false positive/negative cards.

Passage text reaches the page only through `highlight.card_html`, which escapes it; names
and labellers from the data go through `markdown_text`. The choices in the URL are in
`evaluate_pickers`, the charts in `evaluate_charts`.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pandas as pd
import streamlit as st

from predictions_core.analysis.evaluation import (
    HOW_TO_ADD_GOLD,
    SLICE_DIMENSIONS,
    SliceComparison,
    evaluate_concept,
)
from predictions_core.analysis.metrics import SpanScores
from predictions_core.analysis.results import (
    ClassifierScores,
    ErrorCard,
    Evaluation,
    LabellerAgreement,
)
from predictions_core.data.catalogue import ConceptEntry
from predictions_core.data.loading import fingerprint
from predictions_core.data.store import PredictionStore
from predictions_core.errors import PredictionsError
from predictions_core.ui.evaluate_charts import DELTA, format_score
from predictions_core.ui.feedback import current_feedback_store
from predictions_core.ui.highlight import MARK_CSS, MarkLayer, card_html, legend_html
from predictions_core.ui.views import markdown_text

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
N_RESAMPLES = 1_000
# how a slice value reads on the page (the API keeps `true`/`false`)
SLICE_NAMES = {
    "world_bank_region": "region",
    "document_metadata.corpus_type_name": "corpus",
    "translated": "translated",
}
_YES_NO = {"true": "yes", "false": "no"}
PREDICT_COMMAND = "uv run predictions predict {qid} --passages FILE"


def inject_css() -> None:
    """The dashboard's mark styles plus gold (underline) and predicted (fill) marks."""
    st.html(MARK_CSS + _CSS)


def no_gold_message(qid: str) -> str:
    """What to do when a concept has no gold labels (shown instead of the scores)."""
    return f"**{qid} has no gold labels yet.** To evaluate it, " + HOW_TO_ADD_GOLD.format(qid=qid)


def slice_text(dimension: str, value: str) -> str:
    """A slice value as the page shows it: `translated` as yes/no, others as they are."""
    return _YES_NO.get(value, value) if dimension == "translated" else value


# ---------------------------------------------------------------------- data


@st.cache_data(max_entries=32, show_spinner=False)
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
        n_resamples=N_RESAMPLES,
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
    """The evaluation (at `threshold`, if any), or None after showing why it cannot be made.

    Each classifier's `name` is its short distinguishing name (`ConceptEntry.short_name`),
    the one every table, picker and chart of the page shows.
    """
    try:
        entry = store.catalogue().concept(qid)
        version = data_version(entry, current_feedback_store().last_judgement_id(qid))
        with st.spinner(_spinner_text(entry, source, threshold)):
            result = _cached_evaluation(store, str(store.data_dir), qid, source, version, threshold)
    except PredictionsError as error:
        st.error(error.message)
        return None
    named = [replace(c, name=entry.short_name(c.id)) for c in result.classifiers]
    return replace(result, classifiers=named)


def _spinner_text(entry: ConceptEntry, source: str, threshold: float | None) -> str:
    n = len(entry.classifiers)
    gold = {"concept": "the concept's gold labels", "feedback": "reviewers' feedback"}
    against = gold.get(source, "the concept's gold labels and reviewers' feedback")
    at = f" at threshold {threshold:g}" if threshold is not None else ""
    return (
        f"Evaluating {n} classifier{'s' * (n != 1)} against {against}{at}: passage and span "
        f"scores, then 95% bootstrap intervals ({N_RESAMPLES:,} resamples)…"
    )


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


# ---------------------------------------------------------------------- what is covered


def render_coverage(result: Evaluation) -> None:
    """Per classifier missing gold passages: a warning when it covers none (its scores are
    all undefined), a note when it covers some, each with the command that predicts them."""
    uncovered_first = sorted(result.classifiers, key=lambda c: c.n_covered > 0)
    for classifier in uncovered_first:
        message = coverage_message(result, classifier)
        if message is None:
            continue
        if classifier.n_covered == 0:
            st.warning(message, icon="⚠️")
        else:
            st.info(message, icon="ℹ️")


def coverage_message(result: Evaluation, classifier: ClassifierScores) -> str | None:
    """What the classifier's coverage of the gold passages means, and what to do; None when
    it covers them all (or, positives-only, lists some of them)."""
    covered, total, name = classifier.n_covered, result.n_gold, markdown_text(classifier.name)
    if covered >= total or (classifier.positives_only and covered > 0):
        return None
    if classifier.positives_only:
        said = (
            f"**{name}** covered 0 of {total} gold passages: none is among its positives, "
            "so all count as predicted negatives (its file lists positives only)."
        )
    elif covered == 0:
        said = (
            f"**{name}** covered 0 of {total} gold passages: none is among its predictions, "
            "so it has no scores here (every figure is —)."
        )
    else:
        said = (
            f"**{name}** covered {covered} of {total} gold passages: its scores count those "
            f"{covered} only; the other {total - covered} are not among its predictions."
        )
    return f"{said} {_how_to_cover(result)}"


def _how_to_cover(result: Evaluation) -> str:
    command = f"`{PREDICT_COMMAND.format(qid=result.wikibase_id)}`"
    concept = (
        f"To score it on all of them, run {command}: it predicts the concept's gold "
        "passages too (`--no-gold` skips them)."
    )
    feedback = (
        "The reviewers' judged passages come from passages files: run the classifier over "
        f"the same file with {command}."
    )
    if result.gold_source == "concept":
        return concept
    return feedback if result.gold_source == "feedback" else f"{concept} {feedback}"


# ---------------------------------------------------------------------- tables


def summary_frame(result: Evaluation) -> pd.DataFrame:
    """One row per classifier: passage P/R/F1 with intervals, counts, span scores, exclusions."""
    rows = []
    for classifier in result.classifiers:
        passage, ci, span = classifier.passage, classifier.ci, classifier.span
        rows.append(
            {
                "classifier": classifier.name,
                "gold covered": f"{classifier.n_covered} of {result.n_gold}",
                "precision": format_score(passage.precision, ci.precision),
                "recall": format_score(passage.recall, ci.recall),
                "F1": format_score(passage.f1, ci.f1),
                "TP": passage.tp,
                "FP": passage.fp,
                "FN": passage.fn,
                "span exact P/R/F1": _three(span.exact),
                "span overlap P/R/F1": _three(span.overlap),
                "scored": classifier.n_scored,
                "excluded": classifier.n_excluded,
                "assumed negative": classifier.assumed_negative,
                "skipped lines": classifier.n_issues,
                "id": classifier.id,
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


def render_labellers(result: Evaluation) -> None:
    """The labellers' ceiling: which pair the figures are, how all pairs agree, and from
    which labels (always the concept file's labellers, whatever the gold source)."""
    agreement = result.labeller_agreement
    if result.gold_source != "concept":
        st.caption(
            "From the concept's labellers (concept.json) only, whatever the gold source above: "
            "reviewers judge different passages one by one, so their agreement is not measured."
        )
    if agreement is None or agreement.ceiling is None:
        st.caption("Agreement needs gold labels from at least two labellers in the concept file.")
        return
    ceiling = agreement.ceiling
    first, second = (markdown_text(name) for name in ceiling.labellers)
    st.markdown(labeller_headline(agreement))
    columns = st.columns(3)
    columns[0].metric(f"Cohen's kappa ({first} & {second})", format_score(ceiling.kappa))
    columns[1].metric(f"Passage F1 ({second} vs {first})", format_score(ceiling.passage.f1))
    columns[2].metric(
        f"Span overlap F1 ({second} vs {first})", format_score(ceiling.span.overlap.f1)
    )
    st.dataframe(agreement_frame(agreement), hide_index=True)
    st.caption(
        f"Labellers: {markdown_text(', '.join(agreement.labellers))}. Assumption: "
        f"{agreement.assumption} (the files record spans, not who looked at a passage)."
    )


def labeller_headline(agreement: LabellerAgreement) -> str:
    """The sentence above the ceiling's figures: the pair they are, and the others' range."""
    if agreement.ceiling is None:
        return ""
    first, second = (markdown_text(name) for name in agreement.ceiling.labellers)
    line = (
        f"**{second} scored against {first}**: of the {len(agreement.labellers)} labellers, "
        "the pair that agrees on the most positive passages"
    )
    if len(agreement.pairs) < 2:
        return line + " (the only pair)."
    kappas = [pair.kappa for pair in agreement.pairs if pair.kappa is not None]
    f1s = [pair.passage.f1 for pair in agreement.pairs if pair.passage.f1 is not None]
    spread = [
        f"{label} {format_score(min(values))} to {format_score(max(values))}"
        for label, values in (("Cohen's kappa", kappas), ("passage F1", f1s))
        if values
    ]
    others = f"; across all {len(agreement.pairs)} pairs: " + ", ".join(spread) if spread else ""
    return f"{line}{others}."


def breakdown_frame(result: Evaluation, dimension: str) -> pd.DataFrame:
    """Slices of one dimension (rows) × classifiers (columns: "F1 (tp/fp/fn)"), n, small flag."""
    slices: dict[str, dict[str, object]] = {}
    for classifier in result.classifiers:
        for row in classifier.breakdown[dimension]:
            value = slice_text(dimension, row.value)
            entry = slices.setdefault(value, {dimension: value, "n": row.n})
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
                "slice": f"{SLICE_NAMES[row.dimension]}: {slice_text(row.dimension, row.value)}",
                "n": max(row.n_first, row.n_second),
                "F1 A": row.f1_first,
                "F1 B": row.f1_second,
                DELTA: row.delta_f1,
                "small": "⚠ small" if row.small else "",
            }
            for row in rows
        ],
        columns=["slice", "n", "F1 A", "F1 B", DELTA, "small"],
    )


# ---------------------------------------------------------------------- cards


def error_card_html(card: ErrorCard) -> str:
    """A false positive or negative: escaped text, gold spans underlined, predicted filled."""
    layers = [
        MarkLayer(GOLD_LAYER.css_class, card.gold_spans, "gold span"),
        MarkLayer(PREDICTED_LAYER.css_class, card.predicted_spans, "predicted"),
    ]
    metadata = [("id", card.id)] + [
        (SLICE_NAMES[dimension], slice_text(dimension, card.slices[dimension]))
        for dimension in SLICE_DIMENSIONS
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
