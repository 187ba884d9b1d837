"""In a real browser: Browse's "API link" answers with the very rows the page shows (issue 11,
bug 1: it pointed under the page's path, `/browse/api/...`, which answers with the dashboard's
HTML).

The dashboard is served by `streamlit run` (tests/browser_support.py) on a copy of the demo
data; the link is read from the page as a user would copy it, then fetched. Needs Chromium at
/usr/bin/chromium; skipped without it.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest

from tests.browser_support import NEEDS_CHROMIUM, browser_page, running_app, wait_for_app
from tests.page_support import first_classifier

pytestmark = [
    pytest.mark.e2e,
    NEEDS_CHROMIUM,
]


def shown_card_ids(page) -> list[str]:
    html = page.locator("[data-testid='stMainBlockContainer']").inner_html()
    return re.findall(r"· id: ([^<]+)</div>", html)


def api_link_text(page) -> str:
    page.get_by_text("Download this view · API link").click()
    code = page.locator("[data-testid='stCode'] code").filter(has_text="/api/predictions/")
    code.first.wait_for()
    return code.first.inner_text().strip()


def test_the_api_link_answers_with_the_rows_shown(demo_copy: Path, tmp_path: Path):
    classifier_id = first_classifier(demo_copy, "Q218")
    view = f"concept=Q218&classifier={classifier_id}&search=emissions&page_size=10"
    with running_app(demo_copy, tmp_path) as base, browser_page() as (page, _):
        page.goto(f"{base}/browse?{view}")
        wait_for_app(page)
        page.wait_for_selector(".pc-card")
        ids = shown_card_ids(page)
        link = api_link_text(page)
        # the server's own root, not the page's path
        assert link.startswith(f"{base}/api/predictions/Q218/{classifier_id}?"), link
        assert "has_spans=true" in link  # Browse's default view, named so the API gives it too
        with urllib.request.urlopen(link, timeout=30) as answer:
            assert answer.headers["content-type"] == "application/json"
            body = json.load(answer)
    assert len(ids) == 10
    assert [row["id"] for row in body["predictions"]] == ids
    assert body["page_size"] == 10 and body["filtered_count"] > 10
