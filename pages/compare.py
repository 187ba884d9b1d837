"""Compare: two or more classifiers of a concept side by side, and where they disagree.

`/compare?concept=Q218&classifier=a&classifier=b` opens that comparison (CONTRACT §6).
"""

import streamlit as st

from predictions_core.ui import compare_view
from predictions_core.ui.cards import inject_css
from predictions_core.ui.data import comparison
from predictions_core.ui.feedback import feedback_controls
from predictions_core.ui.shell import start_concept_page
from predictions_core.ui.views import markdown_text

concept = start_concept_page("compare", "Compare")
label = markdown_text(concept.concept.preferred_label)
st.title(f"Compare classifiers · {label} ({concept.wikibase_id})")
ids = [cid for cid in st.session_state.get("classifiers") or [] if cid in concept.classifiers]
if len(ids) < 2:
    if len(concept.classifiers) < 2:
        st.info(
            f"{label} has {len(concept.classifiers)} classifier(s): "
            "comparing needs two or more. Pick another concept in the sidebar."
        )
    else:
        st.info("Choose two or more classifiers in the sidebar to compare them.")
    st.stop()

with st.spinner(f"Comparing {len(ids)} classifiers…"):
    result = comparison(concept, [concept.classifiers[cid] for cid in ids])

st.subheader("Summary")
compare_view.summary_section(result)
st.subheader("Agreement")
compare_view.agreement_section(ids, result)
st.subheader("Overlap of positive passages")
compare_view.overlap_section(ids, result)
st.subheader("Positives by region, corpus and year")
compare_view.breakdown_section(result)
st.subheader("At a score threshold")
compare_view.threshold_section(concept, [concept.classifiers[cid] for cid in ids])
st.subheader("Disagreements")
inject_css()
compare_view.disagreement_browser(concept, ids, result["agreement"], feedback_controls())
