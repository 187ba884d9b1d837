"""Benchmark: the core loader and query path against the original service's way, in one run.

For each size N (default 200k and 1M synthetic passages, cached in `benchmarks/data/`):

  ours, cold    a fresh process loads the JSONL with an empty cache dir (time to a ready
                table), then runs the query mix; its peak RSS is reported;
  ours, cached  another fresh process loads the same file again: a real cache hit from disk;
  baseline      a fresh process validates every line with pydantic and keeps the list, then
                answers the same queries by filtering in Python (a subset at large N).

Every side runs in its own subprocess so peak RSS (`ru_maxrss`) is that side's alone. Counts
of the queries both sides ran are compared, so a fast wrong answer cannot pass.

    uv run python benchmarks/bench_core.py [--sizes 200000 1000000] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # so `python benchmarks/bench_core.py` finds the packages

from benchmarks.synthetic import (  # noqa: E402
    GENERATOR_VERSION,
    query_kind,
    query_mix,
    write_synthetic_predictions,
)

DATA_DIR = REPO_ROOT / "benchmarks" / "data"
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
TARGETS = {
    "cold_speedup": 5.0,
    "cached_speedup": 20.0,
    "p95_ms": {200_000: 100.0, 1_000_000: 300.0},
    "rss_ratio": {1_000_000: 1.5},
}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * (len(ordered) - 1))))
    return ordered[rank]


def _cpu_seconds() -> float:
    """CPU time of this process, all threads: on a shared machine it shows the work done."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_bytes() -> int:
    # Linux reports ru_maxrss in KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _warm_imports() -> None:
    """Import what a running app has already imported, so load timings exclude it.

    pandas is imported by Streamlit in every real process, and pyarrow.compute pulls it in
    lazily on first use: without this, the first load would pay a one-off import.
    """
    import duckdb  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.compute  # noqa: F401

    import predictions_core.data.derive  # noqa: F401
    import predictions_core.data.loading  # noqa: F401
    import predictions_core.query.engine  # noqa: F401


def worker_ours(path: Path, cache_dir: Path, run_queries: bool) -> dict[str, object]:
    """Load with our loader (cold or cached, as the cache dir says), then run the mix."""
    _warm_imports()
    from predictions_core.data.loading import load_predictions_file
    from predictions_core.query.engine import query_predictions
    from predictions_core.query.filters import Filters

    sources = _core_source_digests()  # what this process imported, if someone edits mid-run
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    loaded = load_predictions_file(path, cache_dir=cache_dir)
    load_s = time.perf_counter() - started
    result: dict[str, object] = {
        "load_s": load_s,
        "load_cpu_s": _cpu_seconds() - cpu_started,
        "from_cache": loaded.from_cache,
        "n_rows": loaded.n_passages,
        "n_issues": len(loaded.issues),
        "core_sources": sources,
    }
    if run_queries:
        latencies, cpu_times, counts = [], [], []
        for params in query_mix():
            filters = Filters.from_query_params(params)
            started, cpu_started = time.perf_counter(), _cpu_seconds()
            answer = query_predictions(loaded.table, filters)
            latencies.append(time.perf_counter() - started)
            cpu_times.append(_cpu_seconds() - cpu_started)
            counts.append(answer.filtered_count)
        result.update(latencies_s=latencies, cpu_s=cpu_times, counts=counts)
    result["peak_rss_bytes"] = _peak_rss_bytes()
    return result


