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
from predictions_core.sync.state import SyncReport
from predictions_core.ui import url_state
from predictions_core.ui.data import (
    current_settings,
    current_store,
    forget_everything,
    in_memory_since,
    load_classifier,
)
from predictions_core.ui.feedback import REVIEWER_PARAM, render_reviewer_input
from predictions_core.ui.views import REVIEW_PARAM, markdown_text

MAX_COMPARED_BY_DEFAULT = 4
# the URL parameters each of these pages uses; others (left by a page switch) are dropped
_PAGE_PARAMS = {
    "concepts": {"concept", "search", REVIEWER_PARAM},
    "browse": {"concept", "classifier", REVIEW_PARAM, REVIEWER_PARAM, *FILTER_PARAMS},
    "compare": {
        *("concept", "classifier", "a", "b", "show", "threshold", REVIEW_PARAM, REVIEWER_PARAM),
        *FILTER_PARAMS,
    },
    "evaluate": {
        *("concept", "gold_source", "slice", "a", "b", "classifier", "threshold"),
        REVIEWER_PARAM,
    },
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
    with st.sidebar:
        render_reviewer_input(page_key)  # every page: the name stays in the URL across pages
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
    """ "short name · date · id": what tells the classifiers apart first, the id last.

    The sidebar is narrow and long names start alike (`KeywordClassifier("greenhouse gas")`,
    `CasedKeywordClassifier(...)`): cut there, they would all read the same. The id stays at
    the end so that typing it in the picker still finds the classifier.
    """
    short = entry.short_name(classifier_id)
    parts = [short]
    date = entry.classifiers[classifier_id].classifier.date_text
    if date and date not in short:  # a short name may hold the date (or id) already
        parts.append(date)
    if classifier_id not in short:
        parts.append(classifier_id)
    return " · ".join(parts)


def _ids_help(entry: ConceptEntry) -> str:
    """The pickers' tooltip: each short name with the classifier's full name and id."""
    lines = []
    for classifier_id, classifier_entry in entry.classifiers.items():
        name = classifier_entry.classifier.name or classifier_id
        short = markdown_text(entry.short_name(classifier_id))
        lines.append(f"- **{short}**: {markdown_text(name)}, id {markdown_text(classifier_id)}")
    return "\n".join(lines)


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
        "Classifier",
        options,
        key=key,
        format_func=lambda cid: classifier_label(entry, cid),
        help=_ids_help(entry),
    )
    st.session_state["classifier"] = st.session_state[key]
    return st.session_state[key]


def classifiers_picker(catalogue: Catalogue, entry: ConceptEntry) -> list[str]:
    """Several classifiers of the concept (Compare); default: all, up to four.

    A URL naming classifiers gets exactly those that exist, even a single one: the Compare
    page then says it needs two (adding others behind the user's back would compare what the
    link did not ask for). A URL naming none that exist gets the default.
    """
    key, options = "compare_classifiers", list(entry.classifiers)
    asked = url_state.current_params().get("classifier", [])
    if url_state.url_is_new() and asked:
        known = []
        for classifier_id in asked:
            try:
                known.append(catalogue.classifier(entry.wikibase_id, classifier_id).id)
            except PredictionsError as error:
                st.error(f"**classifier**: {_reason(error)}; left out.", icon="⚠️")
        st.session_state[key] = list(dict.fromkeys(known)) or None
    chosen = st.session_state.get(key)
    if chosen is None or any(c not in options for c in chosen):
        shared = [c for c in st.session_state.get("classifiers") or [] if c in options]
        st.session_state[key] = shared or options[:MAX_COMPARED_BY_DEFAULT]
    st.sidebar.multiselect(
        "Classifiers to compare",
        options,
        key=key,
        format_func=lambda cid: classifier_label(entry, cid),
        help=_ids_help(entry),
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
    last, report = sync.last_sync, sync.last_report
    text = f"Last synced {last:%Y-%m-%d %H:%M:%S} UTC." if last else "Not synced yet."
    if report is None or report.ok:
        return text
    return f"{text} Last sync failed: {sync_failure(report)}. The pages show the files from before."


# the sync's own messages are for whoever runs the server (bucket names, paths, boto text):
# a reader of the dashboard gets the kind of trouble; /api/health and the log say the rest
_SYNC_TROUBLES = (
    (("access denied", "credentials"), "access denied"),
    (("does not exist",), "the bucket was not found"),
    (("could not connect", "stopped answering", "broke off"), "S3 could not be reached"),
    (
        ("local file error", "could not write", "not a directory"),
        "the server could not save the files",
    ),
)


def sync_failure(report: SyncReport) -> str:
    """Why a sync failed, in a reader's words: no paths, bucket names or S3 client text."""
    if report.error is None:
        return f"{len(report.failed):,} files could not be updated"
    error = report.error.lower()
    for needles, words in _SYNC_TROUBLES:
        if any(needle in error for needle in needles):
            return words
    return "an unexpected error (the server's log says which)"


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
            st.toast(f"Sync failed: {sync_failure(report)}", icon="⚠️")
    forget_everything()
    st.rerun()
