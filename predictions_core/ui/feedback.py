"""Reviewers' judgements on the cards: who judges, the ✓/✗/? control, the export button.

`passage_judging(...)` gives `filtered_cards` what it needs: a line per card saying who judged
the passage how (read mode: text inside the cards' one HTML block), and in review mode ONE
control per card (✓ correct / ✗ incorrect / ? unsure) plus a note, shown once the card is
judged (a popover: one button until it is opened). A change is saved at once (a widget
callback) and confirmed with a toast. The judgements of each classifier are read once per run
of the card list (one query), not once per card.

Who judges: with `PREDICTIONS_REVIEWER_FROM_ALB=true`, the load balancer's signed-in user, read
from the same `x-amzn-oidc-data` header as the write route and verified the same way
(`feedback.signin`). Otherwise the name typed in the sidebar (`render_reviewer_input`), kept for
the session and in the URL (`reviewer=`, on every page, so a bookmarked or shared link keeps
it; Streamlit cannot set a cookie). Without a name, judging stays possible but is anonymous
per browser session: the session gets its own `anonymous-xxxxxx` name, so two anonymous
people never replace each other's judgements, nor see one as "Your judgement". A judgement is
stored by `feedback.judging.record_judgement`, the function `POST /api/feedback/...` calls too.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from predictions_core.errors import PredictionsError
from predictions_core.feedback.judging import JudgementBody, record_judgement
from predictions_core.feedback.signin import OIDC_DATA_HEADER, signed_in_reviewer
from predictions_core.feedback.store import VERDICTS, FeedbackStore
from predictions_core.ui import url_state
from predictions_core.ui.cards import id_column_of
from predictions_core.ui.data import current_settings
from predictions_core.ui.views import markdown_text

VERDICT_LABELS = {"correct": "✓ correct", "incorrect": "✗ incorrect", "unsure": "? unsure"}
VERDICT_SYMBOLS = {"correct": "✓", "incorrect": "✗", "unsure": "?"}
REVIEWER_KEY = "feedback_reviewer"
REVIEWER_PARAM = "reviewer"
_REVIEWER_WIDGET_KEY = "_feedback_reviewer_input"
_ANONYMOUS_KEY = "_feedback_anonymous_name"
NOTE_SHOWN_CHARS = 80
MEANING = (
    "**✓ correct**: the classifier is right about this passage (with spans: the passage is "
    "about the concept and its spans are gold; without spans: rightly not flagged). "
    "**✗ incorrect**: on a passage with spans, the whole passage counts as negative, even "
    "where some of its spans were right; on a passage without spans, it records a missed hit "
    "(the whole passage is positive). **? unsure**: kept, never used as a gold label. "
    "Each reviewer's latest judgement counts."
)


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


def anonymous_name() -> str:
    """This browser session's reviewer name while no name is given (`anonymous-xxxxxx`)."""
    if _ANONYMOUS_KEY not in st.session_state:
        st.session_state[_ANONYMOUS_KEY] = f"anonymous-{secrets.token_hex(3)}"
    return st.session_state[_ANONYMOUS_KEY]


def current_reviewer() -> str:
    """Who judges in this session: the signed-in user, else the typed name, else this
    session's anonymous name ("" when a required sign-in cannot be verified)."""
    try:
        user = signed_in_user()
    except PredictionsError:
        return ""
    return user if user is not None else (typed_reviewer() or anonymous_name())


def feedback_key(key_prefix: str, classifier_id: str, passage_id: str) -> str:
    """The widget key stem of one passage's controls, unique per classifier and passage."""
    digest = hashlib.sha1(f"{classifier_id}\x1f{passage_id}".encode()).hexdigest()[:12]
    return f"{key_prefix}_fb_{digest}"


