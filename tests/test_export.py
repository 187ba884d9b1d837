"""JSON, JSONL and CSV renderings of a filtered view (CONTRACT §5)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from predictions_core.data.catalogue import scan_catalogue
from predictions_core.data.loading import load_predictions_file
from predictions_core.data.models import LabelledPassage
from predictions_core.query.engine import query_predictions
from predictions_core.query.export import download_filename, render_download
from predictions_core.query.filters import Filters


@pytest.fixture
def view(both_layouts: Path):
    catalogue = scan_catalogue(both_layouts)
    concept = catalogue.concept("Q218")
    classifier = catalogue.classifier("Q218", "6z4pufsm")
    table = load_predictions_file(classifier.predictions_path).table
    return concept, classifier, table


def render(fmt, view, filters) -> bytes:
    concept, classifier, table = view
    return b"".join(render_download(fmt, table, concept, classifier, filters))


def test_jsonl_lines_are_labelled_passages_in_query_order(view):
    filters = Filters(has_spans=True, sort="length_desc")
    lines = render("jsonl", view, filters).decode().splitlines()
    passages = [LabelledPassage.model_validate_json(line) for line in lines]
    expected = query_predictions(view[2], filters.model_copy(update={"page_size": 1000})).rows
    assert [p.id for p in passages] == expected["id"].to_pylist()
    for p in passages:
        for span in p.spans:
            assert span.model_extra["labelled_text"] == p.text[span.start_index : span.end_index]
    assert all("document_id" in p.metadata for p in passages)


def test_json_download_carries_counts_rows_and_provenance(view):
    filters = Filters(search="/GHG/", has_spans=True)
    document = json.loads(render("json", view, filters))
    assert document["wikibase_id"] == "Q218" and document["classifier_id"] == "6z4pufsm"
    assert document["total_count"] == 228
    assert document["filtered_count"] == len(document["predictions"]) > 0
    assert all("GHG" in p["text"] for p in document["predictions"])
    query = document["query"]
    assert query["parameters"] == {"search": "/GHG/", "has_spans": "true"}
    assert query["concept"]["preferred_label"] == "greenhouse gas"
    assert query["classifier"]["name"] == 'KeywordClassifier("greenhouse gas")'
    assert query["generated_at"]


def test_csv_columns_and_cells(view):
    filters = Filters(has_spans=True)
    rows = list(csv.reader(io.StringIO(render("csv", view, filters).decode())))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["id", "text", "labelled_text", "spans", "n_spans"]
    assert header[5:] == ["document_id", "text_block.text_block_id", "translated"]
    assert len(body) == 24
    for row in body:
        record = dict(zip(header, row, strict=True))
        offsets = json.loads(record["spans"])
        assert int(record["n_spans"]) == len(offsets)
        assert record["labelled_text"] == " | ".join(record["text"][s:e] for s, e in offsets)


def test_empty_selection_still_gives_valid_documents(view):
    filters = Filters(search="no passage says this")
    assert json.loads(render("json", view, filters))["predictions"] == []
    assert render("jsonl", view, filters) == b""
    assert render("csv", view, filters).decode().strip() == "id,text,labelled_text,spans,n_spans"


def test_text_with_quotes_commas_and_newlines_survives_csv(tmp_path):
    text = 'He said "no", then left,\nand <b>&amp;</b> 🌍 stayed'
    line = {
        "id": "q",
        "text": text,
        "spans": [{"start_index": 0, "end_index": 2}],
        "metadata": {"k": {"nested": 1}},
    }
    path = tmp_path / "Q1" / "c" / "predictions.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(line) + "\n")
    catalogue = scan_catalogue(tmp_path)
    view = (
        catalogue.concept("Q1"),
        catalogue.classifier("Q1", "c"),
        load_predictions_file(path).table,
    )
    [header, row] = list(csv.reader(io.StringIO(render("csv", view, Filters()).decode())))
    assert row[1] == text and row[2] == "He" and json.loads(row[header.index("k")]) == {"nested": 1}


def test_download_filename():
    assert download_filename("Q218", "6z4pufsm", "csv") == "Q218-6z4pufsm-predictions.csv"
