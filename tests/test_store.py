"""The shared store: one load per file per process, reloads when files change, warm-up."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pyarrow as pa

from predictions_core.data import store as store_module
from predictions_core.data import warm_up
from predictions_core.data.store import PredictionStore
from predictions_core.data.warm_up import WARM_UP_MIN_ROWS, stop_warm_ups, warm_up_in_background


def _first_classifier(store: PredictionStore, qid: str) -> str:
    return sorted(store.catalogue().concept(qid).classifiers)[0]


def test_loads_once_and_sees_changes_on_the_next_access(demo_copy: Path, settings_for):
    store = PredictionStore(settings_for(demo_copy))
    classifier = _first_classifier(store, "Q218")
    first = store.predictions("Q218", classifier)
    assert store.predictions("Q218", classifier) is first

    path = first.source
    with path.open("a") as sink:
        sink.write(json.dumps({"id": "new", "text": "methane rises", "spans": []}) + "\n")
    os.utime(path, ns=(10**18, 10**18))
    reloaded = store.predictions("Q218", classifier)
    assert reloaded is not first and reloaded.n_passages == first.n_passages + 1


def test_new_concepts_appear_without_a_restart(demo_copy: Path, settings_for):
    store = PredictionStore(settings_for(demo_copy))
    before = sorted(store.catalogue().concepts)
    assert "Q1829" in before and "Q300" not in before
    shutil.copytree(demo_copy / "Q1829", demo_copy / "Q300")
    assert sorted(store.catalogue().concepts) == sorted([*before, "Q300"])


def test_concurrent_first_requests_parse_the_file_once(demo_copy: Path, settings_for, monkeypatch):
    parsed: list[Path] = []
    real_load = store_module.load_predictions_file

    def counting_load(path, cache_dir=None, **options):
        parsed.append(path)
        return real_load(path, cache_dir, **options)

    monkeypatch.setattr(store_module, "load_predictions_file", counting_load)
    store = PredictionStore(settings_for(demo_copy))
    classifier = _first_classifier(store, "Q787")
    start = threading.Barrier(8)
    results = []

    def first_request() -> None:
        start.wait()
        results.append(store.predictions("Q787", classifier))

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(parsed) == 1
    assert len(results) == 8 and all(result is results[0] for result in results)
    assert results[0].n_passages > 0


def test_issues_of_loaded_files_are_collected(tmp_path: Path, settings_for):
    folder = tmp_path / "data" / "Q1" / "clf"
    folder.mkdir(parents=True)
    (folder / "predictions.jsonl").write_text('{"id": "a", "text": "x"}\nnot json\n')
    store = PredictionStore(settings_for(tmp_path / "data"))
    assert store.loaded_issues() == []
    store.predictions("Q1", "clf")
    [issue] = store.loaded_issues()
    assert issue.line == 2 and issue.path.endswith("predictions.jsonl")


def test_large_tables_are_scanned_in_the_background_small_ones_not(monkeypatch):
    scanned: list[pa.Table] = []
    real_cursor = warm_up.cursor

    def recording_cursor(tables):
        scanned.append(tables["passages"])
        return real_cursor(tables)

    monkeypatch.setattr(warm_up, "cursor", recording_cursor)
    assert warm_up_in_background(pa.table({"text": ["a", "b"]})) is None
    big = pa.table({"text": ["forest"] * WARM_UP_MIN_ROWS})
    thread = warm_up_in_background(big)
    assert thread is not None and thread.daemon  # never holds up a normal exit
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert len(scanned) == 1 and scanned[0] is big


def test_stopping_at_exit_interrupts_a_running_scan(monkeypatch):
    # a scan that would run for hours unless interrupted
    endless = "SELECT count(*) FROM passages, range(10000000000) WHERE regexp_matches(text, ?, 'c')"
    monkeypatch.setattr(warm_up, "_SCAN_SQL", endless)
    monkeypatch.setattr(warm_up, "_stopping", False)  # restored after the test
    scan = warm_up_in_background(pa.table({"text": ["forest"] * WARM_UP_MIN_ROWS}))
    assert scan is not None
    stopper = threading.Thread(target=stop_warm_ups, daemon=True)
    stopper.start()
    stopper.join(timeout=30)
    assert not stopper.is_alive() and not scan.is_alive()
    # once the process is exiting, no new scan starts
    assert warm_up_in_background(pa.table({"text": ["forest"] * WARM_UP_MIN_ROWS})) is None
