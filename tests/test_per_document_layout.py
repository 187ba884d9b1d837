"""The per-document layout (CONTRACT §2, third layout): a classifier folder of document files.

Most tests write their own document files (so they run without ../shared); the real
inference-pipeline examples of ../shared are an extra layer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.compute as pc

from predictions_core.data import documents
from predictions_core.data.catalogue import scan_catalogue
from predictions_core.data.documents import list_document_files, listing_key
from predictions_core.data.loading import load_predictions_file
from predictions_core.data.store import PredictionStore
from predictions_core.query.export import passages_from_batch
from tests.records import passage_record

INFERENCE_STEMS = [
    "AF.document.i00000021.n0000_translated_en",
    "CCLW.executive.10061.4515",
    "CPR.document.i00000549.n0000",
    "UNFCCC.non-party.467.0",
    "UNFCCC.party.492.0",
]


record = passage_record


def write_jsonl(path: Path, records: list) -> Path:
    """Today's pipeline: JSONL in a `.json` file (records may be raw lines as text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def write_array_of_strings(path: Path, records: list) -> Path:
    """Older pipeline files: a JSON array of JSON strings (records may be raw strings)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    items = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text(json.dumps(items), encoding="utf-8")
    return path


def bump_mtime(path: Path, seconds: int) -> None:
    """A distinct mtime even on coarse-clock file systems."""
    os.utime(path, ns=(seconds * 10**9, seconds * 10**9))


def test_three_file_forms_load_as_one_classifier(tmp_path: Path):
    folder = tmp_path / "Q1" / "clf"
    write_jsonl(folder / "DOC.A.json", [record("0", "forest carbon", [(0, 6)]), record(1, "x")])
    write_array_of_strings(folder / "DOC.B_translated_en.json", [record("0", "peat")])
    folder.joinpath("DOC.C.json").write_text(json.dumps([record("p0", "methane")]))
    (folder / "classifier.json").write_text(json.dumps({"id": "clf", "name": "Named"}))
    (folder / "concept.json").write_text(json.dumps({"wikibase_id": "Q1"}))

    loaded = load_predictions_file(folder, concept_id="Q1")
    table = loaded.table
    assert loaded.issues == []
    # files in name order, passages in file order; ids made unique as {document_stem}.{id}
    assert table["id"].to_pylist() == [
        "DOC.A.0",
        "DOC.A.1",
        "DOC.B_translated_en.0",
        "DOC.C.p0",
    ]
    assert table["document_id"].to_pylist() == ["DOC.A", "DOC.A", "DOC.B", "DOC.C"]
    assert table["translated"].to_pylist() == [False, False, True, False]
    assert table["n_spans"].to_pylist() == [1, 0, 0, 0]
    assert table["source_line"].to_pylist() == [1, 2, 3, 4]
    # the defaults are in the metadata too, so downloads say which document a passage is from
    first = next(passages_from_batch(table.slice(0, 1)))
    assert first["metadata"] == {"document_id": "DOC.A", "translated": "False"}
    assert first["id"] == "DOC.A.0" and first["spans"][0]["labelled_text"] == "forest"


def test_the_passage_metadata_wins_over_the_file_name(tmp_path: Path):
    folder = tmp_path / "Q1" / "clf"
    write_jsonl(
        folder / "DOC.A_translated_en.json",
        [
            record("0", "t", translated="False"),
            record("1", "t", document_id="OTHER.doc"),
            record("2", "t"),
        ],
    )
    write_jsonl(folder / "DOC.B.json", [record("0", "t", translated=True)])
    table = load_predictions_file(folder).table
    assert table["translated"].to_pylist() == [False, True, True, True]
    assert table["document_id"].to_pylist() == ["DOC.A", "OTHER.doc", "DOC.A", "DOC.B"]


def test_bad_document_files_are_skipped_and_reported_by_name(tmp_path: Path):
    folder = tmp_path / "Q1" / "clf"
    write_jsonl(folder / "good.json", [record("0", "kept one")])
    (folder / "truncated.json").write_text(
        '[\n"{\\"id\\": \\"0\\", \\"text\\": \\"t\\"}",\n {"id": '
    )
    (folder / "number.json").write_text("5\n")
    (folder / "empty.json").write_text("")
    write_array_of_strings(
        folder / "mixed.json", [record("0", "kept two"), "{not json", "[1, 2]", record("3", "x")]
    )
    write_jsonl(folder / "lines.json", [record("0", "kept three"), "{oops", record("2", "y")])

    loaded = load_predictions_file(folder, tmp_path / "cache")
    assert loaded.table["id"].to_pylist() == [
        "good.0",
        "lines.0",
        "lines.2",
        "mixed.0",
        "mixed.3",
    ]
    names = {Path(issue.path).name for issue in loaded.issues}
    assert names == {"empty.json", "truncated.json", "number.json", "mixed.json", "lines.json"}
    assert len(loaded.issues) == 6
    by_file = {(Path(i.path).name, i.line): i.message for i in loaded.issues}
    assert by_file[("truncated.json", 3)].startswith("malformed JSON")
    assert by_file[("lines.json", 2)].startswith("malformed JSON")
    assert by_file[("number.json", 1)] == "not a JSON object"
    mixed = sorted(i.message for i in loaded.issues if i.path.endswith("mixed.json"))
    assert mixed[0].startswith("item 2: malformed JSON string")
    assert mixed[1] == "item 3: not a JSON object"
    # a cached load reports the same skipped files
    again = load_predictions_file(folder, tmp_path / "cache")
    assert again.from_cache and again.issues == loaded.issues


def test_a_span_outside_its_text_is_reported_with_file_and_passage(tmp_path: Path):
    folder = tmp_path / "Q1" / "clf"
    write_jsonl(folder / "DOC.json", [record("7", "short", [(0, 5), (2, 99)])])
    loaded = load_predictions_file(folder)
    assert loaded.table["n_spans"].to_pylist() == [1]
    [issue] = loaded.issues
    assert issue.path.endswith("DOC.json")
    assert issue.message == "passage DOC.7: 1 span(s) outside the text skipped"


def test_cache_is_rebuilt_when_a_file_changes_is_added_or_removed(tmp_path: Path, monkeypatch):
    folder = tmp_path / "Q1" / "clf"
    cache = tmp_path / "cache"
    write_jsonl(folder / "A.json", [record("0", "one")])
    write_jsonl(folder / "B.json", [record("0", "two")])
    first = load_predictions_file(folder, cache)
    again = load_predictions_file(folder, cache)
    assert (first.from_cache, again.from_cache) == (False, True)
    assert again.table.equals(first.table)

    def reload() -> list[str]:
        loaded = load_predictions_file(folder, cache)
        assert not loaded.from_cache
        assert len(list(cache.glob("*.arrow"))) == 1  # the stale cache was removed
        return loaded.table["id"].to_pylist()

    # rewritten in place (the folder's mtime unchanged): seen once the last listing is
    # RECHECK_S old (tests/test_document_cache.py checks the window itself)
    write_jsonl(folder / "B.json", [record("0", "two"), record("1", "three")])
    bump_mtime(folder / "B.json", 1)
    with monkeypatch.context() as patch:
        patch.setattr(documents, "RECHECK_S", 0.0)
        assert reload() == ["A.0", "B.0", "B.1"]
    write_jsonl(folder / "C.json", [record("0", "four")])
    assert reload() == ["A.0", "B.0", "B.1", "C.0"]
    (folder / "A.json").unlink()
    assert reload() == ["B.0", "B.1", "C.0"]
    # metadata files are not documents: adding one leaves the cache key as it was
    key = listing_key(list_document_files(folder))
    (folder / "classifier.json").write_text("{}")
    assert listing_key(list_document_files(folder)) == key
    assert load_predictions_file(folder, cache).from_cache


def test_ten_thousand_document_files_load(tmp_path: Path):
    folder = tmp_path / "Q1" / "clf"
    folder.mkdir(parents=True)
    for number in range(10_000):
        line = json.dumps(record("0", f"passage of document {number}"))
        (folder / f"DOC.{number:05d}.json").write_text(line + "\n")
    loaded = load_predictions_file(folder, tmp_path / "cache")
    assert loaded.issues == [] and loaded.n_passages == 10_000
    ids = loaded.table["id"].to_pylist()
    assert ids[0] == "DOC.00000.0" and ids[-1] == "DOC.09999.0"
    assert len(set(ids)) == 10_000
    assert load_predictions_file(folder, tmp_path / "cache").from_cache


def test_the_store_reloads_a_folder_when_a_document_is_added(tmp_path: Path, settings_for):
    folder = tmp_path / "data" / "Q1" / "clf"
    write_jsonl(folder / "A.json", [record("0", "one", [(0, 3)])])
    store = PredictionStore(settings_for(tmp_path / "data"))
    entry = store.catalogue().classifier("Q1", "clf")
    assert (entry.layout, entry.predictions_path) == ("per_document", folder)
    first = store.predictions("Q1", "clf")
    assert store.predictions("Q1", "clf") is first
    write_jsonl(folder / "B.json", [record("0", "two"), "not json"])
    second = store.predictions("Q1", "clf")
    assert second.table["id"].to_pylist() == ["A.0", "B.0"]
    [issue] = store.loaded_issues()
    assert (Path(issue.path).name, issue.line) == ("B.json", 2)


def test_catalogue_rule_predictions_jsonl_makes_a_per_classifier_folder(tmp_path: Path):
    data = tmp_path / "data"
    write_jsonl(data / "Q1" / "both" / "predictions.jsonl", [record("a", "t")])
    write_jsonl(data / "Q1" / "both" / "DOC.json", [record("b", "t")])
    write_jsonl(data / "Q1" / "docs" / "DOC.json", [record("b", "t")])
    (data / "Q1" / "meta-only").mkdir()
    (data / "Q1" / "meta-only" / "classifier.json").write_text('{"id": "x"}')
    (data / "Q1" / "hidden").mkdir()
    (data / "Q1" / "hidden" / ".DOC.json").write_text("{}")
    classifiers = scan_catalogue(data).concept("Q1").classifiers
    assert {cid: entry.layout for cid, entry in classifiers.items()} == {
        "both": "per_classifier",
        "docs": "per_document",
    }


def test_real_inference_layout_in_both_file_forms(real_fixtures: Path, tmp_path: Path):
    tables = {}
    for qid, classifier in [("Q218", "6z4pufsm"), ("Q223", "36bhx4mu")]:
        folder = real_fixtures / "inference_layout" / qid / classifier
        loaded = load_predictions_file(folder, tmp_path / "cache", concept_id=qid)
        assert loaded.issues == []
        tables[qid] = loaded.table
    arrays, lines = tables["Q218"], tables["Q223"]  # JSON arrays of strings / JSONL
    assert arrays.num_rows == lines.num_rows == 228
    assert arrays["id"].equals(lines["id"]) and arrays["text"].equals(lines["text"])
    ids = arrays["id"].to_pylist()
    assert len(set(ids)) == len(ids)  # ids repeat across documents ("0", "1"...), not here
    assert sorted(set(arrays["document_id"].to_pylist())) == sorted(
        stem.removesuffix("_translated_en") for stem in INFERENCE_STEMS
    )
    translated = pc.filter(arrays["id"], arrays["translated"]).to_pylist()
    assert translated == ["AF.document.i00000021.n0000_translated_en.58"]
    # the same passages as the per-classifier file of the same classifier, whose ids upstream
    # wrote as {document_stem}.{id} too: same ids, and they join by text
    vibe = load_predictions_file(real_fixtures / "vibe_layout/Q218/6z4pufsm/predictions.jsonl")
    assert sorted(ids) == sorted(vibe.table["id"].to_pylist())
    assert set(arrays["passage_key"].to_pylist()) == set(vibe.table["passage_key"].to_pylist())


def test_real_documents_beside_predictions_jsonl(all_layouts: Path, settings_for):
    # Q223/36bhx4mu holds the pipeline's document files AND a predictions.jsonl: per-classifier
    store = PredictionStore(settings_for(all_layouts))
    entry = store.catalogue().classifier("Q223", "36bhx4mu")
    assert entry.layout == "per_classifier" and entry.predictions_path.name == "predictions.jsonl"
    loaded = store.predictions("Q223", "36bhx4mu")
    expected = all_layouts / "Q223" / "36bhx4mu" / "predictions.jsonl"
    assert loaded.source == expected and loaded.issues == []
    assert loaded.n_passages == len(expected.read_text().splitlines())


def test_a_record_larger_than_duckdbs_default_object_size_loads(tmp_path: Path):
    from predictions_core.data.documents import DOCUMENT_RECORD_BYTES

    folder = tmp_path / "Q1" / "clf"
    big = "forest " * (DOCUMENT_RECORD_BYTES // 7 + 10)
    write_jsonl(folder / "BIG.json", [record("0", big)])
    write_array_of_strings(folder / "SMALL.json", [record("0", "peat")])
    loaded = load_predictions_file(folder)
    assert loaded.issues == []
    assert loaded.table["id"].to_pylist() == ["BIG.0", "SMALL.0"]
    assert loaded.table["text_length"].to_pylist() == [len(big), 4]


def test_files_of_every_form_keep_their_order_when_read_together(tmp_path: Path):
    # JSONL files are read in one pass, the others again with DuckDB's format detection:
    # their passages must come back in their files' places
    folder = tmp_path / "Q1" / "clf"
    write_jsonl(folder / "A.json", [record("0", "a0"), record("1", "a1")])
    write_array_of_strings(folder / "B.json", [record("0", "b0"), record("1", "b1")])
    write_jsonl(folder / "C.json", [record("0", "c0")])
    pretty = json.dumps([record("0", "d0"), record("1", "d1")], indent=2)
    (folder / "D.json").write_text(pretty, encoding="utf-8")
    write_jsonl(folder / "E.json", [record("0", "e0"), "{not json", record("2", "e2")])
    write_jsonl(folder / "F.json", [record("0", "f0")])
    loaded = load_predictions_file(folder)
    assert loaded.table["id"].to_pylist() == [
        "A.0", "A.1", "B.0", "B.1", "C.0", "D.0", "D.1", "E.0", "E.2", "F.0"
    ]  # fmt: skip
    assert [(Path(i.path).name, i.line) for i in loaded.issues] == [("E.json", 2)]
