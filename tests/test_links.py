"""Links to source documents and concept pages (CONTRACT §3): filled, encoded, and never unsafe."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from predictions_core.errors import InvalidParameterError
from predictions_core.query.links import (
    concept_link,
    document_link,
    fill_url_template,
    is_web_url,
)
from predictions_core.settings import DEFAULT_CONCEPT_URL, DEFAULT_DOCUMENT_URL, Settings
from predictions_core.ui.cards import metadata_items
from predictions_core.ui.highlight import Link, card_html, link_html, metadata_html

VIBE_METADATA = {
    "document_id": "CPR.document.i00000549.n0000",
    "document_name": "Document CPR.document.i00000549.n0000",
    "document_slug": "cpr-document-i00000549-n0000",
    "family_slug": "family-cpr",
}
HOSTILE = [
    'a"b',
    "it's",
    "javascript:alert(1)",
    '"><script>alert(1)</script>',
    "../../admin?x=1&y=2#frag",
    "x y\nz",
    "<img src=x onerror=alert(1)>",
]


def test_default_templates_link_a_vibe_checker_passage_and_a_concept():
    assert document_link(DEFAULT_DOCUMENT_URL, VIBE_METADATA) == (
        "https://app.climatepolicyradar.org/documents/cpr-document-i00000549-n0000?id=family-cpr"
    )
    assert concept_link(DEFAULT_CONCEPT_URL, "Q218") == (
        "https://climatepolicyradar.wikibase.cloud/wiki/Item:Q218"
    )


def test_no_link_when_a_named_key_is_missing_or_blank_or_the_template_is_empty():
    assert document_link(DEFAULT_DOCUMENT_URL, {"document_slug": "d"}) is None
    assert document_link(DEFAULT_DOCUMENT_URL, {**VIBE_METADATA, "family_slug": "  "}) is None
    assert document_link(DEFAULT_DOCUMENT_URL, {**VIBE_METADATA, "family_slug": None}) is None
    assert document_link(DEFAULT_DOCUMENT_URL, {**VIBE_METADATA, "family_slug": {"a": 1}}) is None
    assert document_link("", VIBE_METADATA) is None
    assert concept_link("", "Q218") is None
    assert document_link("https://example.org/static", {}) == "https://example.org/static"


def test_dotted_names_are_read_flat_then_nested():
    template = "https://example.org/{document_metadata.slug}"
    assert fill_url_template(template, {"document_metadata.slug": "flat"}).endswith("/flat")
    assert fill_url_template(template, {"document_metadata": {"slug": "nested"}}).endswith(
        "/nested"
    )


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_encoded_into_one_piece_of_the_url(value):
    url = fill_url_template(
        "https://example.org/documents/{slug}?id={family}",
        {
            "slug": value,
            "family": value,
        },
    )
    assert url is not None and url.startswith("https://example.org/documents/")
    path_piece, query_piece = url.removeprefix("https://example.org/documents/").split("?id=")
    # nothing the value holds can end the path, start a query or fragment, or leave the quotes
    for piece in (path_piece, query_piece):
        assert not re.search(r"[/?#&\"'<>\s]", piece), piece
    assert is_web_url(url)


@pytest.mark.parametrize(
    "template",
    ["{url}", "javascript:alert(1)//{x}", "/relative/{x}", "ftp://example.org/{x}", "{x}:{x}"],
)
def test_only_http_and_https_results_are_links(template):
    assert fill_url_template(template, {"url": "https://evil.example/", "x": "javascript"}) is None


@pytest.mark.parametrize("url", ["https://a.example/x", "http://a.example", "HTTPS://A.EXAMPLE/"])
def test_web_urls(url):
    assert is_web_url(url)


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,x", "https://", "https://a b", "//a.example/x"]
)
def test_not_web_urls(url):
    assert not is_web_url(url)


# --- settings ----------------------------------------------------------------------------


def test_link_templates_are_settings_with_the_contract_defaults(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ("PREDICTIONS_DOCUMENT_URL", "PREDICTIONS_CONCEPT_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.document_url == DEFAULT_DOCUMENT_URL
    assert settings.concept_url == DEFAULT_CONCEPT_URL
    monkeypatch.setenv("PREDICTIONS_CONCEPT_URL", "https://example.org/c/{qid}")
    assert Settings().concept_url == "https://example.org/c/{qid}"


def test_an_empty_link_setting_means_no_links(monkeypatch, tmp_path):
    # every other empty variable means "not set"; these two mean "off" (CONTRACT §3)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PREDICTIONS_DOCUMENT_URL", "")
    monkeypatch.delenv("PREDICTIONS_CONCEPT_URL", raising=False)
    (tmp_path / ".env").write_text("PREDICTIONS_CONCEPT_URL=\nPREDICTIONS_S3_PREFIX=\n")
    settings = Settings()
    assert settings.document_url == "" and settings.concept_url == ""
    assert settings.s3_prefix == ""
    monkeypatch.setenv("PREDICTIONS_CONCEPT_URL", "https://example.org/{qid}")
    assert Settings().concept_url == "https://example.org/{qid}"  # the environment wins


@pytest.mark.parametrize("template", ["https://x/{", "https://x/{}", "https://x/{a!r}"])
def test_a_malformed_template_is_a_clear_error(monkeypatch, tmp_path, template):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PREDICTIONS_DOCUMENT_URL", template)
    with pytest.raises(InvalidParameterError, match="PREDICTIONS_DOCUMENT_URL"):
        Settings()


# --- cards -------------------------------------------------------------------------------


class _Anchors(HTMLParser):
    """Every element and its attributes, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parsed_tags(markup: str) -> list[tuple[str, dict]]:
    parser = _Anchors()
    parser.feed(markup)
    return parser.tags


