"""Browse: one classifier's predictions for a concept, filtered, highlighted and paged.

`/browse?concept=Q218&classifier=abc&search=GHG` opens that view directly (CONTRACT §6).
"""

import streamlit as st

from predictions_core.ui.cards import SpanColumn, inject_css
from predictions_core.ui.data import load_classifier, version_of
from predictions_core.ui.downloads import downloads_and_api_link
from predictions_core.ui.feedback import feedback_controls
from predictions_core.ui.shell import start_concept_page
from predictions_core.ui.views import classifier_header, concept_header, filtered_cards

concept = start_concept_page("browse", "Browse")
concept_header(concept)
classifier_id = st.session_state.get("classifier")
if not classifier_id:
    st.info("This concept has no classifier predictions yet: pick another concept.")
    st.stop()
classifier = concept.classifiers[classifier_id]
loaded = load_classifier(concept, classifier)
classifier_header(concept, classifier)
inject_css()
render_feedback_controls = feedback_controls()


def feedback_footer(passage: dict) -> None:
    """Reviewer controls (correct / incorrect / unsure + note) under a card."""
    render_feedback_controls(concept.wikibase_id, classifier.id, passage, "browse")


filtered_cards(
    "browse",
    "browse",
    (version_of(classifier), loaded.table),
    [SpanColumn("spans", "pc-span", f"{classifier.classifier.name} span")],
    footers=[("spans", feedback_footer)],
    toolbar=downloads_and_api_link(concept, classifier, loaded, "browse"),
)
