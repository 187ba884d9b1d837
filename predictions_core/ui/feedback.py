"""Reviewer feedback controls under a passage card, and the feedback export button.

`feedback_controls()` gives a page the function that draws ✓ correct / ✗ incorrect / ? unsure
and a note under each card; a change is saved at once (a widget callback) to the feedback
database and confirmed with a toast. It reads the judgements of each classifier once per run
(one query), not once per card: a page of 50–100 cards opens one database connection.
The reviewer's name (optional) is `st.session_state["feedback_reviewer"]`, set by
`render_reviewer_input` (for the sidebar); without one, judgements are anonymous. With
`PREDICTIONS_REVIEWER_FROM_ALB=true` the reviewer is instead the load balancer's signed-in user,
read from the same `x-amzn-oidc-data` header as the write route and verified the same way
(`feedback.signin`); a typed name is then ignored. A judgement is stored by
`feedback.judging.record_judgement`, the function `POST /api/feedback/...` calls too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import streamlit as st

from predictions_core.errors import PredictionsError
from predictions_core.feedback.judging import JudgementBody, record_judgement
from predictions_core.feedback.signin import OIDC_DATA_HEADER, signed_in_reviewer
from predictions_core.feedback.store import VERDICTS, FeedbackStore
from predictions_core.ui.data import current_settings
from predictions_core.ui.views import markdown_text

VERDICT_LABELS = {"correct": "✓ correct", "incorrect": "✗ incorrect", "unsure": "? unsure"}
REVIEWER_KEY = "feedback_reviewer"
_REVIEWER_WIDGET_KEY = "_feedback_reviewer_input"


def current_feedback_store() -> FeedbackStore:
    """The feedback database of the current settings (`PREDICTIONS_FEEDBACK_DB`)."""
    return FeedbackStore(current_settings().resolved_feedback_db)


def typed_reviewer() -> str:
    """The reviewer name typed in this session ("" when anonymous)."""
    return str(st.session_state.get(REVIEWER_KEY, "") or "").strip()


def signed_in_user() -> str | None:
    """The verified signed-in user when `PREDICTIONS_REVIEWER_FROM_ALB` is on, else None.

    Raises `SignInError`/`SignInUnavailableError` (`PredictionsError`s) when the setting is on
    and the request's sign-in cannot be trusted: the caller refuses to save, never falls back.
    """
    settings = current_settings()
    if not settings.reviewer_from_alb:
        return None
    return signed_in_reviewer(st.context.headers.get(OIDC_DATA_HEADER), settings)


def current_reviewer() -> str:
    """Who judges in this session: the signed-in user, else the typed name ("" if unknown)."""
    try:
        user = signed_in_user()
    except PredictionsError:
        return ""
    return user if user is not None else typed_reviewer()


def feedback_key(key_prefix: str, classifier_id: str, passage_id: str) -> str:
    """The widget key stem of one passage's controls, unique per classifier and passage."""
    digest = hashlib.sha1(f"{classifier_id}\x1f{passage_id}".encode()).hexdigest()[:12]
    return f"{key_prefix}_fb_{digest}"


def render_reviewer_input() -> None:
    """A text input for the reviewer's name, kept for the session across pages.

    With signed-in reviewers (`PREDICTIONS_REVIEWER_FROM_ALB`), who is signed in instead.
    """
    if current_settings().reviewer_from_alb:
        try:
            st.caption(f"Judging as **{markdown_text(signed_in_user() or '')}** (signed in)")
        except PredictionsError as error:
            st.caption(f"Judgements cannot be saved: {markdown_text(error.message)}")
        return
    # a plain session key outlives the widget, whose own state Streamlit drops on pages
    # that do not draw it
    if _REVIEWER_WIDGET_KEY not in st.session_state:
        st.session_state[_REVIEWER_WIDGET_KEY] = typed_reviewer()
    st.text_input(
        "Reviewer name (optional)",
        key=_REVIEWER_WIDGET_KEY,
        max_chars=100,
        on_change=_copy_reviewer,
        help="Recorded with your ✓/✗ judgements; leave empty to stay anonymous.",
    )


def _copy_reviewer() -> None:
    st.session_state[REVIEWER_KEY] = st.session_state[_REVIEWER_WIDGET_KEY].strip()


ControlsRenderer = Callable[[str, str, dict[str, Any], str], None]