def card_row(metadata: dict, **columns) -> dict:
    import json

    return {"id": "p1", "text": "t", "metadata": json.dumps(metadata), **columns}


def test_a_card_shows_the_document_name_linked_and_the_score():
    row = card_row(VIBE_METADATA, document_id=VIBE_METADATA["document_id"], score=0.87654)
    items = dict(metadata_items(row, 1, DEFAULT_DOCUMENT_URL))
    assert items["document"] == Link(
        VIBE_METADATA["document_name"], document_link(DEFAULT_DOCUMENT_URL, VIBE_METADATA)
    )
    assert items["document id"] == VIBE_METADATA["document_id"]
    assert items["score"] == "0.877"
    markup = metadata_html(metadata_items(row, 1, DEFAULT_DOCUMENT_URL))
    [(tag, attributes)] = [t for t in parsed_tags(markup) if t[0] == "a"]
    assert attributes["href"].startswith("https://app.climatepolicyradar.org/documents/")
    assert attributes["rel"] == "noopener noreferrer"


def test_a_card_without_link_keys_or_score_shows_the_id_as_text():
    row = card_row({"document_id": "CCLW.1"}, document_id="CCLW.1", score=None)
    items = metadata_items(row, 1, DEFAULT_DOCUMENT_URL)
    assert dict(items)["document"] == Link("CCLW.1", None)
    assert dict(items)["score"] is None and dict(items)["document id"] is None
    markup = metadata_html(items)
    assert "<a" not in markup and "CCLW.1" in markup and "score" not in markup


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_metadata_never_makes_an_unsafe_link_or_unescaped_html(value):
    metadata = {
        "document_id": value,
        "document_name": value,
        "document_slug": value,
        "family_slug": value,
    }
    row = card_row(metadata, document_id=value, region=value, score=0.5)
    markup = card_html("text", [], metadata_items(row, 1, DEFAULT_DOCUMENT_URL))
    tags = parsed_tags(markup)
    assert {tag for tag, _ in tags} <= {"div", "a"}  # no <script>, no <img>; links only
    anchors = [attributes for tag, attributes in tags if tag == "a"]
    assert len(anchors) == 1
    href = anchors[0]["href"]
    assert href.startswith("https://app.climatepolicyradar.org/documents/")
    assert set(anchors[0]) == {"href", "target", "rel"}  # no onerror, no onclick
    assert html.escape(value) in markup  # shown as text, escaped


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", None, ""])
def test_link_html_refuses_anything_but_a_web_url(url):
    assert link_html(Link("<b>name</b>", url)) == "&lt;b&gt;name&lt;/b&gt;"
