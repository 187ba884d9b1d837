"""Evaluate (`/evaluate?concept=QID`): each classifier of a concept against gold labels.

Gold: the concept's `labelled_passages`, reviewers' ✓/✗ feedback from Browse/Compare, or both
(`gold_source=concept|feedback|both`, as in `GET /api/evaluation`); a score threshold
(`threshold=`, as in the API) where classifiers have scores. The scoring rules live in
`predictions_core.analysis` (`gold`, `metrics`, `span_jaccard`, `thresholds`, `evaluation`).
"""

import streamlit as st

from predictions_core.analysis.evaluation import SLICE_DIMENSIONS, compare_slices
from predictions_core.ui import evaluate_view as view
from predictions_core.ui.data import current_store
from predictions_core.ui.shell import start_concept_page
from predictions_core.ui.views import markdown_text

concept = start_concept_page("evaluate", "Evaluate")  # the sidebar's pick (`concept=`)
store = current_store()
qid = concept.wikibase_id
st.title(f"Evaluate · {markdown_text(concept.concept.preferred_label)} ({qid})")
view.inject_css()
sources = view.available_sources(store, qid)
if not sources:
    st.info(view.no_gold_message(qid), icon="🏷️")
    st.stop()
source = view.gold_source_picker(qid, sources)
result = view.evaluation(store, qid, source)
if result is None:
    st.stop()
if not result.classifiers:
    st.info(f"{qid} has {result.n_gold} gold passages but no classifier predictions yet.")
    st.stop()
threshold = view.threshold_picker(result)
if threshold is not None:
    result = view.evaluation(store, qid, source, threshold)
    if result is None:
        st.stop()

st.caption(
    f"{result.wikibase_id} — {result.preferred_label}: {result.n_gold} gold passages "
    f"({result.n_gold_positive} positive, {result.n_gold_spans} distinct gold spans). "
    + " ".join(result.notes)
)

st.subheader("Scores per classifier")
st.dataframe(view.summary_frame(result), hide_index=True)
st.caption(
    "Passage level: a passage is positive when it has at least one span"
    + (f" and a score of at least {threshold:g}" if threshold is not None else "")
    + ". Intervals: 95% bootstrap. Span exact: same start and end; overlap: any overlap "
    "counts. 'Gold covered': gold passages found in the classifier's predictions (only those "
    "are scored; `predictions predict` predicts the concept's gold passages too). 'Excluded': "
    "gold passages missing from the classifier's predictions; 'assumed negative': missing "
    "from a positives-only file, counted as predicted negatives."
)

st.subheader("Span level, as the knowledge-graph evaluation counts it")
st.dataframe(view.span_jaccard_frame(result), hide_index=True)
st.caption(
    "Gold spans of all labellers merged where they overlap (in listed order); a gold span is "
    "found (TP) when a predicted span's Jaccard similarity with it is above the threshold, "
    "else FN; a predicted span matching no gold span above the threshold is a FP. "
    "`span_jaccard` in `GET /api/evaluation/{qid}`."
)

st.subheader("Scores and thresholds")
view.render_thresholds(result)

st.subheader("Human labellers (the ceiling)")
agreement = result.labeller_agreement
if agreement is None or agreement.ceiling is None:
    st.caption("Agreement needs gold labels from at least two labellers in the concept file.")
else:
    ceiling = agreement.ceiling
    first, second = ceiling.labellers
    columns = st.columns(3)
    columns[0].metric("Cohen's kappa", view.format_score(ceiling.kappa))
    columns[1].metric(f"Passage F1 ({second} vs {first})", view.format_score(ceiling.passage.f1))
    columns[2].metric("Span overlap F1", view.format_score(ceiling.span.overlap.f1))
    st.dataframe(view.agreement_frame(agreement), hide_index=True)
    st.caption(
        f"Labellers: {', '.join(agreement.labellers)}. Assumption: {agreement.assumption} "
        "(the files record spans, not who looked at a passage)."
    )

st.subheader("Breakdown")
dimension = st.segmented_control(
    "Slice by",
    SLICE_DIMENSIONS,
    default="world_bank_region",
    format_func=view.SLICE_LABELS.get,
    required=True,
    key="evaluate_dimension",
)
st.dataframe(view.breakdown_frame(result, dimension), hide_index=True)
st.caption("Each cell: F1 (TP/FP/FN) of that classifier on the slice's passages.")
st.caption(f"⚠ small: fewer than {result.small_slice} passages; read their scores loosely.")

st.subheader("Where does A beat B?")
names = {classifier.id: classifier.name for classifier in result.classifiers}
if len(names) < 2:
    st.caption("Needs two classifiers.")
else:
    ids = list(names)
    pick_a, pick_b = st.columns(2)
    first_id = pick_a.selectbox("A", ids, 0, format_func=names.get, key="evaluate_a")
    second_id = pick_b.selectbox("B", ids, 1, format_func=names.get, key="evaluate_b")
    frame = view.comparison_frame(compare_slices(result, first_id, second_id))
    if first_id == second_id:
        st.caption("Pick two different classifiers.")
    elif frame["ΔF1 (A − B)"].notna().any():
        view.render_comparison(frame)
    else:
        st.caption("No slice where both F1 scores are defined.")

st.subheader("False positives and false negatives")
chosen = st.selectbox("Classifier", list(names), format_func=names.get, key="evaluate_errors")
classifier = result.classifier(chosen)
fp_tab, fn_tab = st.tabs(
    [f"False positives ({classifier.passage.fp})", f"False negatives ({classifier.passage.fn})"]
)
with fp_tab:
    view.render_error_cards(classifier.false_positives, f"evaluate_{chosen}_false_positives")
with fn_tab:
    view.render_error_cards(classifier.false_negatives, f"evaluate_{chosen}_false_negatives")