def render_reviewer_input(page_key: str | None = None) -> None:
    """The reviewer's name (call inside the sidebar), kept for the session and in the URL.

    With `page_key`, the name is read from the URL (`reviewer=`) when it names one and written
    back to it. With signed-in reviewers (`PREDICTIONS_REVIEWER_FROM_ALB`), who is signed in.
    """
    if current_settings().reviewer_from_alb:
        try:
            st.caption(f"Judging as **{markdown_text(signed_in_user() or '')}** (signed in)")
        except PredictionsError as error:
            st.caption(f"Judgements cannot be saved: {markdown_text(error.message)}")
        return
    asked = url_state.first(url_state.current_params(), REVIEWER_PARAM) if page_key else None
    if asked is not None and url_state.url_is_new():
        st.session_state[REVIEWER_KEY] = asked.strip()[:100]
        st.session_state[_REVIEWER_WIDGET_KEY] = st.session_state[REVIEWER_KEY]
    # a plain session key outlives the widget, whose own state Streamlit drops on pages
    # that do not draw it
    if _REVIEWER_WIDGET_KEY not in st.session_state:
        st.session_state[_REVIEWER_WIDGET_KEY] = typed_reviewer()
    st.text_input(
        "Reviewer name",
        key=_REVIEWER_WIDGET_KEY,
        max_chars=100,
        on_change=_copy_reviewer,
        placeholder="your name, saved with your judgements",
        help="Saved with each ✓/✗/? judgement and kept in the page's URL, so other reviewers "
        "see whose judgement is whose. Without a name you judge as this browser session's "
        "anonymous name.",
    )
    if not typed_reviewer():
        st.caption(f"Judging anonymously as {anonymous_name()} (this visit only).")
    if page_key:
        name = typed_reviewer()
        url_state.update_url(page_key, {REVIEWER_PARAM: name} if name else {}, [REVIEWER_PARAM])


def _copy_reviewer() -> None:
    st.session_state[REVIEWER_KEY] = st.session_state[_REVIEWER_WIDGET_KEY].strip()


Judged = Sequence[tuple[str, str]]
"""(span column, classifier id) pairs judged on each card: one, or both of a Compare pair."""


