"""Evaluate (`/evaluate?concept=QID`): each classifier of a concept against gold labels.

Gold: the concept's `labelled_passages`, reviewers' ✓/✗ feedback from Browse/Compare, or both
(`gold_source=concept|feedback|both`, as in `GET /api/evaluation`); a score threshold
(`threshold=`, as in the API) where classifiers have scores. Every choice is in the URL
(`evaluate_pickers`). The scoring rules live in `predictions_core.analysis`.
"""

import streamlit as st

from predictions_core.analysis.evaluation import compare_slices
from predictions_core.ui import evaluate_charts as charts
from predictions_core.ui import evaluate_pickers as pickers
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
source = pickers.gold_source_picker(qid, sources)
result = view.evaluation(store, qid, source)
if result is None:
    st.stop()
if not result.classifiers:
    st.info(f"{qid} has {result.n_gold} gold passages but no classifier predictions yet.")
    st.stop()
threshold = pickers.threshold_picker(result)
if threshold is not None:
    result = view.evaluation(store, qid, source, threshold)
    if result is None:
        st.stop()

st.caption(
    f"{result.wikibase_id} — {markdown_text(result.preferred_label)}: {result.n_gold} gold "
    f"passages ({result.n_gold_positive} positive, {result.n_gold_spans} distinct gold spans). "
    + " ".join(result.notes)
)

st.subheader("Scores per classifier")
view.render_coverage(result)
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
charts.render_thresholds(result)

st.subheader("Human labellers (the ceiling)")
view.render_labellers(result)

st.subheader("Breakdown")
dimension = pickers.slice_picker()
st.dataframe(view.breakdown_frame(result, dimension), hide_index=True)
st.caption("Each cell: F1 (TP/FP/FN) of that classifier on the slice's passages.")
st.caption(f"⚠ small: fewer than {result.small_slice} passages; read their scores loosely.")

st.subheader("Where does A beat B?")
names = {classifier.id: classifier.name for classifier in result.classifiers}
pair = pickers.pair_picker(names)
if pair is None:
    st.caption("Needs two classifiers.")
elif pair[0] == pair[1]:
    st.caption("Pick two different classifiers.")
else:
    frame = view.comparison_frame(compare_slices(result, *pair))
    if frame[charts.DELTA].notna().any():
        charts.render_comparison(frame)
    else:
        st.caption("No slice where both F1 scores are defined.")

st.subheader("False positives and false negatives")
chosen = pickers.errors_picker(names)
classifier = result.classifier(chosen)
fp_tab, fn_tab = st.tabs(
    [f"False positives ({classifier.passage.fp})", f"False negatives ({classifier.passage.fn})"]
)
with fp_tab:
    view.render_error_cards(classifier.false_positives, f"evaluate_{chosen}_false_positives")
with fn_tab:
    view.render_error_cards(classifier.false_negatives, f"evaluate_{chosen}_false_negatives")
