"""Today's vibe-checker schema (CONTRACT §2): string metadata, `publication_ts` in several
formats and places, top-level keys kept for downloads, span scores and the `score` column.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from predictions_core.data.loading import load_predictions_file
from predictions_core.data.reader import read_records
from predictions_core.data.validation import problem_with_record
from predictions_core.query.export import passages_from_batch, stream_jsonl
from predictions_core.query.filters import Filters

CARD_KEYS = ("document_name", "document_slug", "family_slug", "similarity")


def span(start: int, end: int, probability=None, concept_id="Q218") -> dict:
    out = {"start_index": start, "end_index": end, "concept_id": concept_id, "labellers": ["m"]}
    if probability is not None:
        out["prediction_probability"] = probability
    return out


def write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_publication_ts_formats_and_places_give_the_year(tmp_path: Path):
    dates = [
        {"publication_ts": "2024-01-01"},
        {"publication_ts": "2019-06-14 00:00:00"},
        {"publication_ts": "2021-03-02T00:00:00Z"},
        {"publication_ts": 1438214400000},  # epoch milliseconds, as a number
        {"publication_ts": "1438214400000.0"},
        {"metadata": {"publication_ts": "2012-05-07"}},
        {"metadata": {"document_metadata.publication_ts": "2010-01-01"}, "publication_ts": "2030"},
        {"publication_ts": ""},
        {"publication_ts": "1900-01-01 00:00:00"},  # upstream's placeholder for no date
        {},
    ]
    records = [{"id": str(i), "text": "t", "metadata": {}, **d} for i, d in enumerate(dates)]
    for item in records:
        item["metadata"] = item.get("metadata") or {}
    table = load_predictions_file(write(tmp_path / "p.jsonl", records)).table
    assert table["year"].to_pylist() == [2024, 2019, 2021, 2015, 2015, 2012, 2010, None, None, None]


def test_scores_are_the_highest_probability_of_the_concepts_valid_spans(tmp_path: Path):
    text = "greenhouse gas emissions"
    records = [
        {"id": "two", "text": text, "spans": [span(0, 10, 0.4), span(11, 14, 0.9)]},
        {"id": "other-concept", "text": text, "spans": [span(0, 10, 0.3), span(0, 5, 0.99, "Q1")]},
        {"id": "no-concept-id", "text": text, "spans": [span(0, 10, 0.7, None)]},
        {"id": "outside-text", "text": text, "spans": [span(0, 10, 0.2), span(0, 99, 0.95)]},
        {"id": "out-of-range", "text": text, "spans": [span(0, 10, 1.5), span(0, 4, -0.1)]},
        {"id": "unscored", "text": text, "spans": [span(0, 10)]},
        {"id": "no-spans", "text": text, "spans": []},
    ]
    path = write(tmp_path / "p.jsonl", records)
    table = load_predictions_file(path, concept_id="Q218").table
    assert table["score"].to_pylist() == [0.9, 0.3, 0.7, 0.2, None, None, None]
    # without the concept's QID every valid span counts
    assert load_predictions_file(path).table["score"].to_pylist()[1] == 0.99
    # each span keeps its probability (None where it has none)
    first = table["spans"].to_pylist()[0]
    assert [s["prediction_probability"] for s in first] == [0.4, 0.9]


def test_top_level_keys_are_kept_for_downloads_and_never_in_metadata(tmp_path: Path):
    html = '<p>Cut <mark class="c">GHG</mark> & <script>alert(1)</script></p>'
    records = [
        {
            "id": "a",
            "text": "Cut GHG",
            "spans": [span(4, 7, 0.8)],
            "metadata": {"document_name": "Plan"},
            "marked_up_text": html,
            "publication_ts": "2019-06-14 00:00:00",
            "nested": {"k": [1, 2]},
        },
        {"id": "b", "text": "plain", "spans": [span(0, 5)], "metadata": {}},
    ]
    table = load_predictions_file(write(tmp_path / "p.jsonl", records), concept_id="Q218").table
    assert json.loads(table["extra"][0].as_py()) == {
        "marked_up_text": html,
        "publication_ts": "2019-06-14 00:00:00",
        "nested": {"k": [1, 2]},
    }
    assert table["extra"][1].as_py() is None
    assert json.loads(table["metadata"][0].as_py()) == {"document_name": "Plan"}
    first, second = passages_from_batch(table)
    assert list(first) == [
        "id",
        "text",
        "spans",
        "metadata",
        "marked_up_text",
        "publication_ts",
        "nested",
    ]
    assert first["marked_up_text"] == html and first["spans"][0]["prediction_probability"] == 0.8
    assert list(second) == ["id", "text", "spans", "metadata"]
    assert "prediction_probability" not in second["spans"][0]  # no key where there is no score
    lines = b"".join(stream_jsonl(table, Filters())).splitlines()
    assert orjson.loads(lines[0])["marked_up_text"] == html


@pytest.mark.parametrize(
    "item",
    [
        {"id": "a", "text": "t"},
        {"id": 5, "text": "t", "spans": None, "metadata": None},
        {"id": True, "text": "t"},
        {"id": 1.5, "text": "t"},
        {"id": "a", "text": 5},
        {"id": "a", "text": "t", "metadata": "x"},
        {"id": "a", "text": "t", "metadata": []},
        {"id": "a", "text": "t", "spans": {}},
        {"id": "a", "text": "t", "spans": "x"},
        {"id": "a", "text": "t", "spans": [5]},
        {"id": "a", "text": "t", "spans": [[0, 1]]},
        {"id": "a", "text": "t", "spans": [{"start_index": "0", "end_index": 1}]},
        {"id": "a", "text": "t", "spans": [{"start_index": 0.0, "end_index": 1}]},
        {"id": "a", "text": "t", "spans": [{"start_index": True, "end_index": 1}]},
        {"id": "a", "text": "t", "spans": [{"end_index": 1}]},
        {"id": "a", "text": "t", "spans": [{"start_index": 0, "end_index": 1, "labellers": "x"}]},
        {"id": "a", "text": "t", "spans": [{"start_index": 0, "end_index": 1, "timestamps": {}}]},
        {"id": "a", "text": "t", "spans": [{"start_index": 0, "end_index": 1, "labellers": None}]},
        {"id": "a", "text": "t", "spans": [span(0, 1, "0.5"), span(0, 1, 0.5)]},
        ["not", "an", "object"],
        "a string",
    ],
)
def test_the_sql_reader_and_the_python_check_agree(item, tmp_path: Path):
    # the fast reader keeps exactly the records the exact check passes, so a file's bad lines
    # are reported exactly as they are skipped
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(item) + "\n")
    [ok] = read_records([str(path)], "newline_delimited")["ok"].to_pylist()
    assert ok == (problem_with_record(item) is None)


def test_real_vibe_current_schema(real_fixtures: Path):
    path = real_fixtures / "vibe_current" / "Q218" / "6z4pufsm" / "predictions.jsonl"
    raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    loaded = load_predictions_file(path, concept_id="Q218")
    table = loaded.table
    assert loaded.issues == [] and table.num_rows == len(raw)
    published = [r.get("publication_ts") or r["metadata"]["publication_ts"] for r in raw]
    assert table["year"].to_pylist() == [int(p[:4]) for p in published]
    expected_scores = [
        max((s["prediction_probability"] for s in r["spans"]), default=None) for r in raw
    ]
    assert table["score"].to_pylist() == expected_scores
    assert any(score is not None for score in expected_scores)
    assert table["translated"].to_pylist() == [r["metadata"]["translated"] == "True" for r in raw]
    downloaded = list(passages_from_batch(table))
    for passage, original in zip(downloaded, raw, strict=True):
        assert passage["marked_up_text"] == original["marked_up_text"]
        assert passage["metadata"] == original["metadata"]
        assert all(passage["metadata"].get(key) for key in CARD_KEYS)
        probabilities = [s.get("prediction_probability") for s in passage["spans"]]
        assert probabilities == [s["prediction_probability"] for s in original["spans"]]
