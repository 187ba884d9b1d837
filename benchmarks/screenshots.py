"""Screenshots of Browse, Compare and Evaluate for the docs, taken in a real browser (light theme).

    uv run python -m benchmarks.screenshots [--data DIR] [--out docs/screenshots]

Serves the dashboard on the bundled demo data (default; copied to a temp dir so nothing is
written into it) with `streamlit run`, opens it in Chromium (/usr/bin/chromium) and writes
`browse.png`, `compare.png` and `evaluate.png`. Uses the end-to-end test's server and
browser helpers.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from predictions_core.data.location import DEMO_DATA_DIR, REPO_ROOT
from tests.browser_support import browser_page, running_app, wait_for_app

BROWSE_VIEW = "/browse?concept=Q787&search=forest&page_size=5"
COMPARE_VIEW = "/compare?concept=Q218&show=only_a&page_size=3"
EVALUATE_VIEW = "/evaluate?concept=Q787"


def settle(page) -> None:
    """Until the widgets are drawn (not their loading skeletons) and charts have painted."""
    page.wait_for_selector("[data-testid='stTextInputField']", state="visible")
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')")
    page.wait_for_timeout(1500)


def shoot(page, url: str, ready_selector: str, path: Path, height: int) -> Path:
    """Open `url` in a window `height` pixels tall; once `ready_selector` shows, save it."""
    # Streamlit scrolls inside its main block, so a tall window is how to show a long page
    page.set_viewport_size({"width": 1440, "height": height})
    page.goto(url)
    wait_for_app(page)
    page.wait_for_selector(ready_selector)
    settle(page)
    page.screenshot(path=str(path))
    return path


def take_screenshots(data_dir: Path, out_dir: Path) -> list[Path]:
    """Write browse.png, compare.png and evaluate.png of `data_dir` into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        work_dir = Path(work)
        data_copy = work_dir / "data"
        shutil.copytree(data_dir, data_copy, ignore=shutil.ignore_patterns(".cache", "*.sqlite*"))
        with running_app(data_copy, work_dir) as base, browser_page() as (page, _):
            page.emulate_media(color_scheme="light")
            charts = "[data-testid='stVegaLiteChart'] canvas, .vega-embed"
            return [
                shoot(page, base + BROWSE_VIEW, "mark.pc-search", out_dir / "browse.png", 1100),
                shoot(page, base + COMPARE_VIEW, charts, out_dir / "compare.png", 2900),
                shoot(page, base + EVALUATE_VIEW, charts, out_dir / "evaluate.png", 2400),
            ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEMO_DATA_DIR, help="data dir to show")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"no data at {args.data}: run `uv run predictions demo` first", file=sys.stderr)
        return 1
    for path in take_screenshots(args.data, args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
