"""Helpers of the AppTest page tests: open a page like a copied link, read what it shows.

Imported by the `test_pages*` modules (`from tests.page_support import open_page, ...`); the
fixtures they share (`use_data`, `fresh_streamlit_caches`) are in `conftest.py`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
from streamlit.testing.v1 import AppTest

from predictions_core.data.catalogue import scan_catalogue
from predictions_core.data.loading import load_predictions_file
from predictions_core.query.engine import query_predictions
from predictions_core.query.filters import Filters

APP = Path(__file__).resolve().parent.parent / "app.py"
SHOWING = re.compile(r"Showing ([\d,]+)–([\d,]+) of ([\d,]+) filtered \(([\d,]+) total\)")
NONE_SHOWN = re.compile(r"No passage matches \(of ([\d,]+) in total\)")


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


def change_filter(at: AppTest, kind: str, key: str, value: object) -> AppTest:
    """Set the filter widget `key` (an `at.<kind>`) to `value` and run, as a user's change does.

    A filter without counts reruns only the page's view fragment (`filter_panel.rerun_view`),
    and AppTest's tree then holds that fragment's elements alone (a browser keeps the rest on
    screen). So this reads the view that rerun drew, then runs once more with nothing changed
    (a full run, after which every widget is in the tree again for the next step), and checks
    that the full run draws the very same view: the rerun showed what the page would.
    """
    getattr(at, kind)(key=key).set_value(value).run()
    assert not at.exception, [e.value for e in at.exception]
    drawn_by_the_change = _view(at)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert _view(at) == drawn_by_the_change
    return at


def _view(at: AppTest) -> tuple:
    """What a filter change shows: the counts line, the messages, the cards and the URL."""
    counts = [m.value for m in at.markdown if SHOWING.search(m.value) or NONE_SHOWN.search(m.value)]
    assert counts, "no 'Showing …' line on the page"
    return counts, messages(at), cards(at), dict(at.query_params)


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def shown_counts(at: AppTest) -> tuple[int, int]:
    """(filtered, total) from the page's "Showing X–Y of N filtered (M total)" line."""
    for markdown in at.markdown:
        if match := SHOWING.search(markdown.value):
            return _number(match[3]), _number(match[4])
        if match := NONE_SHOWN.search(markdown.value):
            return 0, _number(match[1])
    raise AssertionError("no 'Showing …' line on the page")


def shown_range(at: AppTest) -> tuple[int, int]:
    """(X, Y) of the page's "Showing X–Y of …" line: the row numbers of this page."""
    for markdown in at.markdown:
        if match := SHOWING.search(markdown.value):
            return _number(match[1]), _number(match[2])
    raise AssertionError("no 'Showing …' line on the page")


def page_title(at: AppTest) -> str:
    """The page's one title."""
    titles = [title.value for title in at.title]
    assert len(titles) == 1, titles
    return titles[0]


def dataframe_with(at: AppTest, column: str):
    """The one table on the page that has `column` (as a pandas DataFrame)."""
    frames = [frame.value for frame in at.dataframe if column in frame.value.columns]
    assert len(frames) == 1, f"{len(frames)} tables with a {column!r} column"
    return frames[0]


def cards(at: AppTest) -> list[str]:
    """The HTML of every passage card on the page, in order (read mode draws a page's cards
    as one HTML element: it is cut at each card's start)."""
    start = '<div class="pc-card">'
    return [start + card for html in at.get("html") for card in html.value.split(start)[1:]]


def card_blocks(at: AppTest) -> list[str]:
    """The HTML elements holding passage cards (one per page in read mode)."""
    return [html.value for html in at.get("html") if 'class="pc-card"' in html.value]


def messages(at: AppTest) -> str:
    """Every error and warning on the page, as one string."""
    return " ".join(e.value for e in [*at.error, *at.warning])


def first_classifier(data_dir: Path, qid: str) -> str:
    """The classifier the sidebar picks by default for `qid` (the catalogue's first)."""
    return next(iter(scan_catalogue(data_dir).concept(qid).classifiers))


def table_of(data_dir: Path, qid: str, classifier_id: str) -> pa.Table:
    """The loaded predictions table of one classifier, read without the app."""
    entry = scan_catalogue(data_dir).classifier(qid, classifier_id)
    return load_predictions_file(entry.predictions_path).table


def expected_counts(data_dir: Path, qid: str, classifier_id: str, params: dict) -> tuple[int, int]:
    """What `query_predictions` says for these URL parameters (the API's answer)."""
    result = query_predictions(
        table_of(data_dir, qid, classifier_id), Filters.from_query_params(params)
    )
    return result.filtered_count, result.total_count
