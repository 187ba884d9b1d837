"""Browse: one classifier's predictions for a concept, filtered, highlighted and paged.

`/browse?concept=Q218&classifier=abc&search=GHG` opens that view directly (CONTRACT §6).
"""

import streamlit as st

from predictions_core.ui.cards import SpanColumn, inject_css
from predictions_core.ui.data import load_classifier, positive_counts, version_of
from predictions_core.ui.downloads import api_link, download_buttons
from predictions_core.ui.shell import feedback_controls, start_concept_page
from predictions_core.ui.views import concept_header, filtered_cards, markdown_text

render_feedback_controls = feedback_controls()
concept = start_concept_page("browse", "Browse")
concept_header(concept)
classifier_id = st.session_state.get("classifier")
if not classifier_id:
    st.info("This concept has no classifier predictions yet: pick another concept.")
    st.stop()
classifier = concept.classifiers[classifier_id]
loaded = load_classifier(concept, classifier)
n_positives, n_passages = positive_counts(concept, classifier)
st.caption(
    f"Classifier **{markdown_text(classifier.classifier.name)}** (`{classifier.id}`"
    + (f", {classifier.classifier.date_text}" if classifier.classifier.date_text else "")
    + f") · {n_positives:,} positive of {n_passages:,} passages in its file"
)
if loaded.issues:
    st.warning(
        f"{len(loaded.issues)} lines of this file were skipped (see the sidebar's data box).",
        icon="⚠️",
    )
inject_css()


def feedback_footer(passage: dict) -> None:
    """Reviewer controls (correct / incorrect / unsure + note) under a card."""
    render_feedback_controls(concept.wikibase_id, classifier.id, passage, "browse")


def downloads_and_api(filters, result) -> None:
    """Downloads of the whole filtered set, and the API URL of this view."""
    with st.expander("⬇ Download this view · API link"):
        st.caption(
            f"All {result.filtered_count:,} filtered passages (not just this page), in the "
            "order shown: the same bytes the API gives for these parameters."
        )
        download_buttons(concept, classifier, loaded, filters, "browse")
        api_link(concept.wikibase_id, classifier.id, filters, "browse")


filtered_cards(
    "browse",
    "browse",
    (version_of(classifier), loaded.table),
    [SpanColumn("spans", "pc-span", f"{classifier.classifier.name} span")],
    footers=[("spans", feedback_footer)] if render_feedback_controls is not None else [],
    toolbar=downloads_and_api,
)
