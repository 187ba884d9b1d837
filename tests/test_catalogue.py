"""Discovering concepts and classifiers in both layouts (CONTRACT §2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from predictions_core.data.catalogue import find_concept_ids, scan_catalogue
from predictions_core.data.models import Concept
from predictions_core.errors import InvalidParameterError, NotFoundError


def test_demo_data_in_both_layouts(demo_copy: Path):
    # the same Q218 classifier also written in the older layout: the per-classifier one wins
    concept_file = json.loads((demo_copy / "Q218" / "concept.json").read_text())
    [classifier_id] = [
        folder.name
        for folder in (demo_copy / "Q218").iterdir()
        if folder.is_dir()
        and json.loads((folder / "classifier.json").read_text())["kind"] == "keyword"
    ]
    older = demo_copy / "predictions" / "Q218" / f"{classifier_id}.jsonl"
    older.parent.mkdir(parents=True)
    shutil.copy(demo_copy / "Q218" / classifier_id / "predictions.jsonl", older)

    catalogue = scan_catalogue(demo_copy)
    assert set(catalogue.concepts) == {"Q218", "Q223", "Q787", "Q1829"}
    entry = catalogue.classifier("Q218", classifier_id)
    assert entry.layout == "per_classifier"
    assert entry.classifier.name == 'KeywordClassifier("greenhouse gas")'
    assert catalogue.concept("Q218").concept.preferred_label == concept_file["preferred_label"]
    assert len(catalogue.concept("Q218").classifiers) == 4
    only_older = catalogue.classifier("Q223", "lfy5fpmh")
    assert only_older.layout == "older"
    assert only_older.classifier.name == 'KeywordClassifier("carbon dioxide")'
    assert catalogue.concept("Q223").concept.preferred_label == "carbon dioxide"
    assert catalogue.issues == []


def test_demo_gold_labels_come_from_the_concept_file(demo_copy: Path):
    expected = json.loads((demo_copy / "Q787" / "concept.json").read_text())["labelled_passages"]
    entry = scan_catalogue(demo_copy).concept("Q787")
    assert expected and [p.id for p in entry.gold_passages] == [p["id"] for p in expected]


def test_both_layouts_side_by_side(both_layouts: Path):
    catalogue = scan_catalogue(both_layouts)
    assert sorted(catalogue.concepts) == ["Q218", "Q223"]
    entry = catalogue.concepts["Q218"].classifiers["6z4pufsm"]
    # the same classifier in both layouts: the per-classifier one (with negatives) wins
    assert entry.layout == "per_classifier"
    assert entry.classifier.name == 'KeywordClassifier("greenhouse gas")'
    assert catalogue.concepts["Q218"].concept.preferred_label == "greenhouse gas"
    assert "GHG emissions" in catalogue.concepts["Q218"].concept.alternative_labels
    assert catalogue.issues == []


def test_older_layout_alone(real_fixtures: Path):
    catalogue = scan_catalogue(real_fixtures / "seed_layout")
    entry = catalogue.classifier("Q223", "36bhx4mu")
    assert entry.layout == "older"
    assert entry.predictions_path.name == "36bhx4mu.jsonl"
    assert catalogue.concept("Q223").concept.preferred_label == "carbon dioxide"


def test_gold_labels_come_from_the_concept_file(real_fixtures: Path, tmp_path: Path):
    folder = tmp_path / "Q787"
    folder.mkdir()
    (folder / "concept.json").write_text(
        (real_fixtures / "concepts_with_gold/Q787.json").read_text()
    )
    catalogue = scan_catalogue(tmp_path)
    entry = catalogue.concept("Q787")
    assert len(entry.gold_passages) == 130
    assert entry.classifiers == {}  # a concept folder without predictions is still listed


def test_missing_metadata_falls_back_to_ids(tmp_path: Path):
    (tmp_path / "Q42" / "abc123").mkdir(parents=True)
    (tmp_path / "Q42" / "abc123" / "predictions.jsonl").write_text("")
    (tmp_path / "predictions" / "Q7").mkdir(parents=True)
    (tmp_path / "predictions" / "Q7" / "old.v1.jsonl").write_text("")
    catalogue = scan_catalogue(tmp_path)
    assert catalogue.concept("Q42").concept.preferred_label == "Q42"
    assert catalogue.classifier("Q42", "abc123").classifier.name == "abc123"
    assert catalogue.classifier("Q7", "old.v1").layout == "older"


def test_unreadable_metadata_is_reported_and_ids_used(tmp_path: Path):
    folder = tmp_path / "Q5" / "clf"
    folder.mkdir(parents=True)
    (folder / "predictions.jsonl").write_text("")
    (folder / "classifier.json").write_text("{broken")
    (tmp_path / "Q5" / "concept.json").write_text(json.dumps({"preferred_label": 5}))
    catalogue = scan_catalogue(tmp_path)
    assert catalogue.classifier("Q5", "clf").classifier.name == "clf"
    assert catalogue.concept("Q5").concept.preferred_label == "Q5"
    messages = sorted(issue.message for issue in catalogue.issues)
    assert len(messages) == 2
    assert any("unreadable metadata" in m for m in messages)
    # in the user's words: where the problem is, what it is, and the value given
    assert "invalid metadata (preferred_label: Input should be a valid string (got 5))" in messages


def test_folders_that_are_not_concepts_are_ignored(tmp_path: Path):
    for name in ["Q12", "Qx", "notes", ".cache", "Q12a"]:
        (tmp_path / name).mkdir()
    assert find_concept_ids(tmp_path) == ["Q12"]
    assert find_concept_ids(tmp_path / "absent") == []


def test_lookups_validate_ids(demo_copy: Path):
    catalogue = scan_catalogue(demo_copy)
    with pytest.raises(InvalidParameterError):
        catalogue.concept("../etc")
    with pytest.raises(NotFoundError):
        catalogue.concept("Q999")
    with pytest.raises(InvalidParameterError):
        catalogue.classifier("Q218", "../../x")
    with pytest.raises(NotFoundError):
        catalogue.classifier("Q218", "unknown")


def test_concept_labels_deduplicate():
    concept = Concept(
        wikibase_id="Q218",
        preferred_label="greenhouse gas",
        alternative_labels=["GHG", "greenhouse gas", " ", "GHG", "methane "],
    )
    assert concept.all_labels == ["greenhouse gas", "GHG", "methane"]


def test_all_four_layouts_side_by_side(all_layouts: Path, settings_for):
    from predictions_core.data.store import PredictionStore

    store = PredictionStore(settings_for(all_layouts))
    catalogue = store.catalogue()
    layouts = {
        (qid, cid): entry.layout
        for qid, concept in catalogue.concepts.items()
        for cid, entry in concept.classifiers.items()
    }
    assert layouts == {
        ("Q218", "6z4pufsm"): "per_classifier",
        ("Q218", "6z4pufsm-current"): "per_classifier",
        ("Q218", "6z4pufsm-documents"): "per_document",
        ("Q223", "36bhx4mu"): "per_classifier",  # document files beside predictions.jsonl
    }
    assert catalogue.issues == []
    for qid, cid in layouts:
        loaded = store.predictions(qid, cid)
        assert loaded.issues == [] and loaded.n_passages == 228, (qid, cid)
    current = store.predictions("Q218", "6z4pufsm-current").table
    assert current["score"].null_count < current.num_rows
    documents = store.predictions("Q218", "6z4pufsm-documents").table
    # the same passages under the same ids, whichever layout the pipeline wrote them in
    per_classifier = store.predictions("Q218", "6z4pufsm").table
    assert sorted(documents["id"].to_pylist()) == sorted(per_classifier["id"].to_pylist())


def test_all_four_layouts_through_the_api(all_layouts: Path, serve):
    client = serve(all_layouts)
    concepts = {c["wikibase_id"]: c for c in client.get("/api/concepts").json()}
    q218 = {c["id"]: c for c in concepts["Q218"]["classifiers"]}
    assert set(q218) == {"6z4pufsm", "6z4pufsm-current", "6z4pufsm-documents"}
    assert q218["6z4pufsm-current"]["name"] == 'BertBasedClassifier("Q218")'

    base = "/api/predictions/Q218/"
    documents = client.get(base + "6z4pufsm-documents?translated=true").json()
    assert documents["filtered_count"] == 1
    [passage] = documents["predictions"]
    assert passage["id"] == "AF.document.i00000021.n0000_translated_en.58"
    assert passage["metadata"]["document_id"] == "AF.document.i00000021.n0000"

    answer = client.get(base + "6z4pufsm-current?year_min=2016&format=jsonl")
    assert answer.status_code == 200
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert lines and all(line["metadata"]["publication_ts"].startswith("2016") for line in lines)
    assert all("marked_up_text" in line for line in lines)
    older = client.get("/api/predictions/Q223/36bhx4mu?page_size=1").json()
    assert older["total_count"] == 228


def _write_four_layouts(data: Path) -> None:
    """The four layouts of CONTRACT §2 written by the test (no ../shared needed)."""

    def line(pid: str, text: str, probability=None, **top) -> str:
        spans = [{"start_index": 0, "end_index": 6, "concept_id": "Q5", "labellers": ["m"]}]
        if probability is not None:
            spans[0]["prediction_probability"] = probability
        return json.dumps({"id": pid, "text": text, "spans": spans, "metadata": {}, **top})

    (data / "predictions" / "Q5").mkdir(parents=True)
    (data / "predictions" / "Q5" / "older.v1.jsonl").write_text(line("a", "forest one") + "\n")
    (data / "Q5" / "per-classifier").mkdir(parents=True)
    (data / "Q5" / "per-classifier" / "predictions.jsonl").write_text(line("a", "forest one"))
    documents = data / "Q5" / "per-document"
    documents.mkdir()
    (documents / "DOC.1.json").write_text(json.dumps([line("0", "forest one")]))
    (documents / "DOC.2_translated_en.json").write_text(line("0", "forest two") + "\n")
    (data / "Q5" / "vibe").mkdir()
    (data / "Q5" / "vibe" / "predictions.jsonl").write_text(
        line("v", "forest one", 0.75, publication_ts="2019-06-14 00:00:00", marked_up_text="<b>")
    )


def test_four_written_layouts_side_by_side(tmp_path: Path, serve):
    data = tmp_path / "four"
    _write_four_layouts(data)
    classifiers = scan_catalogue(data).concept("Q5").classifiers
    assert {cid: entry.layout for cid, entry in classifiers.items()} == {
        "older.v1": "older",
        "per-classifier": "per_classifier",
        "per-document": "per_document",
        "vibe": "per_classifier",
    }
    client = serve(data)
    listed = {
        c["id"]: c["n_predictions"] for c in client.get("/api/concepts/Q5").json()["classifiers"]
    }
    assert listed == {"older.v1": 1, "per-classifier": 1, "per-document": 2, "vibe": 1}
    documents = client.get("/api/predictions/Q5/per-document?translated=true").json()
    assert [p["id"] for p in documents["predictions"]] == ["DOC.2_translated_en.0"]
    vibe = client.get("/api/predictions/Q5/vibe?year_min=2019&year_max=2019&format=jsonl")
    [passage] = [json.loads(text) for text in vibe.text.splitlines()]
    assert passage["marked_up_text"] == "<b>"
    assert passage["spans"][0]["prediction_probability"] == 0.75
