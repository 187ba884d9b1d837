"""JSON, JSONL and CSV renderings of a filtered view (CONTRACT §5)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from predictions_core.data import sql
from predictions_core.data.catalogue import scan_catalogue
from predictions_core.data.loading import load_predictions_file
from predictions_core.data.location import DEMO_DATA_DIR
from predictions_core.data.models import LabelledPassage
from predictions_core.query.engine import query_predictions
from predictions_core.query.export import download_filename, render_download, stream_csv
from predictions_core.query.filters import Filters

FIXED_COLUMNS = ["id", "text", "labelled_text", "spans", "n_spans", "score"]  # CONTRACT §5


@pytest.fixture(scope="module")
def view():
    """Q218 of the bundled demo data, its keyword classifier, and that classifier's lines."""
    if not DEMO_DATA_DIR.is_dir():
        pytest.skip("data/demo has not been generated yet (`uv run predictions demo`)")
    catalogue = scan_catalogue(DEMO_DATA_DIR)
    concept = catalogue.concept("Q218")
    [classifier] = [
        entry
        for entry in concept.classifiers.values()
        if entry.classifier.name == 'KeywordClassifier("greenhouse gas")'
    ]
    path = classifier.predictions_path
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return concept, classifier, load_predictions_file(path).table, lines


def render(fmt, view, filters) -> bytes:
    concept, classifier, table, _ = view
    return b"".join(render_download(fmt, table, concept, classifier, filters))


def test_jsonl_lines_are_labelled_passages_in_query_order(view):
    filters = Filters(has_spans=True, sort="length_desc")
    lines = render("jsonl", view, filters).decode().splitlines()
    passages = [LabelledPassage.model_validate_json(line) for line in lines]
    expected = query_predictions(view[2], filters.model_copy(update={"page_size": 1000})).rows
    assert [p.id for p in passages] == expected["id"].to_pylist()
    assert len(passages) == sum(1 for line in view[3] if line["spans"])
    for p in passages:
        for span in p.spans:
            assert span.model_extra["labelled_text"] == p.text[span.start_index : span.end_index]
    originals = {line["id"]: line["metadata"] for line in view[3]}
    assert all(p.metadata == originals[p.id] for p in passages)


def test_json_download_carries_counts_rows_and_provenance(view):
    concept, classifier, _, lines = view
    filters = Filters(search="/GHG/", has_spans=True)
    document = json.loads(render("json", view, filters))
    assert document["wikibase_id"] == "Q218" and document["classifier_id"] == classifier.id
    assert document["total_count"] == len(lines)
    expected = [line["id"] for line in lines if "GHG" in line["text"] and line["spans"]]
    assert expected, "the demo data should hold GHG passages with spans"
    assert document["filtered_count"] == len(expected)
    assert [p["id"] for p in document["predictions"]] == expected
    query = document["query"]
    assert query["parameters"] == {"search": "/GHG/", "has_spans": "true"}
    assert query["concept"]["preferred_label"] == concept.concept.preferred_label
    assert query["classifier"]["name"] == 'KeywordClassifier("greenhouse gas")'
    assert query["generated_at"]


def test_csv_columns_and_cells(view):
    lines = view[3]
    rows = list(csv.reader(io.StringIO(render("csv", view, Filters(has_spans=True)).decode())))
    header, body = rows[0], rows[1:]
    assert header[:6] == FIXED_COLUMNS
    assert header[6:] == sorted({key for line in lines for key in line["metadata"]})
    assert len(body) == sum(1 for line in lines if line["spans"])
    for row in body:
        record = dict(zip(header, row, strict=True))
        offsets = json.loads(record["spans"])
        assert int(record["n_spans"]) == len(offsets)
        assert record["score"] == ""  # the demo's classifiers give no probabilities
        assert record["labelled_text"] == " | ".join(record["text"][s:e] for s, e in offsets)


def test_csv_metadata_columns_are_the_keys_of_the_filtered_rows_only(tmp_path):
    lines = [
        {"id": "a", "text": "forest carbon", "metadata": {"region": "x", "only_a": 1}},
        {"id": "b", "text": "no match", "metadata": {"only_b": 2}},
        {"id": "c", "text": "Forestry", "metadata": {"region": "y"}},
    ]
    table = _write_and_load(tmp_path, lines)
    for filters, keys in (
        (Filters(search="/fores/i"), ["only_a", "region"]),
        (Filters(search="match"), ["only_b"]),
        (Filters(search="/fores/i", document_id="nothing has this"), []),
    ):
        [header, *_] = list(csv.reader(io.StringIO(b"".join(stream_csv(table, filters)).decode())))
        assert header == FIXED_COLUMNS + keys


def test_a_csv_download_scans_the_texts_once(view, monkeypatch):
    # naming the CSV's metadata columns used to re-run the whole filter, regex scan included
    table = view[2].slice(0)  # a fresh table object: nothing cached for it yet
    statements: list[str] = []
    monkeypatch.setattr(sql, "_database", _RecordingDatabase(sql._database, statements))
    search = r"/\bemission\w*|GHG/i"
    body = b"".join(stream_csv(table, Filters(search=search))).decode()
    scans = [statement for statement in statements if "regexp_matches(text" in statement]
    assert len(scans) == 1
    header, *rows = list(csv.reader(io.StringIO(body)))
    pattern = re.compile(r"\bemission\w*|GHG", re.IGNORECASE)
    matching = [line for line in view[3] if pattern.search(line["text"])]
    assert [row[0] for row in rows] == [line["id"] for line in matching]
    assert header == FIXED_COLUMNS + sorted({k for line in matching for k in line["metadata"]})


def test_empty_selection_still_gives_valid_documents(view):
    filters = Filters(search="no passage says this")
    assert json.loads(render("json", view, filters))["predictions"] == []
    assert render("jsonl", view, filters) == b""
    assert render("csv", view, filters).decode().strip() == ",".join(FIXED_COLUMNS)


def test_text_with_quotes_commas_and_newlines_survives_csv(tmp_path):
    text = 'He said "no", then left,\nand <b>&amp;</b> 🌍 stayed'
    line = {
        "id": "q",
        "text": text,
        "spans": [{"start_index": 0, "end_index": 2}],
        "metadata": {"k": {"nested": 1}},
    }
    table = _write_and_load(tmp_path, [line])
    [header, row] = list(csv.reader(io.StringIO(b"".join(stream_csv(table, Filters())).decode())))
    assert row[1] == text and row[2] == "He" and json.loads(row[header.index("k")]) == {"nested": 1}


def test_download_filename():
    assert download_filename("Q218", "6z4pufsm", "csv") == "Q218-6z4pufsm-predictions.csv"


def _write_and_load(tmp_path: Path, lines: list[dict]):
    path = tmp_path / "predictions.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return load_predictions_file(path).table


class _RecordingDatabase:
    """The process database, recording the SQL of every query run on its cursors."""

    def __init__(self, database, statements: list[str]):
        self._database = database
        self._statements = statements

    def cursor(self):
        return _RecordingCursor(self._database.cursor(), self._statements)


class _RecordingCursor:
    def __init__(self, con, statements: list[str]):
        self._con = con
        self._statements = statements

    def sql(self, query: str, **kwargs):
        self._statements.append(query)
        return self._con.sql(query, **kwargs)

    def execute(self, query: str, *args):
        self._statements.append(query)
        return self._con.execute(query, *args)

    def __getattr__(self, name: str):
        return getattr(self._con, name)
