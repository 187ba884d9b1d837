"""The sidebar: concept picker, classifier picker (one on Browse, several on Compare), data box.

The chosen concept and classifier(s) are shared between pages through session state
(`concept`, `classifier`, `classifiers`) and live in the URL (`concept=`, `classifier=`,
repeated on /compare). A URL naming an unknown concept or classifier gets an error that
names the parameter, and the page falls back to a concept or classifier that exists.
"""

from __future__ import annotations

import streamlit as st

from predictions_core.data.catalogue import Catalogue, ConceptEntry
from predictions_core.errors import PredictionsError
from predictions_core.query.filters import FILTER_PARAMS
from predictions_core.settings import Settings
from predictions_core.sync.background import get_background_sync
from predictions_core.ui import url_state
from predictions_core.ui.data import (
    current_settings,
    current_store,
    forget_everything,
    in_memory_since,
    load_classifier,
)
from predictions_core.ui.views import markdown_text

MAX_COMPARED_BY_DEFAULT = 4
# the URL parameters each of these pages uses; others (left by a page switch) are dropped
_PAGE_PARAMS = {
    "concepts": {"concept", "search"},
    "browse": {"concept", "classifier", *FILTER_PARAMS},
    "compare": {"concept", "classifier", "a", "b", "show", "threshold", *FILTER_PARAMS},
}


def render_sidebar(page_key: str, catalogue: Catalogue) -> None:
    """Draw the pickers for `page_key` and the data status box; keep the URL in step."""
    known = _PAGE_PARAMS.get(page_key)
    foreign = [key for key in url_state.current_params() if known and key not in known]
    owned: list[str] = ["concept", *foreign]
    values: dict[str, str | list[str]] = {}
    if catalogue.concepts:
        entry = concept_picker(catalogue)
        values["concept"] = entry.wikibase_id
        chosen: list[str] = []
        if page_key == "browse":
            owned.append("classifier")
            chosen = [c for c in [classifier_picker(catalogue, entry)] if c]
            values["classifier"] = chosen
        elif page_key == "compare":
            owned.append("classifier")
            chosen = values["classifier"] = classifiers_picker(catalogue, entry)
        # the page reads these files next (from the store's memory then): loading them now
        # lets the data box below list what they skipped in this very run
        for classifier_id in chosen:
            load_classifier(entry, entry.classifiers[classifier_id])
    data_status_box(catalogue)
    url_state.update_url(page_key, values, owned)


def concept_picker(catalogue: Catalogue) -> ConceptEntry:
    """A selectbox of "label (QID)" (type to search by either); returns the chosen concept."""
    key, concepts = "sidebar_concept", catalogue.concepts
    asked = url_state.first(url_state.current_params(), "concept")
    fallback = st.session_state.get("concept")
    if fallback not in concepts:
        fallback = next(iter(concepts))
    if url_state.url_is_new() and asked is not None:
        try:
            st.session_state[key] = catalogue.concept(asked).wikibase_id
        except PredictionsError as error:
            st.error(f"**concept**: {_reason(error)}. Showing {fallback} instead.", icon="⚠️")
    if st.session_state.get(key) not in concepts:
        st.session_state[key] = fallback
    st.sidebar.selectbox(
        "Concept",
        list(concepts),
        key=key,
        format_func=lambda qid: f"{concepts[qid].concept.preferred_label} ({qid})",
        help="Type to search by label or QID",
    )
    st.session_state["concept"] = st.session_state[key]
    return concepts[st.session_state[key]]


def classifier_label(entry: ConceptEntry, classifier_id: str) -> str:
    """ "name (id) · date", shortened when the name is the id or there is no date."""
    classifier = entry.classifiers[classifier_id].classifier
    label = (
        classifier_id
        if classifier.name == classifier_id
        else f"{classifier.name} ({classifier_id})"
    )
    return f"{label} · {classifier.date_text}" if classifier.date_text else label


def classifier_picker(catalogue: Catalogue, entry: ConceptEntry) -> str | None:
    """One classifier of the concept (Browse); None when the concept has none."""
    key, options = "browse_classifier", list(entry.classifiers)
    if not options:
        st.sidebar.caption("This concept has no classifier predictions.")
        st.session_state["classifier"] = None
        return None
    asked = url_state.first(url_state.current_params(), "classifier")
    fallback = st.session_state.get("classifier")
    fallback = fallback if fallback in options else options[0]
    if url_state.url_is_new() and asked is not None:
        try:
            st.session_state[key] = catalogue.classifier(entry.wikibase_id, asked).id
        except PredictionsError as error:
            st.error(f"**classifier**: {_reason(error)}. Showing {fallback} instead.", icon="⚠️")
    if st.session_state.get(key) not in options:
        st.session_state[key] = fallback
    st.sidebar.selectbox(
        "Classifier", options, key=key, format_func=lambda cid: classifier_label(entry, cid)
    )
    st.session_state["classifier"] = st.session_state[key]
    return st.session_state[key]


