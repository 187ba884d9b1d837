"""HTTP routes of CONTRACT §5, in process: every route and parameter.

The data is the repo's own: the bundled demo data (both layouts) and the demo's Q787 gold
passages written as a classifier's predictions (`rich`). A few tests run the same checks on
the real fixtures of ../shared as an extra layer (they skip where ../shared is absent).

The API is mounted at `/api` as in `app.py`. Expected rows come from the raw passages in
Python (region, corpus, year, ... read straight from the metadata) or, where the point is
"one code path", from `query_predictions` / `render_download` with the same `Filters`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pyarrow as pa
import pytest

from predictions_core.data.location import DEMO_DATA_DIR
from predictions_core.query.engine import iter_filtered_batches, query_predictions
from predictions_core.query.export import render_download
from predictions_core.query.filters import Filters
from predictions_core.sync.background import get_background_sync
from predictions_core.sync.state import SyncReport, utc_now
from tests.api_support import (
    RICH_CLASSIFIER,
    RICH_QID,
    corpus_of,
    current_table,
    document_of,
    ids_of,
    publication_year,
    read_jsonl,
    region_of,
    rich_url,
    translated_of,
)

CSV_FIXED_COLUMNS = ["id", "text", "labelled_text", "spans", "n_spans", "score"]
# a classifier of each layout in the demo data: per-classifier folders, and the older layout
DEMO_CLASSIFIERS = [("Q218", "grld4c4r"), ("Q223", "lfy5fpmh")]
REAL_CLASSIFIERS = [("Q218", "6z4pufsm"), ("Q223", "36bhx4mu")]
RICH_SOURCE = DEMO_DATA_DIR / RICH_QID / "concept.json"


def concept_ids_on_disk(data_dir: Path) -> set[str]:
    """Concept folders of the per-classifier layout plus those of the older layout."""
    folders = {p.name for p in data_dir.iterdir() if re.fullmatch(r"Q\d+", p.name)}
    return folders | {p.name for p in (data_dir / "predictions").iterdir()}


# --- health, concepts -------------------------------------------------------------------


def test_health_counts_the_concepts_of_both_layouts(demo_copy, serve):
    answer = serve(demo_copy).get("/api/health")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["concepts"] == len(concept_ids_on_disk(demo_copy)) == 4
    assert body["data_dir"] == str(demo_copy)
    assert body["sync_enabled"] is False and "last_sync" in body


def test_health_reports_the_last_background_sync(demo_copy, serve, monkeypatch):
    report = SyncReport(bucket="bucket-x", prefix="p/", data_dir=demo_copy)
    report.error, report.finished_at = "no permission", utc_now()
    monkeypatch.setattr(get_background_sync(), "last_report", report)
    body = serve(demo_copy).get("/api/health").json()
    assert body["last_sync"]["bucket"] == "bucket-x"
    assert body["last_sync"]["finished_at"] == report.finished_at.isoformat()
    assert body["sync_error"] == "no permission"


def assert_classifier_summary(entry: dict, folder: Path, passages: list[dict]) -> None:
    """One classifier of `/api/concepts` against its metadata file and its passages."""
    metadata = json.loads((folder / "classifier.json").read_text())
    assert entry["name"] == metadata["name"] and entry["date"] == metadata["date"]
    assert entry["n_passages"] == len(passages)
    assert entry["n_predictions"] == sum(1 for p in passages if p["spans"]) > 0


def test_concepts_list_every_classifier_with_its_positive_count(demo_copy, serve):
    answer = serve(demo_copy).get("/api/concepts")
    assert answer.status_code == 200
    concepts = {c["wikibase_id"]: c for c in answer.json()}
    assert set(concepts) == concept_ids_on_disk(demo_copy)
    folders = sorted(path.parent for path in demo_copy.glob("Q*/*/predictions.jsonl"))
    assert len(folders) == 12
    for folder in folders:
        concept = concepts[folder.parent.name]
        entries = {entry["id"]: entry for entry in concept["classifiers"]}
        assert_classifier_summary(
            entries[folder.name], folder, read_jsonl(folder / "predictions.jsonl")
        )
        concept_file = json.loads((folder.parent / "concept.json").read_text())
        assert concept["preferred_label"] == concept_file["preferred_label"]
    (older,) = concepts["Q223"]["classifiers"]  # the older layout: positives only
    positives = read_jsonl(demo_copy / "predictions" / "Q223" / f"{older['id']}.jsonl")
    assert older["n_passages"] == older["n_predictions"] == len(positives) > 0


def test_real_concepts_of_both_layouts(both_layouts, serve):
    answer = serve(both_layouts).get("/api/concepts")
    assert answer.status_code == 200
    concepts = {c["wikibase_id"]: c for c in answer.json()}
    assert set(concepts) == concept_ids_on_disk(both_layouts) == {"Q218", "Q223"}
    for qid, classifier_id in REAL_CLASSIFIERS:
        folder = both_layouts / qid / classifier_id
        concept_file = json.loads((folder / "concept.json").read_text())
        (entry,) = concepts[qid]["classifiers"]
        assert concepts[qid]["preferred_label"] == concept_file["preferred_label"]
        assert concepts[qid]["description"] == concept_file["description"]
        assert entry["id"] == classifier_id
        # the per-classifier layout (positives and negatives) wins over the older one
        assert_classifier_summary(entry, folder, read_jsonl(folder / "predictions.jsonl"))


def test_one_concept_carries_labels_and_gold_count(rich):
    client, passages = rich
    body = client.get(f"/api/concepts/{RICH_QID}").json()
    source = json.loads(RICH_SOURCE.read_text())
    assert body["wikibase_id"] == RICH_QID
    assert body["preferred_label"] == source["preferred_label"] == "forestry sector"
    assert body["alternative_labels"] == source["alternative_labels"]
    assert body["n_gold"] == len(source["labelled_passages"]) == len(passages) > 0
    assert [c["id"] for c in body["classifiers"]] == [RICH_CLASSIFIER]
    n_with_spans = sum(1 for p in passages if p["spans"])
    assert body["classifiers"][0]["n_predictions"] == n_with_spans < len(passages)


@pytest.mark.parametrize(
    ("url", "status", "named"),
    [
        ("/api/concepts/Q999", 404, "Q999"),
        ("/api/concepts/abc", 400, "concept"),
        ("/api/predictions/Q999/grld4c4r", 404, "Q999"),
        ("/api/predictions/Q218/unknown", 404, "unknown"),
        ("/api/predictions/Q218/bad!id", 400, "classifier"),
        ("/api/predictions/q218/grld4c4r", 400, "concept"),
        ("/api/predictions/Q223/grld4c4r", 404, "grld4c4r"),
    ],
)
def test_unknown_ids_are_404_and_malformed_ids_400(demo_copy, serve, url, status, named):
    answer = serve(demo_copy).get(url)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    assert named in answer.json()["error"]


# --- predictions: JSON pages ----------------------------------------------------------------


@pytest.mark.parametrize(("qid", "classifier_id"), DEMO_CLASSIFIERS)
def test_default_page_is_query_predictions_with_default_filters(
    demo_copy, serve, qid, classifier_id
):
    answer = serve(demo_copy).get(f"/api/predictions/{qid}/{classifier_id}")
    assert answer.status_code == 200
    body = answer.json()
    _, _, table = current_table(qid, classifier_id)
    expected = query_predictions(table, Filters())
    assert (body["wikibase_id"], body["classifier_id"]) == (qid, classifier_id)
    assert body["total_count"] == expected.total_count == table.num_rows
    assert body["filtered_count"] == expected.filtered_count
    assert (body["page"], body["page_size"]) == (1, 50)
    assert ids_of(answer) == expected.rows["id"].to_pylist()
    first = body["predictions"][0]
    assert set(first) >= {"id", "text", "spans", "metadata"}


def test_a_browse_url_query_string_gives_the_same_rows(rich):
    client, _ = rich
    query = (
        f"concept={RICH_QID}&classifier={RICH_CLASSIFIER}&search=forest&sort=length_desc"
        "&region=Europe+%26+Central+Asia&region=Sub-Saharan+Africa&page_size=4&page=2"
    )
    answer = client.get(rich_url(query))
    filters = Filters.from_query_params(parse_qs(query))
    _, _, table = current_table(RICH_QID, RICH_CLASSIFIER)
    expected = query_predictions(table, filters)
    assert answer.json()["filtered_count"] == expected.filtered_count > 4
    assert ids_of(answer) == expected.rows["id"].to_pylist() != []


FILTER_CASES = [
    ("search=forest", lambda p: "forest" in p["text"].lower()),
    ("search=%2FForest%5Cw%2B%2F", lambda p: re.search(r"Forest\w+", p["text"])),
    ("search=%2FFOREST%2Fi", lambda p: re.search("forest", p["text"], re.IGNORECASE)),
    ("region=Europe+%26+Central+Asia", lambda p: region_of(p) == "Europe & Central Asia"),
    (
        "region=South+Asia&region=North+America",
        lambda p: region_of(p) in {"South Asia", "North America"},
    ),
    ("corpus=CCLW", lambda p: corpus_of(p) == "CCLW"),
    ("translated=true", lambda p: translated_of(p) is True),
    ("translated=false", lambda p: translated_of(p) is False),
    ("year_min=2008", lambda p: (publication_year(p) or 0) >= 2008),
    ("year_max=2005", lambda p: publication_year(p) is not None and publication_year(p) <= 2005),
    ("year_min=2000&year_max=2012", lambda p: 2000 <= (publication_year(p) or 0) <= 2012),
    ("document_id=unfccc.PARTY", lambda p: "unfccc.party" in (document_of(p) or "").lower()),
    ("has_spans=false", lambda p: not p["spans"]),
    ("has_spans=true", lambda p: bool(p["spans"])),
    ("translated=false&corpus=UNFCCC", lambda p: not translated_of(p) and corpus_of(p) == "UNFCCC"),
]


def assert_filter_keeps_exactly(client, passages: list[dict], query: str, keeps) -> None:
    answer = client.get(rich_url(query + "&page_size=1000"))
    assert answer.status_code == 200, answer.text
    expected = [p["id"] for p in passages if keeps(p)]
    assert 0 < len(expected) < len(passages), query  # the case really narrows
    assert ids_of(answer) == expected, query
    assert answer.json()["filtered_count"] == len(expected)
    assert answer.json()["total_count"] == len(passages)


@pytest.mark.parametrize(("query", "keeps"), FILTER_CASES, ids=[q for q, _ in FILTER_CASES])
def test_each_filter_keeps_exactly_the_matching_passages(rich, query, keeps):
    assert_filter_keeps_exactly(*rich, query, keeps)


def test_each_filter_on_the_real_gold_passages(rich_real):
    # real metadata: epoch-millisecond dates, the 1900 placeholder, blank regions
    for query, keeps in FILTER_CASES:
        assert_filter_keeps_exactly(*rich_real, query, keeps)


def test_sort_orders(rich):
    client, passages = rich
    position = {p["id"]: i for i, p in enumerate(passages)}
    text_of = {p["id"]: p["text"] for p in passages}

    def order(query: str) -> list[str]:
        return ids_of(client.get(rich_url(f"page_size=1000&{query}")))

    assert order("sort=default") == order("") == [p["id"] for p in passages]
    by_length = sorted(position, key=lambda i: (len(text_of[i]), position[i]))
    assert order("sort=length_asc") == by_length
    longest = sorted(position, key=lambda i: (-len(text_of[i]), position[i]))
    assert order("sort=length_desc") == longest
    document = {p["id"]: document_of(p) for p in passages}
    by_document = sorted(
        position, key=lambda i: (document[i] is None, document[i] or "", position[i])
    )
    assert order("sort=document") == by_document
    shuffled = order("sort=random&seed=3")
    assert sorted(shuffled) == sorted(position) and shuffled != order("")
    assert shuffled == order("sort=random&seed=3") != order("sort=random&seed=4")


def test_pages_partition_the_filtered_rows(rich):
    client, passages = rich
    everything = ids_of(client.get(rich_url("search=forest&page_size=1000")))
    pages, page = [], 1
    while True:
        answer = client.get(rich_url(f"search=forest&page_size=7&page={page}")).json()
        assert (answer["page"], answer["page_size"]) == (page, 7)
        assert answer["filtered_count"] == len(everything)
        if not answer["predictions"]:
            break
        assert len(answer["predictions"]) == min(7, len(everything) - 7 * (page - 1))
        pages += [p["id"] for p in answer["predictions"]]
        page += 1
    assert pages == everything and page == -(-len(everything) // 7) + 1


def test_json_query_block_says_where_the_rows_came_from(rich):
    client, _ = rich
    before = datetime.now(UTC) - timedelta(seconds=2)
    body = client.get(rich_url("search=/forest/i&translated=false&page=1&concept=Q787")).json()
    query = body["query"]
    assert query["parameters"] == {"search": "/forest/i", "translated": "false"}
    assert "forest" in query["description"] and "translated: no" in query["description"]
    source = json.loads(RICH_SOURCE.read_text())
    assert query["concept"]["wikibase_id"] == RICH_QID
    assert query["concept"]["preferred_label"] == source["preferred_label"]
    assert query["concept"]["description"] == source["description"] != ""
    assert query["classifier"]["name"] == "Human gold labels"
    assert query["classifier"]["date"] == "2024-03-01"
    assert before <= datetime.fromisoformat(query["generated_at"]) <= datetime.now(UTC)


# --- predictions: streamed formats and downloads ----------------------------------------------


def test_jsonl_streams_every_filtered_row_ignoring_paging(rich):
    client, passages = rich
    answer = client.get(rich_url("format=jsonl&search=forest&page_size=2&page=3"))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-ndjson"
    assert "content-disposition" not in answer.headers
    lines = [json.loads(line) for line in answer.text.splitlines()]
    expected = [p for p in passages if "forest" in p["text"].lower()]
    assert [line["id"] for line in lines] == [p["id"] for p in expected]
    assert [line["metadata"] for line in lines] == [p["metadata"] for p in expected]
    for line, passage in zip(lines, expected, strict=True):
        assert [(s["start_index"], s["end_index"]) for s in line["spans"]] == [
            (s["start_index"], s["end_index"]) for s in passage["spans"]
        ]


def test_csv_has_the_contract_columns_and_one_row_per_passage(rich):
    client, passages = rich
    answer = client.get(rich_url("format=csv&region=Sub-Saharan+Africa"))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    header, *rows = list(csv.reader(io.StringIO(answer.text)))
    expected = [p for p in passages if region_of(p) == "Sub-Saharan Africa"]
    metadata_keys = sorted({key for p in expected for key in p["metadata"]})
    assert header == CSV_FIXED_COLUMNS + metadata_keys
    assert len(rows) == len(expected) > 0
    for row, passage in zip(rows, expected, strict=True):
        cells = dict(zip(header, row, strict=True))
        spans = passage["spans"]
        assert (cells["id"], cells["text"]) == (passage["id"], passage["text"])
        labelled = [passage["text"][s["start_index"] : s["end_index"]] for s in spans]
        assert cells["labelled_text"] == " | ".join(labelled)
        assert json.loads(cells["spans"]) == [[s["start_index"], s["end_index"]] for s in spans]
        assert int(cells["n_spans"]) == len(spans)
        assert all(cells[key] == str(passage["metadata"][key]) for key in metadata_keys)


@pytest.mark.parametrize("sort", ["default", "length_asc", "length_desc", "random", "document"])
def test_streamed_rows_of_a_many_chunk_table_follow_the_page_order(rich, sort):
    _, passages = rich
    # a table loaded from a large file arrives in several record batches; the streaming path
    # takes rows batch by batch, so it must map positions across batch boundaries
    _, _, table = current_table(RICH_QID, RICH_CLASSIFIER)
    chunked = pa.concat_tables([table.slice(0, 7), table.slice(7, 50), table.slice(57)])
    assert chunked.column("id").num_chunks == 3
    filters = Filters(sort=sort, seed=11, has_spans=True, page_size=1000)
    streamed = [
        passage_id
        for batch in iter_filtered_batches(chunked, filters, batch_rows=16)
        for passage_id in batch.column("id").to_pylist()
    ]
    assert streamed == query_predictions(table, filters).rows["id"].to_pylist()
    assert len(streamed) == sum(1 for p in passages if p["spans"]) > 0


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_download_is_an_attachment_with_every_filtered_row(rich, fmt):
    client, passages = rich
    answer = client.get(rich_url(f"format={fmt}&download=true&has_spans=true&page_size=3"))
    assert answer.status_code == 200
    disposition = answer.headers["content-disposition"]
    assert disposition == f'attachment; filename="{RICH_QID}-{RICH_CLASSIFIER}-predictions.{fmt}"'
    n_positive = sum(1 for p in passages if p["spans"])
    if fmt == "json":
        body = answer.json()
        assert body["filtered_count"] == len(body["predictions"]) == n_positive
    elif fmt == "jsonl":
        assert len(answer.text.splitlines()) == n_positive
    else:
        assert len(list(csv.reader(io.StringIO(answer.text)))) == n_positive + 1


DOWNLOAD_QUERIES = [
    "",
    "search=%2Fforest%2Fi&sort=length_asc",
    "region=Europe+%26+Central+Asia&sort=random&seed=9",
]


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
@pytest.mark.parametrize("query", DOWNLOAD_QUERIES)
def test_api_bytes_equal_the_dashboard_download(rich, fmt, query):
    assert_api_bytes_equal_the_dashboard_download(rich[0], fmt, query)


def test_api_bytes_equal_the_dashboard_download_on_real_data(rich_real):
    for fmt in ("json", "jsonl", "csv"):
        for query in DOWNLOAD_QUERIES:
            assert_api_bytes_equal_the_dashboard_download(rich_real[0], fmt, query)


def assert_api_bytes_equal_the_dashboard_download(client, fmt: str, query: str) -> None:
    answer = client.get(rich_url(f"{query}&format={fmt}&download=true"))
    filters = Filters.from_query_params(parse_qs(query))
    concept, classifier, table = current_table(RICH_QID, RICH_CLASSIFIER)
    dashboard = b"".join(render_download(fmt, table, concept, classifier, filters))
    if fmt != "json":
        assert answer.content == dashboard, (fmt, query)
        return
    from_api, from_dashboard = answer.json(), json.loads(dashboard)
    for document in (from_api, from_dashboard):
        document["query"].pop("generated_at")
    assert from_api == from_dashboard, query
