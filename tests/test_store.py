"""The shared store: one load per file per process, reloads when files change."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

from predictions_core.data.store import PredictionStore


def test_loads_once_and_sees_changes_on_the_next_access(both_layouts: Path, settings_for):
    store = PredictionStore(settings_for(both_layouts))
    first = store.predictions("Q218", "6z4pufsm")
    assert store.predictions("Q218", "6z4pufsm") is first

    path = first.source
    with path.open("a") as sink:
        sink.write(json.dumps({"id": "new", "text": "methane rises", "spans": []}) + "\n")
    os.utime(path, ns=(10**18, 10**18))
    reloaded = store.predictions("Q218", "6z4pufsm")
    assert reloaded is not first and reloaded.n_passages == first.n_passages + 1


def test_new_concepts_appear_without_a_restart(both_layouts: Path, settings_for, real_fixtures):
    store = PredictionStore(settings_for(both_layouts))
    assert sorted(store.catalogue().concepts) == ["Q218", "Q223"]
    shutil.copytree(real_fixtures / "vibe_layout" / "Q223", both_layouts / "Q300")
    assert sorted(store.catalogue().concepts) == ["Q218", "Q223", "Q300"]


def test_concurrent_first_requests_share_one_load(both_layouts: Path, settings_for):
    store = PredictionStore(settings_for(both_layouts))
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(store.predictions("Q223", "36bhx4mu")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(r) for r in results}) == 1


def test_issues_of_loaded_files_are_collected(tmp_path: Path, settings_for):
    folder = tmp_path / "data" / "Q1" / "clf"
    folder.mkdir(parents=True)
    (folder / "predictions.jsonl").write_text('{"id": "a", "text": "x"}\nnot json\n')
    store = PredictionStore(settings_for(tmp_path / "data"))
    assert store.loaded_issues() == []
    store.predictions("Q1", "clf")
    [issue] = store.loaded_issues()
    assert issue.line == 2 and issue.path.endswith("predictions.jsonl")


def test_large_tables_are_warmed_up_in_the_background_small_ones_not():
    import pyarrow as pa

    from predictions_core.query.engine import WARM_UP_MIN_ROWS, warm_up_in_background

    assert warm_up_in_background(pa.table({"text": ["a", "b"]})) is None
    big = pa.table({"text": ["forest"] * WARM_UP_MIN_ROWS})
    thread = warm_up_in_background(big)
    assert thread is not None and thread.daemon
    thread.join(timeout=30)
    assert not thread.is_alive()
