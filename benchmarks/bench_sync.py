"""Benchmark: our S3 sync against a serial loop like the original service, in one run.

Starts `python -m moto.server` on 127.0.0.1, uploads 1,000 objects shaped like a predictions
data dir (CONTRACT §2), then measures:

  (a) the baseline: list, then `get_object` each key and write it straight to disk, one at
      a time, as the original service did on every start. It cannot skip anything, so
      each refresh costs it this much again;
  (b) `sync_bucket` into an empty dir (parallel, atomic);
  (c) `sync_bucket` again with nothing changed (should only LIST).

Each step runs `--repeats` times (fresh dirs for first syncs); the median wall time is shown
with the HTTP requests of one run, counted by botocore's `before-send` event.

    uv run python benchmarks/bench_sync.py [--objects 1000] [--repeats 2]
    uv run python benchmarks/bench_sync.py --objects 10000 --layout per-document --repeats 1

`--layout per-document` makes the objects one classifier's document files (CONTRACT §2, third
layout: `{QID}/{classifier}/{document_stem}.json`, ~20 passages each), as the inference
pipeline writes them: many small objects under one prefix, so the listing is paginated.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # so the test helpers (tests/s3_server.py) import

from predictions_core.sync.s3 import sync_bucket  # noqa: E402
from tests.s3_server import MotoServer, RequestCounter, local_tree  # noqa: E402

REAL_PREDICTIONS = (
    REPO_ROOT.parent / "shared/fixtures/real/vibe_layout/Q218/6z4pufsm/predictions.jsonl"
)
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
BUCKET = "bench-predictions"
PREFIX = "published/"


def sample_lines() -> list[bytes]:
    """Real prediction lines when the shared fixtures are there, made-up ones otherwise."""
    if REAL_PREDICTIONS.is_file():
        return [line + b"\n" for line in REAL_PREDICTIONS.read_bytes().splitlines() if line]
    text = "Reducing greenhouse gas emissions from the energy sector by 2030. " * 4
    return [
        json.dumps({"id": str(i), "text": text, "spans": [], "metadata": {}}).encode() + b"\n"
        for i in range(40)
    ]


def make_objects(count: int) -> dict[str, bytes]:
    """`count` keys in the per-classifier layout: 4 files per concept, like real data."""
    lines = sample_lines()
    objects: dict[str, bytes] = {}
    concept = 0
    while len(objects) < count:
        qid, classifier = f"Q{1000 + concept}", f"c{concept:04d}x"
        take = 10 + concept % 25  # predictions files of different sizes
        start = (concept * 7) % len(lines)
        body = b"".join(lines[(start + i) % len(lines)] for i in range(take))
        files = {
            f"{qid}/{classifier}/predictions.jsonl": body,
            f"{qid}/{classifier}/classifier.json": json.dumps({"id": classifier}).encode(),
            f"{qid}/{classifier}/concept.json": json.dumps({"wikibase_id": qid}).encode(),
            f"{qid}/concept.json": json.dumps(
                {"wikibase_id": qid, "preferred_label": qid}
            ).encode(),
        }
        for key, data in files.items():
            if len(objects) < count:
                objects[PREFIX + key] = data
        concept += 1
    return objects


def make_document_objects(count: int) -> dict[str, bytes]:
    """`count` document files of one classifier (the per-document layout), ~20 passages each."""
    lines = sample_lines()
    objects: dict[str, bytes] = {}
    for number in range(count):
        start = (number * 7) % len(lines)
        body = b"".join(lines[(start + i) % len(lines)] for i in range(20))
        objects[f"{PREFIX}Q218/bench-documents/DOC.{number:06d}.json"] = body
    return objects


def upload(objects: dict[str, bytes]) -> None:
    client = boto3.session.Session().client("s3")
    client.create_bucket(Bucket=BUCKET)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda item: client.put_object(Bucket=BUCKET, Key=item[0], Body=item[1]),
                objects.items(),
            )
        )


def serial_baseline(session: Any, target: Path) -> None:
    """The original service's loop: list, then fetch and write each object, one at a time."""
    client = session.client("s3")
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX):
        for item in page.get("Contents", []):
            path = target / item["Key"][len(PREFIX) :]
            path.parent.mkdir(parents=True, exist_ok=True)
            body = client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
            path.write_bytes(body)


