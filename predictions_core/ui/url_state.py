"""The page's state in its URL (CONTRACT §6): read it, parse it leniently, write it back.

A widget starts from the URL when the URL was changed by something other than this
session's own writes: a fresh browser opening a copied link, a link to another page, a
page switch. Otherwise the widgets hold the state and the URL follows them. `begin_run`
decides which of the two this run is, once, before any widget is drawn.

`url_restores_view` is the stricter reading (Evaluate uses it): a rerun that arrives with a
URL this session wrote a moment ago is a click sent before the browser had the newest URL,
not a link, so the widgets keep what the user just did; Back/Forward always restores.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from predictions_core.errors import InvalidParameterError
from predictions_core.query.filters import FILTER_PARAMS, Filters

Params = dict[str, list[str]]
_LAST_WRITTEN = "_url_last_written"
_EXTERNAL = "_url_external"
_WRITTEN_RECENTLY = "_url_written_recently"
_RESTORES = "_url_restores_view"
_PREVIOUS_PAGE = "_url_previous_page"
RECENT_WRITES = 16  # a burst of clicks (e.g. arrow keys on a slider) writes a few URLs


def current_params() -> Params:
    """Every URL parameter with all its values (repeated keys kept, in order)."""
    return {key: list(st.query_params.get_all(key)) for key in st.query_params}


def begin_run(page_key: str) -> None:
    """Note whether the URL changed since this session last wrote it (call once per run)."""
    now = (page_key, _normalised(current_params()))
    st.session_state[_EXTERNAL] = now != st.session_state.get(_LAST_WRITTEN)
    ctx = get_script_run_ctx()
    history = bool(ctx is not None and ctx.is_history_navigation)
    switched = st.session_state.get(_PREVIOUS_PAGE) != page_key
    written = now in st.session_state.get(_WRITTEN_RECENTLY, [])
    st.session_state[_RESTORES] = history or switched or not written
    st.session_state[_PREVIOUS_PAGE] = page_key


def url_is_new() -> bool:
    """True when widgets should start from the URL in this run (see module docstring)."""
    return not _fragment_rerun() and bool(st.session_state.get(_EXTERNAL, True))


def url_restores_view() -> bool:
    """True when widgets should start from the URL in this run, strictly (module docstring).

    True on Back/Forward, on a page switch and for a URL this session did not write (a
    copied link); False for a URL it wrote among its last `RECENT_WRITES`, which a rerun
    carries when a click was sent before the browser had received the newest URL.
    """
    return not _fragment_rerun() and bool(st.session_state.get(_RESTORES, True))


def _fragment_rerun() -> bool:
    """True in a run of fragments only: a widget of the fragment changed, never the URL
    (Back/Forward and links rerun the whole page), and `begin_run` did not run."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def first(params: Mapping[str, Sequence[str]], key: str) -> str | None:
    """The last non-empty value of `key` (the one `Filters` would use), or None."""
    values = [value for value in params.get(key, []) if value != ""]
    return values[-1] if values else None


def update_url(page_key: str, values: Mapping[str, str | list[str]], owned: Iterable[str]) -> None:
    """Set `values` in the URL and remove the other `owned` keys; other keys stay as they are."""
    params = current_params()
    for key in owned:
        params.pop(key, None)
    for key, value in values.items():
        params[key] = [value] if isinstance(value, str) else list(value)
    params = {key: value for key, value in params.items() if value}
    written = (page_key, _normalised(params))
    if _normalised(params) != _normalised(current_params()):
        st.query_params.from_dict(params)
    st.session_state[_LAST_WRITTEN] = (page_key, _normalised(params))
    recent = [entry for entry in st.session_state.get(_WRITTEN_RECENTLY, []) if entry != written]
    st.session_state[_WRITTEN_RECENTLY] = [*recent, written][-RECENT_WRITES:]


def parse_filters(
    params: Mapping[str, Sequence[str]],
) -> tuple[Filters, list[InvalidParameterError]]:
    """`Filters` from URL-style params, dropping each parameter that is wrong.

    Returns the filters of the parameters that are fine and, for the others, the errors
    (each names its parameter), so a page can say what it ignored and still show something.
    """
    remaining = {
        key: [values] if isinstance(values, str) else list(values)
        for key, values in params.items()
        if key in FILTER_PARAMS
    }
    problems: list[InvalidParameterError] = []
    for _ in range(len(FILTER_PARAMS) + 1):
        try:
            return Filters.from_query_params(remaining), problems
        except InvalidParameterError as error:
            problems.append(error)
            if error.parameter not in remaining:
                break
            remaining.pop(error.parameter)
    return Filters(), problems


def _normalised(params: Mapping[str, Sequence[str]]) -> tuple:
    return tuple(sorted((key, tuple(values)) for key, values in params.items() if values))
