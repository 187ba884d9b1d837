"""End to end in a real browser: the Browse filters, whose changes rerun only part of the page.

A filter without counts (search, has spans, years, document id, score) reruns the keyed view
fragment alone (`filter_panel.rerun_view`); a facet (region, corpus, translated) reruns it from
inside; the sort order reruns the whole panel. Whichever part reruns, the facet counts, the
counts line, the cards and the URL must follow every filter, and the panel must stay whole
(each widget once, holding what the user set).

Data: a copy of the bundled demo data. Needs Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from predictions_core.query.engine import facet_counts, query_predictions
from predictions_core.query.filters import Filters
from tests.browser_support import NEEDS_CHROMIUM, browser_page, running_app, wait_for_app
from tests.page_support import first_classifier, table_of

pytestmark = [pytest.mark.e2e, NEEDS_CHROMIUM]


def translated_labels(page) -> list[str]:
    """The labels of the Translated radio, e.g. ["any", "yes (19)", "no (76)"]."""
    radio = page.locator("[data-testid='stRadio']").filter(has_text="Translated")
    return [label.inner_text().strip() for label in radio.locator("label").all()][1:]


def wait_for_view(page, table, filters: Filters) -> None:
    """Until the counts line and the Translated counts are those of `filters` (the engine's)."""
    result = query_predictions(table, filters)
    line = f"of {result.filtered_count:,} filtered ({result.total_count:,} total)"
    page.get_by_text(line, exact=False).first.wait_for()
    translated = facet_counts(table, filters)["translated"]
    expected = [
        "any",
        f"yes ({translated.get('true', 0):,})",
        f"no ({translated.get('false', 0):,})",
    ]
    page.wait_for_function(
        """([expected]) => {
            const radio = [...document.querySelectorAll("[data-testid='stRadio']")]
                .find((r) => r.innerText.includes("Translated"));
            if (!radio) return false;
            const labels = [...radio.querySelectorAll("label")].slice(1)
                .map((l) => l.innerText.trim());
            return JSON.stringify(labels) === JSON.stringify(expected);
        }""",
        arg=[expected],
    )
    assert translated_labels(page) == expected
    wait_for_app(page)


def assert_panel_whole(page, search: str) -> None:
    """Every filter widget once, the search box holding what was typed."""
    for name in ("Search passage text", "Document id contains"):
        assert page.get_by_role("textbox", name=name).count() == 1, name
    for label in ("Has spans", "Translated"):
        assert page.locator("[data-testid='stRadio']").filter(has_text=label).count() == 1
    for label in ("Region", "Corpus", "Sort"):
        assert page.get_by_text(label, exact=True).count() == 1, label
    assert page.get_by_role("textbox", name="Search passage text").input_value() == search
    assert page.locator(".pc-card").count() > 0


def test_counts_cards_and_url_follow_each_filter_whichever_part_reruns(
    demo_copy: Path, tmp_path: Path
):
    classifier_id = first_classifier(demo_copy, "Q218")
    table = table_of(demo_copy, "Q218", classifier_id)
    with running_app(demo_copy, tmp_path) as base, browser_page() as (page, _):
        page.goto(f"{base}/browse?concept=Q218&classifier={classifier_id}")
        wait_for_app(page)
        wait_for_view(page, table, Filters(has_spans=True))

        # a search: a plain filter, the view reruns alone
        search = page.get_by_role("textbox", name="Search passage text")
        search.fill("emissions")
        search.press("Enter")
        page.wait_for_function("() => location.search.includes('search=emissions')")
        wait_for_view(page, table, Filters(has_spans=True, search="emissions"))
        assert_panel_whole(page, "emissions")

        # a facet: drawn inside the view, it reruns the view from within
        page.locator("[data-testid='stRadio']").filter(has_text="Translated").get_by_text(
            re.compile(r"^no \(")
        ).click()
        page.wait_for_function("() => location.search.includes('translated=false')")
        searched_untranslated = Filters(has_spans=True, search="emissions", translated=False)
        wait_for_view(page, table, searched_untranslated)

        page.locator("[data-testid='stMultiSelect']").filter(has_text="Region").click()
        page.get_by_role("option", name=re.compile(r"^South Asia \(")).click()
        page.keyboard.press("Escape")
        page.wait_for_function("() => location.search.includes('region=South+Asia')")
        chosen = Filters(
            has_spans=True, search="emissions", translated=False, region=["South Asia"]
        )
        wait_for_view(page, table, chosen)

        # has spans back to any: the facets' choices survive the view's rerun, though their
        # labels (with counts) change under them
        page.locator("[data-testid='stRadio']").filter(has_text="Has spans").get_by_text(
            "any", exact=True
        ).click()
        page.wait_for_function("() => location.search.includes('has_spans=any')")
        chosen = chosen.model_copy(update={"has_spans": None})
        wait_for_view(page, table, chosen)
        assert_panel_whole(page, "emissions")

        # the sort order reruns the whole panel: the browser sends the facets' choices back
        # (as their labels), and none may be lost, nor any widget doubled
        page.locator("[data-testid='stSelectbox']").filter(has_text="Sort").click()
        page.get_by_role("option", name="longest first").click()
        page.wait_for_function("() => location.search.includes('sort=length_desc')")
        wait_for_view(page, table, chosen)
        query = page.url.split("?", 1)[1]
        assert "translated=false" in query and "region=South+Asia&" in query + "&", query
        assert_panel_whole(page, "emissions")
        shown = page.locator(".pc-card .pc-text").all_inner_texts()
        lengths = [len(text) for text in shown]
        assert lengths == sorted(lengths, reverse=True) and lengths[0] > lengths[-1]
