"""End to end in a real browser: Evaluate's score-threshold control (`threshold=` in the URL),
its other choices in the URL (`slice=`, `classifier=`), Back, and quick arrow keys.

The data, written here: concept Q5 with gold by "ann" (p1–p4 positive, p5–p8 negative), a
classifier "scored" whose spans carry `prediction_probability`, and "plain" without scores.

    passage  gold  "scored" (probability)    "plain"
    p1       +     0.9                       span
    p2       +     0.6                       -
    p3       +     0.495                     span
    p4       +     -                         -
    p5       -     0.8                       span
    p6       -     0.55                      -
    p7       -     0.2                       -
    p8       -     span without probability  -

The expected figures are counted here from that table (`expected_scores`), not by the app:
"scored" has P 3/7, R 3/4 without a threshold; 1/2, 1/2 at 0.5; 3/5, 3/4 at 0.49 (p3 joins);
its best threshold is 0.495. "plain" has no scores and stays at P 2/3, R 1/2 throughout.
Needs Chromium at /usr/bin/chromium (`apt-get install -y chromium`); skipped without it.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser_support import NEEDS_CHROMIUM, browser_page, running_app, wait_for_app

pytestmark = [
    pytest.mark.e2e,
    NEEDS_CHROMIUM,
]

QID = "Q5"
TEXTS = {pid: f"forest passage {pid}" for pid in ("p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8")}
GOLD_POSITIVE = {"p1", "p2", "p3", "p4"}
NO_PROBABILITY = object()  # a span without `prediction_probability`
SCORED = {"p1": 0.9, "p2": 0.6, "p3": 0.495, "p5": 0.8, "p6": 0.55, "p7": 0.2}
SCORED["p8"] = NO_PROBABILITY
PLAIN = dict.fromkeys(("p1", "p3", "p5"), NO_PROBABILITY)


def _span(labeller: str, probability: object = NO_PROBABILITY) -> dict:
    span = {"start_index": 0, "end_index": 6, "concept_id": QID, "labellers": [labeller]}
    if probability is not NO_PROBABILITY:
        span["prediction_probability"] = probability
    return span


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


@pytest.fixture
def threshold_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    gold = [
        {"id": pid, "text": text, "spans": [_span("ann")] if pid in GOLD_POSITIVE else []}
        for pid, text in TEXTS.items()
    ]
    concept = {"wikibase_id": QID, "preferred_label": "forest", "labelled_passages": gold}
    (data / QID).mkdir(parents=True)
    (data / QID / "concept.json").write_text(json.dumps(concept), encoding="utf-8")
    scored = [
        {"id": pid, "text": text, "spans": [_span("m", SCORED[pid])] if pid in SCORED else []}
        for pid, text in TEXTS.items()
    ]
    plain = [
        {"id": pid, "text": text, "spans": [_span("k")] if pid in PLAIN else []}
        for pid, text in TEXTS.items()
    ]
    _write_jsonl(data / QID / "scored" / "predictions.jsonl", scored)
    _write_jsonl(data / QID / "plain" / "predictions.jsonl", plain)
    return data


# ------------------------------------------------------------------ the figures, by hand


def _counts(spans: dict[str, object], threshold: float | None) -> tuple[int, int, int]:
    """(tp, fp, fn) of passages: a passage is positive when it has a span and, with a
    threshold, a probability at least the threshold; a classifier without any probability
    ignores the threshold.
    """
    if all(probability is NO_PROBABILITY for probability in spans.values()):
        threshold = None
    predicted = {
        pid
        for pid, probability in spans.items()
        if threshold is None or (probability is not NO_PROBABILITY and probability >= threshold)
    }
    tp = len(predicted & GOLD_POSITIVE)
    return tp, len(predicted - GOLD_POSITIVE), len(GOLD_POSITIVE - predicted)


def _f1(tp: int, fp: int, fn: int) -> float | None:
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None


def expected_scores(spans: dict[str, object], threshold: float | None) -> tuple[str, str, str]:
    """Passage precision, recall and F1 as the page prints them (3 decimals, `—` undefined)."""
    tp, fp, fn = _counts(spans, threshold)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    values = (precision, recall, _f1(tp, fp, fn))
    return tuple("—" if value is None else f"{value:.3f}" for value in values)


def best_threshold_line(spans: dict[str, object]) -> str:
    """The page's sentence start for the best threshold: each distinct score tried, the
    highest F1 wins, the higher threshold on a tie."""
    scores = {p for p in spans.values() if p is not NO_PROBABILITY}
    best = max(sorted(scores, reverse=True), key=lambda t: _f1(*_counts(spans, t)) or 0.0)
    return f"best threshold {best:.3f}, F1 {expected_scores(spans, best)[2]}"


def test_expected_figures_by_hand():
    """The hand counts above, written out, so the browser test compares against known numbers."""
    assert expected_scores(SCORED, None) == ("0.429", "0.750", "0.545")  # 3/7, 3/4, 6/11
    assert expected_scores(SCORED, 0.5) == ("0.500", "0.500", "0.500")  # 2/4, 2/4, 4/8
    assert expected_scores(SCORED, 0.49) == ("0.600", "0.750", "0.667")  # 3/5, 3/4, 6/9
    assert expected_scores(SCORED, 1.0) == ("—", "0.000", "0.000")  # 0/0, 0/4, 0/8
    assert expected_scores(SCORED, 0.0) == ("0.500", "0.750", "0.600")  # 3/6, 3/4, 6/10
    assert best_threshold_line(SCORED) == "best threshold 0.495, F1 0.667"  # 3/5, 3/4
    for threshold in (None, 0.5, 0.49, 1.0, 0.0):
        assert expected_scores(PLAIN, threshold) == ("0.667", "0.500", "0.571")


# ------------------------------------------------------------------ reading the page

# The summary table is a canvas; Streamlit's grid keeps an accessible <table> of its visible
# cells inside it. Returns {classifier name: {column: text}} for the table with "gold covered"
# (the classifiers here have no name but their id, so their short name is the id).
READ_SUMMARY = """
() => {
  for (const table of document.querySelectorAll("[data-testid=stDataFrame] table")) {
    const heads = [...table.querySelectorAll("thead th")].map(th => th.textContent.trim());
    if (!heads.includes("gold covered")) continue;
    const rows = {};
    for (const tr of table.querySelectorAll("tbody tr")) {
      const cells = [...tr.querySelectorAll("td")].map(td => td.textContent.trim());
      const row = Object.fromEntries(heads.map((head, i) => [head, cells[i]]));
      rows[row.classifier] = row;
    }
    return rows;
  }
  return null;
}
"""


def shown_scores(page) -> dict[str, tuple[str, str, str]]:
    """Each classifier's passage precision, recall and F1 in the table, without intervals."""
    rows = page.evaluate(READ_SUMMARY) or {}
    return {
        cid: tuple(row[column].split(" [")[0] for column in ("precision", "recall", "F1"))
        for cid, row in rows.items()
    }