def feedback_controls() -> ControlsRenderer:
    """The function drawing feedback controls under this run's cards (call once per run).

    It is called as `render(qid, classifier_id, passage, key_prefix)`, `passage` being a
    LabelledPassage dict. The judgements of each (concept, classifier) are read on first use
    and kept for this run only, so the next run sees every judgement saved meanwhile.
    """
    judgements: dict[tuple[str, str], dict[str, list[dict[str, Any]]] | PredictionsError] = {}
    reviewers: list[str] = []  # who judges, resolved once per run (a sign-in is verified once)

    def render(qid: str, classifier_id: str, passage: dict[str, Any], key_prefix: str) -> None:
        if not reviewers:
            reviewers.append(current_reviewer())
        if (qid, classifier_id) not in judgements:
            try:
                store = current_feedback_store()
                judgements[qid, classifier_id] = store.judgements_by_passage(qid, classifier_id)
            except PredictionsError as error:
                judgements[qid, classifier_id] = error
        by_passage = judgements[qid, classifier_id]
        if isinstance(by_passage, PredictionsError):
            st.caption(f"Feedback unavailable: {by_passage.message}")
            return
        passage_judgements = by_passage.get(str(passage.get("id", "")), [])
        _render_controls(qid, classifier_id, passage, key_prefix, passage_judgements, reviewers[0])

    return render


def _render_controls(
    qid: str,
    classifier_id: str,
    passage: dict[str, Any],
    key_prefix: str,
    judgements: list[dict[str, Any]],
    reviewer: str,
) -> None:
    """✓/✗/? and a note for one passage, given its reviewers' effective judgements."""
    key = feedback_key(key_prefix, classifier_id, str(passage.get("id", "")))
    verdict_key, note_key = f"{key}_verdict", f"{key}_note"
    mine = next((j for j in reversed(judgements) if (j["reviewer"] or "") == reviewer), None)
    if verdict_key not in st.session_state:
        st.session_state[verdict_key] = mine["verdict"] if mine else None
    if note_key not in st.session_state:
        st.session_state[note_key] = mine["note"] if mine else ""
    save_args = (qid, classifier_id, passage, verdict_key, note_key)
    verdict_column, note_column = st.columns([2, 3], vertical_alignment="center")
    verdict_column.segmented_control(
        "Is this prediction right?",
        options=VERDICTS,
        format_func=VERDICT_LABELS.get,
        key=verdict_key,
        required=True,
        on_change=_save_judgement,
        args=save_args,
        label_visibility="collapsed",
    )
    note_column.text_input(
        "Note",
        key=note_key,
        max_chars=2_000,
        placeholder="Note (optional, saved with your judgement)",
        on_change=_save_judgement,
        args=save_args,
        label_visibility="collapsed",
    )
    st.caption(judgement_summary(mine, judgements, reviewer))


def judgement_summary(
    mine: dict[str, Any] | None, judgements: list[dict[str, Any]], reviewer: str
) -> str:
    """One line: this reviewer's current judgement and what other reviewers said."""
    if mine is None:
        text = "Not judged by you yet."
    else:
        when = mine["created_at"][:16].replace("T", " ")
        text = f"Your judgement: {VERDICT_LABELS[mine['verdict']]} ({when} UTC)."
    others = [j for j in judgements if (j["reviewer"] or "") != reviewer]
    if others:
        counts = {verdict: sum(j["verdict"] == verdict for j in others) for verdict in VERDICTS}
        said = ", ".join(f"{n} {VERDICT_LABELS[v]}" for v, n in counts.items() if n)
        text += f" Other reviewers: {said}."
    return text


def _save_judgement(
    qid: str, classifier_id: str, passage: dict[str, Any], verdict_key: str, note_key: str
) -> None:
    verdict = st.session_state.get(verdict_key)
    if verdict is None:
        st.toast("Choose ✓, ✗ or ? to save the note with a judgement.")
        return
    try:
        body = JudgementBody.parse(
            {
                "passage_id": str(passage.get("id", "")),
                "judgement": verdict,
                "note": str(st.session_state.get(note_key, "") or ""),
                "reviewer": typed_reviewer() or None,
            }
        )
        record_judgement(
            current_feedback_store(), qid, classifier_id, passage, body, signed_in_user()
        )
    except PredictionsError as error:
        st.toast(f"Not saved: {error.message}", icon="⚠️")
        return
    st.toast(f"Saved: {VERDICT_LABELS[verdict]}", icon="💾")


def render_feedback_export(qid: str, classifier_id: str, key_prefix: str) -> None:
    """A download button for the judgements of one classifier, as gold-format JSONL."""
    store = current_feedback_store()
    try:
        n_judged = len(store.list_judgements(qid, classifier_id))
    except PredictionsError as error:
        st.caption(f"Feedback unavailable: {error.message}")
        return
    st.download_button(
        f"Export feedback (JSONL, {n_judged} judged)",
        # a callable: the file is built only when someone clicks
        data=lambda: b"".join(store.export_jsonl(qid, classifier_id)),
        file_name=f"{qid}-{classifier_id}-feedback.jsonl",
        mime="application/x-ndjson",
        key=f"{key_prefix}_fb_export",
        disabled=n_judged == 0,
        on_click="ignore",
        help="Reviewers' judgements as LabelledPassages: usable as gold labels "
        "(`labelled_passages` of a concept file). Passages judged only 'unsure' are left out.",
    )
