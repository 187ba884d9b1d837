"""Passage scores in the query, the downloads and the API (CONTRACT §2, §5).

A passage's score is the highest `prediction_probability` among its spans. The data is written
by the tests (`score_support`): six passages whose scores are known by construction (two tied,
two unscored), so every expected order and count below can be read off `PASSAGES`.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pytest

from predictions_core.data.loading import load_predictions_file
from predictions_core.errors import InvalidParameterError
from predictions_core.query.engine import facet_values, query_predictions
from predictions_core.query.export import stream_csv, stream_jsonl
from predictions_core.query.filters import Filters
from tests.score_support import CLASSIFIER, PASSAGES, QID, SCORES, write_passages


@pytest.fixture
def scored(tmp_path: Path) -> pa.Table:
    """`PASSAGES` loaded as a predictions table (with its `score` column)."""
    path = write_passages(tmp_path / "predictions.jsonl")
    table = load_predictions_file(path).table
    assert table["score"].to_pylist() == [SCORES[p["id"]] for p in PASSAGES]
    return table


def ids(table: pa.Table, **filters) -> list[str]:
    rows = query_predictions(table, Filters(page_size=1000, **filters)).rows
    return rows["id"].to_pylist()


# --- Filters -----------------------------------------------------------------------------


def test_score_bounds_are_inclusive_and_leave_out_unscored_passages(scored):
    assert ids(scored, min_score=0.5) == ["p1", "p4", "p5"]
    assert ids(scored, max_score=0.5) == ["p4", "p6"]
    assert ids(scored, min_score=0.5, max_score=0.5) == ["p4"]
    assert ids(scored, min_score=0) == ["p1", "p4", "p5", "p6"]  # every scored passage
    assert ids(scored, max_score=1) == ["p1", "p4", "p5", "p6"]
    assert ids(scored) == [p["id"] for p in PASSAGES]  # no bound: unscored ones too


def test_score_sorts_put_unscored_passages_last_and_keep_file_order_in_ties(scored):
    assert ids(scored, sort="score_desc") == ["p1", "p5", "p4", "p6", "p2", "p3"]
    assert ids(scored, sort="score_asc") == ["p6", "p4", "p1", "p5", "p2", "p3"]
    assert ids(scored, sort="score_desc", min_score=0.2) == ["p1", "p5", "p4"]
    # paging follows the same order
    page = query_predictions(scored, Filters(sort="score_desc", page=2, page_size=4))
    assert page.rows["id"].to_pylist() == ["p2", "p3"]


def test_a_table_without_scores_is_served_as_all_unscored(scored):
    old = scored.drop_columns(["score"])  # a cache written before scores existed
    assert ids(old, min_score=0) == [] and ids(old, max_score=1) == []
    assert ids(old, sort="score_desc") == [p["id"] for p in PASSAGES]
    assert not facet_values(old).has_scores
    [header, *rows] = list(csv.reader(io.StringIO(b"".join(stream_csv(old, Filters())).decode())))
    assert header[5] == "score" and {row[5] for row in rows} == {""}


def test_facets_say_how_many_passages_have_a_score(scored):
    facets = facet_values(scored)
    assert facets.has_scores and facets.n_scored == 4
    assert (facets.score_min, facets.score_max) == (0.1, 0.9)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"min_score": "high"}, "min_score"),
        ({"min_score": "-0.1"}, "min_score"),
        ({"max_score": "1.5"}, "max_score"),
        ({"max_score": "nan"}, "max_score"),
        ({"min_score": "inf"}, "min_score"),
        ({"min_score": "0.8", "max_score": "0.2"}, "min_score"),
        ({"sort": "score"}, "sort"),
    ],
)
def test_bad_score_parameters_name_themselves(params, parameter):
    with pytest.raises(InvalidParameterError) as raised:
        Filters.from_query_params(params)
    assert raised.value.parameter == parameter
    assert raised.value.message.startswith(f"{parameter}:")


def test_score_parameters_round_trip_and_read_as_words():
    filters = Filters(min_score=0.25, max_score=0.75, sort="score_desc")
    params = filters.to_query_params()
    assert params == {"min_score": "0.25", "max_score": "0.75", "sort": "score_desc"}
    assert Filters.from_query_params(params) == filters
    assert filters.describe() == "score 0.25–0.75 · highest score first"
    assert "score at least 0.5" in Filters(min_score=0.5).describe()
    assert "score at most 0.5" in Filters(max_score=0.5).describe()
    assert Filters(sort="score_asc").describe().endswith("lowest score first")


# --- downloads ---------------------------------------------------------------------------


def test_csv_score_column_follows_the_fixed_columns_and_is_empty_without_a_score(scored):
    body = b"".join(stream_csv(scored, Filters(sort="score_desc"))).decode()
    header, *rows = list(csv.reader(io.StringIO(body)))
    fixed = ["id", "text", "labelled_text", "spans", "n_spans", "score"]
    assert header == [*fixed, "document_id", "document_name", "document_slug", "family_slug"]
    cells = {row[0]: row[5] for row in rows}
    assert [row[0] for row in rows] == ["p1", "p5", "p4", "p6", "p2", "p3"]
    expected = {key: "" if value is None else value for key, value in SCORES.items()}
    assert {key: (float(value) if value else "") for key, value in cells.items()} == expected


def test_jsonl_keeps_each_span_probability(scored):
    lines = [json.loads(line) for line in b"".join(stream_jsonl(scored, Filters())).splitlines()]
    for line, passage in zip(lines, PASSAGES, strict=True):
        got = [span.get("prediction_probability") for span in line["spans"]]
        assert got == [span.get("prediction_probability") for span in passage["spans"]]


# --- the API -----------------------------------------------------------------------------


@pytest.fixture
def scored_api(tmp_path: Path, serve):
    """A client of the API over a data dir holding `PASSAGES` as one classifier's predictions."""
    data = tmp_path / "data"
    write_passages(data / QID / CLASSIFIER / "predictions.jsonl")
    return serve(data)


