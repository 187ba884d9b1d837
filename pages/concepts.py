"""Concepts (home): every concept with its classifiers and counts; a click opens the concept."""

import streamlit as st

from predictions_core.ui.concepts_view import concept_search, concepts_frame, concepts_table
from predictions_core.ui.data import current_catalogue
from predictions_core.ui.shell import start_page, stop_without_data

start_page("concepts")
st.title("Concepts")
catalogue = current_catalogue()
if not catalogue.concepts:
    stop_without_data()  # while the first sync runs: only the shell's progress bar

search = concept_search()
frame = concepts_frame(catalogue, search)
st.caption(
    f"{len(frame)} of {len(catalogue.concepts)} concepts. Click a concept to browse its "
    "predictions, or **Compare ›** / **Evaluate ›** to open those pages."
)
chosen = concepts_table(frame)
if chosen is not None:
    st.session_state["concept"] = chosen.qid
    st.switch_page(chosen.page, query_params={"concept": chosen.qid})
