"""Browse in a real browser: paging and Back, and two named reviewers judging one passage.

The card list is a Streamlit fragment (Next reruns only the list), so these check what only a
browser shows: the URL a fragment's run writes, Back restoring the previous page, and two
browsers (two reviewers) seeing whose judgement is whose. Needs Chromium at /usr/bin/chromium;
skipped without it. The server and browser helpers are in `tests/browser_support.py`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from predictions_core.feedback.store import FeedbackStore
from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    NEEDS_CHROMIUM,
    browser_page,
    running_app,
    wait_for_app,
)
from tests.page_support import first_classifier

pytestmark = [
    pytest.mark.e2e,
    NEEDS_CHROMIUM,
]
QID = "Q218"
FIRST_CARD = "document.querySelector('.pc-card .pc-meta')"


def wait_first_card(page, number: int) -> None:
    """Until the first card on the page is card `#number`."""
    page.wait_for_function(
        f"() => {{ const c = {FIRST_CARD}; return c && c.textContent.startsWith('#{number} ') }}"
    )


def wait_page_in_url(page, number: int | None) -> None:
    """Until the address bar says `page=number` (no `page` for the first page)."""
    # `page.url` lags behind a pushState: read the location itself
    check = (
        "!/[?&]page=/.test(location.search)"
        if number is None
        else (f"/[?&]page={number}(&|$)/.test(location.search)")
    )
    page.wait_for_function(f"() => {check}")


def test_back_after_paging_returns_to_the_previous_page(demo_copy: Path, tmp_path: Path):
    with running_app(demo_copy, tmp_path) as base, browser_page() as (page, _):
        page.goto(f"{base}/browse?concept={QID}&has_spans=any&page_size=10")
        wait_for_app(page)
        wait_first_card(page, 1)
        next_button = page.get_by_role("button", name="Next ›").first
        for number, first in ((2, 11), (3, 21)):
            next_button.click()
            wait_first_card(page, first)
            wait_page_in_url(page, number)
        page.go_back()
        wait_first_card(page, 11)
        wait_page_in_url(page, 2)
        page.go_back()
        wait_first_card(page, 1)
        wait_page_in_url(page, None)
        assert "page_size=10" in page.evaluate("location.search")


def judge_first_card(page, label: str) -> None:
    page.locator("[data-testid='stButtonGroup']").first.get_by_text(label).click()
    page.get_by_text(f"Saved: {label}").first.wait_for()


def first_judged_line(page) -> str:
    return page.locator(".pc-card .pc-judged").first.inner_text()


def test_two_named_reviewers_judge_the_same_passage(demo_copy: Path, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    classifier_id = first_classifier(demo_copy, QID)
    view = f"concept={QID}&classifier={classifier_id}&has_spans=true&page_size=5&review=true"
    with running_app(demo_copy, tmp_path) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            alice, bob = (
                browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                for _ in range(2)
            )
            alice.goto(f"{base}/browse?{view}&reviewer=alice")  # a name in the URL
            wait_for_app(alice)
            bob.goto(f"{base}/browse?{view}")
            wait_for_app(bob)
            name = bob.get_by_role("textbox", name="Reviewer name")  # a name typed
            name.fill("bob")
            name.press("Enter")
            bob.wait_for_function("() => location.search.includes('reviewer=bob')")

            judge_first_card(alice, "✓ correct")
            judge_first_card(bob, "✗ incorrect")
            for page in (alice, bob):
                page.reload()
                wait_for_app(page)
            alice_sees, bob_sees = first_judged_line(alice), first_judged_line(bob)
            assert alice_sees.startswith("Your judgement: ✓ correct") and "✗ bob" in alice_sees
            assert bob_sees.startswith("Your judgement: ✗ incorrect") and "✓ alice" in bob_sees

            store = FeedbackStore(tmp_path / "feedback.sqlite")
            judgements = store.list_judgements(QID, classifier_id)
            assert {(j["reviewer"], j["verdict"]) for j in judgements} == {
                ("alice", "correct"),
                ("bob", "incorrect"),
            }
            assert len({j["passage_id"] for j in judgements}) == 1  # the same passage
            assert len(store.history(QID)) == 2  # nothing overwritten

            with alice.expect_download() as download:
                alice.get_by_role(
                    "button", name=re.compile(r"judgements \(JSONL, 2 judged\)")
                ).click()
            lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
            (exported,) = [json.loads(line) for line in lines]
            assert exported["id"] == judgements[0]["passage_id"]
            labellers = {label for span in exported["spans"] for label in span["labellers"]}
            assert labellers == {"reviewer:alice"}  # ✓ makes its spans gold; ✗ adds none
        finally:
            browser.close()
