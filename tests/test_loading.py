"""Loading predictions files: the demo data (and real fixtures), the cache, every bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.compute as pc
import pytest

from predictions_core.data.loading import load_predictions_file
from predictions_core.data.location import DEMO_DATA_DIR
from predictions_core.data.metadata import metadata_value
from predictions_core.data.models import LabelledPassage
from tests.records import passage_record


def write_lines(path: Path, lines: list[str | bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as sink:
        for line in lines:
            sink.write(line if isinstance(line, bytes) else line.encode("utf-8"))
            sink.write(b"\n")
    return path


def passage(pid: str, text: str, spans=(), **metadata) -> str:
    return json.dumps(passage_record(pid, text, spans, **metadata), ensure_ascii=False)


def assert_loads_like_pydantic(path: Path, cache_dir: Path) -> None:
    """The loaded table holds what the pydantic model reads from each line."""
    expected = [LabelledPassage.model_validate_json(line) for line in path.read_text().splitlines()]
    loaded = load_predictions_file(path, cache_dir)
    assert loaded.issues == []
    assert loaded.table["id"].to_pylist() == [p.id for p in expected]
    assert loaded.table["n_spans"].to_pylist() == [len(p.spans) for p in expected]
    spans = loaded.table["spans"].to_pylist()
    for row, model in zip(spans, expected, strict=True):
        assert [(s["start_index"], s["end_index"]) for s in row] == [
            (s.start_index, s.end_index) for s in model.spans
        ]
    documents = loaded.table["document_id"].to_pylist()
    assert documents == [p.metadata.get("document_id") for p in expected]


@pytest.mark.parametrize(
    "relative", ["Q787/*/predictions.jsonl", "Q218/*/predictions.jsonl", "predictions/Q223/*.jsonl"]
)
def test_demo_files_load_like_pydantic_reads_them(relative: str, tmp_path):
    if not DEMO_DATA_DIR.is_dir():
        pytest.skip("data/demo has not been generated yet (`uv run predictions demo`)")
    assert_loads_like_pydantic(sorted(DEMO_DATA_DIR.glob(relative))[0], tmp_path / "cache")


@pytest.mark.parametrize(
    "relative",
    ["vibe_layout/Q218/6z4pufsm/predictions.jsonl", "seed_layout/predictions/Q223/36bhx4mu.jsonl"],
)
def test_real_files_load_like_pydantic_reads_them(real_fixtures: Path, relative: str, tmp_path):
    assert_loads_like_pydantic(real_fixtures / relative, tmp_path / "cache")


def test_span_offsets_are_code_points_after_astral_characters(tmp_path):
    text = "🌍🌱 The méthane budget: methane"
    start = text.index("methane")
    path = write_lines(tmp_path / "p.jsonl", [passage("a", text, [(start, start + 7)])])
    loaded = load_predictions_file(path)
    span = loaded.table["spans"].to_pylist()[0][0]
    assert text[span["start_index"] : span["end_index"]] == "methane"
    assert loaded.table["text_length"].to_pylist() == [len(text)]
    assert loaded.issues == []


def test_bad_lines_are_skipped_and_reported_with_line_numbers(tmp_path):
    lines: list[str | bytes] = [
        passage("ok1", "carbon tax"),
        "{not json",
        '["a list", "not an object"]',
        json.dumps({"text": "no id here"}),
        json.dumps({"id": "no-text"}),
        b'{"id": "latin1", "text": "caf\xe9", "spans": []}',
        "",
        passage("ok2", "methane", [(0, 7)]),
        json.dumps(
            {"id": "bad-span", "text": "x", "spans": [{"start_index": "0", "end_index": 1}]}
        ),
    ]
    path = write_lines(tmp_path / "p.jsonl", lines)
    loaded = load_predictions_file(path)
    assert loaded.table["id"].to_pylist() == ["ok1", "ok2"]
    assert loaded.table["source_line"].to_pylist() == [1, 8]
    reported = {issue.line: issue.message for issue in loaded.issues}
    assert sorted(reported) == [2, 3, 4, 5, 6, 9]
    assert "malformed JSON" in reported[2]
    assert "not UTF-8" in reported[6]
    assert "no passage id" in reported[4] and "no passage text" in reported[5]
    assert all(issue.path == str(path) for issue in loaded.issues)


def test_spans_outside_the_text_are_dropped_but_the_passage_kept(tmp_path):
    lines = [
        passage("a", "short text", [(0, 5), (3, 99), (-1, 2), (6, 6)]),
        "",
        passage("b", "forest", [(0, 6)]),
        passage("c", "overlapping spans here", [(0, 11), (5, 17), (0, 11)]),
    ]
    path = write_lines(tmp_path / "p.jsonl", lines)
    loaded = load_predictions_file(path)
    assert loaded.table["id"].to_pylist() == ["a", "b", "c"]
    # overlapping and duplicate spans are data, kept as they are; highlighting merges them
    assert loaded.table["n_spans"].to_pylist() == [1, 1, 3]
    [issue] = loaded.issues
    assert (issue.line, issue.message) == (1, "3 span(s) outside the text skipped")
    assert loaded.table["source_line"].to_pylist() == [1, 3, 4]


def test_metadata_variants_become_filter_columns(tmp_path):
    lines = [
        passage("bool", "t", translated=True, world_bank_region="South Asia"),
        passage("str", "t", translated="False", **{"document_metadata.corpus_type_name": "UNFCCC"}),
        passage("ms", "t", **{"document_metadata.publication_ts": "1438214400000.0"}),
        passage("iso", "t", **{"document_metadata.publication_ts": "2019-06-25T00:00:00Z"}),
        passage("unknown-date", "t", publication_ts="-2208988800000.0"),
        json.dumps({"id": "none", "text": "no metadata at all"}),
        json.dumps(
            {
                "id": "nested",
                "text": "t",
                "metadata": {"document_metadata": {"corpus_type_name": "CCLW"}},
            }
        ),
        passage("blank-region", "t", world_bank_region="", translated="maybe"),
    ]
    table = load_predictions_file(write_lines(tmp_path / "p.jsonl", lines)).table
    assert table["translated"].to_pylist() == [True, False, None, None, None, None, None, None]
    assert table["region"].to_pylist()[0] == "South Asia"
    assert table["region"].to_pylist()[7] is None
    assert table["corpus"].to_pylist()[1] == "UNFCCC"
    assert table["corpus"].to_pylist()[6] == "CCLW"
    assert table["year"].to_pylist()[2:5] == [2015, 2019, None]
    assert json.loads(table["metadata"].to_pylist()[5]) == {}


def test_translated_reads_the_one_true_false_word_list(tmp_path):
    words = ["on", "OFF", " yes ", "no", "1", "0", "True", "false", "maybe", ""]
    lines = [passage(f"p{i}", "t", translated=word) for i, word in enumerate(words)]
    table = load_predictions_file(write_lines(tmp_path / "p.jsonl", lines)).table
    expected = [True, False, True, False, True, False, True, False, None, None]
    assert table["translated"].to_pylist() == expected


def test_filter_columns_read_the_shared_metadata_paths(tmp_path):
    # Browse's filter columns (SQL at load time) and Evaluate's slices (`metadata_value`)
    # read the same paths, so a region filter and a region slice cannot disagree
    metadatas = [
        {"world_bank_region": "South Asia", "document_metadata.corpus_type_name": "CCLW"},
        {"document_metadata": {"world_bank_region": "Europe", "corpus_type_name": "UNFCCC"}},
        {"world_bank_region": " ", "document_metadata.world_bank_region": "Africa"},
        {"corpus_type_name": "Litigation", "document_id": "D1"},
        {},
    ]
    lines = [passage(f"p{i}", "t", **meta) for i, meta in enumerate(metadatas)]
    table = load_predictions_file(write_lines(tmp_path / "p.jsonl", lines)).table
    for field in ("region", "corpus", "document_id"):
        assert table[field].to_pylist() == [metadata_value(m, field) for m in metadatas], field
    assert table["region"].to_pylist()[:3] == ["South Asia", "Europe", "Africa"]


def test_a_one_megabyte_passage_loads(tmp_path):
    text = ("Forests store carbon. " * 50_000)[:1_000_000] + " methane"
    path = write_lines(tmp_path / "p.jsonl", [passage("big", text, [(len(text) - 7, len(text))])])
    loaded = load_predictions_file(path)
    assert loaded.issues == []
    assert loaded.table["text_length"].to_pylist() == [len(text)]


def test_empty_and_missing_files_give_empty_tables_not_errors(tmp_path):
    empty = write_lines(tmp_path / "empty.jsonl", [])
    loaded = load_predictions_file(empty)
    assert loaded.table.num_rows == 0 and loaded.issues == []
    missing = load_predictions_file(tmp_path / "nope.jsonl")
    assert missing.table.num_rows == 0
    assert "unreadable" in missing.issues[0].message
    assert missing.table.schema == loaded.table.schema


def test_cache_is_used_then_rebuilt_when_the_file_changes(tmp_path):
    cache = tmp_path / "cache"
    path = write_lines(tmp_path / "p.jsonl", [passage("a", "one"), "oops"])
    first = load_predictions_file(path, cache)
    second = load_predictions_file(path, cache)
    assert (first.from_cache, second.from_cache) == (False, True)
    assert second.issues == first.issues  # a cached load still reports the skipped line
    assert second.table.equals(first.table)

    write_lines(path, [passage("a", "one"), passage("b", "two")])
    os.utime(path, ns=(1, 1))  # a distinct mtime even on coarse-clock file systems
    third = load_predictions_file(path, cache)
    assert (third.from_cache, third.table["id"].to_pylist(), third.issues) == (
        False,
        ["a", "b"],
        [],
    )
    assert len(list(cache.glob("*.arrow"))) == 1  # the stale cache was removed


def test_a_damaged_cache_is_rebuilt(tmp_path):
    cache = tmp_path / "cache"
    path = write_lines(tmp_path / "p.jsonl", [passage("a", "one")])
    load_predictions_file(path, cache)
    [cache_file] = cache.glob("*.arrow")
    cache_file.write_bytes(b"garbage")
    again = load_predictions_file(path, cache)
    assert again.from_cache is False and again.table["id"].to_pylist() == ["a"]


def test_demo_passages_join_across_classifiers_by_text():
    if not DEMO_DATA_DIR.is_dir():
        pytest.skip("data/demo has not been generated yet (`uv run predictions demo`)")
    first, second = [
        load_predictions_file(path).table for path in sorted(DEMO_DATA_DIR.glob("Q218/*/*.jsonl"))
    ][:2]
    assert first.num_rows and first["id"].equals(second["id"])
    # the same passages (one text each) get the same keys, and different texts different keys
    assert first["passage_key"].equals(second["passage_key"])
    assert len(set(first["passage_key"].to_pylist())) == len(set(first["text"].to_pylist()))


def test_passages_join_across_classifiers_by_text(real_fixtures: Path, tmp_path):
    older = load_predictions_file(real_fixtures / "seed_layout/predictions/Q218/6z4pufsm.jsonl")
    newer = load_predictions_file(real_fixtures / "vibe_layout/Q218/6z4pufsm/predictions.jsonl")
    positives = pc.filter(newer.table["passage_key"], pc.greater(newer.table["n_spans"], 0))
    assert set(older.table["passage_key"].to_pylist()) == set(positives.to_pylist())


def test_the_cache_key_names_the_duckdb_version(tmp_path, monkeypatch):
    import duckdb

    from predictions_core.data import loading

    path = write_lines(tmp_path / "p.jsonl", [passage("a", "one")])
    load_predictions_file(path, tmp_path / "cache")
    [cache_file] = (tmp_path / "cache").glob("*.arrow")
    assert duckdb.__version__.replace(".", "") in cache_file.name
    # another version's cache is not read: the file is parsed again and the old cache replaced
    monkeypatch.setattr(loading, "CACHE_FORMAT", "4d999")
    again = load_predictions_file(path, tmp_path / "cache")
    assert again.from_cache is False
    assert [p.name for p in (tmp_path / "cache").glob("*.arrow")] == [
        cache_file.name.replace(cache_file.name.rsplit("-v", 1)[1], "4d999.arrow")
    ]


# The fast typed read of a JSONL file (`reader.read_jsonl_typed`) must give exactly the rows of
# the record-by-record read, or step aside (None) so that read is used.
_CLEAN = [
    passage("a", "carbon tax", [(0, 6)], document_id="D1", translated="True"),
    json.dumps({"id": 7, "text": "astral 𝔘 and \\n escapes \u00e9", "spans": None}),
    json.dumps({"id": "b", "text": "no metadata", "spans": [], "metadata": None}),
    json.dumps(
        {
            "id": "c",
            "text": "scored",
            "spans": [
                {"start_index": 0, "end_index": 3, "concept_id": "Q1", "labellers": None},
                {"start_index": 1, "end_index": 2, "prediction_probability": 0.25},
            ],
            "metadata": {"similarity": "0.5", "nested": {"k": [1, 2]}},
        }
    ),
]


@pytest.mark.parametrize(
    "extra_lines",
    [
        [],
        [""],  # a blank line
        [json.dumps({"id": True, "text": "t"})],
        [json.dumps({"id": "x", "text": 5})],
        [json.dumps({"id": "x", "text": "t", "metadata": "m"})],
        [json.dumps({"id": "x", "text": "t", "spans": {}})],
        [json.dumps({"id": "x", "text": "t", "spans": [5]})],
        [json.dumps({"id": "x", "text": "t", "spans": [{"start_index": "0", "end_index": 1}]})],
        [json.dumps({"id": "x", "text": "t", "spans": [{"start_index": 0.0, "end_index": 1}]})],
        [json.dumps({"id": "x", "text": "t", "spans": [{"end_index": 1}]})],
        [
            json.dumps(
                {
                    "id": "x",
                    "text": "t",
                    "spans": [{"start_index": 0, "end_index": 1, "labellers": "k"}],
                }
            )
        ],
        ['["not", "an", "object"]'],
        ["{not json"],
        [json.dumps({"id": "x", "text": "t", "marked_up_text": "<b>t</b>"})],
    ],
)
def test_the_typed_read_gives_the_rows_of_the_record_read_or_steps_aside(extra_lines, tmp_path):
    from predictions_core.data.reader import read_jsonl_typed, read_records

    path = str(write_lines(tmp_path / "p.jsonl", [*_CLEAN, *extra_lines]))
    typed = read_jsonl_typed(path)
    if typed is not None:
        assert typed.equals(read_records([path], "newline_delimited"))
    if extra_lines in ([], [""]):
        assert typed is not None  # a clean file takes the fast read: the speed-up stays
    if any("marked_up_text" in line for line in extra_lines):
        assert typed is None  # its `extra` is read record by record


def test_a_top_level_key_on_any_record_is_kept_even_a_single_one(tmp_path):
    from predictions_core.data import reader

    lines = [passage(f"p{n}", f"passage number {n} " * 4) for n in range(2_000)]
    path = write_lines(tmp_path / "plain.jsonl", lines)
    assert reader.read_jsonl_typed(str(path)) is not None
    # a key on the first lines, on the second half (a newer writer appended), on one line
    for name, keyed_lines in (
        ("head", range(40)),
        ("tail", range(1_000, 2_000)),
        ("last", [1_999]),
        ("one in the middle", [1_234]),
    ):
        keyed = list(lines)
        for n in keyed_lines:
            keyed[n] = json.dumps({**json.loads(lines[n]), "marked_up_text": "<i>x</i>"})
        path = write_lines(tmp_path / f"keyed-{name}.jsonl", keyed)
        assert reader.read_jsonl_typed(str(path)) is None, name
        extra = load_predictions_file(path).table["extra"].to_pylist()
        assert [n for n, value in enumerate(extra) if value] == list(keyed_lines)
        assert json.loads(extra[keyed_lines[0]]) == {"marked_up_text": "<i>x</i>"}