class PassageJudging:
    """Judgements on a list of cards (the `cards.Judging` protocol); see the module docstring.

    `judged` says which classifiers one control judges: on Compare's "Both", one verdict is
    saved for both classifiers, each with its own spans and its own id for the passage
    (`cards.id_column_of`). `names` are the classifiers' short names, used where a card shows
    the judgements of more than one.
    """

    def __init__(self, qid: str, judged: Judged, key_prefix: str, names: Mapping[str, str]):
        self.qid, self.key_prefix = qid, key_prefix
        self.columns = [column for column, _ in judged]
        self.classifier_ids = [classifier_id for _, classifier_id in judged]
        self.names = dict(names)
        self.review = False
        self.reviewer = ""
        self.by_classifier: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.error: PredictionsError | None = None

    def begin(self, review: bool) -> None:
        """Read the judgements (once per run of the card list) and say so if they cannot be."""
        self.review, self.reviewer = review, current_reviewer()
        self.by_classifier, self.error = {}, None
        try:
            store = current_feedback_store()
            for classifier_id in self.classifier_ids:
                self.by_classifier[classifier_id] = store.judgements_by_passage(
                    self.qid, classifier_id
                )
        except PredictionsError as error:
            self.error = error
            st.caption(f"Feedback unavailable: {markdown_text(error.message)}")

    def header(self) -> None:
        """Review mode's head: what a judgement means, who judges, the export buttons."""
        who = markdown_text(self.reviewer) if self.reviewer else "nobody (sign-in not verified)"
        names = " and ".join(
            f"**{markdown_text(self.names.get(c, c))}**" for c in self.classifier_ids
        )
        st.caption(
            f"Each card's ✓/✗/? judges {names}'s prediction on it. {MEANING} "
            f"You judge as **{who}** (see the sidebar)."
        )
        if self.error is not None:
            return
        columns = st.columns(len(self.classifier_ids))
        for column, classifier_id in zip(columns, self.classifier_ids, strict=True):
            with column:
                judged = sum(map(len, self.by_classifier[classifier_id].values()))
                label = self.names.get(classifier_id, classifier_id)
                render_feedback_export(self.qid, classifier_id, self.key_prefix, judged, label)

    def _of(self, passage_ids: Sequence[str]) -> list[tuple[str, list[dict[str, Any]]]]:
        """Each judged classifier's judgements of the card's passage (`passage_ids`: the id
        each classifier gives it, in `classifier_ids` order)."""
        return [
            (classifier_id, self.by_classifier.get(classifier_id, {}).get(passage_id, []))
            for classifier_id, passage_id in zip(self.classifier_ids, passage_ids, strict=True)
        ]

    def summary(self, record: dict) -> str:
        """Who judged the passage how: "Your judgement: ✓ correct · ✗ bob" (text, not HTML)."""
        parts = []
        ids = [str(record.get(id_column_of(column, list(record))) or "") for column in self.columns]
        for classifier_id, judgements in self._of(ids):
            line = judgement_line(judgements, self.reviewer)
            if line and len(self.classifier_ids) > 1:
                line = f"{self.names.get(classifier_id, classifier_id)}: {line}"
            parts.append(line)
        text = " | ".join(part for part in parts if part)
        return text or ("Not judged yet." if self.review else "")

    def controls(self, passages: Sequence[dict]) -> None:
        """ONE ✓/✗/? control for the card's passage(s) and, once judged, a note in a popover."""
        if self.error is not None:
            return
        ids = [str(passage.get("id", "")) for passage in passages]
        key = feedback_key(self.key_prefix, "\x1e".join(self.classifier_ids), "\x1e".join(ids))
        verdict_key, note_key = f"{key}_verdict", f"{key}_note"
        mine = [_latest_of(judgements, self.reviewer) for _, judgements in self._of(ids)]
        if verdict_key not in st.session_state:
            verdicts = {j["verdict"] if j else None for j in mine}
            st.session_state[verdict_key] = verdicts.pop() if len(verdicts) == 1 else None
        if note_key not in st.session_state:
            st.session_state[note_key] = next((j["note"] for j in mine if j and j["note"]), "")
        save_args = (
            self.qid,
            list(zip(self.classifier_ids, passages, strict=True)),
            verdict_key,
            note_key,
        )
        row = st.container(horizontal=True, vertical_alignment="center")
        row.segmented_control(
            "Your judgement",
            options=VERDICTS,
            format_func=VERDICT_LABELS.get,
            key=verdict_key,
            required=True,
            on_change=_save_judgement,
            args=save_args,
            label_visibility="collapsed",
            help=verdict_help(passages[0], [self.names.get(c, c) for c in self.classifier_ids]),
        )
        if st.session_state.get(verdict_key) is not None:
            note = st.session_state.get(note_key) or ""
            with row.popover("📝 Edit note" if note else "📝 Add a note"):
                st.text_input(
                    "Note (saved with your judgement)",
                    key=note_key,
                    max_chars=2_000,
                    on_change=_save_judgement,
                    args=save_args,
                )


def passage_judging(
    qid: str, judged: Judged, key_prefix: str, names: Mapping[str, str] | None = None
) -> PassageJudging:
    """The judging of a page's cards (pass it to `views.filtered_cards`)."""
    return PassageJudging(qid, judged, key_prefix, names or {})


def verdict_help(passage: dict, names: Sequence[str]) -> str:
    """What ✓ and ✗ mean for this passage (it has spans, or none)."""
    whose = " and ".join(names)
    if passage.get("spans"):
        return (
            f"About {whose}'s prediction on this passage. ✓: the passage is about the concept. "
            "✗: the whole passage counts as negative, even where some of its spans were right."
        )
    return (
        f"About {whose}'s prediction on this passage (no spans). ✓: rightly not flagged. "
        "✗: a missed hit: the whole passage is about the concept."
    )


