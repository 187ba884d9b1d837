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