def measure(step: Callable[[Any, int], Any], repeats: int) -> tuple[float, dict[str, int]]:
    """Median seconds of `step(session, run)` over `repeats` runs, and the last run's requests."""
    timings, counts = [], {}
    for run in range(repeats):
        session = boto3.session.Session()
        counter = RequestCounter(session)
        started = time.perf_counter()
        result = step(session, run)
        timings.append(time.perf_counter() - started)
        counts = counter.snapshot()
        if getattr(result, "ok", True) is False:
            raise SystemExit(f"sync failed during the benchmark: {result.to_dict()}")
    return statistics.median(timings), counts


def run_steps(work: Path, repeats: int, max_workers: int) -> dict[str, tuple[float, dict]]:
    """Time the four steps; returns step name → (median seconds, requests by operation)."""
    baseline_dirs = [work / f"baseline-{run}" for run in range(repeats)]
    sync_dirs = [work / f"sync-{run}" for run in range(repeats)]
    steps = {
        "(a) serial baseline, empty dir": lambda s, run: serial_baseline(s, baseline_dirs[run]),
        "(b) sync_bucket, empty dir": lambda s, run: sync_bucket(
            BUCKET, PREFIX, sync_dirs[run], session=s, max_workers=max_workers
        ),
        "(c) sync_bucket again, nothing changed": lambda s, run: sync_bucket(
            BUCKET, PREFIX, sync_dirs[0], session=s, max_workers=max_workers
        ),
    }
    return {name: measure(step, repeats) for name, step in steps.items()}


def markdown_table(results: dict[str, tuple[float, dict]], baseline_name: str) -> str:
    baseline_s = results[baseline_name][0]
    rows = [
        "| step | median wall time (s) | vs (a) | HTTP requests (one run) |",
        "| --- | ---: | ---: | --- |",
    ]
    for name, (seconds, counts) in results.items():
        requests = ", ".join(f"{op} {n}" for op, n in sorted(counts.items())) or "none"
        rows.append(f"| {name} | {seconds:.3f} | {baseline_s / seconds:.1f}x | {requests} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--max-workers", type=int, default=8)
    parser.add_argument(
        "--layout", choices=["per-classifier", "per-document"], default="per-classifier"
    )
    args = parser.parse_args(argv)
    server = MotoServer()
    try:
        os.environ.update(
            AWS_ENDPOINT_URL=server.endpoint_url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
        )
        make = make_document_objects if args.layout == "per-document" else make_objects
        objects = make(args.objects)
        upload(objects)
        with tempfile.TemporaryDirectory(prefix="bench-sync-") as work_dir:
            work = Path(work_dir)
            results = run_steps(work, args.repeats, args.max_workers)
            # both ways must have produced the same files, or the timings mean nothing
            same = local_tree(work / "baseline-0") == local_tree(work / "sync-0")
    finally:
        server.stop()
    if not same:
        raise SystemExit("the baseline and sync_bucket produced different files")
    total_mib = sum(map(len, objects.values())) / 1024 / 1024
    print(
        f"{len(objects)} objects, {total_mib:.1f} MiB, moto server on 127.0.0.1 (own process), "
        f"{os.cpu_count()} cores, max_workers={args.max_workers}, repeats={args.repeats}, "
        f"layout {args.layout}\n"
    )
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}\n")
    print(markdown_table(results, "(a) serial baseline, empty dir"))
    write_results(results, len(objects), total_mib, args)
    return 0


def write_results(results: dict, objects: int, total_mib: float, args: argparse.Namespace) -> None:
    suffix = "" if args.layout == "per-classifier" else f"-{args.layout}-{objects}"
    results_file = RESULTS_DIR / f"bench_sync{suffix}.json"
    results_file.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "objects": objects,
        "layout": args.layout,
        "total_mib": round(total_mib, 2),
        "max_workers": args.max_workers,
        "repeats": args.repeats,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "steps": {
            name: {"median_s": round(seconds, 4), "requests": counts}
            for name, (seconds, counts) in results.items()
        },
    }
    results_file.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwritten: {results_file.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
