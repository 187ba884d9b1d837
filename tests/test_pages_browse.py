"""The Browse page under AppTest: filters, marks, paging, downloads and bad URLs.

Each test opens the page the way a browser opening a URL does and checks what a user sees
against `query_predictions` (the API's answer). The data is a copy of the bundled demo data;
tests marked "real" run the same checks on the real fixtures too, where they are present.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urlencode

import pytest

from predictions_core.query.engine import facet_values, query_predictions
from predictions_core.query.filters import Filters
from tests.page_support import (
    cards,
    change_filter,
    expected_counts,
    first_classifier,
    messages,
    open_page,
    shown_counts,
    shown_range,
    table_of,
)
from tests.score_support import CLASSIFIER as SCORED_CLASSIFIER
from tests.score_support import QID as SCORED_QID
from tests.score_support import write_passages

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")
BROWSE = "pages/browse.py"


@pytest.fixture(params=["demo", "real"])
def q218(request: pytest.FixtureRequest, use_data) -> tuple[Path, dict[str, str]]:
    """(data dir, URL parameters of Q218 and its first classifier) in demo or real data."""
    fixture = "demo_copy" if request.param == "demo" else "both_layouts"
    data = use_data(request.getfixturevalue(fixture))
    # every passage (Browse opens on those with spans: test_browse_opens_on_passages_with_spans)
    classifier = first_classifier(data, "Q218")
    return data, {"concept": "Q218", "classifier": classifier, "has_spans": "any"}


@pytest.fixture
def demo_q218(use_data, demo_copy: Path) -> tuple[Path, dict[str, str]]:
    """(data dir, URL parameters of Q218 and its first classifier) in the demo data."""
    data = use_data(demo_copy)
    classifier = first_classifier(data, "Q218")
    return data, {"concept": "Q218", "classifier": classifier, "has_spans": "any"}


def test_browse_filters_change_counts_and_url_round_trips(q218):
    data, base = q218
    qid, classifier_id = base["concept"], base["classifier"]
    at = open_page(BROWSE, base)
    assert at.query_params["classifier"] == classifier_id
    assert shown_counts(at) == expected_counts(data, qid, classifier_id, {})
    steps = [
        ("text_input", "browse_search", "emissions", {"search": "emissions"}),
        ("text_input", "browse_search", "/GHG|greenhouse/i", {"search": "/GHG|greenhouse/i"}),
        ("radio", "browse_has_spans", "yes", {"has_spans": "true"}),
        ("text_input", "browse_document_id", "cclw", {"document_id": "cclw"}),
        ("radio", "browse_translated", "no", {"translated": "false"}),
    ]
    params = dict(base)
    for kind, key, value, added in steps:
        change_filter(at, kind, key, value)
        params.update(added)
        assert {k: at.query_params[k] for k in added} == added
        assert shown_counts(at) == expected_counts(data, qid, classifier_id, params)
    assert 0 < shown_counts(at)[0] < shown_counts(at)[1]
    # a fresh browser opening the copied URL sees the same view
    reopened = open_page(BROWSE, dict(at.query_params))
    assert shown_counts(reopened) == shown_counts(at)
    assert cards(reopened) == cards(at)
    assert reopened.text_input(key="browse_search").value == "/GHG|greenhouse/i"


def test_browse_marks_spans_and_search_hits(q218):
    data, base = q218
    at = open_page(BROWSE, {**base, "search": "greenhouse", "has_spans": "true"})
    page_cards = cards(at)
    assert page_cards and all("pc-search" in card for card in page_cards)
    assert all('class="pc-span' in card for card in page_cards)
    table = table_of(data, base["concept"], base["classifier"])
    first = query_predictions(table, Filters(search="greenhouse", has_spans=True)).rows.to_pylist()[
        0
    ]
    ordered = sorted(first["spans"], key=lambda span: span["start_index"])
    spans = [first["text"][s["start_index"] : s["end_index"]] for s in ordered]
    assert spans
    marked = re.findall(r'<mark class="[^"]*pc-span[^"]*"[^>]*>(.*?)</mark>', page_cards[0])
    # pieces of one span may be split where a search hit starts or ends; joined, they match
    assert "".join(marked).replace("&amp;", "&") == "".join(spans)


def test_browse_paging_sorting_and_shuffle_seed(demo_q218):
    _, base = demo_q218
    at = open_page(BROWSE, {**base, "page_size": "10"})
    assert shown_range(at) == (1, 10)
    at.button(key="browse_next_top").click().run()
    assert shown_range(at) == (11, 20) and at.query_params["page"] == "2"
    at.selectbox(key="browse_sort").set_value("length_desc").run()
    assert shown_range(at) == (1, 10)  # a new order starts on page 1
    lengths = [len(re.sub(r"<[^>]+>", "", card.split('pc-text">', 1)[1])) for card in cards(at)]
    assert lengths == sorted(lengths, reverse=True) and lengths[0] > lengths[-1]
    at.selectbox(key="browse_sort").set_value("random").run()
    seed = at.query_params["seed"]
    assert at.query_params["sort"] == "random" and int(seed) > 0
    reopened = open_page(BROWSE, dict(at.query_params))
    assert cards(reopened) == cards(at)  # same seed, same order


@pytest.fixture(params=["demo", "real"])
def older_layout_only(request: pytest.FixtureRequest, use_data, tmp_path: Path) -> Path:
    """A data dir holding only the older layout (`predictions/`, `classifiers/`, `concepts/`)."""
    if request.param == "demo":
        source = request.getfixturevalue("demo_copy")
    else:
        source = request.getfixturevalue("real_fixtures") / "seed_layout"
    data = use_data(tmp_path / "older")
    for folder in ("predictions", "classifiers", "concepts"):
        shutil.copytree(source / folder, data / folder)
    return data


def test_browse_on_the_older_layout_alone(older_layout_only: Path):
    data = older_layout_only
    classifier_id = first_classifier(data, "Q223")
    file = data / "predictions" / "Q223" / f"{classifier_id}.jsonl"
    n_lines = len(file.read_text(encoding="utf-8").splitlines())
    at = open_page(BROWSE, {"concept": "Q223"})
    assert at.query_params["classifier"] == classifier_id
    # the older layout lists positives only: every line is shown, none is filtered out
    assert shown_counts(at) == expected_counts(data, "Q223", classifier_id, {}) == (n_lines,) * 2


def test_browse_downloads_and_api_link(demo_q218):
    data, base = demo_q218
    qid, classifier_id = base["concept"], base["classifier"]
    at = open_page(BROWSE, {**base, "search": "GHG", "region": "x y"})
    labels = sorted(button.label for button in at.download_button)
    assert labels == ["⬇ CSV", "⬇ JSON", "⬇ JSONL"]
    query = urlencode({"search": "GHG", "region": "x y"})
    route = f"/api/predictions/{qid}/{classifier_id}"
    assert any(code.value.endswith(f"{route}?{query}") for code in at.code)
    at.radio(key="browse_api_format").set_value("csv").run()
    assert any(code.value.endswith(f"{route}?{query}&format=csv") for code in at.code)
    # a region absent from the data stays selected (and matches nothing), as the API does
    assert at.multiselect(key="browse_region").value == ["x y"]
    assert shown_counts(at) == (0, table_of(data, qid, classifier_id).num_rows)


def test_browse_region_and_year_filters_on_rich_metadata(use_data, demo_copy: Path):
    use_data(demo_copy)
    at = open_page(BROWSE, {"concept": "Q787", "has_spans": "any"})
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
    reopened = open_page(BROWSE, dict(at.query_params))
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
def test_bad_url_parameters_get_a_message_and_a_usable_page(demo_q218, params, parameter):
    data, base = demo_q218
    at = open_page(BROWSE, params)
    assert f"**{parameter}**" in messages(at)
    # the fallback is Q218 (the first concept) and its first classifier, with spans (Browse's
    # default) and nothing else: the bad parameter is not applied
    expected = expected_counts(data, "Q218", base["classifier"], {"has_spans": "true"})
    assert shown_counts(at) == expected
    assert cards(at)


def test_url_values_quoted_in_messages_are_not_read_as_markdown(demo_q218):
    link = "[click me](https://example.invalid/x)"
    at = open_page(BROWSE, {"concept": "Q218", "classifier": link, "year_min": link})
    text = messages(at)
    assert "**classifier**" in text and "**year_min**" in text
    assert "[click me](" not in text  # escaped: shown as text, not made a link
    assert r"\[click me\]" in text


# --- scores and links --------------------------------------------------------------------


@pytest.fixture
def scored_data(use_data, tmp_path: Path) -> Path:
    """A data dir whose only classifier has scores (tests/score_support.py's passages)."""
    data = use_data(tmp_path / "scored")
    write_passages(data / SCORED_QID / SCORED_CLASSIFIER / "predictions.jsonl")
    return data


def card_ids(at) -> list[str]:
    return [re.search(r"· id: ([^<]+)</div>", card)[1] for card in cards(at)]


def test_browse_shows_scores_and_filters_and_sorts_by_them(scored_data: Path):
    at = open_page(BROWSE, {"concept": SCORED_QID, "has_spans": "any"})
    assert "score: 0.900" in cards(at)[0]
    assert all("score:" not in card for card in cards(at)[1:3])  # p2, p3: no score
    options = at.selectbox(key="browse_sort").options
    assert "highest score first" in options and "lowest score first" in options
    change_filter(at, "slider", "browse_score_range", (0.5, 1.0))
    assert at.query_params["min_score"] == "0.5" and "max_score" not in at.query_params
    assert shown_counts(at) == (3, 6)
    at.selectbox(key="browse_sort").set_value("score_desc").run()
    assert at.query_params["sort"] == "score_desc"
    assert card_ids(at) == ["p1", "p5", "p4"]
    change_filter(at, "slider", "browse_score_range", (0.0, 0.5))
    assert at.query_params["max_score"] == "0.5" and "min_score" not in at.query_params
    assert card_ids(at) == ["p4", "p6"]
    assert r"score at most 0\.5" in " ".join(m.value for m in at.markdown)  # Markdown-escaped
    # a fresh browser opening the copied URL sees the same view, slider included
    reopened = open_page(BROWSE, dict(at.query_params))
    assert card_ids(reopened) == ["p4", "p6"]
    assert reopened.slider(key="browse_score_range").value == (0.0, 0.5)
    # back to the whole range: no bound, the unscored passages come back
    change_filter(at, "slider", "browse_score_range", (0.0, 1.0))
    assert "max_score" not in at.query_params and shown_counts(at) == (6, 6)
    assert card_ids(at)[-2:] == ["p2", "p3"]  # unscored last


def test_score_controls_only_where_there_are_scores(demo_q218):
    _, base = demo_q218
    at = open_page(BROWSE, base)
    assert not [slider for slider in at.slider if slider.key == "browse_score_range"]
    assert "highest score first" not in at.selectbox(key="browse_sort").options
    assert all("score:" not in card for card in cards(at))
    # a URL asking for scores is still honoured (as the API does): nothing has a score
    at = open_page(BROWSE, {**base, "min_score": "0.5", "sort": "score_desc"})
    assert shown_counts(at)[0] == 0 and not messages(at)
    assert at.selectbox(key="browse_sort").value == "score_desc"


def test_bad_score_bounds_in_the_url_get_a_message(scored_data: Path):
    at = open_page(BROWSE, {"concept": SCORED_QID, "min_score": "0.9", "max_score": "0.2"})
    assert "**min_score**" in messages(at)
    # min_score is dropped, max_score still applies: only p6 (0.1) is at most 0.2
    assert at.query_params["max_score"] == "0.2" and card_ids(at) == ["p6"]


def test_cards_link_to_their_document_and_the_header_to_the_concept(scored_data: Path):
    at = open_page(BROWSE, {"concept": SCORED_QID})
    first = cards(at)[0]
    link = "https://app.climatepolicyradar.org/documents/plan-d1?id=family-d1"
    assert f'<a href="{link}" target="_blank" rel="noopener noreferrer">' in first
    assert "Plan d1 &lt;b&gt;&amp;&lt;/b&gt;</a>" in first  # the name, escaped
    assert all("<a " not in card for card in cards(at)[2:])  # no slug: the id, unlinked
    captions = " ".join(caption.value for caption in at.caption)
    assert "(https://climatepolicyradar.wikibase.cloud/wiki/Item:Q218)" in captions


def test_empty_link_settings_mean_no_links(scored_data: Path, monkeypatch):
    monkeypatch.setenv("PREDICTIONS_DOCUMENT_URL", "")
    monkeypatch.setenv("PREDICTIONS_CONCEPT_URL", "")
    at = open_page(BROWSE, {"concept": SCORED_QID})
    assert cards(at) and all("<a " not in card for card in cards(at))
    assert "Plan d1" in cards(at)[0]
    assert "Concept page" not in " ".join(caption.value for caption in at.caption)


def test_real_vibe_checker_cards_show_name_link_and_score(use_data, real_fixtures: Path, tmp_path):
    data = use_data(tmp_path / "vibe")
    shutil.copytree(real_fixtures / "vibe_current", data)
    at = open_page(BROWSE, {"concept": "Q218", "sort": "score_desc", "page_size": "10"})
    first = cards(at)[0]
    assert re.search(r"score: (0|1)\.\d{3}", first)
    link = re.search(r'<a href="([^"]+)"[^>]*>Document CPR\.document\.[^<]+</a>', first)
    assert link and link[1].startswith("https://app.climatepolicyradar.org/documents/cpr-document-")
    assert set(re.findall(r"<(\w+)", first)) <= {"div", "span", "b", "a", "mark"}
    assert [slider.key for slider in at.slider] == ["browse_score_range"]
