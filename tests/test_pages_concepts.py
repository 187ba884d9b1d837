"""No dead ends from Concepts and the sidebar (issue 11 §3), under AppTest.

A click on a Concepts cell opens the concept on Browse, or on Compare / Evaluate from their
columns; the sidebar names classifiers by their short distinguishing name; a `/compare` URL
naming one classifier keeps exactly that one; a failed sync is told in a reader's words.
The data is a copy of the bundled demo data (Q218 and Q787: four classifiers, Q787 with gold
labels; Q223: one classifier, no gold). The real browser click is in `test_e2e_concepts.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from streamlit.proto.Dataframe_pb2 import Dataframe

from predictions_core.data.catalogue import scan_catalogue
from predictions_core.sync.background import BackgroundSync
from predictions_core.sync.s3 import describe_s3_error
from predictions_core.sync.state import KeyProblem, SyncReport
from predictions_core.ui.sidebar import sync_failure
from tests.page_support import open_page, page_title

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture
def demo(use_data, demo_copy: Path) -> Path:
    return use_data(demo_copy)


def click_cell(at, qid: str, column: str):
    """Click the cell of `column` in the row of `qid`, as the table reports a cell click."""
    table = at.dataframe("concepts_table")
    # a browser reports a click on a cell only to a table that selects cells (AppTest would
    # pass the selection on regardless): row selection alone needs the row's checkbox
    assert list(table.proto.selection_mode) == [Dataframe.SelectionMode.SINGLE_CELL]
    row = list(table.value["QID"]).index(qid)
    selection = {"rows": [], "columns": [], "cells": [[row, column]]}
    at.session_state["concepts_table"] = {"selection": selection}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize(
    ("qid", "column", "title"),
    [
        ("Q218", "compare", "Compare classifiers · greenhouse gas (Q218)"),
        ("Q787", "evaluate", "Evaluate · forestry sector (Q787)"),
        ("Q218", "positives", "greenhouse gas (Q218)"),  # any other cell: Browse
        ("Q223", "compare", "carbon dioxide (Q223)"),  # one classifier: nothing to compare
        ("Q218", "evaluate", "greenhouse gas (Q218)"),  # no gold labels: nothing to evaluate
    ],
)
def test_a_cell_click_opens_the_concept_on_the_page_of_its_column(demo, qid, column, title):
    at = click_cell(open_page(), qid, column)
    assert page_title(at).endswith(title)
    assert at.query_params["concept"] == qid
    if column == "compare" and qid == "Q218":
        chosen = at.multiselect(key="compare_classifiers").value
        assert chosen == list(scan_catalogue(demo).concept(qid).classifiers)


def test_compare_and_evaluate_are_offered_only_where_they_apply(demo):
    frame = open_page().dataframe("concepts_table").value.set_index("QID")
    catalogue = scan_catalogue(demo)
    for qid, row in frame.iterrows():
        entry = catalogue.concept(qid)
        assert (row["compare"] == "Compare ›") == (len(entry.classifiers) >= 2)
        assert (row["evaluate"] == "Evaluate ›") == bool(entry.gold_passages)
    assert frame.loc["Q787", "evaluate"] and not frame.loc["Q223", "compare"]


# --- the sidebar --------------------------------------------------------------------------


def test_classifier_pickers_show_short_names_first(demo):
    entry = scan_catalogue(demo).concept("Q218")
    expected = [f"{entry.short_name(cid)} · 2025-01-15 · {cid}" for cid in entry.classifiers]
    browse = open_page("pages/browse.py", {"concept": "Q218"})
    picker = browse.selectbox(key="browse_classifier")
    assert picker.options == expected
    # the names all start with "KeywordClassifier(…)"-alike text; cut short, they still differ
    assert len({option[:12] for option in picker.options}) == len(expected)
    assert all(
        cid in picker.help and name in picker.help for cid, name in entry.short_names.items()
    )
    compare = open_page("pages/compare.py", {"concept": "Q218"})
    assert compare.multiselect(key="compare_classifiers").options == expected


def test_a_compare_url_with_one_classifier_keeps_only_that_one(demo):
    one = list(scan_catalogue(demo).concept("Q218").classifiers)[1]
    at = open_page("pages/compare.py", {"concept": "Q218", "classifier": one})
    assert at.multiselect(key="compare_classifiers").value == [one]
    assert at.session_state["classifiers"] == [one]
    assert at.query_params["classifier"] == one


def test_a_compare_url_naming_no_known_classifier_compares_the_default(demo):
    ids = list(scan_catalogue(demo).concept("Q218").classifiers)
    at = open_page("pages/compare.py", {"concept": "Q218", "classifier": "nope"})
    assert at.multiselect(key="compare_classifiers").value == ids[:4]
    assert any("nope" in error.value for error in at.error)


# --- what a failed sync says --------------------------------------------------------------

SECRET_PATH = "/srv/secret-data/predictions"


def failed(error: str | None = None, failed_keys: int = 0) -> SyncReport:
    report = SyncReport("team-bucket", "live/", Path(SECRET_PATH), error=error)
    report.failed = [
        KeyProblem(f"Q{i}/x.jsonl", f"{SECRET_PATH}/x: boom") for i in range(failed_keys)
    ]
    return report


def client_error(code: str, status: int) -> ClientError:
    body = {"Error": {"Code": code, "Message": "Signature v4 internal text"}}
    return ClientError({**body, "ResponseMetadata": {"HTTPStatusCode": status}}, "ListObjectsV2")


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (describe_s3_error(client_error("AccessDenied", 403), "team-bucket"), "access denied"),
        (
            describe_s3_error(client_error("InvalidAccessKeyId", 403), "team-bucket"),
            "access denied",
        ),
        (describe_s3_error(NoCredentialsError(), "team-bucket"), "access denied"),
        (
            describe_s3_error(client_error("NoSuchBucket", 404), "team-bucket"),
            "bucket was not found",
        ),
        (
            describe_s3_error(EndpointConnectionError(endpoint_url="http://10.0.0.5:9000"), "b"),
            "S3 could not be reached",
        ),
        (
            describe_s3_error(PermissionError(13, "Permission denied", SECRET_PATH), "b"),
            "could not save the files",
        ),
        (f"could not write the sync manifest in {SECRET_PATH}: disk full", "could not save"),
        (describe_s3_error(client_error("SlowDown", 503), "team-bucket"), "unexpected error"),
        ("unexpected error during sync: KeyError: 'Contents'", "unexpected error"),
    ],
)
def test_a_sync_failure_is_told_without_paths_or_s3_text(error: str, said: str):
    told = sync_failure(failed(error))
    assert said in told
    for secret in (SECRET_PATH, "team-bucket", "10.0.0.5", "Signature", "Contents", "Errno"):
        assert secret not in told


def test_failed_files_are_counted_not_listed():
    assert sync_failure(failed(failed_keys=3)) == "3 files could not be updated"


def test_the_data_box_and_refresh_tell_a_failed_sync_in_a_readers_words(
    demo, monkeypatch, quiet_background_sync: BackgroundSync
):
    monkeypatch.setenv("PREDICTIONS_S3_BUCKET", "team-bucket")
    monkeypatch.setenv("SKIP_S3_SYNC", "false")
    report = failed(f"local file error: [Errno 28] No space left on device: '{SECRET_PATH}'")
    quiet_background_sync.last_report = report
    monkeypatch.setattr(quiet_background_sync, "sync_now", lambda settings: report)
    at = open_page("pages/concepts.py")
    status = " ".join(caption.value for caption in at.sidebar.caption)
    assert "Last sync failed: the server could not save the files." in status
    assert SECRET_PATH not in status and "Errno" not in status
    at.button(key="sidebar_refresh").click().run()
    assert [t.value for t in at.toast] == ["Sync failed: the server could not save the files"]
