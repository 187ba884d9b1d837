"""Concepts in a real browser: a click on a row's cell opens that concept, in the same tab.

The table is a canvas (glide-data-grid): cells have no DOM nodes to click, so the test clicks
at a cell's position, from the table's box and the column widths the page sets
(`concepts_view.COLUMN_CONFIG`). Needs Chromium at /usr/bin/chromium; skipped without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from predictions_core.ui.concepts_view import COLUMN_CONFIG, COLUMNS
from tests.browser_support import NEEDS_CHROMIUM, browser_page, running_app, wait_for_app

ROW_PX = 35  # the grid's header and row height (Streamlit's default)

pytestmark = [
    pytest.mark.e2e,
    NEEDS_CHROMIUM,
]


def click_cell(page, row: int, column: str) -> None:
    """Click the middle of the table's cell (`row`, `column`); rows count from 0."""
    box = page.locator("[data-testid='stDataFrame']").bounding_box()
    left = 0
    for name in COLUMNS[: COLUMNS.index(column)]:
        left += COLUMN_CONFIG[name]["width"]
    x = box["x"] + left + COLUMN_CONFIG[column]["width"] / 2
    page.mouse.click(x, box["y"] + ROW_PX * (row + 1) + ROW_PX / 2)


def test_a_click_on_a_cell_opens_the_concept_and_compare_opens_compare(
    demo_copy: Path, tmp_path: Path
):
    with running_app(demo_copy, tmp_path) as base, browser_page() as (page, _):
        page.set_default_timeout(60_000)  # page switches on a busy 2-core machine
        page.goto(base)
        wait_for_app(page)
        page.locator("[data-testid='stDataFrame']").wait_for()  # rows in catalogue order
        click_cell(page, 1, "label")  # "carbon dioxide" (Q223): one click, same tab
        page.get_by_role("heading", name="carbon dioxide (Q223)").wait_for()
        assert "/browse?" in page.url and "concept=Q223" in page.url
        assert len(page.context.pages) == 1

        # Back (as often as the page's own URL updates need) returns to Concepts, which
        # stays there: the click that left it is not replayed
        for _ in range(4):
            page.go_back()
            wait_for_app(page)
            if "/browse" not in page.url:
                break
        page.get_by_role("heading", name="Concepts").wait_for()
        wait_for_app(page)
        assert "/browse" not in page.url

        click_cell(page, 0, "compare")  # greenhouse gas (Q218), four classifiers
        page.get_by_role("heading", name="Compare classifiers · greenhouse gas (Q218)").wait_for()
        assert "/compare?" in page.url and "concept=Q218" in page.url
