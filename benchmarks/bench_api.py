"""Benchmark: the HTTP routes on a real server (`uvicorn app:app` on 127.0.0.1).

  download     every row of a 1M-passage classifier as CSV (`format=csv`), streamed: time to
               first byte, rows/s, and the server's memory while it streams (psutil on the
               server pid, sampled every 20 ms) against its memory before the download;
  concurrency  50 client threads share a bounded number of requests (2,000, 120 s at most):
               health, concepts, paged JSON with searches and filters (20k and 1M rows), small
               CSV downloads, and Streamlit's own `/` and `/_stcore/health`, while a real
               Streamlit session is open on the same server (a websocket client that asks for
               a script run every 2 s, as a browser tab does on each interaction).

Every answer is checked: status 200 and the counts a sequential pass measured before the
load (a fast wrong answer fails the run). Data: the synthetic files of `benchmarks/synthetic.py`
cached in `benchmarks/data/`, linked into a temporary data dir; the columnar caches are kept in
`benchmarks/data/api-cache/` so a second run skips parsing.

    uv run python benchmarks/bench_api.py [--rows 1000000] [--clients 50] [--requests 2000]
                                          [--sorted]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # so `python benchmarks/bench_api.py` finds the packages

from benchmarks.bench_core import dataset  # noqa: E402
from benchmarks.streamlit_session import StreamlitSession  # noqa: E402
from tests.api_support import start_uvicorn, stop_process  # noqa: E402

CACHE_DIR = REPO_ROOT / "benchmarks" / "data" / "api-cache"
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
BIG = ("Q218", "synthetic-big")
SMALL = ("Q223", "synthetic-20k")
SMALL_ROWS = 20_000
SAMPLE_INTERVAL_S = 0.02
MIX_SEED = 7
SEARCHES = ["climate", "methane", "/(green ?house|GHG)/i", r"/\b20[3-5]0\b/", "Sahel", "peatland"]
FILTERS = [
    {"region": "South Asia"},
    {"corpus": ["CCLW", "MCF"], "translated": "true"},
    {"year_min": "2015", "year_max": "2018", "sort": "length_desc"},
    {"has_spans": "false", "sort": "random", "seed": "5"},
    {"document_id": "unfccc.document.00001", "sort": "document"},
]


def link_data_dir(root: Path, big_rows: int) -> Path:
    """A data dir whose two classifiers are links to the cached synthetic files."""
    data_dir = root / "data"
    for (qid, classifier_id), rows in ((BIG, big_rows), (SMALL, SMALL_ROWS)):
        folder = data_dir / qid / classifier_id
        folder.mkdir(parents=True)
        (folder / "predictions.jsonl").symlink_to(dataset(rows))
    return data_dir


def build_caches(data_dir: Path) -> float:
    """Parse the files once into the columnar cache (a no-op when the cache is there)."""
    code = (
        "import sys; from pathlib import Path; "
        "from predictions_core.data.loading import load_predictions_file as load; "
        "[load(p, Path(sys.argv[1])) for p in sorted(Path(sys.argv[2]).glob('*/*/*.jsonl'))]"
    )
    started = time.perf_counter()
    command = [sys.executable, "-c", code, str(CACHE_DIR), str(data_dir)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


class MemorySampler(threading.Thread):
    """Peak RSS and peak anonymous memory (RSS minus file-backed pages) of one process."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak_rss = self.peak_anon = 0
        self._done = threading.Event()

    def sample(self) -> tuple[int, int]:
        info = self.process.memory_info()
        return info.rss, info.rss - info.shared

    def run(self) -> None:
        while not self._done.is_set():
            rss, anon = self.sample()
            self.peak_rss, self.peak_anon = max(self.peak_rss, rss), max(self.peak_anon, anon)
            time.sleep(SAMPLE_INTERVAL_S)

    def stop(self) -> None:
        self._done.set()
        self.join()


