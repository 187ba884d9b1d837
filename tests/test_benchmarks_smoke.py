"""Smoke test of the benchmark machinery at tiny N (not a timing test).

The synthetic generator must produce files the real loader reads without a single issue, and
the baseline (the original service's way) and our query path must agree on what each query
of the benchmark's mix selects, or the benchmark would compare different work.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from benchmarks.baseline import load_passages, query_passages
from benchmarks.synthetic import query_mix, write_synthetic_predictions
from predictions_core.data.loading import load_predictions_file
from predictions_core.query.engine import query_predictions
from predictions_core.query.filters import Filters
from tests.browser_support import NEEDS_CHROMIUM

N_PASSAGES = 400
BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def synthetic_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small synthetic predictions file, shared by the tests of this module."""
    path = tmp_path_factory.mktemp("synthetic") / "predictions.jsonl"
    write_synthetic_predictions(path, N_PASSAGES, seed=3)
    return path


def test_generator_is_deterministic_by_seed(tmp_path: Path, synthetic_file: Path) -> None:
    again = tmp_path / "again.jsonl"
    other = tmp_path / "other.jsonl"
    write_synthetic_predictions(again, N_PASSAGES, seed=3)
    write_synthetic_predictions(other, N_PASSAGES, seed=4)
    assert again.read_bytes() == synthetic_file.read_bytes()
    assert other.read_bytes() != synthetic_file.read_bytes()


def test_lines_are_shaped_like_upstream(synthetic_file: Path) -> None:
    records = [json.loads(line) for line in synthetic_file.read_text().splitlines()]
    assert len(records) == N_PASSAGES
    positives = [r for r in records if r["spans"]]
    assert 0.25 < len(positives) / N_PASSAGES < 0.55
    for record in positives:
        assert 1 <= len(record["spans"]) <= 4
        for span in record["spans"]:
            # upstream repeats the passage text in every span
            assert span["text"] == record["text"]
            assert span["labelled_text"] == record["text"][span["start_index"] : span["end_index"]]
            assert {"id", "concept_id", "labellers", "timestamps"} <= span.keys()
    lengths = [len(r["text"]) for r in records]
    assert min(lengths) >= 150 and max(lengths) <= 1500
    translated_values = {type(r["metadata"]["translated"]) for r in records}
    assert translated_values == {str, bool}


def test_real_loader_reads_every_line(synthetic_file: Path, tmp_path: Path) -> None:
    loaded = load_predictions_file(synthetic_file, cache_dir=tmp_path / "cache")
    assert loaded.issues == []
    assert loaded.n_passages == N_PASSAGES
    records = [json.loads(line) for line in synthetic_file.read_text().splitlines()]
    assert loaded.n_positives == sum(1 for r in records if r["spans"])
    assert loaded.table["n_spans"].to_pylist() == [len(r["spans"]) for r in records]
    # the filter columns are filled from the metadata keys the generator writes
    assert loaded.table["region"].null_count < N_PASSAGES
    assert loaded.table["corpus"].null_count == 0
    assert loaded.table["year"].null_count < N_PASSAGES


def test_baseline_and_ours_agree_on_the_query_mix(synthetic_file: Path, tmp_path: Path) -> None:
    loaded = load_predictions_file(synthetic_file, cache_dir=tmp_path / "cache")
    passages = load_passages(synthetic_file)
    assert len(passages) == N_PASSAGES
    for params in query_mix():
        filters = Filters.from_query_params(params)
        ours = query_predictions(loaded.table, filters)
        theirs = query_passages(passages, filters)
        assert ours.filtered_count == theirs.filtered_count, params
        if filters.sort != "random":  # the two shuffles differ by design; the rest must not
            assert ours.rows["id"].to_pylist() == [p.id for p in theirs.rows], params


def test_the_mix_selects_something_and_not_everything(synthetic_file: Path) -> None:
    passages = load_passages(synthetic_file)
    counts = [
        query_passages(passages, Filters.from_query_params(p)).filtered_count for p in query_mix()
    ]
    assert len(counts) >= 100
    assert any(0 < count < N_PASSAGES // 10 for count in counts)  # selective queries
    assert any(count > N_PASSAGES // 2 for count in counts)  # broad queries


@pytest.mark.parametrize("module", sorted(p.stem for p in BENCHMARKS.glob("[!_]*.py")))
def test_every_benchmark_script_imports(module: str) -> None:
    # the scripts run rarely: a module moved in the package must not go unnoticed until then
    imported = importlib.import_module(f"benchmarks.{module}")
    assert imported.__file__ == str(BENCHMARKS / f"{module}.py")


@pytest.mark.e2e
@NEEDS_CHROMIUM
def test_browser_benchmark_quick_run_times_every_action(tmp_path: Path) -> None:
    # the machinery only (servers, selectors, waits, JSON): a broken selector times out
    from benchmarks import bench_browser

    assert bench_browser.main(["--quick", "--repeat", "1", "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("browser-*-demo.json")
    result = json.loads(path.read_text())
    expected = {"dashboard_demo": set(bench_browser.ACTIONS), "bare": {"first_load", "next_page"}}
    for measured in (result["times_s"], result["warm_up_s"]):
        assert {key: set(actions) for key, actions in measured.items()} == expected
    for actions in result["times_s"].values():
        for values in actions.values():
            assert len(values) == 1 and all(v > 0 for v in values)
    for action, entry in result["summary"]["dashboard_demo"].items():
        assert entry["ratio_to_bare"] > 0 and isinstance(entry["meets_target"], bool), action
