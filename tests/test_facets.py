"""Browse's filter panel: facet counts that follow the other filters, filters the data has no
values for disabled with the reason, and the page opening on the passages with spans with a URL
that says so (issue 11, §3).

The counts are checked against an independent oracle: the filtered count of the same view with
that one value chosen (`query_predictions`, the API's path), not the facet SQL itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest

from predictions_core.query import engine
from predictions_core.query.engine import facet_counts, facet_values, query_predictions
from predictions_core.query.filters import Filters
from predictions_core.ui import data as ui_data
from tests.page_support import (
    change_filter,
    expected_counts,
    first_classifier,
    open_page,
    shown_counts,
    table_of,
)

BROWSE = "pages/browse.py"


@pytest.fixture
def q787(demo_copy: Path):
    """The demo's Q787 table: regions, corpora, translations and years on every passage."""
    return table_of(demo_copy, "Q787", first_classifier(demo_copy, "Q787"))


def oracle(table, filters: Filters, facet: str) -> dict[str, int]:
    """Each value's count: the filtered count with that value chosen instead of the facet's own."""
    every = facet_values(table)
    values = {"region": every.regions, "corpus": every.corpora, "translated": every.translated}
    counts = {}
    for value in values[facet]:
        chosen = [value] if facet != "translated" else value == "true"
        count = query_predictions(table, filters.model_copy(update={facet: chosen})).filtered_count
        if count:
            counts[value] = count
    return counts


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(search="climate"),
        Filters(search="/emission|carbon/i", has_spans=True, year_min=2015),
        Filters(region=["South Asia"], corpus=["Litigation", "UNFCCC"], translated=False),
        Filters(document_id="cclw", year_max=2019, has_spans=False, sort="random", seed=4),
    ],
    ids=["none", "search", "search-spans-years", "facets", "document-years"],
)
def test_facet_counts_follow_every_other_filter(q787, filters: Filters):
    counts = facet_counts(q787, filters)
    for facet in ("region", "corpus", "translated"):
        assert counts[facet] == oracle(q787, filters, facet), facet
        # most frequent first, then by value: the order the filter panel lists them in
        assert list(counts[facet].items()) == sorted(
            counts[facet].items(), key=lambda item: (-item[1], item[0])
        ), facet
    # a facet's own choice does not narrow its own counts, only the others'
    if filters.region:
        assert len(counts["region"]) > len(filters.region)


def test_facet_counts_are_cached_per_view_not_per_page_or_order(q787, monkeypatch):
    calls = []

    def counting(table, filters):
        calls.append(filters)
        return engine.facet_counts(table, filters)

    monkeypatch.setattr(ui_data, "facet_counts", counting)
    ui_data._facet_counts.clear()

    def counts(filters: Filters):
        return ui_data.facet_counts_under("q787-test-version", q787, filters)

    first = counts(Filters(search="climate"))
    again = counts(Filters(search="climate", page=3, sort="length_desc", page_size=10))
    assert first == again and len(calls) == 1
    counts(Filters(search="climate", year_min=2010))
    assert len(calls) == 2
    ui_data._facet_counts.clear()


# --- the Browse page -------------------------------------------------------------------------


@pytest.fixture
def demo_data(use_data, demo_copy: Path, fresh_streamlit_caches) -> Path:
    return use_data(demo_copy)


def test_browse_opens_on_passages_with_spans_and_its_url_says_so(demo_data: Path, serve):
    classifier_id = first_classifier(demo_data, "Q218")
    at = open_page(BROWSE, {"concept": "Q218"})
    assert at.radio(key="browse_has_spans").value == "yes"
    assert at.query_params["has_spans"] == "true"
    with_spans = expected_counts(demo_data, "Q218", classifier_id, {"has_spans": "true"})
    assert shown_counts(at) == with_spans and with_spans[0] < with_spans[1]

    for word, in_url in (("any", "any"), ("no", "false"), ("any", "any")):
        change_filter(at, "radio", "browse_has_spans", word)
        assert at.query_params["has_spans"] == in_url
        params = {"has_spans": in_url}
        assert shown_counts(at) == expected_counts(demo_data, "Q218", classifier_id, params)
        # the copied link restores exactly this view ...
        reopened = open_page(BROWSE, dict(at.query_params))
        assert reopened.radio(key="browse_has_spans").value == word
        assert shown_counts(reopened) == shown_counts(at)
    # ... and the same query on the API gives the same rows
    query = urlencode(dict(at.query_params), doseq=True)
    answer = serve(demo_data).get(f"/api/predictions/Q218/{classifier_id}?{query}")
    assert answer.json()["filtered_count"] == shown_counts(at)[0] == with_spans[1]


def option_counts(labels: list[str]) -> dict[str, int]:
    """{"South Asia": 21} from the widget's labels "South Asia (21)"."""
    pairs = (label.rsplit(" (", 1) for label in labels)
    return {value: int(count.rstrip(")").replace(",", "")) for value, count in pairs}


def test_browse_facet_counts_follow_the_search(demo_data: Path):
    at = open_page(BROWSE, {"concept": "Q787", "has_spans": "any"})
    table = table_of(demo_data, "Q787", at.query_params["classifier"])
    file_counts = facet_values(table).corpora
    assert option_counts(at.multiselect(key="browse_corpus").options) == file_counts

    at.text_input(key="browse_search").set_value("climate").run()
    shown = option_counts(at.multiselect(key="browse_corpus").options)
    expected = oracle(table, Filters(search="climate"), "corpus")
    assert shown == {value: expected.get(value, 0) for value in file_counts}
    assert shown != file_counts  # "Laws and Policies (180)" no longer the file total
    regions = option_counts(at.multiselect(key="browse_region").options)
    assert regions == {
        value: oracle(table, Filters(search="climate"), "region").get(value, 0)
        for value in facet_values(table).regions
    }


def write_bare_data(data_dir: Path) -> None:
    """Q5: passages with no region, corpus, year, translation flag or score."""
    folder = data_dir / "Q5" / "bare"
    folder.mkdir(parents=True)
    lines = [
        {"id": f"b{n}", "text": f"bare passage {n}", "spans": [], "metadata": {}} for n in range(3)
    ]
    (folder / "predictions.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8"
    )


def test_filters_without_values_in_the_data_are_disabled_with_the_reason(
    use_data, tmp_path: Path, fresh_streamlit_caches
):
    data = use_data(tmp_path / "bare")
    write_bare_data(data)
    at = open_page(BROWSE, {"concept": "Q5", "has_spans": "any"})
    assert shown_counts(at) == (3, 3)
    for key in ("browse_year_min", "browse_year_max"):
        assert at.number_input(key=key).disabled
        assert "carry no publication year" in at.number_input(key=key).help
    for key, words in (("browse_region", "no region"), ("browse_corpus", "no corpus")):
        assert at.multiselect(key=key).disabled and words in at.multiselect(key=key).help
    assert at.radio(key="browse_translated").disabled
    assert not [slider for slider in at.slider if slider.key == "browse_score_range"]
    captions = " ".join(caption.value for caption in at.caption)
    assert "No passage here has a score" in captions
    # a value the URL asks for keeps its widget usable (and matches nothing), as the API does
    at = open_page(BROWSE, {"concept": "Q5", "year_min": "2000"})
    assert not at.number_input(key="browse_year_min").disabled
    assert at.number_input(key="browse_year_max").disabled
    assert shown_counts(at) == (0, 3)
