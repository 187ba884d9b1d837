"""Compare: two or more classifiers of a concept side by side, and where they disagree.

`/compare?concept=Q218&classifier=a&classifier=b` opens that comparison (CONTRACT §6).
Classifiers appear by their short names (`ConceptEntry.short_names`), ids in the tables.
"""

import streamlit as st

from predictions_core.ui import compare_view
from predictions_core.ui.cards import inject_css
from predictions_core.ui.data import comparison
from predictions_core.ui.shell import start_concept_page
from predictions_core.ui.views import markdown_text

concept = start_concept_page("compare", "Compare")
label = markdown_text(concept.concept.preferred_label)
st.title(f"Compare classifiers · {label} ({concept.wikibase_id})")
ids = [cid for cid in st.session_state.get("classifiers") or [] if cid in concept.classifiers]
if len(ids) < 2:
    compare_view.too_few_classifiers(concept, ids)
    st.stop()
names = concept.short_names
entries = [concept.classifiers[cid] for cid in ids]

with st.spinner(f"Comparing {len(ids)} classifiers…"):
    result = comparison(concept, entries)
gold = compare_view.gold_scores(concept)

st.subheader("Summary")
compare_view.summary_section(result, names, gold)
if gold is not None:
    compare_view.gold_note(concept, ids, gold)
st.subheader("Agreement")
compare_view.agreement_section(ids, result, names)
st.subheader("Overlap of positive passages")
compare_view.overlap_section(ids, result, names)
st.subheader("Positives by region, corpus and year")
compare_view.breakdown_section(result, names)
st.subheader("At a score threshold")
compare_view.threshold_section(concept, entries)
st.subheader("Disagreements")
inject_css()
compare_view.disagreement_browser(concept, ids, result["agreement"])
