"""The pydantic models read what upstream writes and keep what they don't know."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from predictions_core.data.location import DEMO_DATA_DIR
from predictions_core.data.models import (
    Classifier,
    Concept,
    LabelledPassage,
    is_valid_classifier_id,
    is_valid_qid,
)


@pytest.fixture
def demo_dir() -> Path:
    if not DEMO_DATA_DIR.is_dir():
        pytest.skip("data/demo has not been generated yet (`uv run predictions demo`)")
    return DEMO_DATA_DIR


def test_demo_lines_round_trip(demo_dir: Path):
    for path in (*demo_dir.glob("Q*/*/predictions.jsonl"), *demo_dir.glob("predictions/*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            original = json.loads(line)
            assert LabelledPassage.model_validate(original).model_dump(mode="json") == original


def test_demo_gold_concept_reads_with_all_its_passages(demo_dir: Path):
    raw = json.loads((demo_dir / "Q787" / "concept.json").read_text(encoding="utf-8"))
    concept = Concept.model_validate(raw)
    assert concept.wikibase_id == "Q787" and concept.preferred_label == raw["preferred_label"]
    assert [p.id for p in concept.labelled_passages] == [p["id"] for p in raw["labelled_passages"]]
    labellers = {name for p in concept.labelled_passages for s in p.spans for name in s.labellers}
    assert labellers == {"annotator_a", "annotator_b"}
    assert set(raw) <= set(concept.model_dump(mode="json"))  # every key kept


def test_upstream_lines_round_trip_with_computed_keys(real_fixtures: Path):
    path = real_fixtures / "seed_layout/predictions/Q218/6z4pufsm.jsonl"
    for line in path.read_text().splitlines():
        original = json.loads(line)
        passage = LabelledPassage.model_validate(original)
        dumped = passage.model_dump(mode="json")
        # span id, labelled_text and the repeated passage text are kept as extras
        assert dumped["spans"][0]["labelled_text"] == original["spans"][0]["labelled_text"]
        assert dumped["spans"][0]["id"] == original["spans"][0]["id"]
        assert dumped["metadata"] == original["metadata"]
        assert all(span.end_index <= len(passage.text) for span in passage.spans)


def test_gold_concept_reads_with_all_its_passages(real_fixtures: Path):
    concept = Concept.model_validate_json(
        (real_fixtures / "concepts_with_gold/Q787.json").read_text()
    )
    assert concept.wikibase_id == "Q787" and concept.preferred_label == "forestry sector"
    assert len(concept.labelled_passages) == 130
    labellers = {name for p in concept.labelled_passages for s in p.spans for name in s.labellers}
    assert {"sion", "tabea"} <= labellers
    assert concept.model_extra["related_concepts"]  # unknown keys kept


def test_bad_spans_are_rejected_by_the_model():
    with pytest.raises(ValidationError):
        LabelledPassage.model_validate(
            {"id": "a", "text": "x", "spans": [{"start_index": 3, "end_index": 1}]}
        )
    passage = LabelledPassage.model_validate(
        {"id": 7, "text": "abc", "spans": [{"start_index": 1, "end_index": 9}], "metadata": None}
    )
    assert passage.id == "7" and passage.metadata == {}
    # a span past the text's end is kept by the model; the loader and scorers skip it
    assert [(s.start_index, s.end_index) for s in passage.spans] == [(1, 9)]


def test_fallbacks_and_urls():
    assert Concept(wikibase_id="Q1").preferred_label == "Q1"
    assert Classifier(id="abc").name == "abc"
    assert Classifier(id="abc", date="2025-05-09").date_text == "2025-05-09"
    assert Concept(wikibase_id="Q1", url="https://example.org/Q1").url == "https://example.org/Q1"
    assert Concept(wikibase_id="Q1", url="javascript:alert(1)").url is None


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("Q218", True),
        ("Q", False),
        ("q218", False),
        ("Q1/..", False),
        ("Q１", False),
        ("Q1\n", False),
    ],
)
def test_qid_validation(value, valid):
    assert is_valid_qid(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("6z4pufsm", True),
        ("kw:v1.2-x_y", True),
        ("..", False),
        ("a/b", False),
        ("a%2Fb", False),
        ("", False),
        ("abc\n", False),
    ],
)
def test_classifier_id_validation(value, valid):
    assert is_valid_classifier_id(value) is valid
