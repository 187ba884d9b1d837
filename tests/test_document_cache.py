"""The cache of a per-document folder: a cached load and a request need no listing of its
files, and a document file changed, added or removed is still picked up.

A "new process" is simulated with `documents.forget_listings()`: what this process knew of
every folder is dropped, and only the caches and the listing recorded beside them remain.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from predictions_core.data import documents
from predictions_core.data.loading import fingerprint, load_predictions_file
from predictions_core.data.store import PredictionStore
from tests.records import passage_record as record

LONG_AGO_NS = 10**18  # 2001: a folder last changed long before it was listed


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def rewrite_in_place(path: Path, records: list[dict], mtime_s: int) -> None:
    """Rewrite a document file in place (the folder's mtime stays as it was)."""
    folder_mtime = path.parent.stat().st_mtime_ns
    with path.open("r+", encoding="utf-8") as handle:
        handle.truncate(0)
        handle.write("".join(json.dumps(r) + "\n" for r in records))
    os.utime(path, ns=(mtime_s * 10**9, mtime_s * 10**9))
    assert path.parent.stat().st_mtime_ns == folder_mtime


def settle_folder(folder: Path) -> None:
    """Give the folder an mtime long past, as a folder synced or written earlier has."""
    os.utime(folder, ns=(LONG_AGO_NS, LONG_AGO_NS))


@pytest.fixture(autouse=True)
def fresh_listings():
    documents.forget_listings()
    yield
    documents.forget_listings()


@pytest.fixture
def listings_on_caller(monkeypatch) -> list[str]:
    """Names of the threads that listed a folder's files, in order."""
    callers: list[str] = []
    real = documents.list_document_files

    def counting(folder: Path):
        callers.append(threading.current_thread().name)
        return real(folder)

    monkeypatch.setattr(documents, "list_document_files", counting)
    return callers


def make_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "data" / "Q1" / "clf"
    write_jsonl(folder / "A.json", [record("0", "one")])
    write_jsonl(folder / "B.json", [record("0", "two"), "not json"])  # type: ignore[list-item]
    settle_folder(folder)
    return folder


def test_a_new_process_loads_the_cache_without_listing_the_files(tmp_path, listings_on_caller):
    folder, cache = make_folder(tmp_path), tmp_path / "cache"
    first = load_predictions_file(folder, cache)
    assert not first.from_cache and listings_on_caller == ["MainThread"]
    assert [Path(i.path).name for i in first.issues] == ["B.json"]  # malformed line reported
    documents.forget_listings()
    listings_on_caller.clear()

    again = load_predictions_file(folder, cache)

    assert again.from_cache and again.table.equals(first.table)
    assert again.issues == first.issues  # the bad file is still reported from the cache
    assert "MainThread" not in listings_on_caller  # only the background check listed
    documents.wait_for_checks()
    assert listings_on_caller == ["document-listing"]


def test_a_request_never_lists_the_files(tmp_path, listings_on_caller, monkeypatch):
    folder = make_folder(tmp_path)
    load_predictions_file(folder, tmp_path / "cache")
    listings_on_caller.clear()
    monkeypatch.setattr(documents, "RECHECK_S", 0.0)  # every request finds the listing old

    tokens = {fingerprint(folder) for _ in range(20)}

    assert len(tokens) == 1
    documents.wait_for_checks()
    assert listings_on_caller and set(listings_on_caller) == {"document-listing"}


def test_a_file_changed_in_place_is_found_by_the_background_check(tmp_path, monkeypatch):
    folder, cache = make_folder(tmp_path), tmp_path / "cache"
    load_predictions_file(folder, cache)
    documents.forget_listings()
    rewrite_in_place(folder / "A.json", [record("0", "one"), record("1", "one more")], 7)
    gate = threading.Event()  # holds the background listing until the first load is done
    real = documents.list_document_files

    def gated(folder: Path):
        if threading.current_thread() is not threading.main_thread():
            gate.wait(10)
        return real(folder)

    monkeypatch.setattr(documents, "list_document_files", gated)

    # a new process: the store asks for a token, then loads; the recorded listing (same
    # folder mtime) serves the cache at once while the background listing runs
    token = fingerprint(folder)
    stale = load_predictions_file(folder, cache)
    assert stale.from_cache and stale.n_passages == 2
    gate.set()
    documents.wait_for_checks()
    assert fingerprint(folder) != token  # the store reloads on its next request
    fresh = load_predictions_file(folder, cache)
    assert not fresh.from_cache
    assert fresh.table["id"].to_pylist() == ["A.0", "A.1", "B.0"]

    # in a running process: within RECHECK_S of the last listing, then found
    rewrite_in_place(folder / "B.json", [record("0", "two"), record("1", "three")], 8)
    monkeypatch.setattr(documents, "RECHECK_S", 0.0)
    token = fingerprint(folder)
    documents.wait_for_checks()
    assert fingerprint(folder) != token
    assert load_predictions_file(folder, cache).table["id"].to_pylist() == [
        "A.0",
        "A.1",
        "B.0",
        "B.1",
    ]


def test_a_file_added_or_removed_is_seen_at_once(tmp_path, listings_on_caller):
    folder, cache = make_folder(tmp_path), tmp_path / "cache"
    load_predictions_file(folder, cache)
    token = fingerprint(folder)

    write_jsonl(folder / "C.json", [record("0", "three")])
    assert fingerprint(folder) != token  # within RECHECK_S: the folder's mtime moved on
    added = load_predictions_file(folder, cache)
    assert not added.from_cache and added.table["id"].to_pylist() == ["A.0", "B.0", "C.0"]

    # a new process does not trust a listing older than the folder's last change
    settle_folder(folder)
    load_predictions_file(folder, cache)
    documents.forget_listings()
    (folder / "A.json").unlink()
    listings_on_caller.clear()
    removed = load_predictions_file(folder, cache)
    assert not removed.from_cache and removed.table["id"].to_pylist() == ["B.0", "C.0"]
    assert listings_on_caller[0] == "MainThread"


def test_a_listing_taken_just_after_a_change_is_not_trusted_by_a_new_process(
    tmp_path, listings_on_caller
):
    folder, cache = make_folder(tmp_path), tmp_path / "cache"
    write_jsonl(folder / "C.json", [record("0", "three")])  # the folder changed just now
    load_predictions_file(folder, cache)
    documents.forget_listings()
    listings_on_caller.clear()

    # a file added in the same clock tick could hide behind an unchanged mtime: list again
    again = load_predictions_file(folder, cache)
    assert again.from_cache and listings_on_caller == ["MainThread"]


def test_a_metadata_file_is_no_document(tmp_path):
    folder, cache = make_folder(tmp_path), tmp_path / "cache"
    first = load_predictions_file(folder, cache)
    (folder / "classifier.json").write_text("{}")
    again = load_predictions_file(folder, cache)
    assert again.from_cache and again.table.equals(first.table)


def test_the_store_reloads_after_an_in_place_change(tmp_path, settings_for, monkeypatch):
    folder = make_folder(tmp_path)
    store = PredictionStore(settings_for(tmp_path / "data"))
    first = store.predictions("Q1", "clf")
    assert store.predictions("Q1", "clf") is first
    rewrite_in_place(folder / "A.json", [record("0", "changed")], 9)
    monkeypatch.setattr(documents, "RECHECK_S", 0.0)
    store.predictions("Q1", "clf")  # notices the listing is old: checks in the background
    documents.wait_for_checks()
    deadline = time.monotonic() + 10
    while (loaded := store.predictions("Q1", "clf")) is first and time.monotonic() < deadline:
        documents.wait_for_checks()
    assert loaded.table["text"].to_pylist() == ["changed", "two"]