def api_ids(client, query: str) -> list[str]:
    answer = client.get(f"/api/predictions/{QID}/{CLASSIFIER}?{query}")
    assert answer.status_code == 200, answer.text
    return [p["id"] for p in answer.json()["predictions"]]


def test_api_filters_and_sorts_by_score(scored_api):
    assert api_ids(scored_api, "min_score=0.5&sort=score_desc") == ["p1", "p5", "p4"]
    assert api_ids(scored_api, "max_score=0.5&sort=score_asc") == ["p6", "p4"]
    assert api_ids(scored_api, "sort=score_desc") == ["p1", "p5", "p4", "p6", "p2", "p3"]
    body = scored_api.get(f"/api/predictions/{QID}/{CLASSIFIER}?min_score=0.5").json()
    assert body["filtered_count"] == 3 and body["total_count"] == 6
    assert body["query"]["parameters"] == {"min_score": "0.5"}
    assert "score at least 0.5" in body["query"]["description"]
    p1 = next(p for p in body["predictions"] if p["id"] == "p1")
    assert [s["prediction_probability"] for s in p1["spans"]] == [0.9, 0.4]


def test_api_csv_has_the_score_column(scored_api):
    answer = scored_api.get(f"/api/predictions/{QID}/{CLASSIFIER}?format=csv&sort=score_asc")
    header, *rows = list(csv.reader(io.StringIO(answer.text)))
    assert header[:6] == ["id", "text", "labelled_text", "spans", "n_spans", "score"]
    assert [(row[0], row[5]) for row in rows] == [
        ("p6", "0.1"),
        ("p4", "0.5"),
        ("p1", "0.9"),
        ("p5", "0.9"),
        ("p2", ""),
        ("p3", ""),
    ]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("min_score=0.9&max_score=0.1", "min_score"),
        ("min_score=2", "min_score"),
        ("max_score=abc", "max_score"),
        ("sort=best", "sort"),
    ],
)
def test_api_bad_score_parameters_are_a_400_naming_them(scored_api, query, parameter):
    answer = scored_api.get(f"/api/predictions/{QID}/{CLASSIFIER}?{query}")
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(f"{parameter}:")


def test_openapi_documents_the_score_parameters(scored_api):
    spec = scored_api.get("/api/openapi.json").json()
    parameters = {
        p["name"]: p
        for p in spec["paths"]["/predictions/{qid}/{classifier_id}"]["get"]["parameters"]
    }
    assert parameters["min_score"]["schema"]["type"] == "number"
    assert parameters["max_score"]["schema"]["maximum"] == 1
    assert {"score_desc", "score_asc"} <= set(parameters["sort"]["schema"]["enum"])
    assert "without a score" in parameters["min_score"]["description"]


# --- the real vibe-checker example (../shared; skips where it is absent) -----------------


def test_real_vibe_checker_scores_filter_sort_and_download(real_fixtures: Path, tmp_path, serve):
    source = real_fixtures / "vibe_current"
    lines = [
        json.loads(line)
        for line in (source / "Q218/6z4pufsm/predictions.jsonl").read_text().splitlines()
    ]

    def score(line: dict) -> float | None:  # the contract's rule, read from the raw line
        found = [
            s["prediction_probability"] for s in line["spans"] if "prediction_probability" in s
        ]
        return max(found) if found else None

    scores = {line["id"]: score(line) for line in lines}
    assert sum(value is not None for value in scores.values()) > 10
    client = serve(source)
    route = "/api/predictions/Q218/6z4pufsm"
    body = client.get(f"{route}?min_score=0.5&sort=score_desc&page_size=1000").json()
    expected = sorted(
        (line["id"] for line in lines if (scores[line["id"]] or -1) >= 0.5),
        key=lambda passage_id: -scores[passage_id],
    )
    got = [p["id"] for p in body["predictions"]]
    assert body["filtered_count"] == len(expected) > 0
    assert [scores[i] for i in got] == [scores[i] for i in expected]  # same order of scores
    assert set(got) == set(expected)
    header, *rows = list(csv.reader(io.StringIO(client.get(f"{route}?format=csv").text)))
    assert header[5] == "score"
    for row in rows:
        assert (float(row[5]) if row[5] else None) == pytest.approx(scores[row[0]])