def _latest_of(judgements: list[dict[str, Any]], reviewer: str) -> dict[str, Any] | None:
    return next((j for j in reversed(judgements) if reviewer and j["reviewer"] == reviewer), None)


def judgement_line(judgements: list[dict[str, Any]], reviewer: str) -> str:
    """ "Your judgement: ✓ correct (2026-12-02 10:00 UTC) · ✗ bob · ? anonymous": one line.

    "Your judgement" only for `reviewer`'s own (a judgement without a reviewer, from the API or
    older versions, is "anonymous" and nobody's own); the others by name, with their notes.
    """
    mine = _latest_of(judgements, reviewer)
    parts = []
    if mine is not None:
        when = mine["created_at"][:16].replace("T", " ")
        parts.append(f"Your judgement: {VERDICT_LABELS[mine['verdict']]} ({when} UTC)")
    for judgement in judgements:
        if judgement is mine:
            continue
        parts.append(
            f"{VERDICT_SYMBOLS[judgement['verdict']]} {judgement['reviewer'] or 'anonymous'}"
        )
        note = str(judgement.get("note") or "")
        if note:
            shown = note if len(note) <= NOTE_SHOWN_CHARS else note[: NOTE_SHOWN_CHARS - 1] + "…"
            parts[-1] += f" (“{shown}”)"
    return " · ".join(parts)


def _save_judgement(
    qid: str, judged: list[tuple[str, dict[str, Any]]], verdict_key: str, note_key: str
) -> None:
    verdict = st.session_state.get(verdict_key)
    if verdict is None:
        st.toast("Choose ✓, ✗ or ? to save the note with a judgement.")
        return
    note = str(st.session_state.get(note_key, "") or "")
    try:
        signed_in = signed_in_user()
        reviewer = typed_reviewer() or anonymous_name()
        for classifier_id, passage in judged:
            body = JudgementBody.parse(
                {
                    "passage_id": str(passage.get("id", "")),
                    "judgement": verdict,
                    "note": note,
                    "reviewer": reviewer,
                }
            )
            store = current_feedback_store()
            record_judgement(store, qid, classifier_id, passage, body, signed_in)
    except PredictionsError as error:
        st.toast(f"Not saved: {error.message}", icon="⚠️")
        return
    both = f" ({len(judged)} classifiers)" if len(judged) > 1 else ""
    st.toast(f"Saved: {VERDICT_LABELS[verdict]}{both} as {signed_in or reviewer}", icon="💾")


def render_feedback_export(
    qid: str,
    classifier_id: str,
    key_prefix: str,
    n_judged: int | None = None,
    label: str | None = None,
) -> None:
    """A download button for the judgements of one classifier, as gold-format JSONL.

    `n_judged`: how many effective judgements there are, when the caller has read them.
    """
    store = current_feedback_store()
    if n_judged is None:
        try:
            n_judged = len(store.list_judgements(qid, classifier_id))
        except PredictionsError as error:
            st.caption(f"Feedback unavailable: {markdown_text(error.message)}")
            return
    whose = f"{label}: " if label else ""
    st.download_button(
        f"⬇ {whose}judgements (JSONL, {n_judged} judged)",
        # a callable: the file is built only when someone clicks
        data=lambda: b"".join(store.export_jsonl(qid, classifier_id)),
        file_name=f"{qid}-{classifier_id}-feedback.jsonl",
        mime="application/x-ndjson",
        key=f"{key_prefix}_fb_export_{hashlib.sha1(classifier_id.encode()).hexdigest()[:8]}",
        disabled=n_judged == 0,
        on_click="ignore",
        help="Every reviewer's latest judgements as LabelledPassages: usable as gold labels "
        "(`labelled_passages` of a concept file). Passages judged only 'unsure' are left out.",
    )