def wait_for_scores(page, threshold: float | None) -> None:
    """Until the table shows the hand-computed figures at `threshold` and the run is over."""
    expected = {
        "scored": expected_scores(SCORED, threshold),
        "plain": expected_scores(PLAIN, threshold),
    }
    shows = (
        "(expected) => { const rows = (" + READ_SUMMARY + ")(); return !!rows && "
        "Object.entries(expected).every(([id, want]) => rows[id] && "
        '["precision", "recall", "F1"].every('
        '(column, i) => rows[id][column].split(" [")[0] === want[i])); }'
    )
    page.wait_for_function(shows, arg=expected)
    wait_for_app(page)
    assert shown_scores(page) == expected  # still so once the script run is over
    caption = page.get_by_text("Passage level: a passage is positive when")
    if threshold is None:
        assert "a score of at least" not in caption.inner_text()
    else:
        assert f"and a score of at least {threshold:g}." in caption.inner_text()


def url_threshold(page) -> list[str]:
    return parse_qs(urlsplit(page.url).query).get("threshold", [])


def wait_for_url_threshold(page, value: str | None) -> None:
    """Until the URL's `threshold=` is `value` (None: no threshold in the URL)."""
    page.wait_for_function(
        "(value) => new URLSearchParams(location.search).get('threshold') === value", arg=value
    )


