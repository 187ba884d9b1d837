"""Evaluate's choices, each in the URL (CONTRACT §6), so a copied URL restores the view and
Back returns to the previous one.

    gold_source=concept|feedback|both   slice=<dimension>   a=ID&b=ID (the pair compared)
    classifier=ID (whose false positives/negatives are listed)   threshold=0..1

Only choices that differ from the page's default are written: opening the page adds no
history entry, so Back leaves it rather than landing on the same view. The default is the
first option (the first classifier, the first gold source that holds labels, region).

A widget starts from the URL when `url_state.url_restores_view()` says so (a link, Back,
Forward), otherwise it keeps what the user chose and the URL follows. That reading also
makes a burst of clicks safe: a rerun carrying a URL this session wrote a moment ago (sent
before the browser had the newest one) no longer pulls the widget back to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import streamlit as st

from predictions_core.analysis.evaluation import SLICE_DIMENSIONS
from predictions_core.analysis.results import Evaluation
from predictions_core.analysis.thresholds import parse_threshold
from predictions_core.errors import InvalidParameterError
from predictions_core.ui import url_state
from predictions_core.ui.views import markdown_text

PAGE = "evaluate"
GOLD_SOURCE_LABELS = {
    "concept": "Concept's gold labels",
    "feedback": "Reviewers' feedback",
    "both": "Both",
}
SLICE_LABELS = {
    "world_bank_region": "Region (world_bank_region)",
    "document_metadata.corpus_type_name": "Corpus (document_metadata.corpus_type_name)",
    "translated": "Translated",
}
DEFAULT_SLICE = "world_bank_region"
SLICE_KEY, A_KEY, B_KEY, ERRORS_KEY = (
    "evaluate_dimension",
    "evaluate_a",
    "evaluate_b",
    "evaluate_errors",
)
THRESHOLD_ON, THRESHOLD_VALUE = "evaluate_threshold_on", "evaluate_threshold"
URL_PARAMS = ("gold_source", "slice", "a", "b", "classifier", "threshold")
_SHOWN_CHARACTERS = 60  # of a bad URL value, in the warning


def _start_from_url(
    key: str, param: str, options: Sequence[str], default: str, unknown: Callable[[str], str]
) -> None:
    """Before the widget `key` is drawn: set it from the URL's `param` when the URL restores
    the view (absent: `default`; not an option: `default`, with a warning that says
    `unknown(value)`), and fall back to `default` when its value is no option any more.
    """
    if url_state.url_restores_view():
        asked = url_state.first(url_state.current_params(), param)
        if asked is not None and asked not in options:
            shown = markdown_text(repr(asked[:_SHOWN_CHARACTERS]))
            st.warning(f"**{param}**: {shown} {unknown(default)}", icon="⚠️")
        st.session_state[key] = asked if asked in options else default
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


def _write(values: Mapping[str, str | None], defaults: Mapping[str, str | None]) -> None:
    """Put the choices in the URL, leaving out those at their default."""
    chosen = {param: value for param, value in values.items() if value != defaults[param]}
    url_state.update_url(PAGE, {k: v for k, v in chosen.items() if v is not None}, list(values))


def gold_source_picker(qid: str, sources: list[str]) -> str:
    """Concept gold / reviewers' feedback / both (`gold_source=`, as in the API)."""
    key, default = f"evaluate_gold_{qid}", sources[0]
    _start_from_url(
        key,
        "gold_source",
        sources,
        default,
        lambda fallback: (
            f"is not available for {qid} (choose {', '.join(sources)}). "
            f"Showing {GOLD_SOURCE_LABELS[fallback]}."
        ),
    )
    source = st.radio(
        "Gold labels",
        sources,
        format_func=GOLD_SOURCE_LABELS.get,
        horizontal=True,
        key=key,
        help="Reviewers' feedback: ✓ correct makes the predicted spans gold, ✗ incorrect makes "
        "the passage a negative; 'unsure' is left out. Feedback covers judged passages only.",
    )
    _write({"gold_source": source}, {"gold_source": default})
    return source


def slice_picker() -> str:
    """The dimension the breakdown slices by (`slice=`, the API's breakdown key)."""
    _start_from_url(
        SLICE_KEY,
        "slice",
        SLICE_DIMENSIONS,
        DEFAULT_SLICE,
        lambda fallback: (
            f"is not a slice (choose {', '.join(SLICE_DIMENSIONS)}). "
            f"Showing {SLICE_LABELS[fallback]}."
        ),
    )
    dimension = st.segmented_control(
        "Slice by", SLICE_DIMENSIONS, format_func=SLICE_LABELS.get, required=True, key=SLICE_KEY
    )
    _write({"slice": dimension}, {"slice": DEFAULT_SLICE})
    return dimension


def _unknown_classifier(names: Mapping[str, str]) -> Callable[[str], str]:
    return lambda fallback: (
        f"is not a classifier of this concept. Showing {markdown_text(names[fallback])}."
    )


def pair_picker(names: Mapping[str, str]) -> tuple[str, str] | None:
    """Classifiers A and B (`a=ID&b=ID`), by short name; None with fewer than two."""
    ids = list(names)
    if len(ids) < 2:
        url_state.update_url(PAGE, {}, ["a", "b"])
        return None
    defaults = {"a": ids[0], "b": ids[1]}
    chosen = {}
    for (param, key), column in zip((("a", A_KEY), ("b", B_KEY)), st.columns(2), strict=True):
        _start_from_url(key, param, ids, defaults[param], _unknown_classifier(names))
        chosen[param] = column.selectbox(param.upper(), ids, format_func=names.get, key=key)
    _write(chosen, defaults)
    return chosen["a"], chosen["b"]


def errors_picker(names: Mapping[str, str]) -> str:
    """Whose false positives and negatives are listed (`classifier=ID`), by short name."""
    ids = list(names)
    _start_from_url(ERRORS_KEY, "classifier", ids, ids[0], _unknown_classifier(names))
    chosen = st.selectbox("Classifier", ids, format_func=names.get, key=ERRORS_KEY)
    _write({"classifier": chosen}, {"classifier": ids[0]})
    return chosen


def threshold_picker(result: Evaluation) -> float | None:
    """A toggle and a slider (`threshold=`) when some classifier has scores."""
    asked = url_state.first(url_state.current_params(), "threshold")
    if not any(c.threshold.has_scores for c in result.classifiers):
        if asked is not None and url_state.url_restores_view():
            st.info(f"**threshold**: no classifier of {result.wikibase_id} has scores; ignored.")
        url_state.update_url(PAGE, {}, ["threshold"])
        return None
    if url_state.url_restores_view():
        try:
            parsed = parse_threshold(asked)
        except InvalidParameterError as error:
            message = markdown_text(error.message)  # it quotes the URL's value
            st.warning(f"{message}. Showing the scores without a threshold.", icon="⚠️")
            parsed = None
        st.session_state[THRESHOLD_ON] = parsed is not None
        if parsed is not None:
            st.session_state[THRESHOLD_VALUE] = parsed
    st.session_state.setdefault(THRESHOLD_VALUE, 0.5)
    on = st.toggle(
        "Apply a score threshold",
        key=THRESHOLD_ON,
        help="A passage counts as predicted positive only when its score (the highest "
        "prediction_probability of its spans) is at least the threshold. Classifiers "
        "without scores are unaffected.",
    )
    value = st.slider("Score threshold", 0.0, 1.0, step=0.01, key=THRESHOLD_VALUE, disabled=not on)
    url_state.update_url(PAGE, {"threshold": f"{value:g}"} if on else {}, ["threshold"])
    return float(value) if on else None
