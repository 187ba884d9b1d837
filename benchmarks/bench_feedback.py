"""Benchmark: reviewers' judgements written through two app processes at once.

Two `uvicorn app:app` processes on 127.0.0.1 share one feedback database: a throwaway
PostgreSQL server (Debian's `postgresql`, as in the tests) and, for comparison, one SQLite file.
`--reviewers` client threads (20) each post `--per-reviewer` judgements (25) of distinct
passages at the same time, alternating between the two processes, through
`POST /api/feedback/{qid}/{classifier_id}`. A short warm-up (one judgement per process) runs
first so connection pools and migrations are not counted.

Reported per database: judgements/s over the whole run (acknowledged judgements / wall time),
the client-side write latency p50/p95/max, and a check that every acknowledged judgement is
listed by both processes (a fast run that loses judgements fails). Results:
`benchmarks/results/feedback-<date>.json` and a markdown table on stdout.

    uv run python benchmarks/bench_feedback.py [--reviewers 20] [--per-reviewer 25]
                                               [--databases postgresql sqlite]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # so `python benchmarks/bench_feedback.py` finds the packages

from predictions_core.data.location import DEMO_DATA_DIR  # noqa: E402
from tests.feedback_load import (  # noqa: E402
    AppProcesses,
    judge_concurrently,
    judgement_ids,
    passage_ids,
    percentile,
)
from tests.postgres_server import PostgresServer, postgres_binaries  # noqa: E402

RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"


def run_one(kind: str, work: Path, reviewers: int, per_reviewer: int) -> dict:
    """The load on one database kind; its figures."""
    data_dir = work / "data"
    server = PostgresServer() if kind == "postgresql" else None
    target = server.new_database() if server else str(work / f"feedback-{time.time_ns()}.sqlite")
    apps = AppProcesses(data_dir, work, target, count=2)
    try:
        passages = passage_ids(apps.urls[0], per_reviewer)
        judge_concurrently(apps.urls, passages, reviewers=2, per_reviewer=1)  # warm-up
        started = time.perf_counter()
        answers = judge_concurrently(apps.urls, passages, reviewers, per_reviewer)
        wall = time.perf_counter() - started
        ok = [a for a in answers if a.status == 201]
        acknowledged = {a.body["judgement_id"] for a in ok}
        listed = [judgement_ids(url) for url in apps.urls]
        latencies = [a.latency_s * 1000 for a in ok]
        return {
            "database": kind,
            "processes": 2,
            "reviewers": reviewers,
            "judgements": len(answers),
            "acknowledged": len(ok),
            "refused": len(answers) - len(ok),
            "all_listed_by_both": all(acknowledged <= ids for ids in listed),
            "wall_s": round(wall, 3),
            "judgements_per_s": round(len(ok) / wall, 1),
            "p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1),
            "max_ms": round(max(latencies), 1),
        }
    finally:
        apps.stop()
        if server is not None:
            server.close()


def main(argv: list[str] | None = None) -> int:
    """Run the load on each database and print/write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--per-reviewer", type=int, default=25)
    parser.add_argument("--databases", nargs="+", default=["postgresql", "sqlite"])
    args = parser.parse_args(argv)
    if "postgresql" in args.databases and postgres_binaries() is None:
        print("PostgreSQL is not installed: measuring SQLite only")
        args.databases = [d for d in args.databases if d != "postgresql"]
    results = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-feedback-") as name:
        work = Path(name)
        shutil.copytree(
            DEMO_DATA_DIR, work / "data", ignore=shutil.ignore_patterns(".cache", "*.sqlite*")
        )
        for kind in args.databases:
            results.append(run_one(kind, work, args.reviewers, args.per_reviewer))
    document = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "results": results,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"feedback-{dt.date.today().isoformat()}.json"
    out.write_text(json.dumps(document, indent=1))
    print("| database | judgements | judgements/s | p50 ms | p95 ms | max ms | all listed |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        print(
            f"| {r['database']} | {r['acknowledged']}/{r['judgements']} | "
            f"{r['judgements_per_s']} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} | "
            f"{'yes' if r['all_listed_by_both'] else 'NO'} |"
        )
    print(f"written to {out.relative_to(REPO_ROOT)}")
    lost = [r for r in results if r["refused"] or not r["all_listed_by_both"]]
    return 1 if lost else 0


if __name__ == "__main__":
    raise SystemExit(main())
