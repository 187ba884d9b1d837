"""Benchmark: how fast Browse re-renders after a filter change, with N predictions loaded.

The page runs under AppTest (the real page scripts, router and caches, server side; no
browser). One classifier with N synthetic predictions (default 1M, `benchmarks/synthetic.py`,
cached in `benchmarks/data/`). The first run loads the file (reported, not counted); then
each step changes one widget and times `.run()`. The baseline, in the same run, is the bare
`query_predictions` call for the same filters (what the HTTP route does), on a fresh Table
object so the query module's own cache cannot answer it; the difference is what the page
itself costs. A re-run of an unchanged view (a cache hit) is timed too.

    uv run python -m benchmarks.bench_pages [--n 1000000] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # so `python benchmarks/bench_pages.py` finds the packages

from benchmarks.bench_core import DATA_DIR, dataset  # noqa: E402
from benchmarks.synthetic import CORPORA, REGIONS  # noqa: E402

QID, CLASSIFIER = "Q218", "synthetic"
# (widget kind, key, value): one user action each, every one a view not seen before
STEPS: list[tuple[str, str, object]] = [
    ("text_input", "browse_search", "methane"),
    ("text_input", "browse_search", "sulphur hexafluoride"),
    ("text_input", "browse_search", "/carbon (tax|price)/i"),
    ("text_input", "browse_search", "emissions"),
    ("multiselect", "browse_region", [REGIONS[0]]),
    ("radio", "browse_has_spans", "yes"),
    ("multiselect", "browse_corpus", [CORPORA[1]]),
    ("radio", "browse_translated", "no"),
    ("number_input", "browse_year_min", 2015),
    ("selectbox", "browse_sort", "length_desc"),
    ("button", "browse_next_top", None),
    ("text_input", "browse_search", ""),
    ("multiselect", "browse_region", []),
    ("selectbox", "browse_sort", "document"),
    ("text_input", "browse_document_id", "cclw"),
]


def data_dir_with(predictions: Path, root: Path) -> Path:
    """A data dir holding one classifier whose predictions file is (a link to) `predictions`."""
    folder = root / "data" / QID / CLASSIFIER
    folder.mkdir(parents=True)
    (folder / "predictions.jsonl").symlink_to(predictions.resolve())
    return root / "data"


def apply(at, kind: str, key: str, value: object):
    """Change one widget as a user would (not yet run)."""
    widget = getattr(at, kind)(key=key)
    return widget.click() if kind == "button" else widget.set_value(value)


def bare_query_seconds(params: dict) -> tuple[float, int]:
    """The baseline: `query_predictions` alone for these URL parameters (table in memory)."""
    import pyarrow as pa

    from predictions_core.data.store import get_store
    from predictions_core.query.engine import query_predictions
    from predictions_core.query.filters import Filters

    loaded = get_store().predictions(QID, CLASSIFIER).table
    # a new Table object over the same buffers (no copy): `query` caches matches per table
    # object, and the page has just filled that cache for these very filters
    table = pa.Table.from_batches(loaded.to_batches(), schema=loaded.schema)
    filters = Filters.from_query_params(params)
    started = time.perf_counter()
    result = query_predictions(table, filters)
    return time.perf_counter() - started, result.filtered_count


def run_benchmark(n: int, work: Path) -> dict:
    """Open Browse on N predictions, then time every step of `STEPS`."""
    from streamlit.testing.v1 import AppTest

    os.environ["PREDICTIONS_DATA_DIR"] = str(data_dir_with(dataset(n), work))
    os.environ["PREDICTIONS_CACHE_DIR"] = str(DATA_DIR / "pages-cache")
    os.environ["PREDICTIONS_FEEDBACK_DB"] = str(work / "feedback.sqlite")
    os.environ["SKIP_S3_SYNC"] = "true"
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=1800)
    at.query_params.update({"concept": QID, "classifier": CLASSIFIER})
    started = time.perf_counter()
    at.switch_page("pages/browse.py").run()
    first_load = time.perf_counter() - started
    assert not at.exception, [e.value for e in at.exception]
    steps, unchanged = [], None
    for kind, key, value in STEPS:
        apply(at, kind, key, value)
        started = time.perf_counter()
        at.run()
        page_s = time.perf_counter() - started
        assert not at.exception, [e.value for e in at.exception]
        params = {k: v for k, v in at.query_params.items() if k not in ("concept", "classifier")}
        query_s, filtered = bare_query_seconds(params)
        steps.append({"step": f"{key}={value!r}", "page_s": page_s, "query_s": query_s,
                      "filtered": filtered, "url": params})  # fmt: skip
        if unchanged is None:  # the same view (a full page of cards) again: from the caches
            started = time.perf_counter()
            at.run()
            unchanged = time.perf_counter() - started
    return {"n": n, "first_load_s": first_load, "unchanged_rerun_s": unchanged, "steps": steps}


def summarise(result: dict) -> dict:
    page = [step["page_s"] for step in result["steps"]]
    query = [step["query_s"] for step in result["steps"]]
    return {
        "page_p50_s": statistics.median(page),
        "page_max_s": max(page),
        "bare_query_p50_s": statistics.median(query),
        "bare_query_max_s": max(query),
        "page_overhead_p50_s": statistics.median(p - q for p, q in zip(page, query, strict=True)),
        "target_s": 1.0,
        "meets_target": max(page) < 1.0,
    }


def report(result: dict, summary: dict) -> str:
    lines = [
        f"Browse with {result['n']:,} predictions: first load {result['first_load_s']:.1f} s, "
        f"unchanged re-run {result['unchanged_rerun_s'] * 1000:.0f} ms",
        f"{'step':58} {'page ms':>8} {'query ms':>9} {'rows':>9}",
    ]
    for step in result["steps"]:
        lines.append(
            f"{step['step'][:58]:58} {step['page_s'] * 1000:8.0f} {step['query_s'] * 1000:9.0f} "
            f"{step['filtered']:9,}"
        )
    lines.append(
        f"page re-render p50 {summary['page_p50_s'] * 1000:.0f} ms, max "
        f"{summary['page_max_s'] * 1000:.0f} ms (target < 1000 ms: "
        f"{'met' if summary['meets_target'] else 'NOT met'}); bare query p50 "
        f"{summary['bare_query_p50_s'] * 1000:.0f} ms, "
        f"max {summary['bare_query_max_s'] * 1000:.0f} ms; page minus query p50 "
        f"{summary['page_overhead_p50_s'] * 1000:.0f} ms"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="predictions to load")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as work:
        result = run_benchmark(args.n, Path(work))
    summary = summarise(result)
    print(report(result, summary))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"pages-{dt.date.today().isoformat()}-{args.n}.json"
    path.write_text(json.dumps({**result, "summary": summary}, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