def measure_download(
    base_url: str, pid: int, expected_rows: int, query: str = ""
) -> dict[str, object]:
    """Stream the whole CSV of the big classifier; time, throughput and server memory."""
    qid, classifier_id = BIG
    url = f"{base_url}/api/predictions/{qid}/{classifier_id}?format=csv&download=true{query}"
    sampler = MemorySampler(pid)
    before_rss, before_anon = sampler.sample()
    sampler.start()
    newlines, n_bytes, first_byte_s = 0, 0, None
    started = time.perf_counter()
    # identity: measure the server's streaming, not the gzip middleware
    headers = {"Accept-Encoding": "identity"}
    with httpx.stream("GET", url, headers=headers, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_raw():
            if first_byte_s is None:
                first_byte_s = time.perf_counter() - started
            newlines += chunk.count(b"\n")
            n_bytes += len(chunk)
    elapsed = time.perf_counter() - started
    sampler.stop()
    rows = newlines - 1  # the header line; synthetic texts hold no newline
    return {
        "query": query or "(file order)",
        "rows": rows,
        "rows_ok": rows == expected_rows,
        "bytes": n_bytes,
        "time_to_first_byte_s": round(first_byte_s or elapsed, 3),
        "total_s": round(elapsed, 2),
        "rows_per_s": round(rows / elapsed),
        "mb_per_s": round(n_bytes / elapsed / 2**20, 1),
        "rss_before_mb": round(before_rss / 2**20),
        "rss_peak_mb": round(sampler.peak_rss / 2**20),
        "anon_before_mb": round(before_anon / 2**20),
        "anon_peak_mb": round(sampler.peak_anon / 2**20),
    }


@dataclass
class Request:
    """One request of the mix and what its answer must say."""

    kind: str
    path: str
    params: dict[str, object] = field(default_factory=dict)
    expected: object = None


def request_pool(rng: random.Random) -> list[tuple[Request, int]]:
    """The distinct requests of the mix with their weights."""
    pool: list[tuple[Request, int]] = [
        (Request("health", "/api/health"), 10),
        (Request("concepts", "/api/concepts"), 5),
        (Request("streamlit", "/"), 5),
        (Request("streamlit", "/_stcore/health"), 5),
    ]
    small = f"/api/predictions/{SMALL[0]}/{SMALL[1]}"
    big = f"/api/predictions/{BIG[0]}/{BIG[1]}"
    for search in SEARCHES:
        for page in (1, 2):
            params = {"search": search, "page": page, "page_size": rng.choice([20, 50])}
            pool.append((Request("json", small, params), 6))
    for filters in FILTERS:
        pool.append((Request("json", small, {**filters, "page_size": 50}), 6))
        pool.append((Request("json", big, {**filters, "page_size": 20}), 1))
    for search in ("methane", "peatland", "Sahel"):
        pool.append((Request("csv", small, {"search": search, "format": "csv"}), 4))
    return pool


def check(request: Request, response: httpx.Response) -> object:
    """What the answer says (compared with the expected value); raises on a non-200."""
    response.raise_for_status()
    if request.kind == "health":
        return response.json()["concepts"]
    if request.kind == "concepts":
        return sorted(
            (c["wikibase_id"], c["classifiers"][0]["n_predictions"]) for c in response.json()
        )
    if request.kind == "json":
        body = response.json()
        return body["filtered_count"], [p["id"] for p in body["predictions"]]
    if request.kind == "csv":
        return response.content.count(b"\n") - 1
    return len(response.content) > 0


def measure_concurrency(base_url: str, args: argparse.Namespace) -> dict[str, object]:
    """`args.clients` threads run `args.requests` requests of the mix (bounded in time)."""
    rng = random.Random(MIX_SEED)
    pool = request_pool(rng)
    with httpx.Client(base_url=base_url, timeout=120) as client:
        for request, _ in pool:  # the sequential pass: expected answers, and a warm cache
            request.expected = check(request, client.get(request.path, params=request.params))
    plan = rng.choices([r for r, _ in pool], weights=[w for _, w in pool], k=args.requests)
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + args.max_seconds
    local = threading.local()

    def run(request: Request) -> None:
        if time.monotonic() > deadline:
            return
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=base_url, timeout=120)
        started = time.perf_counter()
        try:
            answer = check(request, client.get(request.path, params=request.params))
            problem = None if answer == request.expected else f"{request.kind} {request.params}"
        except httpx.HTTPError as error:
            problem = f"{request.path} {request.params}: {error}"
        with lock:
            latencies.append(time.perf_counter() - started)
            if problem:
                failures.append(problem)

    with StreamlitSession(base_url, rerun_every_s=2.0) as session:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as executor:
            list(executor.map(run, plan))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "clients": args.clients,
        "requests_planned": len(plan),
        "requests_done": len(latencies),
        "failures": len(failures),
        "failure_examples": failures[:5],
        "total_s": round(elapsed, 1),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "streamlit_script_runs": session.script_runs_finished,
        "streamlit_messages": session.messages,
    }


