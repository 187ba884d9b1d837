"""End to end in a real browser: the dashboard served by `streamlit run`, driven by Playwright.

Data: a copy of the bundled demo data (both layouts) plus a hostile concept whose passage holds
`<script>` and `<img onerror>` markup, which must show as text and run nothing.
Needs Chromium at /usr/bin/chromium (`apt-get install -y chromium`); skipped without it. The
server and browser helpers are in `tests/browser_support.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser_support import NEEDS_CHROMIUM, browser_page, running_app, wait_for_app
from tests.page_support import first_classifier

HOSTILE_TEXT = (
    'Hostile passage <script>window.__xss=1</script> and <img src=x onerror="window.__xss=2"> '
    'about greenhouse gas & "quotes".'
)

pytestmark = [
    pytest.mark.e2e,
    NEEDS_CHROMIUM,
]


def write_hostile_concept(data_dir: Path) -> None:
    """Q9999: a concept and passage full of markup, with a span over part of it."""
    folder = data_dir / "Q9999" / "hostile"
    folder.mkdir(parents=True)
    start = HOSTILE_TEXT.index("greenhouse gas")
    passage = {
        "id": "hostile-1",
        "text": HOSTILE_TEXT,
        "spans": [
            {"start_index": start, "end_index": start + 14, "concept_id": "Q9999"},
            {"start_index": 16, "end_index": 40, "concept_id": "Q9999"},  # inside <script>
        ],
        "metadata": {"document_id": '<img src=x onerror="window.__xss=3">'},
    }
    (folder / "predictions.jsonl").write_text(json.dumps(passage) + "\n", encoding="utf-8")
    concept = {
        "wikibase_id": "Q9999",
        "preferred_label": "hostile <b>label</b>",
        "description": '<img src=x onerror="window.__xss=4"> described',
    }
    (data_dir / "Q9999" / "concept.json").write_text(json.dumps(concept), encoding="utf-8")


@pytest.fixture
def e2e_data(demo_copy: Path) -> Path:
    """The demo data (Q223 "carbon dioxide" in the older layout among others), plus Q9999."""
    write_hostile_concept(demo_copy)
    return demo_copy


def test_browse_search_marks_and_hostile_text_runs_nothing(e2e_data: Path, tmp_path: Path):
    classifier_id = first_classifier(e2e_data, "Q223")
    with running_app(e2e_data, tmp_path) as base, browser_page() as (page, dialogs):
        page.goto(base)
        wait_for_app(page)
        assert page.get_by_role("heading", name="Concepts").is_visible()

        # pick a concept in the sidebar's searchable picker, then open Browse
        picker = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first
        picker.click()
        page.keyboard.type("carbon dioxide")
        page.keyboard.press("Enter")
        page.wait_for_function("() => location.search.includes('concept=Q223')")
        page.get_by_role("link", name="Browse").first.click()
        page.get_by_role("heading", name="carbon dioxide (Q223)").wait_for()
        page.wait_for_selector("mark.pc-span")

        search = page.get_by_role("textbox", name="Search passage text")
        search.fill("emissions")
        search.press("Enter")
        page.wait_for_function("() => location.search.includes('search=emissions')")
        page.wait_for_selector("mark.pc-search")
        assert page.locator("mark.pc-search").count() > 0
        assert page.locator("mark.pc-span").count() > 0
        assert "concept=Q223" in page.url and f"classifier={classifier_id}" in page.url

        page.goto(f"{base}/browse?concept=Q9999")
        page.get_by_text("Hostile passage", exact=False).first.wait_for()
        wait_for_app(page)
        assert page.evaluate("() => typeof window.__xss") == "undefined"
        assert dialogs == []
        text = page.locator(".pc-card .pc-text").first.inner_text()
        assert "<script>window.__xss=1</script>" in text
        assert '<img src=x onerror="window.__xss=2">' in text
        assert page.locator(".pc-card script, .pc-card img").count() == 0
        assert page.get_by_text("<script>window.__xss=1</script>", exact=False).first.is_visible()
        assert page.get_by_role("heading", name="hostile <b>label</b> (Q9999)").is_visible()
