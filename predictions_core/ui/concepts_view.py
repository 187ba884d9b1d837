"""The Concepts page's search box and table: one row per concept with its classifiers and counts."""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from predictions_core.data.catalogue import Catalogue, ConceptEntry
from predictions_core.ui import url_state
from predictions_core.ui.data import positive_counts

COLUMNS = ["label", "QID", "browse", "description", "classifiers", "gold", "predictions"]


def concept_row(entry: ConceptEntry) -> dict:
    """Label, QID, description, classifier count, per-classifier counts, gold, Browse link."""
    counts = []
    for classifier in entry.classifiers.values():
        positives, passages = positive_counts(entry, classifier)
        counts.append(f"{classifier.id}: {positives:,} of {passages:,}")
    concept = entry.concept
    return {
        "label": concept.preferred_label,
        "QID": entry.wikibase_id,
        "description": concept.description or "",
        "classifiers": len(entry.classifiers),
        "predictions": " · ".join(counts),
        "gold": len(entry.gold_passages),
        "browse": "browse?" + urlencode({"concept": entry.wikibase_id}),
        "_search": " ".join([*concept.all_labels, entry.wikibase_id, concept.description or ""]),
    }


def concepts_frame(catalogue: Catalogue, search: str) -> pd.DataFrame:
    """Every concept whose labels, QID or description contain `search` (ignoring case)."""
    n_files = sum(len(entry.classifiers) for entry in catalogue.concepts.values())
    with st.spinner(f"Counting the predictions of {n_files} classifiers…"):
        rows = [concept_row(entry) for entry in catalogue.concepts.values()]
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "_search"])
    needle = search.strip().lower()
    if needle:
        frame = frame[frame["_search"].str.lower().str.contains(needle, regex=False)]
    return frame[COLUMNS].reset_index(drop=True)


COLUMN_CONFIG = {
    "label": st.column_config.TextColumn("Concept", width="medium"),
    "QID": st.column_config.TextColumn("QID", width="small"),
    "description": st.column_config.TextColumn("Description", width="large"),
    "classifiers": st.column_config.NumberColumn("Classifiers", width="small"),
    "predictions": st.column_config.TextColumn(
        "Positives of passages, per classifier",
        help="classifier id: passages with spans, of the passages in its file",
        width="large",
    ),
    "gold": st.column_config.NumberColumn(
        "Gold labels", help="Human-labelled passages in the concept file", width="small"
    ),
    "browse": st.column_config.LinkColumn("Open", display_text="Browse ›", width="small"),
}


def concept_search() -> str:
    """The search box (started from the URL's `search=`, which then follows the box)."""
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
    return search


def concepts_table(frame: pd.DataFrame) -> str | None:
    """The table of concepts; returns the QID of the row the user clicked (None before)."""
    event = st.dataframe(
        frame,
        key="concepts_table",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        column_config=COLUMN_CONFIG,
        width="stretch",
    )
    if not event.selection.rows:
        return None
    return str(frame.iloc[event.selection.rows[0]]["QID"])