def worker_baseline(path: Path, query_limit: int | None) -> dict[str, object]:
    """Load like the original service (pydantic, line by line), then run (part of) the mix."""
    _warm_imports()
    from benchmarks.baseline import load_passages, query_passages
    from predictions_core.query.filters import Filters

    started, cpu_started = time.perf_counter(), _cpu_seconds()
    passages = load_passages(path)
    load_s = time.perf_counter() - started
    load_cpu_s = _cpu_seconds() - cpu_started
    chosen = _subset(len(query_mix()), query_limit)
    latencies, counts = [], []
    mix = query_mix()
    for index in chosen:
        filters = Filters.from_query_params(mix[index])
        started = time.perf_counter()
        answer = query_passages(passages, filters)
        latencies.append(time.perf_counter() - started)
        counts.append(answer.filtered_count)
    return {
        "load_s": load_s,
        "load_cpu_s": load_cpu_s,
        "n_rows": len(passages),
        "query_indices": chosen,
        "latencies_s": latencies,
        "counts": counts,
        "peak_rss_bytes": _peak_rss_bytes(),
    }


def _subset(n_queries: int, limit: int | None) -> list[int]:
    """Evenly spaced query indices (all when no limit), so a subset keeps the mix's shape."""
    if limit is None or limit >= n_queries:
        return list(range(n_queries))
    step = n_queries / limit
    return sorted({int(i * step) for i in range(limit)})


def _run_worker(args: list[str]) -> dict[str, object]:
    """Run one side in a fresh Python process and read back its JSON result."""
    with tempfile.TemporaryDirectory(prefix="bench-core-") as scratch:
        out = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "benchmarks.bench_core", "--worker", *args]
        subprocess.run([*command, "--result", str(out)], cwd=REPO_ROOT, check=True)
        return json.loads(out.read_text())


def dataset(n: int) -> Path:
    """The synthetic file for size n, generated once and kept in benchmarks/data/."""
    path = DATA_DIR / f"synthetic-v{GENERATOR_VERSION}-seed0-{n}.jsonl"
    if not path.is_file():
        print(f"generating {path.name} ...", flush=True)
        started = time.perf_counter()
        write_synthetic_predictions(path, n, seed=0)
        print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def measure_size(n: int, baseline_query_limit: int | None) -> dict[str, object]:
    """All three sides for one size, each in its own process."""
    path = dataset(n)
    with tempfile.TemporaryDirectory(prefix="bench-core-cache-") as cache_dir:
        print(f"[{n:,}] ours: cold load + {len(query_mix())} queries ...", flush=True)
        cold = _run_worker(["ours", str(path), "--cache-dir", cache_dir, "--queries"])
        print(f"[{n:,}] ours: cached load (new process) ...", flush=True)
        cached = _run_worker(["ours", str(path), "--cache-dir", cache_dir])
    limit_args = []
    if baseline_query_limit is not None:
        limit_args = ["--query-limit", str(baseline_query_limit)]
    print(f"[{n:,}] baseline: pydantic load + queries ...", flush=True)
    baseline = _run_worker(["baseline", str(path), *limit_args])
    return {
        "n": n,
        "jsonl_bytes": path.stat().st_size,
        "ours_cold": cold,
        "ours_cached": cached,
        "baseline": baseline,
    }


