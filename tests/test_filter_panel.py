"""The filter widgets' state and the URL: every `Filters` field round-trips through its widget."""

from __future__ import annotations

import pytest
import streamlit as st

from predictions_core.query.filters import FILTER_PARAMS, Filters
from predictions_core.ui import filter_panel

EVERY_FIELD_SET = Filters(
    search="/carbon (tax|price)/i",
    region=["South Asia", "North America"],
    corpus=["UNFCCC"],
    translated=False,
    year_min=0,
    year_max=2024,
    document_id="CCLW",
    has_spans=True,
    min_score=0.25,
    max_score=0.9,
    sort="random",
    seed=7,
    page=3,
    page_size=25,
)


@pytest.fixture
def widget_state(monkeypatch: pytest.MonkeyPatch) -> dict:
    """The session state the widgets read and write, outside a Streamlit run."""
    state: dict = {}
    monkeypatch.setattr(st, "session_state", state)
    return state


def test_every_field_round_trips_through_its_widget(widget_state: dict):
    assert set(EVERY_FIELD_SET.model_dump(exclude_defaults=True)) == set(FILTER_PARAMS)
    filter_panel.seed_filter_widgets("browse", EVERY_FIELD_SET, EVERY_FIELD_SET.search)
    assert widget_state["browse_translated"] == "no" and widget_state["browse_has_spans"] == "yes"
    params = filter_panel.widget_params("browse")
    assert params == EVERY_FIELD_SET.to_query_params()
    assert Filters.from_query_params(params) == EVERY_FIELD_SET


def test_default_widgets_give_an_empty_url(widget_state: dict):
    filter_panel.seed_filter_widgets("compare", Filters(), None)
    assert widget_state["compare_search"] == "" and widget_state["compare_translated"] == "any"
    assert filter_panel.widget_params("compare") == {}
    assert filter_panel.widget_params("never_drawn") == {}


def test_what_the_user_typed_is_kept_even_when_it_is_wrong(widget_state: dict):
    filter_panel.seed_filter_widgets("browse", Filters(), "/(/")
    widget_state["browse_year_min"] = 2030.0  # number inputs may hold floats
    widget_state["browse_year_max"] = 2020
    assert filter_panel.widget_params("browse") == {
        "search": "/(/",
        "year_min": "2030",
        "year_max": "2020",
        "has_spans": "any",  # Browse names it: its URL without it means "with spans"
    }


def test_a_seed_is_only_kept_for_a_shuffle(widget_state: dict):
    filter_panel.seed_filter_widgets("browse", EVERY_FIELD_SET, None)
    widget_state["browse_sort"] = "length_desc"
    params = filter_panel.widget_params("browse")
    assert params["sort"] == "length_desc" and "seed" not in params


def test_the_score_slider_holds_the_score_bounds(widget_state: dict):
    # the slider's callback turns a range into the two URL fields; the whole range is no bound
    filter_panel.seed_filter_widgets("compare", Filters(), None)
    for chosen, expected in [
        ((0.35000000000000003, 1.0), {"min_score": "0.35"}),
        ((0.0, 0.5), {"max_score": "0.5"}),
        ((0.2, 0.8), {"min_score": "0.2", "max_score": "0.8"}),
        ((0.0, 1.0), {}),
    ]:
        widget_state["compare_score_range"] = chosen
        filter_panel._score_range_changed("compare")
        assert filter_panel.widget_params("compare") == expected
