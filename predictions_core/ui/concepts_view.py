"""The Concepts page's search box and table: one row per concept with its classifiers and counts.

A click on a row's cell opens that concept: on Browse, or on Compare / Evaluate when the cell
is in the "Compare ›" / "Evaluate ›" column (and the concept has what that page needs). The
table selects single cells, not rows, because a click on a cell is what a person does; the
page switch happens in the same tab, so Back returns here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from predictions_core.data.catalogue import Catalogue, ConceptEntry
from predictions_core.ui import url_state
from predictions_core.ui.data import positive_counts

COLUMNS = ["label", "QID", "compare", "evaluate", "gold", "positives", "description"]
COMPARE_TEXT, EVALUATE_TEXT = "Compare ›", "Evaluate ›"
_TARGETS = {"compare": "pages/compare.py", "evaluate": "pages/evaluate.py"}


@dataclass(frozen=True)
class Destination:
    """Where a click on the table leads: a page script and the concept to open there."""

    page: str
    qid: str


def positives_text(entry: ConceptEntry) -> str:
    """ "Keyword 12 · CasedKeyword 30 (of 300)": positives per classifier by short name.

    The passage count is said once when every file holds the same passages, else per name.
    """
    counts = {cid: positive_counts(entry, c) for cid, c in entry.classifiers.items()}
    if not counts:
        return "no classifier yet"
    sizes = {passages for _, passages in counts.values()}
    if len(sizes) == 1:
        listed = " · ".join(f"{entry.short_name(cid)} {pos:,}" for cid, (pos, _) in counts.items())
        return f"{listed} (of {sizes.pop():,})"
    return " · ".join(
        f"{entry.short_name(cid)} {pos:,} of {passages:,}"
        for cid, (pos, passages) in counts.items()
    )


def concept_row(entry: ConceptEntry) -> dict:
    """Label, QID, Compare/Evaluate marks where they apply, gold count, positives, description."""
    concept = entry.concept
    return {
        "label": concept.preferred_label,
        "QID": entry.wikibase_id,
        "compare": COMPARE_TEXT if len(entry.classifiers) >= 2 else "",
        "evaluate": EVALUATE_TEXT if entry.gold_passages else "",
        "gold": len(entry.gold_passages),
        "positives": positives_text(entry),
        "description": concept.description or "",
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


# narrow columns first, so the counts fit beside the sidebar; the description may run off
COLUMN_CONFIG = {
    "label": st.column_config.TextColumn("Concept", width=140),
    "QID": st.column_config.TextColumn("QID", width=60),
    "compare": st.column_config.TextColumn(
        "Compare", help="Its classifiers side by side (needs two or more)", width=80
    ),
    "evaluate": st.column_config.TextColumn(
        "Evaluate", help="Its classifiers against its gold labels (where it has some)", width=80
    ),
    "gold": st.column_config.NumberColumn(
        "Gold", help="Human-labelled passages in the concept file", width=50
    ),
    "positives": st.column_config.TextColumn(
        "Positives per classifier",
        help="Passages with spans, per classifier (of the passages in its file)",
        width=560,
    ),
    "description": st.column_config.TextColumn("Description", width="large"),
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


def concepts_table(frame: pd.DataFrame) -> Destination | None:
    """The table of concepts; returns where the cell the user clicked leads (None before)."""
    event = st.dataframe(
        frame,
        key="concepts_table",
        on_select="rerun",
        selection_mode="single-cell",
        hide_index=True,
        column_config=COLUMN_CONFIG,
        width="stretch",
    )
    return destination(frame, event.selection)


def destination(frame: pd.DataFrame, selection) -> Destination | None:
    """Browse for a clicked cell (or row); Compare/Evaluate for their columns' marked cells."""
    cells = [(int(row), str(column)) for row, column in selection.get("cells", [])]
    rows = [(int(row), "label") for row in selection.get("rows", [])]
    clicked = (cells or rows)[:1]
    if not clicked or not 0 <= clicked[0][0] < len(frame):
        return None
    row, column = clicked[0]
    record = frame.iloc[row]
    # an empty Compare/Evaluate cell (the page does not apply) opens Browse like the others
    page = _TARGETS.get(column) if record.get(column) else None
    return Destination(page or "pages/browse.py", str(record["QID"]))