def summarise(size: dict[str, object]) -> dict[str, object]:
    """Headline figures and target checks for one size."""
    n = size["n"]
    cold, cached, baseline = size["ours_cold"], size["ours_cached"], size["baseline"]
    ours_ms = [s * 1000 for s in cold["latencies_s"]]
    base_ms = [s * 1000 for s in baseline["latencies_s"]]
    agree = sum(
        cold["counts"][index] == count
        for index, count in zip(baseline["query_indices"], baseline["counts"], strict=True)
    )
    p95_target = TARGETS["p95_ms"].get(n)
    summary = {
        "n": n,
        "jsonl_mb": size["jsonl_bytes"] / 1e6,
        "cold_load_s": cold["load_s"],
        "cached_load_s": cached["load_s"],
        "cached_was_hit": cached["from_cache"],
        "baseline_load_s": baseline["load_s"],
        "cold_speedup": baseline["load_s"] / cold["load_s"],
        "cached_speedup": cold["load_s"] / cached["load_s"],
        "query_p50_ms": _percentile(ours_ms, 0.50),
        "query_p95_ms": _percentile(ours_ms, 0.95),
        "query_max_ms": max(ours_ms),
        "query_cpu_p95_ms": _percentile([s * 1000 for s in cold["cpu_s"]], 0.95),
        "cold_load_cpu_s": cold["load_cpu_s"],
        "baseline_load_cpu_s": baseline["load_cpu_s"],
        "n_queries": len(ours_ms),
        "baseline_query_p50_ms": _percentile(base_ms, 0.50),
        "baseline_query_p95_ms": _percentile(base_ms, 0.95),
        "baseline_n_queries": len(base_ms),
        "counts_agree": f"{agree}/{len(base_ms)}",
        "peak_rss_mb": cold["peak_rss_bytes"] / 1e6,
        "cached_peak_rss_mb": cached["peak_rss_bytes"] / 1e6,
        "baseline_peak_rss_mb": baseline["peak_rss_bytes"] / 1e6,
        "rss_ratio": cold["peak_rss_bytes"] / size["jsonl_bytes"],
    }
    summary["checks"] = {
        "cold_speedup": summary["cold_speedup"] >= TARGETS["cold_speedup"],
        "cached_speedup": summary["cached_speedup"] >= TARGETS["cached_speedup"],
        "counts_agree": agree == len(base_ms),
    }
    if p95_target is not None:
        summary["checks"]["query_p95"] = summary["query_p95_ms"] <= p95_target
    if n in TARGETS["rss_ratio"]:
        summary["checks"]["rss_ratio"] = summary["rss_ratio"] <= TARGETS["rss_ratio"][n]
    summary["by_kind"] = _by_kind(cold, baseline)
    first = _first_use_of_each_search(cold)
    summary["first_search_p50_ms"] = _percentile(first, 0.5)
    summary["first_search_max_ms"] = max(first)
    return summary


def _first_use_of_each_search(cold: dict[str, object]) -> list[float]:
    """Latency (ms) of the first query of each distinct search string in the mix.

    A query path that caches search results answers repeats fast; these are the queries
    that had to scan the texts, whatever the cache does.
    """
    seen: set[str] = set()
    first = []
    for index, params in enumerate(query_mix()):
        search = params.get("search")
        if search and search not in seen:
            seen.add(str(search))
            first.append(cold["latencies_s"][index] * 1000)
    return first


def _by_kind(cold: dict[str, object], baseline: dict[str, object]) -> dict[str, dict]:
    """Latency percentiles per query kind, ours and the baseline's (over its subset)."""
    kinds = [query_kind(params) for params in query_mix()]
    result = {}
    for kind in sorted(set(kinds)):
        ours = [cold["latencies_s"][i] * 1000 for i, k in enumerate(kinds) if k == kind]
        ours_cpu = [cold["cpu_s"][i] * 1000 for i, k in enumerate(kinds) if k == kind]
        theirs = [
            baseline["latencies_s"][j] * 1000
            for j, i in enumerate(baseline["query_indices"])
            if kinds[i] == kind
        ]
        result[kind] = {
            "n": len(ours),
            "p50_ms": _percentile(ours, 0.5),
            "p95_ms": _percentile(ours, 0.95),
            "cpu_p95_ms": _percentile(ours_cpu, 0.95),
            "baseline_n": len(theirs),
            "baseline_p50_ms": _percentile(theirs, 0.5) if theirs else None,
            "baseline_p95_ms": _percentile(theirs, 0.95) if theirs else None,
        }
    return result