def markdown_table(downloads: list[dict[str, object]], load: dict[str, object]) -> str:
    lines = ["| measure | value |", "| --- | --- |"]
    for download in downloads:
        name = f"CSV of {download['rows']:,} rows, {download['query']}"
        lines += [
            f"| {name}: time to first byte | {download['time_to_first_byte_s']} s |",
            f"| {name}: total, throughput | {download['total_s']} s, "
            f"{download['rows_per_s']:,} rows/s ({download['mb_per_s']} MB/s) |",
            f"| {name}: every row received | {download['rows_ok']} |",
            f"| {name}: server RSS before → peak | {download['rss_before_mb']} → "
            f"{download['rss_peak_mb']} MB |",
            f"| {name}: server anonymous memory before → peak | {download['anon_before_mb']} → "
            f"{download['anon_peak_mb']} MB |",
        ]
    lines += [
        f"| {load['clients']} clients: requests done / planned | {load['requests_done']} / "
        f"{load['requests_planned']} in {load['total_s']} s |",
        f"| requests/s | {load['requests_per_s']} |",
        f"| latency p50 / p95 / max | {load['p50_ms']} / {load['p95_ms']} / {load['max_ms']} ms |",
        f"| wrong or failed answers | {load['failures']} |",
        f"| Streamlit session: script runs finished during the load | "
        f"{load['streamlit_script_runs']} |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a markdown table (results also saved as JSON)."""
    args = _parse_args(argv)
    load_average_at_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as scratch:
        data_dir = link_data_dir(Path(scratch), args.rows)
        print(f"building caches in {CACHE_DIR} ...", flush=True)
        cache_s = build_caches(data_dir)
        environment = {
            "PREDICTIONS_DATA_DIR": str(data_dir),
            "PREDICTIONS_CACHE_DIR": str(CACHE_DIR),
            "PREDICTIONS_FEEDBACK_DB": str(Path(scratch) / "feedback.sqlite"),
            "SKIP_S3_SYNC": "true",
        }
        process, base_url, log_path = start_uvicorn("app:app", environment)
        try:
            print(f"server {base_url} (pid {process.pid}); warming ...", flush=True)
            warm = httpx.get(f"{base_url}/api/predictions/{BIG[0]}/{BIG[1]}", timeout=600)
            total_rows = warm.json()["total_count"]
            print("streaming the CSV ...", flush=True)
            downloads = [measure_download(base_url, process.pid, total_rows)]
            if args.sorted:
                print("streaming the CSV, longest first ...", flush=True)
                sorted_query = "&sort=length_desc"
                downloads.append(measure_download(base_url, process.pid, total_rows, sorted_query))
            print(f"{args.clients} clients ...", flush=True)
            load = measure_concurrency(base_url, args)
        finally:
            stop_process(process)
            log_path.unlink(missing_ok=True)
    table = markdown_table(downloads, load)
    print("\n" + table + "\n")
    info = {
        "cpus": os.cpu_count(),
        "load_average_at_start": load_average_at_start,
        "load_average_at_end": os.getloadavg(),
        "cache_build_s": round(cache_s, 1),
    }
    print(f"machine: {info}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"api-{dt.date.today().isoformat()}.json"
    document = {"machine": info, "downloads": downloads, "concurrency": load, "markdown": table}
    out.write_text(json.dumps(document, indent=1))
    print(f"results: {out.relative_to(REPO_ROOT)}")
    ok = all(download["rows_ok"] for download in downloads) and load["failures"] == 0
    return 0 if ok else 1


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the big classifier")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument(
        "--sorted", action="store_true", help="also stream the CSV longest first (about +75 s)"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
