"""Benchmark: the dashboard in Chromium against a bare Streamlit page, side by side (issue 11 §1).

What a user feels is the time from a click until the new first card is visible; the server's
share of it (`bench_pages.py`) is small. The floor is `benchmarks/bare_page.py`: 50 bordered
text cards and a Next button, nothing else. One run starts every server with `streamlit run`
(headless, free 127.0.0.1 ports): the dashboard on a copy of the demo data, the dashboard on
one classifier with N synthetic predictions (`benchmarks/synthetic.py`, cached in
`benchmarks/data/` like `bench_pages.py`'s), and the bare page. Debian's Chromium
(/usr/bin/chromium) is driven by Playwright. Each round measures every server once, the bare
page between the dashboards (the order flips each round), so load from other work on the
machine hits both sides alike. Every visit is a new browser context (a first-time visitor):
- first load: `page.goto(url)` until the first card (#1) is visible;
- next page: a click on Next until the first card of page 2 (#51) is visible;
- search (dashboard): a word typed in the search box, then Enter, until the first card is
  #1 again and holds the word;
- filter change (dashboard): "Translated" set to the opposite of the first card's value,
  until a different first card with that value is visible.
Each server gets one untimed round first (the large file loads and its texts page in).

    uv run python -m benchmarks.bench_browser [--n 1000000] [--repeat 7] [--quick] [--out DIR]

`--quick`: the demo data and the bare page only, 2 rounds. Results: a markdown table on
stdout and `benchmarks/results/browser-<date>-<n>.json` (every time, medians and ratios).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # so `python benchmarks/bench_browser.py` finds the packages

from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from benchmarks.bench_core import DATA_DIR, dataset  # noqa: E402
from benchmarks.bench_pages import CLASSIFIER, QID, data_dir_with  # noqa: E402
from predictions_core.data.location import DEMO_DATA_DIR  # noqa: E402
from tests.browser_support import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    running_app,
    running_streamlit,
)
from tests.page_support import first_classifier  # noqa: E402

DEMO_QID = "Q218"
PAGE_SIZE = 50
SEARCH_WORD = "emissions"  # common in the demo's Q218 and in the synthetic passages
ACTIONS = ("first_load", "next_page", "search", "filter_change")
ACTION_NAMES = {
    "first_load": "First load",
    "next_page": "Next page",
    "search": "Search (word + Enter)",
    "filter_change": "Filter change",
}
# issue 11's target: each click within 1.5x the bare page's Next, first load within 2x its own
TARGETS = {"first_load": 2.0, "next_page": 1.5, "search": 1.5, "filter_change": 1.5}
WAIT_MS = 120_000
WARM_UP_WAIT_MS = 1_800_000  # the first visit of a cold server parses the large file
SETTLE_S = 0.5  # idle time before each timed action, as a user reads before clicking
VIEWPORT = {"width": 1400, "height": 1000}


# --- Selectors: the one place to adjust when the cards or the controls are drawn otherwise ---
# The dashboard's cards are `highlight.card_html`'s `.pc-card` (first line "# 51 · document
# ..."); the bare page's are `st.text` elements starting "#51".
CARD_SELECTORS = {"dashboard": ".pc-card", "bare": "[data-testid='stText']"}
# The first visible card as {number, text, translated}, or null unless it matches `want`
_FIRST_CARD_JS = r"""
([selector, want]) => {
  const card = [...document.querySelectorAll(selector)].find(e => e.getClientRects().length);
  const number = card && card.innerText.match(/#\s*([\d,]+)/);
  if (!number) return null;
  const text = card.innerText;
  const translated = (text.match(/translated:?\s+(yes|no)\b/) || [])[1] || null;
  const found = {number: Number(number[1].replaceAll(',', '')), text, translated};
  if (!want) return found;
  if (want.number != null && found.number !== want.number) return null;
  if (want.not_text != null && found.text === want.not_text) return null;
  if (want.contains != null && !text.toLowerCase().includes(want.contains)) return null;
  if (want.translated != null && found.translated !== want.translated) return null;
  return found;
}
"""


def first_card(page, selector: str, want: dict | None = None, timeout_ms: int = WAIT_MS) -> dict:
    """Wait until the first visible card matches `want` (any card: None); what it shows."""
    handle = page.wait_for_function(_FIRST_CARD_JS, arg=[selector, want], timeout=timeout_ms)
    return handle.json_value()


def next_button(page):
    """The (first) button whose label says Next."""
    return page.get_by_role("button", name=re.compile("Next")).first


def search_box(page):
    return page.get_by_role("textbox", name="Search passage text")


def translated_option(page, value: str):
    """The "yes" / "no" choice of the Translated filter (its label may add a count)."""
    choices = page.get_by_role("radiogroup", name="Translated")
    return choices.get_by_text(re.compile(rf"^{value}\b")).first


def wait_idle(page, timeout_ms: int = WAIT_MS) -> None:
    """Until the script run is over (Streamlit's status widget gone), then a short pause."""
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stStatusWidget']\")", timeout=timeout_ms
    )
    time.sleep(SETTLE_S)


# --- Measuring ---


@dataclass(frozen=True)
class Target:
    """One column of the table: a served page and what it is measured on."""

    key: str
    label: str
    url: str
    kind: str  # "dashboard" (every action) or "bare" (first load and next page)

    @property
    def selector(self) -> str:
        return CARD_SELECTORS[self.kind]


def timed_visit(browser, target: Target, first_wait_ms: int = WAIT_MS) -> dict[str, float]:
    """One new visitor: every action of `target` once, in order; seconds per action."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    seconds: dict[str, float] = {}
    try:
        started = time.perf_counter()
        page.goto(target.url, wait_until="commit", timeout=first_wait_ms)
        first_card(page, target.selector, {"number": 1}, first_wait_ms)
        seconds["first_load"] = time.perf_counter() - started
        wait_idle(page, first_wait_ms)
        button = next_button(page)
        button.wait_for()
        started = time.perf_counter()
        button.click()
        first_card(page, target.selector, {"number": PAGE_SIZE + 1})
        seconds["next_page"] = time.perf_counter() - started
        if target.kind == "dashboard":
            wait_idle(page)
            seconds["search"] = _timed_search(page, target.selector)
            wait_idle(page)
            seconds["filter_change"] = _timed_filter_change(page, target.selector)
        return seconds
    except PlaywrightError as error:
        step = next((a for a in _actions_of(target) if a not in seconds), "?")
        reason = str(error).splitlines()[0]
        raise RuntimeError(f"{target.label}: {step} did not finish ({reason})") from error
    finally:
        context.close()


def _timed_search(page, selector: str) -> float:
    """From page 2: Enter in the search box until page 1's first card holds the word."""
    box = search_box(page)
    box.fill(SEARCH_WORD)  # a text input sends its value on Enter, not while typing
    started = time.perf_counter()
    box.press("Enter")
    first_card(page, selector, {"number": 1, "contains": SEARCH_WORD})
    return time.perf_counter() - started


def _timed_filter_change(page, selector: str) -> float:
    """Translated set to the opposite of the first card's: that card cannot stay first."""
    before = first_card(page, selector)
    value = "no" if before["translated"] == "yes" else "yes"
    option = translated_option(page, value)
    option.wait_for()
    started = time.perf_counter()
    option.click()
    want = {"number": 1, "not_text": before["text"]}
    if before["translated"] is not None:  # the card shows the value: the new one must match
        want["translated"] = value
    first_card(page, selector, want)
    return time.perf_counter() - started


def measure(targets: list[Target], repeat: int) -> tuple[dict, dict]:
    """One warm-up round per target, then `repeat` rounds, the bare page in the middle.

    Returns the rounds' seconds per target and action, and the warm-up round's (a cold
    server: reported, not summarised).
    """
    times = {t.key: {a: [] for a in ACTIONS if a in _actions_of(t)} for t in targets}
    warm_up = {}
    dashboards = [t for t in targets if t.kind == "dashboard"]
    bare = [t for t in targets if t.kind == "bare"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for target in targets:
                print(f"warming up {target.label} ...", flush=True)
                warm_up[target.key] = timed_visit(browser, target, WARM_UP_WAIT_MS)
            time.sleep(5)  # the large table's background text scan
            for round_number in range(repeat):
                order = dashboards[:1] + bare + dashboards[1:]
                for target in order if round_number % 2 == 0 else order[::-1]:
                    for action, seconds in timed_visit(browser, target).items():
                        times[target.key][action].append(seconds)
                print(f"round {round_number + 1}/{repeat} done", flush=True)
        finally:
            browser.close()
    return times, warm_up


def _actions_of(target: Target) -> tuple[str, ...]:
    return ACTIONS if target.kind == "dashboard" else ("first_load", "next_page")


# --- Servers ---


def running_bare_page(work_dir: Path):
    """`streamlit run benchmarks/bare_page.py` on a free local port; yields its base URL."""
    return running_streamlit("benchmarks/bare_page.py", work_dir, dict(os.environ))


def start_servers(stack: ExitStack, work: Path, n: int | None) -> list[Target]:
    """Every server of the run; the targets they serve."""
    demo, big, bare = work / "demo", work / "big", work / "bare"
    shutil.copytree(
        DEMO_DATA_DIR, demo / "data", ignore=shutil.ignore_patterns(".cache", "*.sqlite*")
    )
    bare.mkdir()
    demo_path = _browse_path(DEMO_QID, first_classifier(demo / "data", DEMO_QID))
    servers = {  # key: (label, kind, server, path)
        "dashboard_demo": ("dashboard, demo data", "dashboard", running_app(demo / "data", demo),
                           demo_path),
        "bare": ("bare 50-card page", "bare", running_bare_page(bare), "/"),
    }  # fmt: skip
    if n is not None:
        data_dir_with(dataset(n), big)  # links to the cached synthetic file: no copy
        # the parsed file is cached across runs (keyed by the resolved path), like bench_pages'
        cache = {"PREDICTIONS_CACHE_DIR": str(DATA_DIR / "pages-cache")}
        servers["dashboard_large"] = (f"dashboard, {n:,} predictions", "dashboard",
                                      running_app(big / "data", big, cache),
                                      _browse_path(QID, CLASSIFIER))  # fmt: skip
    # one after another: started together on a busy machine, they missed the health deadline
    return [
        Target(key, label, stack.enter_context(server) + path, kind)
        for key, (label, kind, server, path) in servers.items()
    ]


def _browse_path(concept: str, classifier: str) -> str:
    return f"/browse?concept={concept}&classifier={classifier}&page_size={PAGE_SIZE}"


# --- Results ---


def summarise(times: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, dict]]:
    """Median, min and max of every action per target, and ratios to the bare page's."""
    bare = {a: statistics.median(times["bare"][a]) for a in ("first_load", "next_page")}
    summary: dict[str, dict[str, dict]] = {}
    for key, actions in times.items():
        summary[key] = {}
        for action, values in actions.items():
            median = statistics.median(values)
            entry = {"median_s": median, "min_s": min(values), "max_s": max(values)}
            if key != "bare":
                floor = bare["first_load" if action == "first_load" else "next_page"]
                entry["ratio_to_bare"] = median / floor
                entry["target_ratio"] = TARGETS[action]
                entry["meets_target"] = median / floor <= TARGETS[action]
            summary[key][action] = entry
    return summary


def markdown_table(summary: dict[str, dict[str, dict]], labels: dict[str, str]) -> str:
    """Rows: actions; columns: each target's median (min–max), the ratios, the verdict."""
    dashboards = [key for key in summary if key != "bare"]
    header = [""] + [labels[k] for k in dashboards] + [labels["bare"]]
    header += [f"{labels[k].removeprefix('dashboard, ')} ÷ bare" for k in dashboards]
    header.append("target met")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for action in ACTIONS:
        floor = "first load" if action == "first_load" else "Next"
        cells = [ACTION_NAMES[action]]
        cells += [_cell(summary[key].get(action)) for key in [*dashboards, "bare"]]
        cells += [f"{summary[key][action]['ratio_to_bare']:.1f}×" for key in dashboards]
        met = all(summary[key][action]["meets_target"] for key in dashboards)
        cells.append(f"{'yes' if met else 'no'} (≤ {TARGETS[action]}× bare {floor})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(entry: dict | None) -> str:
    if entry is None:
        return "—"
    return f"{entry['median_s']:.2f} s ({entry['min_s']:.2f}–{entry['max_s']:.2f})"


def _path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]  # the port changes every run


def run_info() -> dict[str, object]:
    """What the figures were measured on, and which code (the lead re-runs it after changes)."""
    from importlib.metadata import version

    def output(*command: str) -> str | None:
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None

    changes = output("git", "status", "--porcelain", "--", "app.py", "predictions_core", "pages")
    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "streamlit": version("streamlit"),
        "playwright": version("playwright"),
        "chromium": output(str(CHROMIUM), "--version"),
        "commit": output("git", "rev-parse", "--short", "HEAD"),
        # the dashboard's code differs from the commit (None: not a git checkout)
        "uncommitted_changes": None if changes is None else bool(changes),
        "load_average_at_start": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="predictions of the large data")
    parser.add_argument("--repeat", type=int, default=None, help="timed rounds (default 7)")
    parser.add_argument("--quick", action="store_true", help="demo data only, 2 rounds")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"needs Chromium at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 1
    repeat = args.repeat or (2 if args.quick else 7)
    n = None if args.quick else args.n
    info = run_info()
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as work, ExitStack() as stack:
        started = time.perf_counter()
        targets = start_servers(stack, Path(work), n)
        print(f"servers up in {time.perf_counter() - started:.0f} s", flush=True)
        times, warm_up = measure(targets, repeat)
    info["load_average_at_end"] = os.getloadavg()
    labels = {t.key: t.label for t in targets}
    summary = summarise(times)
    table = markdown_table(summary, labels)
    load = f"{info['load_average_at_start'][0]:.1f} → {info['load_average_at_end'][0]:.1f}"
    print(f"\nmedian (min–max) of {repeat} rounds, seconds; 1-min load average {load}\n")
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"browser-{dt.date.today().isoformat()}-{n or 'demo'}.json"
    paths = {t.key: _path_of(t.url) for t in targets}
    result = {**info, "n": n, "repeat": repeat, "targets": labels, "paths": paths,
              "times_s": times, "warm_up_s": warm_up, "summary": summary,
              "table": table}  # fmt: skip
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