def test_threshold_control_changes_scores_and_lives_in_the_url(threshold_data, tmp_path):
    with running_app(threshold_data, tmp_path) as base, browser_page() as (page, dialogs):
        page.goto(f"{base}/evaluate?concept={QID}")
        page.get_by_role("heading", name=f"Evaluate · forest ({QID})").wait_for()
        main = page.locator("[data-testid=stMain]")
        switch = main.get_by_role("switch", name="Apply a score threshold")
        slider = main.get_by_role("slider", name="Score threshold")

        # no threshold: every span counts; the best threshold and charts are shown anyway
        wait_for_scores(page, None)
        assert not switch.is_checked() and slider.is_disabled()
        assert url_threshold(page) == []
        # opening the page wrote no default into the URL, so no history entry of its own:
        # about:blank and this page (before: a third, `gold_source=concept`, and Back from
        # the first choice landed on the same view)
        assert page.url == f"{base}/evaluate?concept={QID}"
        assert page.evaluate("history.length") == 2
        assert main.get_by_text(f"scored: {best_threshold_line(SCORED)}").is_visible()
        assert main.get_by_text("plain: no scores").count() == 1
        assert main.locator("[data-testid=stVegaLiteChart]").count() >= 2

        # on: the slider starts at 0.5 and the URL says so
        main.get_by_text("Apply a score threshold").click()
        wait_for_url_threshold(page, "0.5")
        wait_for_scores(page, 0.5)
        assert switch.is_checked() and slider.is_enabled()
        assert slider.input_value() == "0.5"

        # one step down by keyboard: 0.49 lets p3 (0.495) in
        slider.focus()
        page.keyboard.press("ArrowLeft")
        wait_for_url_threshold(page, "0.49")
        wait_for_scores(page, 0.49)
        assert url_threshold(page) == ["0.49"]
        assert slider.input_value() == "0.49"
        assert main.get_by_text(f"scored: {best_threshold_line(SCORED)}").is_visible()

        # the URL alone restores the view
        page.reload()
        wait_for_scores(page, 0.49)
        assert switch.is_checked() and slider.input_value() == "0.49"
        assert url_threshold(page) == ["0.49"]

        # Back: the view at 0.5, then the one without a threshold
        page.go_back()
        wait_for_url_threshold(page, "0.5")
        wait_for_scores(page, 0.5)
        assert switch.is_checked() and slider.input_value() == "0.5"
        page.go_back()
        wait_for_url_threshold(page, None)
        wait_for_scores(page, None)
        assert not switch.is_checked() and slider.is_disabled()
        assert page.url == f"{base}/evaluate?concept={QID}"

        # the ends of the slider by keyboard: at 1 nothing scores high enough, at 0 all but p8
        main.get_by_text("Apply a score threshold").click()
        wait_for_url_threshold(page, "0.5")
        wait_for_scores(page, 0.5)
        slider.focus()
        page.keyboard.press("End")
        wait_for_url_threshold(page, "1")
        wait_for_scores(page, 1.0)
        assert url_threshold(page) == ["1"]
        page.keyboard.press("Home")
        wait_for_url_threshold(page, "0")
        wait_for_scores(page, 0.0)
        assert url_threshold(page) == ["0"]
        assert dialogs == []


def settled(page, predicate: str, arg=None, seconds: float = 1.5) -> bool:
    """True when `predicate` holds now, the script is idle, and both still hold `seconds`
    later (no rerun went on pulling the page or the URL elsewhere)."""
    wait_for_app(page)
    before = page.evaluate(predicate, arg)
    page.wait_for_timeout(seconds * 1000)
    wait_for_app(page)
    return before and page.evaluate(predicate, arg)


def test_quick_arrow_keys_leave_url_slider_and_scores_at_the_last_step(threshold_data, tmp_path):
    """Five presses without waiting: each run may start with the URL of a step or two ago
    (the browser had not received the newest one); the steps must all count, and the URL,
    the slider and the scores end at the same value. Before: 3 of 7 tries ended apart."""
    with running_app(threshold_data, tmp_path) as base, browser_page() as (page, dialogs):
        page.goto(f"{base}/evaluate?concept={QID}&threshold=0.55")
        main = page.locator("[data-testid=stMain]")
        slider = main.get_by_role("slider", name="Score threshold")
        wait_for_scores(page, 0.55)
        for presses, final in ((5, "0.5"), (4, "0.46")):
            slider.focus()
            for _ in range(presses):
                page.keyboard.press("ArrowLeft")
            wait_for_url_threshold(page, final)
            wait_for_scores(page, float(final))
            same = "(v) => new URLSearchParams(location.search).get('threshold') === v"
            assert settled(page, same, final), page.url
            assert slider.input_value() == final
            assert shown_scores(page)["scored"] == expected_scores(SCORED, float(final))
        assert dialogs == []


def test_slice_and_error_list_choices_live_in_the_url_and_back_undoes_them(
    threshold_data, tmp_path
):
    with running_app(threshold_data, tmp_path) as base, browser_page() as (page, dialogs):
        page.goto(f"{base}/evaluate?concept={QID}")
        main = page.locator("[data-testid=stMain]")
        wait_for_scores(page, None)
        first = page.url

        main.get_by_role("radio", name="Translated", exact=True).click()
        page.wait_for_function("() => location.search.includes('slice=translated')")
        wait_for_app(page)
        sliced = page.url

        picker = main.get_by_role("combobox", name="Classifier", exact=True)
        picker.click()
        picker.fill("scored")
        page.keyboard.press("Enter")
        page.wait_for_function("() => location.search.includes('classifier=scored')")
        wait_for_app(page)
        tab = main.get_by_role("tab", name="False positives (4)")
        assert tab.is_visible()  # "scored": p5, p6, p7 and p8 without a threshold

        # the URL alone restores both choices
        page.reload()
        wait_for_app(page)
        assert main.get_by_role("tab", name="False positives (4)").is_visible()
        assert parse_qs(urlsplit(page.url).query)["slice"] == ["translated"]

        page.go_back()
        page.wait_for_function("() => !location.search.includes('classifier=')")
        wait_for_app(page)
        assert page.url == sliced
        plain_fp = _counts(PLAIN, None)[1]
        main.get_by_role("tab", name=f"False positives ({plain_fp})").wait_for()
        page.go_back()
        page.wait_for_function("() => !location.search.includes('slice=')")
        wait_for_app(page)
        assert page.url == first
        assert dialogs == []
