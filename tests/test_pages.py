"""The dashboard's shell and Concepts page under AppTest: no data, the Concepts table, the
sidebar's data box, page switches and a bad setting.

The data is a copy of the bundled demo data (both layouts: Q218, Q787, Q1829 per classifier,
Q223 in the older layout); the Concepts table is checked on the real fixtures too, where they
are present. Browse and Compare have their own modules (`test_pages_browse.py`, ...).
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from predictions_core.data.catalogue import scan_catalogue
from predictions_core.data.loading import load_predictions_file
from predictions_core.sync.background import BackgroundSync
from predictions_core.sync.state import SyncReport
from tests.page_support import (
    cards,
    expected_counts,
    first_classifier,
    messages,
    open_page,
    page_title,
    shown_counts,
)

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture(params=["demo", "real"])
def both_layouts_data(request: pytest.FixtureRequest, use_data) -> Path:
    """A data dir with concepts in both layouts: the demo data, or the real fixtures."""
    fixture = "demo_copy" if request.param == "demo" else "both_layouts"
    return use_data(request.getfixturevalue(fixture))


# --- empty data dir ----------------------------------------------------------------------


@pytest.mark.parametrize("page", [None, "pages/browse.py", "pages/compare.py"])
def test_empty_data_dir_says_how_to_get_data(use_data, tmp_path: Path, page):
    use_data(tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    at = open_page(page)
    text = " ".join(info.value for info in at.info)
    for command in ("uv run predictions demo", "predictions sync", "predictions predict"):
        assert command in text
    assert not at.error


# --- Concepts ----------------------------------------------------------------------------


def test_concepts_table_counts_links_and_search(both_layouts_data: Path):
    data = both_layouts_data
    at = open_page()
    frame = at.dataframe("concepts_table").value
    catalogue = scan_catalogue(data)
    assert list(frame["QID"]) == list(catalogue.concepts)
    assert "Q223" in catalogue.concepts  # the older layout is listed beside the newer one
    for _, row in frame.iterrows():
        entry = catalogue.concept(row["QID"])
        assert row["gold"] == len(entry.gold_passages)
        assert row["compare"] == ("Compare ›" if len(entry.classifiers) >= 2 else "")
        assert row["evaluate"] == ("Evaluate ›" if entry.gold_passages else "")
        sizes = set()
        for classifier_id, classifier in entry.classifiers.items():
            loaded = load_predictions_file(classifier.predictions_path)
            assert f"{entry.short_name(classifier_id)} {loaded.n_positives:,}" in row["positives"]
            assert classifier_id not in row["positives"]  # names, not ids
            sizes.add(loaded.n_passages)
        assert len(sizes) == 1  # every file of a concept holds the same passages here
        assert row["positives"].endswith(f"(of {sizes.pop():,})")
    at.text_input(key="concepts_search").set_value("q223").run()
    assert list(at.dataframe("concepts_table").value["QID"]) == ["Q223"]
    assert at.query_params["search"] == "q223"


def test_concepts_table_shows_gold_labels(use_data, demo_copy: Path):
    use_data(demo_copy)
    at = open_page()
    frame = at.dataframe("concepts_table").value
    gold = dict(zip(frame["QID"], frame["gold"], strict=True))
    assert gold["Q787"] == len(scan_catalogue(demo_copy).concept("Q787").gold_passages) > 0


def test_concepts_row_click_opens_browse(both_layouts_data: Path):
    data = both_layouts_data
    at = open_page()
    row = list(at.dataframe("concepts_table").value["QID"]).index("Q223")
    # a click on a cell (the description, say) selects that cell: it opens the concept
    cell = {"rows": [], "columns": [], "cells": [[row, "description"]]}
    at.session_state["concepts_table"] = {"selection": cell}
    at.run()
    assert not at.exception
    assert page_title(at).endswith("(Q223)")
    assert at.query_params["concept"] == "Q223"
    # Browse opens on the passages with spans
    params = {"has_spans": "true"}
    assert shown_counts(at) == expected_counts(data, "Q223", first_classifier(data, "Q223"), params)


# --- data status box ---------------------------------------------------------------------


def test_skipped_lines_are_counted_and_explained(use_data, demo_copy: Path):
    data = use_data(demo_copy)
    classifier_id = first_classifier(data, "Q1829")
    path = data / "Q1829" / classifier_id / "predictions.jsonl"
    with path.open("a", encoding="utf-8") as predictions:
        predictions.write("{this is not json\n")
        predictions.write(json.dumps({"id": 7, "text": "short", "spans": "nope"}) + "\n")
    reference = load_predictions_file(path)
    assert len(reference.issues) == 2
    at = open_page("pages/browse.py", {"concept": "Q1829", "has_spans": "any"})
    assert "2 lines of this file were skipped" in messages(at)
    status = next(e for e in at.sidebar.expander if e.label.startswith("Data"))
    assert "2 skipped" in status.label
    listed = " ".join(code.value for code in at.sidebar.code)
    for issue in reference.issues:  # named within the data dir, never by the server's path
        assert issue.describe().removeprefix(f"{data}/") in listed
    assert str(data) not in listed
    assert shown_counts(at) == (reference.n_passages, reference.n_passages)


def test_refresh_data_shows_files_added_since(use_data, demo_copy: Path, tmp_path: Path):
    data = use_data(tmp_path / "one")
    classifier_id = first_classifier(demo_copy, "Q218")
    shutil.copytree(demo_copy / "Q218" / classifier_id, data / "Q218" / classifier_id)
    shutil.copy(demo_copy / "Q218" / "concept.json", data / "Q218" / "concept.json")
    at = open_page("pages/compare.py", {"concept": "Q218"})
    assert any("needs two or more" in info.value for info in at.info)
    shutil.copytree(data / "Q218" / classifier_id, data / "Q218" / "second")
    at.button(key="sidebar_refresh").click().run()
    assert not at.exception
    options = at.multiselect(key="compare_classifiers").options
    assert len(options) == 2 and any(option.endswith(" · second") for option in options)


def test_refresh_data_reads_the_settings_again(use_data, demo_copy: Path, tmp_path: Path):
    use_data(demo_copy)
    at = open_page("pages/concepts.py")
    assert "Q787" in set(at.dataframe("concepts_table").value["QID"])
    older = use_data(tmp_path / "older")  # a process reads its settings once: not seen yet
    for folder in ("predictions", "classifiers", "concepts"):
        shutil.copytree(demo_copy / folder, older / folder)
    at.run()
    assert "Q787" in set(at.dataframe("concepts_table").value["QID"])
    at.button(key="sidebar_refresh").click().run()
    assert not at.exception
    assert list(at.dataframe("concepts_table").value["QID"]) == ["Q223"]


def test_the_data_box_says_how_the_last_bucket_sync_went(
    use_data, demo_copy: Path, monkeypatch, quiet_background_sync: BackgroundSync
):
    use_data(demo_copy)
    monkeypatch.setenv("PREDICTIONS_S3_BUCKET", "some-bucket")
    report = SyncReport("some-bucket", "", demo_copy, finished_at=datetime(2026, 1, 2, 3, 4, 5))
    report.error = "access denied to bucket 'some-bucket' (AccessDenied): check the policy"
    quiet_background_sync.last_report = report
    at = open_page()
    status = " ".join(caption.value for caption in at.sidebar.caption)
    assert "Last synced 2026-01-02 03:04:05 UTC. Last sync failed: access denied." in status
    assert "AccessDenied" not in status and "policy" not in status
    bucket = " ".join(markdown.value for markdown in at.sidebar.markdown)
    assert "s3://some-bucket/" in bucket and "sync off (SKIP_S3_SYNC)" in bucket


def test_refresh_syncs_the_bucket_first_when_sync_is_on(
    use_data, demo_copy: Path, monkeypatch, quiet_background_sync: BackgroundSync
):
    use_data(demo_copy)
    monkeypatch.setenv("PREDICTIONS_S3_BUCKET", "some-bucket")
    monkeypatch.setenv("SKIP_S3_SYNC", "false")
    asked = []

    def sync_now(settings):
        asked.append(settings.s3_bucket)
        return SyncReport("some-bucket", "", demo_copy, downloaded=["Q218/concept.json"])

    monkeypatch.setattr(quiet_background_sync, "sync_now", sync_now)
    at = open_page("pages/concepts.py")
    assert asked == []
    at.button(key="sidebar_refresh").click().run()
    assert not at.exception
    assert asked == ["some-bucket"]
    assert [toast.value for toast in at.toast] == ["Synced: 1 files downloaded"]


# --- the shell ---------------------------------------------------------------------------


def test_page_switch_keeps_the_concept_and_drops_other_pages_parameters(use_data, demo_copy):
    use_data(demo_copy)
    at = open_page("pages/compare.py", {"concept": "Q787", "show": "both", "gold": "concept"})
    assert at.query_params["show"] == "both"
    at.switch_page("pages/browse.py").run()
    assert not at.exception
    assert at.query_params["concept"] == "Q787" and page_title(at).endswith("(Q787)")
    assert not {"a", "b", "show", "gold"} & set(at.query_params)
    at.switch_page("pages/concepts.py").run()
    assert set(at.query_params) == {"concept"}


@pytest.mark.parametrize("page", [None, "pages/browse.py", "pages/compare.py"])
def test_a_bad_setting_is_a_message_not_a_traceback(use_data, demo_copy, monkeypatch, page):
    use_data(demo_copy)
    monkeypatch.setenv("PREDICTIONS_SYNC_INTERVAL_S", "soon")
    at = open_page(page)
    shown = " ".join(e.value for e in at.error).replace("\\", "")  # Markdown escapes
    assert "PREDICTIONS_SYNC_INTERVAL_S: expected a number of seconds" in shown
    assert not at.dataframe and not cards(at)
