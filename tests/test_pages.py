"""The dashboard's pages under AppTest: on the demo data and the real fixtures (both layouts).

Each test opens the app the way a browser opening a URL does (query parameters first, then
the page) and checks what a user sees against the core functions: the counts against
`query_predictions`, the comparison against `predictions_core.analysis.compare`.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlencode

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from predictions_core.analysis import compare
from predictions_core.data.catalogue import scan_catalogue
from predictions_core.data.loading import load_predictions_file
from predictions_core.query.engine import facet_values, query_predictions
from predictions_core.query.filters import Filters

REPO_ROOT = Path(__file__).resolve().parent.parent
APP = REPO_ROOT / "app.py"
SHOWING = re.compile(r"Showing ([\d,]+)–([\d,]+) of ([\d,]+) filtered \(([\d,]+) total\)")
NONE_SHOWN = re.compile(r"No passage matches \(of ([\d,]+) in total\)")


@pytest.fixture(autouse=True)
def fresh_caches():
    """`st.cache_*` are process-wide: every test starts (and leaves) them empty."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def use_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Point the app at a data dir, with caches and feedback under tmp_path, no S3."""

    def point(data_dir: Path) -> Path:
        monkeypatch.setenv("PREDICTIONS_DATA_DIR", str(data_dir))
        monkeypatch.setenv("PREDICTIONS_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.setenv("PREDICTIONS_FEEDBACK_DB", str(tmp_path / "feedback.sqlite"))
        monkeypatch.setenv("SKIP_S3_SYNC", "true")
        monkeypatch.delenv("PREDICTIONS_S3_BUCKET", raising=False)
        return data_dir

    return point


def open_page(page: str | None = None, params: dict | None = None) -> AppTest:
    """A fresh session opening `page` with URL `params` (like a copied link)."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_counts(at: AppTest) -> tuple[int, int]:
    """(filtered, total) from the page's "Showing X–Y of N filtered (M total)" line."""
    for markdown in at.markdown:
        if match := SHOWING.search(markdown.value):
            return int(match[3].replace(",", "")), int(match[4].replace(",", ""))
        if match := NONE_SHOWN.search(markdown.value):
            return 0, int(match[1].replace(",", ""))
    raise AssertionError("no 'Showing …' line on the page")


def shown_range(at: AppTest) -> tuple[int, int]:
    for markdown in at.markdown:
        if match := SHOWING.search(markdown.value):
            return int(match[1].replace(",", "")), int(match[2].replace(",", ""))
    raise AssertionError("no 'Showing …' line on the page")


def table_of(data_dir: Path, qid: str, classifier_id: str):
    entry = scan_catalogue(data_dir).classifier(qid, classifier_id)
    return load_predictions_file(entry.predictions_path).table


def expected_counts(data_dir: Path, qid: str, classifier_id: str, params: dict) -> tuple[int, int]:
    """What `query_predictions` says for these URL parameters (the API's answer)."""
    result = query_predictions(
        table_of(data_dir, qid, classifier_id), Filters.from_query_params(params)
    )
    return result.filtered_count, result.total_count


def cards(at: AppTest) -> list[str]:
    return [html.value for html in at.get("html") if 'class="pc-card"' in html.value]


def messages(at: AppTest) -> str:
    return " ".join(e.value for e in [*at.error, *at.warning])


# --- empty data dir ----------------------------------------------------------------------


@pytest.mark.parametrize("page", [None, "pages/browse.py", "pages/compare.py"])
def test_empty_data_dir_says_how_to_get_data(use_data, tmp_path: Path, page):
    use_data(tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    at = open_page(page)
    text = " ".join(info.value for info in at.info)
    for command in ("uv run predictions demo", "predictions sync", "predictions predict"):
        assert command in text
    assert not at.error


# --- Concepts ----------------------------------------------------------------------------


def test_concepts_table_on_real_fixtures(use_data, both_layouts: Path):
    use_data(both_layouts)
    at = open_page()
    frame = at.dataframe[0].value
    assert list(frame["QID"]) == ["Q218", "Q223"]
    catalogue = scan_catalogue(both_layouts)
    for _, row in frame.iterrows():
        entry = catalogue.concept(row["QID"])
        assert row["classifiers"] == len(entry.classifiers)
        assert row["gold"] == len(entry.gold_passages)
        for classifier in entry.classifiers.values():
            loaded = load_predictions_file(classifier.predictions_path)
            assert f"{loaded.n_positives:,} of {loaded.n_passages:,}" in row["predictions"]
        assert row["browse"] == f"browse?concept={row['QID']}"
    at.text_input(key="concepts_search").set_value("q223").run()
    assert list(at.dataframe[0].value["QID"]) == ["Q223"]
    assert at.query_params["search"] == "q223"


def test_concepts_row_click_opens_browse(use_data, both_layouts: Path):
    use_data(both_layouts)
    at = open_page()
    at.session_state["concepts_table"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert at.title[0].value.endswith("(Q223)")
    assert at.query_params["concept"] == "Q223"
    assert shown_counts(at) == expected_counts(both_layouts, "Q223", "36bhx4mu", {})


def test_concepts_page_on_demo_data(use_data, demo_copy: Path):
    use_data(demo_copy)
    at = open_page()
    catalogue = scan_catalogue(demo_copy)
    frame = at.dataframe[0].value
    assert set(frame["QID"]) == set(catalogue.concepts)
    gold = dict(zip(frame["QID"], frame["gold"], strict=True))
    assert gold["Q787"] == len(catalogue.concept("Q787").gold_passages) > 0


# --- Browse ------------------------------------------------------------------------------


def test_browse_filters_change_counts_and_url_round_trips(use_data, both_layouts: Path):
    use_data(both_layouts)
    base = {"concept": "Q218", "classifier": "6z4pufsm"}
    at = open_page("pages/browse.py", base)
    assert at.query_params["classifier"] == "6z4pufsm"
    assert shown_counts(at) == expected_counts(both_layouts, "Q218", "6z4pufsm", {})
    steps = [
        ("text_input", "browse_search", "emissions", {"search": "emissions"}),
        ("text_input", "browse_search", "/GHG|greenhouse/i", {"search": "/GHG|greenhouse/i"}),
        ("radio", "browse_has_spans", "yes", {"has_spans": "true"}),
        ("text_input", "browse_document_id", "cclw", {"document_id": "cclw"}),
        ("radio", "browse_translated", "no", {"translated": "false"}),
    ]
    params = dict(base)
    for kind, key, value, added in steps:
        getattr(at, kind)(key=key).set_value(value).run()
        assert not at.exception
        params.update(added)
        assert {k: at.query_params[k] for k in added} == added
        assert shown_counts(at) == expected_counts(both_layouts, "Q218", "6z4pufsm", params)
    assert 0 < shown_counts(at)[0] < shown_counts(at)[1]
    # a fresh browser opening the copied URL sees the same view
    reopened = open_page("pages/browse.py", dict(at.query_params))
    assert shown_counts(reopened) == shown_counts(at)
    assert cards(reopened) == cards(at)
    assert reopened.text_input(key="browse_search").value == "/GHG|greenhouse/i"


def test_browse_marks_spans_and_search_hits(use_data, both_layouts: Path):
    use_data(both_layouts)
    at = open_page(
        "pages/browse.py", {"concept": "Q218", "classifier": "6z4pufsm", "search": "greenhouse"}
    )
    page_cards = cards(at)
    assert page_cards and all("pc-search" in card for card in page_cards)
    assert any('class="pc-span' in card for card in page_cards)
    table = table_of(both_layouts, "Q218", "6z4pufsm")
    first = query_predictions(table, Filters(search="greenhouse")).rows.to_pylist()[0]
    ordered = sorted(first["spans"], key=lambda span: span["start_index"])
    spans = [first["text"][s["start_index"] : s["end_index"]] for s in ordered]
    marked = re.findall(r'<mark class="[^"]*pc-span[^"]*"[^>]*>(.*?)</mark>', page_cards[0])
    # pieces of one span may be split where a search hit starts or ends; joined, they match
    assert "".join(marked).replace("&amp;", "&") == "".join(spans)


def test_browse_paging_sorting_and_shuffle_seed(use_data, both_layouts: Path):
    use_data(both_layouts)
    at = open_page(
        "pages/browse.py", {"concept": "Q218", "classifier": "6z4pufsm", "page_size": "10"}
    )
    assert shown_range(at) == (1, 10)
    at.button(key="browse_next_top").click().run()
    assert shown_range(at) == (11, 20) and at.query_params["page"] == "2"
    at.selectbox(key="browse_sort").set_value("length_desc").run()
    assert shown_range(at) == (1, 10)  # a new order starts on page 1
    lengths = [len(re.sub(r"<[^>]+>", "", card.split('pc-text">', 1)[1])) for card in cards(at)]
    assert lengths == sorted(lengths, reverse=True)
    at.selectbox(key="browse_sort").set_value("random").run()
    seed = at.query_params["seed"]
    assert at.query_params["sort"] == "random" and int(seed) > 0
    reopened = open_page("pages/browse.py", dict(at.query_params))
    assert cards(reopened) == cards(at)  # same seed, same order


def test_browse_on_the_older_layout_alone(use_data, tmp_path: Path, real_fixtures: Path):
    data = use_data(tmp_path / "seed")
    shutil.copytree(real_fixtures / "seed_layout", data)
    at = open_page("pages/browse.py", {"concept": "Q223", "classifier": "36bhx4mu"})
    assert shown_counts(at) == expected_counts(data, "Q223", "36bhx4mu", {}) == (24, 24)


def test_browse_downloads_and_api_link(use_data, both_layouts: Path):
    use_data(both_layouts)
    params = {"concept": "Q218", "classifier": "6z4pufsm", "search": "GHG", "region": "x y"}
    at = open_page("pages/browse.py", params)
    labels = sorted(button.label for button in at.download_button)
    assert labels == ["⬇ CSV", "⬇ JSON", "⬇ JSONL"]
    query = urlencode({"search": "GHG", "region": "x y"})
    assert any(code.value.endswith(f"/api/predictions/Q218/6z4pufsm?{query}") for code in at.code)
    at.radio(key="browse_api_format").set_value("csv").run()
    assert any(code.value.endswith(f"?{query}&format=csv") for code in at.code)
    # a region absent from the data stays selected (and matches nothing), as the API does
    assert at.multiselect(key="browse_region").value == ["x y"]
    assert shown_counts(at) == (0, 228)


def test_browse_on_demo_data_region_filter(use_data, demo_copy: Path):
    use_data(demo_copy)
    at = open_page("pages/browse.py", {"concept": "Q787"})
    classifier_id = at.query_params["classifier"]
    facets = facet_values(table_of(demo_copy, "Q787", classifier_id))
    region = next(iter(facets.regions))
    at.multiselect(key="browse_region").set_value([region]).run()
    assert at.query_params["region"] == region
    expected = expected_counts(demo_copy, "Q787", classifier_id, {"region": region})
    assert shown_counts(at) == expected and expected[0] == facets.regions[region]
    year = facets.year_max
    at.number_input(key="browse_year_min").set_value(year).run()
    params = {"region": region, "year_min": str(year)}
    assert shown_counts(at) == expected_counts(demo_copy, "Q787", classifier_id, params)
    reopened = open_page("pages/browse.py", dict(at.query_params))
    assert shown_counts(reopened) == shown_counts(at)


# --- bad URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"concept": "Q999999"}, "concept"),
        ({"concept": "not-a-qid"}, "concept"),
        ({"concept": "Q218", "classifier": "nope"}, "classifier"),
        ({"concept": "Q218", "page": "0"}, "page"),
        ({"concept": "Q218", "translated": "maybe"}, "translated"),
        ({"concept": "Q218", "year_min": "soon"}, "year_min"),
        ({"concept": "Q218", "sort": "sideways"}, "sort"),
        ({"concept": "Q218", "search": "/(/"}, "search"),
        ({"concept": "Q218", "page": "999"}, "page"),
    ],
)
def test_bad_url_parameters_get_a_message_and_a_usable_page(
    use_data, both_layouts, params, parameter
):
    use_data(both_layouts)
    at = open_page("pages/browse.py", params)
    assert f"**{parameter}**" in messages(at)
    filtered, total = shown_counts(at)
    assert total == 228 and filtered == total  # the bad parameter is not applied
    assert cards(at)


def test_compare_with_an_unknown_classifier_in_the_url(use_data, demo_copy: Path):
    use_data(demo_copy)
    ids = list(scan_catalogue(demo_copy).concept("Q218").classifiers)
    at = open_page("pages/compare.py", {"concept": "Q218", "classifier": [ids[0], "nope", ids[1]]})
    assert "**classifier**" in messages(at) and "nope" in messages(at)
    assert at.multiselect(key="compare_classifiers").value == [ids[0], ids[1]]
    assert at.query_params["classifier"] == [ids[0], ids[1]]


# --- Compare -----------------------------------------------------------------------------


def compared(data_dir: Path, qid: str, ids: list[str]) -> list[compare.ComparedClassifier]:
    entry = scan_catalogue(data_dir).concept(qid)
    items = []
    for classifier_id in ids:
        table = table_of(data_dir, qid, classifier_id)
        knows = compare.knows_negatives(entry.classifiers[classifier_id].layout, table)
        items.append(compare.ComparedClassifier(classifier_id, table, knows))
    return items


def test_compare_page_on_demo_data(use_data, demo_copy: Path):
    use_data(demo_copy)
    at = open_page("pages/compare.py", {"concept": "Q218"})
    ids = at.multiselect(key="compare_classifiers").value
    assert len(ids) >= 2 and at.query_params["classifier"] == ids
    summary = at.dataframe[0].value
    assert list(summary["Classifier"]) == ids
    items = compared(demo_copy, "Q218", ids)
    rows = compare.summary_rows(items)
    assert list(summary["Positives"]) == [row["positives"] for row in rows]
    assert len(at.get("vega_lite_chart")) >= 3  # heat map(s), overlap, breakdowns
    pair = compare.agreement(items[0], items[1])
    options = at.segmented_control(key="compare_show").options
    assert options == [
        f"Only A ({pair.n_only_a:,})",
        f"Only B ({pair.n_only_b:,})",
        f"Both ({pair.n_both:,})",
    ]
    at.segmented_control(key="compare_show").set_value("both").run()
    assert at.query_params["show"] == "both"
    assert (
        shown_counts(at)[0]
        == compare.disagreement_table(items[0].table, items[1].table, "both").num_rows
    )
    legend = next(html.value for html in at.get("html") if "pc-legend" in html.value)
    assert "pc-a" in legend and "pc-b" in legend
    reopened = open_page("pages/compare.py", dict(at.query_params))
    assert shown_counts(reopened) == shown_counts(at)
    assert reopened.multiselect(key="compare_classifiers").value == ids


@pytest.fixture
def real_pair(tmp_path: Path, real_fixtures: Path) -> Path:
    """Q218's real classifier, and a second one dropping every third positive's spans."""
    data = tmp_path / "pair"
    shutil.copytree(real_fixtures / "vibe_layout" / "Q218", data / "Q218")
    lines, positives = [], 0
    source = data / "Q218" / "6z4pufsm" / "predictions.jsonl"
    for line in source.read_text(encoding="utf-8").splitlines():
        passage = json.loads(line)
        if passage["spans"]:
            positives += 1
            passage["spans"] = [] if positives % 3 == 0 else passage["spans"]
        lines.append(json.dumps(passage))
    (data / "Q218" / "thinned").mkdir()
    (data / "Q218" / "thinned" / "predictions.jsonl").write_text("\n".join(lines) + "\n")
    return data


def test_compare_disagreements_on_real_fixtures(use_data, real_pair: Path):
    use_data(real_pair)
    at = open_page("pages/compare.py", {"concept": "Q218", "search": "gas"})
    assert at.multiselect(key="compare_classifiers").value == ["6z4pufsm", "thinned"]
    real, thinned = compared(real_pair, "Q218", ["6z4pufsm", "thinned"])
    only_real = compare.disagreement_table(real.table, thinned.table, "only_a")
    expected = query_predictions(only_real, Filters(search="gas"))
    assert shown_counts(at) == (expected.filtered_count, only_real.num_rows)
    assert at.text_input(key="compare_search").value == "gas"
    assert "Cohen" in " ".join(m.value for m in at.markdown)
    assert not any("kappa needs" in c.value for c in at.caption)  # both files list negatives


def test_compare_needs_two_classifiers(use_data, both_layouts: Path):
    use_data(both_layouts)
    at = open_page("pages/compare.py", {"concept": "Q218"})
    assert any("needs two or more" in info.value for info in at.info)


# --- data status box ---------------------------------------------------------------------


def test_skipped_lines_are_counted_and_explained(use_data, tmp_path: Path, real_fixtures: Path):
    data = use_data(tmp_path / "bad")
    shutil.copytree(real_fixtures / "vibe_layout" / "Q223", data / "Q223")
    path = data / "Q223" / "36bhx4mu" / "predictions.jsonl"
    with path.open("a", encoding="utf-8") as predictions:
        predictions.write("{this is not json\n")
        predictions.write(json.dumps({"id": 7, "text": "short", "spans": "nope"}) + "\n")
    reference = load_predictions_file(path)
    assert len(reference.issues) == 2
    at = open_page("pages/browse.py", {"concept": "Q223"})
    assert "2 lines of this file were skipped" in messages(at)
    status = next(e for e in at.sidebar.expander if e.label.startswith("Data"))
    assert "2 skipped" in status.label
    listed = " ".join(code.value for code in at.sidebar.code)
    for issue in reference.issues:
        assert issue.describe() in listed
    assert shown_counts(at) == (reference.n_passages, reference.n_passages)


def test_refresh_data_shows_files_added_since(use_data, both_layouts: Path):
    use_data(both_layouts)
    at = open_page("pages/compare.py", {"concept": "Q218"})
    assert any("needs two or more" in info.value for info in at.info)
    shutil.copytree(both_layouts / "Q218" / "6z4pufsm", both_layouts / "Q218" / "second")
    at.button(key="sidebar_refresh").click().run()
    assert not at.exception
    options = at.multiselect(key="compare_classifiers").options
    assert len(options) == 2 and "(second)" in options[1]


def test_page_switch_keeps_the_concept_and_drops_other_pages_parameters(use_data, demo_copy):
    use_data(demo_copy)
    at = open_page("pages/compare.py", {"concept": "Q787", "show": "both", "gold": "concept"})
    assert at.query_params["show"] == "both"
    at.switch_page("pages/browse.py").run()
    assert not at.exception
    assert at.query_params["concept"] == "Q787" and at.title[0].value.endswith("(Q787)")
    assert not {"a", "b", "show", "gold"} & set(at.query_params)
    at.switch_page("pages/concepts.py").run()
    assert set(at.query_params) == {"concept"}


def test_url_values_quoted_in_messages_are_not_read_as_markdown(use_data, both_layouts):
    use_data(both_layouts)
    link = "[click me](https://example.invalid/x)"
    at = open_page("pages/browse.py", {"concept": "Q218", "classifier": link, "year_min": link})
    text = messages(at)
    assert "**classifier**" in text and "**year_min**" in text
    assert "[click me](" not in text  # escaped: shown as text, not made a link
    assert r"\[click me\]" in text


@pytest.mark.parametrize("page", [None, "pages/browse.py", "pages/compare.py"])
def test_a_bad_setting_is_a_message_not_a_traceback(use_data, both_layouts, monkeypatch, page):
    use_data(both_layouts)
    monkeypatch.setenv("PREDICTIONS_SYNC_INTERVAL_S", "soon")
    at = open_page(page)
    shown = " ".join(e.value for e in at.error).replace("\\", "")  # Markdown escapes
    assert "PREDICTIONS_SYNC_INTERVAL_S: expected a number of seconds" in shown
    assert not at.dataframe and not cards(at)
