"""Browse: one classifier's predictions for a concept, filtered, highlighted and paged.

`/browse?concept=Q218&classifier=abc&search=GHG` opens that view directly (CONTRACT §6);
`review=true` opens it in review mode (a ✓/✗/? control under each card).
"""

import streamlit as st

from predictions_core.ui.cards import SpanColumn, inject_css
from predictions_core.ui.data import load_classifier, version_of
from predictions_core.ui.downloads import downloads_and_api_link
from predictions_core.ui.feedback import passage_judging
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
filtered_cards(
    "browse",
    "browse",
    (version_of(classifier), loaded.table),
    [SpanColumn("spans", "pc-span", f"{concept.short_name(classifier.id)} span")],
    judging=passage_judging(
        concept.wikibase_id, [("spans", classifier.id)], "browse", concept.short_names
    ),
    toolbar=downloads_and_api_link(concept, classifier, loaded, "browse"),
)
