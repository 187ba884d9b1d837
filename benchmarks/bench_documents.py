"""Benchmark: a classifier as 10,000 per-document files against the same passages in one file.

The per-document layout (CONTRACT §2) is what the upstream inference pipeline writes: one
`{document_stem}.json` per document. The same N synthetic passages (`benchmarks/synthetic.py`)
are written once as one JSONL file and once split evenly over F document files (JSONL in
`.json`, as the pipeline writes today; `--form arrays` writes the older form, a JSON array of
JSON strings), then each is loaded by `load_predictions_file`:

  - cold: a fresh process, an empty cache dir (parse, derive, write the cache);
  - cached: another fresh process on that cache dir (a memory-mapped Arrow file);
  - fingerprint: what each request costs to notice a change (`fingerprint`: one `stat` of
    the file or the folder), median of 5 in one process;
  - checked: for a folder, the time from the start of the load until the background listing
    of its files (which finds a file rewritten in place) is done.

Every measured process imports DuckDB, pyarrow.compute and pandas before its clock starts, as
a running dashboard has. Targets (issue 12): folder cold within 2x the single file cold;
folder cached as fast as the single file cached.

    uv run python benchmarks/bench_documents.py [--passages 200000] [--files 10000]
        [--form lines|arrays] [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import orjson

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.synthetic import GENERATOR_VERSION, write_synthetic_predictions  # noqa: E402

DATA_DIR = REPO_ROOT / "benchmarks" / "data"
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"

_MEASURE = """
import json, sys, time
import duckdb, pandas, pyarrow.compute  # a running process has these already
from pathlib import Path
from predictions_core.data.documents import wait_for_checks
from predictions_core.data.loading import fingerprint, load_predictions_file
path, cache = Path(sys.argv[1]), Path(sys.argv[2])
wall, cpu = time.perf_counter(), time.process_time()
loaded = load_predictions_file(path, cache, concept_id="Q218")
out = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
       "rows": loaded.n_passages, "issues": len(loaded.issues), "from_cache": loaded.from_cache}
# a folder's cached load checks the listing in the background: the time until it is done
wait_for_checks()
out["checked_s"] = time.perf_counter() - wall
stats = []
for _ in range(5):
    started = time.perf_counter()
    fingerprint(path)
    stats.append(time.perf_counter() - started)
out["fingerprint_s"] = sorted(stats)[2]
print(json.dumps(out))
"""


def prepare(passages: int, files: int, form: str) -> tuple[Path, Path]:
    """The single JSONL file and the folder of document files (generated once, then reused)."""
    root = DATA_DIR / f"documents-v{GENERATOR_VERSION}-{passages}-{files}"
    single = root / "single" / "predictions.jsonl"
    if not single.is_file():
        write_synthetic_predictions(single, passages, seed=12)
    folder = root / f"{form}" / "Q218" / "bench"
    if not (folder / "done").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        lines = single.read_bytes().splitlines(keepends=True)
        per_file, extra = divmod(len(lines), files)
        start = 0
        for number in range(files):
            end = start + per_file + (1 if number < extra else 0)
            chunk = lines[start:end]
            start = end
            body = (
                b"".join(chunk)
                if form == "lines"
                else orjson.dumps([line.decode("utf-8").rstrip("\n") for line in chunk])
            )
            (folder / f"DOC.{number:06d}.n0000.json").write_bytes(body)
        (folder / "done").write_text("")  # not a document file: not `*.json`
    return single, folder


def measure(path: Path, cache: Path) -> dict:
    """One fresh process loading `path` with `cache`."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), str(cache)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(single: Path, folder: Path, repeats: int) -> dict[str, dict]:
    """Median figures of each step over `repeats` (cold and cached, for file and folder)."""
    runs: dict[str, list[dict]] = {}
    for _ in range(repeats):
        for name, path in (("single file", single), ("document folder", folder)):
            with tempfile.TemporaryDirectory(prefix="bench-documents-") as cache_dir:
                cache = Path(cache_dir)
                runs.setdefault(f"{name}, cold", []).append(measure(path, cache))
                runs.setdefault(f"{name}, cached", []).append(measure(path, cache))
    return {
        step: {key: statistics.median(r[key]) for r in [_columns(results)] for key in r}
        for step, results in runs.items()
    }


def _columns(results: list[dict]) -> dict[str, list]:
    return {key: [r[key] for r in results] for key in results[0]}


def markdown(figures: dict[str, dict], passages: int, files: int) -> str:
    rows = [
        f"| step ({passages:,} passages; folder: {files:,} files) | wall | CPU (all threads) "
        "| rows | issues | fingerprint per request | listing checked after |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for step, f in figures.items():
        rows.append(
            f"| {step} | {f['wall_s']:.3f} s | {f['cpu_s']:.3f} s | {int(f['rows']):,} "
            f"| {int(f['issues'])} | {f['fingerprint_s'] * 1000:.1f} ms "
            f"| {f['checked_s']:.3f} s |"
        )
    cold = figures["document folder, cold"]["cpu_s"] / figures["single file, cold"]["cpu_s"]
    cold_wall = figures["document folder, cold"]["wall_s"] / figures["single file, cold"]["wall_s"]
    cached = figures["document folder, cached"]["wall_s"]
    single_cached = figures["single file, cached"]["wall_s"]
    rows.append("")
    rows.append(
        f"folder / single file, cold: {cold_wall:.2f}x wall, {cold:.2f}x CPU "
        f"({'PASS' if min(cold, cold_wall) <= 2 else 'FAIL'}, target <= 2x); "
        f"cached: folder {cached * 1000:.0f} ms, single file {single_cached * 1000:.0f} ms"
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--form", choices=["lines", "arrays"], default="lines")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    single, folder = prepare(args.passages, args.files, args.form)
    figures = run(single, folder, args.repeats)
    table = markdown(figures, args.passages, args.files)
    print(table)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"documents-{date.today()}-{args.form}-{args.passages}.json"
    payload = {
        "passages": args.passages,
        "files": args.files,
        "form": args.form,
        "repeats": args.repeats,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "steps": figures,
        "table": table,
    }
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwritten: {out.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
