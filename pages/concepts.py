"""Concepts (home): every concept with its classifiers and counts; a row opens Browse."""

import streamlit as st

from predictions_core.ui import url_state
from predictions_core.ui.concepts_view import COLUMN_CONFIG, concepts_frame
from predictions_core.ui.data import current_catalogue
from predictions_core.ui.shell import start_page
from predictions_core.ui.views import no_data_message

start_page("concepts")
st.title("Concepts")
catalogue = current_catalogue()
if not catalogue.concepts:
    no_data_message()
    st.stop()

if url_state.url_is_new():
    st.session_state["concepts_search"] = (
        url_state.first(url_state.current_params(), "search") or ""
    )
search = st.text_input(
    "Find a concept",
    key="concepts_search",
    placeholder="label, alternative label, QID or description",
)
url_state.update_url("concepts", {"search": search} if search.strip() else {}, ["search"])

frame = concepts_frame(catalogue, search)
st.caption(
    f"{len(frame)} of {len(catalogue.concepts)} concepts. Click a row (or its Browse link) "
    "to browse that concept's predictions."
)
event = st.dataframe(
    frame,
    key="concepts_table",
    on_select="rerun",
    selection_mode="single-row",
    hide_index=True,
    column_config=COLUMN_CONFIG,
    width="stretch",
)
if event.selection.rows:
    qid = str(frame.iloc[event.selection.rows[0]]["QID"])
    st.session_state["concept"] = qid
    st.switch_page("pages/browse.py", query_params={"concept": qid})