def kind_table(summaries: list[dict[str, object]]) -> str:
    """Query latency per kind of query: where the p95 comes from."""
    lines = [
        "| N | kind of query | queries | p50 | p95 | p95 CPU | baseline p50 | baseline p95 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for summary in summaries:
        for kind, row in summary["by_kind"].items():
            base_p50, base_p95 = row["baseline_p50_ms"], row["baseline_p95_ms"]
            base = [f"{v:,.0f} ms" if v is not None else "—" for v in (base_p50, base_p95)]
            lines.append(
                f"| {summary['n']:,} | {kind} | {row['n']} / {row['baseline_n']} "
                f"| {row['p50_ms']:,.0f} ms | {row['p95_ms']:,.0f} ms "
                f"| {row['cpu_p95_ms']:,.0f} ms | {base[0]} | {base[1]} |"
            )
    return "\n".join(lines)


def _verdict(summary: dict[str, object], check: str) -> str:
    if check not in summary["checks"]:
        return "—"
    return "PASS" if summary["checks"][check] else "FAIL"


def markdown_table(summaries: list[dict[str, object]]) -> str:
    """The results as a markdown table: one column per size, targets and verdicts."""
    header = ["figure", *[f"N = {s['n']:,}" for s in summaries], "target"]
    rows = [
        ("JSONL size", lambda s: f"{s['jsonl_mb']:,.0f} MB", ""),
        ("baseline load (pydantic)", lambda s: f"{s['baseline_load_s']:.1f} s", ""),
        ("cold load (ours)", lambda s: f"{s['cold_load_s']:.2f} s", ""),
        ("CPU time: baseline / cold load", _load_cpu, ""),
        ("cold speed-up", lambda s: _with(s, "cold_speedup", "×"), "≥ 5×"),
        ("cached load (new process)", lambda s: f"{s['cached_load_s'] * 1000:.0f} ms", ""),
        ("cached vs cold", lambda s: _with(s, "cached_speedup", "×"), "≥ 20×"),
        ("query p50 (ours)", lambda s: f"{s['query_p50_ms']:.0f} ms", ""),
        ("query p95 (ours)", _p95_cell, "≤ 100 ms (200k), ≤ 300 ms (1M)"),
        ("query max (ours)", lambda s: f"{s['query_max_ms']:.0f} ms", ""),
        ("first query of each search: p50 / max", _first_search, ""),
        ("query p95 CPU time, all threads", lambda s: f"{s['query_cpu_p95_ms']:.0f} ms", ""),
        ("baseline query p50", lambda s: f"{s['baseline_query_p50_ms']:.0f} ms", ""),
        ("baseline query p95", lambda s: f"{s['baseline_query_p95_ms']:.0f} ms", ""),
        ("queries timed (ours / baseline)", _query_counts, ""),
        ("filtered counts agree", lambda s: f"{s['counts_agree']}", "all"),
        ("peak RSS, cold load + queries", lambda s: f"{s['peak_rss_mb']:,.0f} MB", ""),
        ("peak RSS, cached load", lambda s: f"{s['cached_peak_rss_mb']:,.0f} MB", ""),
        ("peak RSS, baseline", lambda s: f"{s['baseline_peak_rss_mb']:,.0f} MB", ""),
        ("peak RSS / JSONL size", lambda s: _with(s, "rss_ratio", "×", ".2f"), "≤ 1.5× (1M)"),
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for label, cell, target in rows:
        lines.append("| " + " | ".join([label, *[cell(s) for s in summaries], target]) + " |")
    return "\n".join(lines)


def _with(summary: dict[str, object], key: str, unit: str, spec: str = ".1f") -> str:
    return f"{summary[key]:{spec}}{unit} {_verdict(summary, key)}"


def _p95_cell(summary: dict[str, object]) -> str:
    return f"{summary['query_p95_ms']:.0f} ms {_verdict(summary, 'query_p95')}"


def _first_search(summary: dict[str, object]) -> str:
    return f"{summary['first_search_p50_ms']:,.0f} ms / {summary['first_search_max_ms']:,.0f} ms"


def _load_cpu(summary: dict[str, object]) -> str:
    return f"{summary['baseline_load_cpu_s']:.1f} s / {summary['cold_load_cpu_s']:.1f} s"


def _query_counts(summary: dict[str, object]) -> str:
    return f"{summary['n_queries']} / {summary['baseline_n_queries']}"


def machine_info() -> dict[str, object]:
    """What the figures were measured on (load average: other work on the machine)."""
    import duckdb
    import pyarrow

    pages = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(pages / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pyarrow": pyarrow.__version__,
        "load_average_at_start": os.getloadavg(),
        "core_sources": _core_source_digests(),
    }


def _core_source_digests() -> dict[str, str]:
    """Short digests of the measured modules: several people edit them, so say which version."""
    names = ("loading", "derive", "validation", "filters", "text_search", "query")
    folder = REPO_ROOT / "predictions_core"
    return {
        name: hashlib.sha1((folder / f"{name}.py").read_bytes()).hexdigest()[:10]
        for name in names
        if (folder / f"{name}.py").is_file()
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with --worker, one measured side of it)."""
    args = _parse_args(argv)
    if args.worker:
        return _worker_main(args)
    sizes = [20_000] if args.quick else args.sizes
    info = machine_info()
    started = time.perf_counter()
    measured = []
    for n in sizes:
        limit = args.baseline_queries if n > args.full_baseline_up_to else None
        measured.append(measure_size(n, limit))
    summaries = [summarise(size) for size in measured]
    info["load_average_at_end"] = os.getloadavg()
    info["total_runtime_s"] = round(time.perf_counter() - started, 1)
    info["core_sources_changed_during_run"] = _sources_changed(info, measured)
    table = markdown_table(summaries) + "\n\n" + kind_table(summaries)
    print("\n" + table + "\n")
    print(
        f"machine: {info['cpus']} CPUs, {info['memory_gb']} GB; load average "
        f"{info['load_average_at_start']} → {info['load_average_at_end']}; "
        f"total {info['total_runtime_s']} s"
    )
    if info["core_sources_changed_during_run"]:
        print("warning: predictions_core changed during the run; the figures mix versions")
    out = _write_results(info, summaries, measured, table, args.quick)
    print(f"results: {out.relative_to(REPO_ROOT)}")
    return 0


def _sources_changed(info: dict[str, object], measured: list[dict[str, object]]) -> bool:
    seen = {json.dumps(info["core_sources"], sort_keys=True)}
    for size in measured:
        for side in ("ours_cold", "ours_cached"):
            seen.add(json.dumps(size[side]["core_sources"], sort_keys=True))
    seen.add(json.dumps(_core_source_digests(), sort_keys=True))
    return len(seen) > 1


def _write_results(info, summaries, measured, table, quick: bool) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if quick else ""
    out = RESULTS_DIR / f"core-{dt.date.today().isoformat()}{suffix}.json"
    document = {
        "command": " ".join(["uv run python benchmarks/bench_core.py", *sys.argv[1:]]),
        "machine": info,
        "targets": {
            **TARGETS,
            "p95_ms": {str(k): v for k, v in TARGETS["p95_ms"].items()},
            "rss_ratio": {str(k): v for k, v in TARGETS["rss_ratio"].items()},
        },
        "query_mix": query_mix(),
        "summary": summaries,
        "markdown": table,
        "raw": measured,
    }
    out.write_text(json.dumps(document, indent=1, ensure_ascii=False))
    return out


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--quick", action="store_true", help="one small size (20k), a smoke run")
    parser.add_argument(
        "--baseline-queries",
        type=int,
        default=20,
        help="queries the baseline runs above --full-baseline-up-to",
    )
    parser.add_argument(
        "--full-baseline-up-to",
        type=int,
        default=200_000,
        help="largest N where the baseline runs the whole query mix",
    )
    parser.add_argument("--worker", choices=["ours", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("path", nargs="?", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--queries", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--query-limit", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _worker_main(args: argparse.Namespace) -> int:
    if args.worker == "ours":
        result = worker_ours(args.path, args.cache_dir, run_queries=args.queries)
    else:
        result = worker_baseline(args.path, args.query_limit)
    args.result.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
