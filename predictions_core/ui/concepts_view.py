"""The table of the Concepts page: one row per concept with its classifiers and counts."""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from predictions_core.data.catalogue import Catalogue, ConceptEntry
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
