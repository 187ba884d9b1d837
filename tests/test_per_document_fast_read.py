"""The fast read of a per-document folder (`documents._read_as_one_file`): its JSONL files
copied into one file, each record tagged with its file's name, read by DuckDB's typed reader.

It must give exactly the rows of the general read (`reader.read_records` over the files), and
step aside whenever it cannot: those folders then load as before.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from predictions_core.data import documents
from predictions_core.data.documents import DOCUMENT_RECORD_BYTES, read_document_folder
from predictions_core.data.reader import read_records
from tests.records import passage_record as record
from tests.test_per_document_layout import write_array_of_strings, write_jsonl


def _paths(folder: Path) -> list[str]:
    return [str(document.path) for document in documents.list_document_files(folder)]


def _general_read(folder: Path):
    return read_records(_paths(folder), "auto", True, DOCUMENT_RECORD_BYTES)


def _clean_folder(folder: Path) -> Path:
    write_jsonl(
        folder / "DOC.A_translated_en.json",
        [record("0", "forest carbon", [(0, 6)]), record(7, "x", translated="False")],
    )
    scored = record("p", "methane leaks", [(0, 7)], document_id="OTHER")
    scored["spans"][0]["prediction_probability"] = 0.75
    write_jsonl(folder / "DOC.B.json", [scored, record("q", "peat")])
    # odd but valid: Windows line ends, no final newline, a name JSON must escape
    (folder / "DOC.C.json").write_bytes(
        (json.dumps(record("0", "c0")) + "\r\n" + json.dumps(record("1", "c1"))).encode()
    )
    write_jsonl(folder / 'DOC "quoted" é.json', [record("0", "named")])
    return folder


def test_a_folder_of_jsonl_files_is_read_fast_with_the_rows_of_the_general_read(tmp_path):
    folder = _clean_folder(tmp_path / "Q1" / "clf")
    fast = documents._read_as_one_file(_paths(folder))
    assert fast is not None, "a folder of clean JSONL files must take the fast read"
    general = _general_read(folder)
    assert fast.equals(general)
    assert fast["id"].to_pylist() == [
        'DOC "quoted" é.0',  # files in name order: a space sorts first
        "DOC.A_translated_en.0",
        "DOC.A_translated_en.7",
        "DOC.B.p",
        "DOC.B.q",
        "DOC.C.0",
        "DOC.C.1",
    ]
    assert fast["filename"].to_pylist()[0].endswith('DOC "quoted" é.json')


def test_records_the_checks_refuse_keep_their_file_and_are_reported_by_line(tmp_path):
    folder = _clean_folder(tmp_path / "Q1" / "clf")
    lines = [record("0", "d0"), {"id": "1", "text": 5}, {}, record("3", "d3")]
    write_jsonl(folder / "DOC.D.json", lines)
    fast = documents._read_as_one_file(_paths(folder))
    assert fast is not None and fast.equals(_general_read(folder))
    rows, issues = read_document_folder(folder)
    assert [(Path(i.path).name, i.line) for i in issues] == [("DOC.D.json", 2), ("DOC.D.json", 3)]
    assert [i for i in rows["id"].to_pylist() if i.startswith("DOC.D")] == ["DOC.D.0", "DOC.D.3"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("an array file", json.dumps([record("0", "old form")])),
        ("a line indented", json.dumps(record("0", "t")) + "\n  " + json.dumps(record("1", "u"))),
        ("a malformed line", json.dumps(record("0", "t")) + "\n{oops\n"),
        ("a blank first line", "\n" + json.dumps(record("0", "t")) + "\n"),
        ("another top-level key", json.dumps({**record("0", "t"), "marked_up_text": "<b>t</b>"})),
    ],
)
def test_the_fast_read_steps_aside_and_the_folder_loads_as_before(tmp_path, name, content):
    folder = _clean_folder(tmp_path / "Q1" / "clf")
    (folder / "ODD.json").write_text(content, encoding="utf-8")
    assert documents._read_as_one_file(_paths(folder)) is None, name
    rows, _issues = read_document_folder(folder)
    assert "DOC.B.p" in rows["id"].to_pylist()  # the clean files still load
    expected = _general_read(folder)
    assert rows.equals(expected.filter(expected["ok"]).drop_columns(["ok"]))


def test_the_other_top_level_keys_are_kept_when_the_fast_read_steps_aside(tmp_path):
    folder = tmp_path / "Q1" / "clf"
    write_jsonl(folder / "A.json", [record("0", "a")])
    write_jsonl(folder / "B.json", [{**record("0", "b"), "marked_up_text": "<b>b</b>"}])
    rows, issues = read_document_folder(folder)
    assert issues == []
    assert rows["extra"].to_pylist() == [None, '{"marked_up_text":"<b>b</b>"}']


def test_older_files_of_json_strings_are_read_fast_too(tmp_path):
    folder = _clean_folder(tmp_path / "Q1" / "clf")
    write_array_of_strings(folder / "OLD_translated_en.json", [record("0", "a"), record("1", "b")])
    write_array_of_strings(folder / "OLD.bad.json", [record("0", "c"), {"id": "1"}])
    fast = documents._read_as_one_file(_paths(folder))
    assert fast is not None, "arrays of JSON strings must take the fast read"
    assert fast.equals(_general_read(folder))
    rows, issues = read_document_folder(folder)
    assert [i for i in rows["id"].to_pylist() if i.startswith("OLD")] == [
        "OLD.bad.0",
        "OLD_translated_en.0",
        "OLD_translated_en.1",
    ]
    assert [(Path(i.path).name, i.message[:7]) for i in issues] == [("OLD.bad.json", "item 2:")]


def test_an_older_file_with_a_malformed_string_loads_as_before(tmp_path):
    folder = tmp_path / "Q1" / "clf"
    write_array_of_strings(folder / "A.json", [record("0", "a"), "{not json", record("2", "c")])
    write_jsonl(folder / "B.json", [record("0", "b")])
    assert documents._read_as_one_file(_paths(folder)) is None
    rows, issues = read_document_folder(folder)
    assert rows["id"].to_pylist() == ["A.0", "A.2", "B.0"]
    assert [(Path(i.path).name, i.message[:7]) for i in issues] == [("A.json", "item 2:")]