def classifiers_picker(catalogue: Catalogue, entry: ConceptEntry) -> list[str]:
    """Several classifiers of the concept (Compare); default: all, up to four."""
    key, options = "compare_classifiers", list(entry.classifiers)
    asked = url_state.current_params().get("classifier", [])
    if url_state.url_is_new() and asked:
        known = []
        for classifier_id in asked:
            try:
                known.append(catalogue.classifier(entry.wikibase_id, classifier_id).id)
            except PredictionsError as error:
                st.error(f"**classifier**: {_reason(error)}; left out.", icon="⚠️")
        known = list(dict.fromkeys(known))
        if len(known) < 2:
            # one classifier is no comparison (e.g. a link from Browse): add the others
            others = [c for c in options if c not in known]
            known += others[: max(0, MAX_COMPARED_BY_DEFAULT - len(known))]
        st.session_state[key] = known
    chosen = st.session_state.get(key)
    if chosen is None or any(c not in options for c in chosen):
        shared = [c for c in st.session_state.get("classifiers") or [] if c in options]
        st.session_state[key] = shared or options[:MAX_COMPARED_BY_DEFAULT]
    st.sidebar.multiselect(
        "Classifiers to compare",
        options,
        key=key,
        format_func=lambda cid: classifier_label(entry, cid),
        placeholder="choose two or more",
    )
    st.session_state["classifiers"] = list(st.session_state[key])
    return list(st.session_state[key])


def _reason(error: PredictionsError) -> str:
    """The error's message, without its parameter name (printed in bold), Markdown-escaped."""
    message = error.message
    if message.startswith(("concept: ", "classifier: ")):
        message = message.split(": ", 1)[1]
    return markdown_text(message)  # it quotes the URL's value, which must not become markup


def data_status_box(catalogue: Catalogue) -> None:
    """Where the data comes from, when it was synced or read, what was skipped; Refresh."""
    settings = current_settings()
    store = current_store()
    issues = store.loaded_issues()
    title = f"Data · {len(catalogue.concepts)} concepts" + (
        f" · ⚠️ {len(issues)} skipped" if issues else ""
    )
    with st.sidebar.expander(title, expanded=False):
        source = "bundled demo data" if settings.data_dir_is_demo else "data dir"
        st.markdown(f"**Source** ({source}): `{settings.data_dir}`")
        if settings.s3_bucket:
            state = "sync off (SKIP_S3_SYNC)" if settings.skip_s3_sync else "synced"
            st.markdown(f"**Bucket**: `s3://{settings.s3_bucket}/{settings.s3_prefix}` ({state})")
        since = in_memory_since()
        held = f" In memory since {since:%Y-%m-%d %H:%M:%S} UTC;" if since else ""
        st.caption(f"{_sync_line(settings)}{held} changed files are re-read on the next view.")
        n_classifiers = sum(len(c.classifiers) for c in catalogue.concepts.values())
        st.caption(f"{len(catalogue.concepts)} concepts, {n_classifiers} classifiers.")
        if issues:
            st.warning(f"{len(issues)} lines or files were skipped.")
            with st.expander("Why"):
                st.code("\n".join(issue.describe() for issue in issues[:500]), language=None)
        if st.button("Refresh data", key="sidebar_refresh", help=_refresh_help(settings)):
            _refresh(settings)


def _sync_line(settings: Settings) -> str:
    if not settings.s3_bucket:
        return "No bucket configured: local files only."
    sync = get_background_sync()
    if sync.is_running:
        progress = sync.progress()
        if progress is None or progress["total"] is None:
            return "Sync in progress: listing the bucket…"
        return f"Sync in progress: {progress['done']:,} of {progress['total']:,} files…"
    last, error = sync.last_sync, sync.last_error
    text = f"Last synced {last:%Y-%m-%d %H:%M:%S} UTC." if last else "Not synced yet."
    return text + (f" Last sync failed: {error}." if error else "")


def _refresh_help(settings: Settings) -> str:
    if settings.sync_enabled:
        return "Sync the bucket now, then re-read every file"
    return "Re-read every file from the data dir"


def _refresh(settings: Settings) -> None:
    if settings.sync_enabled:
        with st.spinner(f"Syncing s3://{settings.s3_bucket}/{settings.s3_prefix}…"):
            report = get_background_sync().sync_now(settings)
        if report.ok:
            st.toast(f"Synced: {len(report.downloaded)} files downloaded", icon="✅")
        else:
            st.toast(f"Sync failed: {report.error or 'see the data box'}", icon="⚠️")
    forget_everything()
    st.rerun()
