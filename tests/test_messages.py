"""What users are told when something is wrong: in their words, never a server path, never the
query engine's or the validator's own text (issue 11, bug 7), and no download of a view that
is not the one asked for (bug 6).

The API's `{"error": ...}` bodies and the Browse page's messages (AppTest) are checked for the
same things. Data: a copy of the bundled demo data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from predictions_core.data.store import PredictionStore
from predictions_core.query.filters import Filters
from predictions_core.query.text_search import check_re2_pattern, explain_re2_error
from predictions_core.ui.downloads import server_root
from tests.page_support import change_filter, first_classifier, messages, open_page, shown_counts

BROWSE = "pages/browse.py"
# wording of DuckDB/RE2 and pydantic that must never reach a user
ENGINE_WORDS = (
    "Invalid Input Error",
    "Value error",
    "Input should",
    "unable to parse",
    "literal_error",
    "missing ):",
    "InvalidInputException",
)


def assert_in_the_users_words(text: str, data_dir: Path) -> None:
    assert str(data_dir) not in text and str(data_dir.resolve()) not in text
    assert "/tmp/" not in text
    for words in ENGINE_WORDS:
        assert words not in text, f"{words!r} in {text!r}"


# --- the API --------------------------------------------------------------------------------


def api_cases(classifier_id: str) -> list[tuple[str, int, str | None, str]]:
    """(URL, status, parameter named or None, words the message must contain)."""
    route = f"/api/predictions/Q218/{classifier_id}"
    return [
        ("/api/predictions/Q999/x", 404, None, "no concept Q999"),
        ("/api/concepts/Q999", 404, None, "no concept Q999"),
        ("/api/evaluation/Q999", 404, None, "no concept Q999"),
        ("/api/feedback/Q999/x", 404, None, "no concept Q999"),
        ("/api/predictions/Q218/nope", 404, None, "has no classifier nope"),
        (f"{route}?search=%2F(%2F", 400, "search", "never closed"),
        (f"{route}?search=%2F%5B%2Fi", 400, "search", "never closed"),
        (f"{route}?search=%2F(%3F%3C%3Dx)y%2F", 400, "search", "look-behinds"),
        (f"{route}?search=%2F(a)%5C1%2F", 400, "search", "back-references"),
        (f"{route}?sort=bogus", 400, "sort", "length_asc (shortest first)"),
        (f"{route}?page=0", 400, "page", "at least 1"),
        (f"{route}?page_size=abc", 400, "page_size", "whole number"),
        (f"{route}?year_min=abc", 400, "year_min", "whole number"),
        (f"{route}?year_max=99999", 400, "year_max", "at most 9999"),
        (f"{route}?min_score=2", 400, "min_score", "from 0 to 1"),
        (f"{route}?min_score=nan", 400, "min_score", "from 0 to 1"),
        (f"{route}?translated=maybe", 400, "translated", "true, false or any"),
        (f"{route}?year_min=2020&year_max=2010", 400, "year_min", "2020 is after year_max"),
    ]


def test_api_errors_say_what_was_wrong_without_paths_or_engine_text(demo_copy: Path, serve):
    client = serve(demo_copy)
    for url, status, parameter, words in api_cases(first_classifier(demo_copy, "Q218")):
        answer = client.get(url)
        assert answer.status_code == status, url
        body = answer.json()
        assert words in body["error"], (url, body)
        assert_in_the_users_words(body["error"], demo_copy)
        if parameter is not None:  # the error shape of tests/test_api_errors.py
            assert body["parameter"] == parameter and body["error"].startswith(f"{parameter}:")


def test_has_spans_any_is_the_api_default_named(demo_copy: Path, serve):
    # Browse writes has_spans=any in its URL: the same query on the API is the same view
    route = f"/api/predictions/Q218/{first_classifier(demo_copy, 'Q218')}?page_size=1"
    client = serve(demo_copy)
    every = client.get(route).json()["filtered_count"]
    assert client.get(f"{route}&has_spans=any").json()["filtered_count"] == every
    with_spans = client.get(f"{route}&has_spans=true").json()["filtered_count"]
    assert 0 < with_spans < every


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("(", "“(” is never closed"),
        ("[a", "“[” is never closed"),
        ("a)", "“)” has no “(”"),
        ("a**", "repeats a repetition"),
        ("*a", "nothing before it to repeat"),
        ("(?=a)", "look-aheads"),
        (r"(a)\1", "back-references"),
        ("a{2,1}", "“{2,1}” is not a count"),
        ("\\", "lone “\\”"),
        ("[z-a]", "“z-a” is not a valid range"),
    ],
)
def test_invalid_regexes_are_explained_in_plain_words(pattern: str, words: str):
    with pytest.raises(ValueError) as raised:
        check_re2_pattern(pattern)
    assert words in str(raised.value)
    assert not any(engine in str(raised.value) for engine in ENGINE_WORDS)


def test_an_unknown_engine_reason_still_gets_plain_words():
    text = explain_re2_error("Invalid Input Error: something new: (?~x)")
    assert text == "this is not a regular expression the search can use (RE2 syntax)"


def test_the_view_description_says_translated_yes_or_no():
    assert "translated: yes" in Filters(translated=True).describe()
    assert "translated: no" in Filters(translated=False).describe()


def test_skipped_lines_name_the_file_within_the_data_dir(demo_copy: Path, settings_for):
    classifier_id = first_classifier(demo_copy, "Q218")
    file = demo_copy / "Q218" / classifier_id / "predictions.jsonl"
    lines = file.read_text(encoding="utf-8").splitlines()
    file.write_text("\n".join([lines[0], "{not json", *lines[1:]]) + "\n", encoding="utf-8")
    (demo_copy / "Q218" / "concept.json").write_text("{broken", encoding="utf-8")
    store = PredictionStore(settings_for(demo_copy))
    store.predictions("Q218", classifier_id)
    issues = {issue.path: issue for issue in store.loaded_issues()}
    assert issues[f"Q218/{classifier_id}/predictions.jsonl"].line == 2
    assert "Q218/concept.json" in issues
    for issue in issues.values():
        assert_in_the_users_words(issue.describe(), demo_copy)


# --- the Browse page -------------------------------------------------------------------------


@pytest.fixture
def demo_data(use_data, demo_copy: Path, fresh_streamlit_caches) -> Path:
    return use_data(demo_copy)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"concept": "Q999"}, "no concept Q999"),
        ({"concept": "Q218", "classifier": "nope"}, "has no classifier nope"),
        ({"concept": "Q218", "search": "/(/"}, "never closed"),
        ({"concept": "Q218", "search": "/(?<=a)b/i"}, "look"),
        ({"concept": "Q218", "sort": "sideways"}, "shortest first"),
        ({"concept": "Q218", "year_min": "soon"}, "whole number"),
        ({"concept": "Q218", "min_score": "2"}, "from 0 to 1"),
    ],
)
def test_browse_messages_are_in_the_users_words(demo_data: Path, params: dict, words: str):
    at = open_page(BROWSE, params)
    text = messages(at)
    assert words in text
    assert_in_the_users_words(text, demo_data)
    # the sidebar's data box names the data dir on purpose; the page itself never does
    assert_in_the_users_words(" ".join(m.value for m in at.main.markdown), demo_data)


def api_link_shown(at) -> bool:
    return any("/api/predictions/" in code.value for code in at.code)


def test_an_invalid_search_turns_the_downloads_and_the_api_link_off(demo_data: Path):
    at = open_page(BROWSE, {"concept": "Q218", "search": "emissions"})
    assert not any(button.disabled for button in at.download_button) and api_link_shown(at)
    searched = shown_counts(at)

    change_filter(at, "text_input", "browse_search", "/(emissions/")
    # the list falls back to no search: its downloads would export that, so they are off
    assert shown_counts(at)[0] > searched[0]
    assert [button.disabled for button in at.download_button] == [True, True, True]
    assert all("not valid" in button.help for button in at.download_button)
    assert not api_link_shown(at)
    assert "No API link while the search is invalid." in [c.value for c in at.caption]
    assert "downloads are off" in messages(at)

    change_filter(at, "text_input", "browse_search", "/(emissions)/i")
    assert not any(button.disabled for button in at.download_button) and api_link_shown(at)
    assert shown_counts(at) == searched


def test_a_copied_link_with_an_invalid_search_has_no_downloads_either(demo_data: Path):
    at = open_page(BROWSE, {"concept": "Q218", "search": "/[/"})
    assert at.text_input(key="browse_search").value == "/[/"  # what was typed stays
    assert all(button.disabled for button in at.download_button) and not api_link_shown(at)


def test_the_shuffle_button_has_a_text_label(demo_data: Path):
    at = open_page(BROWSE, {"concept": "Q218", "sort": "random", "seed": "3"})
    button = at.button(key="browse_reshuffle")
    assert button.label == "Shuffle again"
    button.click().run()
    assert at.query_params["seed"] != "3"


def test_a_bad_line_is_shown_with_its_relative_file_name(demo_data: Path):
    classifier_id = first_classifier(demo_data, "Q218")
    file = demo_data / "Q218" / classifier_id / "predictions.jsonl"
    with file.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"id": "x", "text": "short", "spans": [{"start_index": 9}]}) + "\n")
    at = open_page(BROWSE, {"concept": "Q218"})
    shown = " ".join(code.value for code in at.code)
    assert f"Q218/{classifier_id}/predictions.jsonl:" in shown
    assert_in_the_users_words(shown, demo_data)


# --- the API link's server root (the browser test follows the link: test_e2e_api_link.py) ---


@pytest.mark.parametrize(
    ("page_url", "page_path", "base_url_path", "root"),
    [
        ("http://host:8501/browse", "browse", "", "http://host:8501"),
        ("http://host:8501/browse/", "browse", "", "http://host:8501"),
        ("https://host/x/browse", "browse", "x", "https://host"),
        ("https://host/x/browse", "browse", "/x/", "https://host"),
        ("https://host/outer/browse", "browse", "", "https://host/outer"),
        ("http://host:8501", "browse", "", "http://host:8501"),
        ("http://host:8501/xbrowse", "browse", "", "http://host:8501/xbrowse"),
        (None, "browse", "", ""),
    ],
)
def test_the_api_link_starts_at_the_server_root(page_url, page_path, base_url_path, root):
    # the routes are mounted beside Streamlit's, outside server.baseUrlPath (checked by hand:
    # with --server.baseUrlPath x, /api/health answers JSON and /x/api/health the app's HTML)
    assert server_root(page_url, page_path, base_url_path) == root
