"""Discover concepts and classifiers in a data dir, in the three layouts of CONTRACT §2.

A classifier folder `{QID}/{classifier_id}/` holding `predictions.jsonl` is the
per-classifier layout (its other files are ignored); one holding other `*.json` files
(besides `classifier.json` and `concept.json`) is the per-document layout, whose predictions
are the whole folder. `predictions/{QID}/{classifier_id}.jsonl` is the older layout; where a
classifier is in both, the folder wins.

Discovery reads only small metadata files; predictions are loaded lazily (see `loading`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from predictions_core.data.documents import has_document_files
from predictions_core.data.issues import LoadIssue
from predictions_core.data.models import (
    Classifier,
    Concept,
    LabelledPassage,
    is_valid_classifier_id,
    is_valid_qid,
)
from predictions_core.data.names import short_names
from predictions_core.errors import InvalidParameterError, NotFoundError, describe_validation_error

Layout = Literal["per_classifier", "per_document", "older"]


@dataclass(frozen=True)
class ClassifierEntry:
    """One classifier of one concept, and where its predictions live.

    `predictions_path` is a JSONL file, or for the per-document layout the folder.
    """

    concept_id: str
    classifier: Classifier
    predictions_path: Path
    layout: Layout

    @property
    def id(self) -> str:
        return self.classifier.id


@dataclass
class ConceptEntry:
    """A concept, its classifiers (by id) and its gold labelled passages (may be empty)."""

    concept: Concept
    classifiers: dict[str, ClassifierEntry] = field(default_factory=dict)

    @property
    def wikibase_id(self) -> str:
        return self.concept.wikibase_id

    @property
    def gold_passages(self) -> list[LabelledPassage]:
        return self.concept.labelled_passages

    @property
    def short_names(self) -> dict[str, str]:
        """Each classifier's short distinguishing name (`data.names.short_names`), by id."""
        return short_names({cid: entry.classifier for cid, entry in self.classifiers.items()})

    def short_name(self, classifier_id: str) -> str:
        """The short distinguishing name of one of this concept's classifiers (else the id)."""
        return self.short_names.get(classifier_id, classifier_id)


@dataclass
class Catalogue:
    """Everything found in a data dir, plus what could not be read."""

    data_dir: Path
    concepts: dict[str, ConceptEntry] = field(default_factory=dict)
    issues: list[LoadIssue] = field(default_factory=list)

    def concept(self, qid: str) -> ConceptEntry:
        """The concept `qid`: `InvalidParameterError` if malformed, `NotFoundError` if absent."""
        if not is_valid_qid(qid):
            raise InvalidParameterError("concept", f"{qid!r} is not a concept id (Q + digits)")
        if qid not in self.concepts:
            raise NotFoundError(f"there is no concept {qid} in this data")
        return self.concepts[qid]

    def classifier(self, qid: str, classifier_id: str) -> ClassifierEntry:
        """One classifier of a concept, with the same errors as `concept`."""
        entry = self.concept(qid)
        if not is_valid_classifier_id(classifier_id):
            raise InvalidParameterError(
                "classifier", f"{classifier_id!r} is not a classifier id (letters, digits, ._:-)"
            )
        if classifier_id not in entry.classifiers:
            raise NotFoundError(f"concept {qid} has no classifier {classifier_id}")
        return entry.classifiers[classifier_id]


def find_concept_ids(data_dir: Path) -> list[str]:
    """Concept ids present in either layout (folders or files named Q + digits), sorted."""
    ids: set[str] = set()
    for folder in (data_dir, data_dir / "predictions"):
        if folder.is_dir():
            ids.update(p.name for p in folder.iterdir() if p.is_dir() and is_valid_qid(p.name))
    return sorted(ids, key=lambda qid: int(qid[1:]))


def scan_catalogue(data_dir: Path) -> Catalogue:
    """Read the metadata of every concept and classifier in `data_dir`.

    Missing metadata falls back to ids. An unreadable metadata file becomes a `LoadIssue`
    and the id fallback is used, so one bad file never hides a concept.
    """
    catalogue = Catalogue(data_dir=data_dir)
    for qid in find_concept_ids(data_dir):
        concept = _read_concept(data_dir, qid, catalogue.issues)
        entry = ConceptEntry(concept=concept)
        for classifier in _per_classifier_entries(data_dir, qid, catalogue.issues):
            entry.classifiers[classifier.id] = classifier
        for classifier in _older_layout_entries(data_dir, qid, catalogue.issues):
            # the per-classifier layout is newer and may hold negatives too: it wins
            entry.classifiers.setdefault(classifier.id, classifier)
        catalogue.concepts[qid] = entry
    return catalogue


def concept_files(data_dir: Path, qid: str) -> list[Path]:
    """Where concept `qid`'s metadata may be, most authoritative first (CONTRACT §2).

    `{QID}/concept.json`, then `concepts/{QID}.json` (the older layout), then the copies
    saved beside each classifier (`{QID}/{classifier}/concept.json`). Not all need exist.
    """
    candidates = [data_dir / qid / "concept.json", data_dir / "concepts" / f"{qid}.json"]
    folder = data_dir / qid
    if folder.is_dir():
        candidates += sorted(folder.glob("*/concept.json"))
    return candidates


def _read_concept(data_dir: Path, qid: str, issues: list[LoadIssue]) -> Concept:
    for path in concept_files(data_dir, qid):
        if path.is_file():
            data = _read_json_object(path, issues)
            if data is not None:
                data.setdefault("wikibase_id", qid)
                concept = _validate(Concept, data, path, issues)
                if concept is not None:
                    return concept
    return Concept(wikibase_id=qid)


def _per_classifier_entries(
    data_dir: Path, qid: str, issues: list[LoadIssue]
) -> list[ClassifierEntry]:
    folder = data_dir / qid
    if not folder.is_dir():
        return []
    entries = []
    for sub in sorted(folder.iterdir()):
        if not (sub.is_dir() and is_valid_classifier_id(sub.name)):
            continue
        predictions = sub / "predictions.jsonl"
        # CONTRACT §2: `predictions.jsonl` makes a per-classifier folder, whatever else it holds
        if predictions.is_file():
            source, layout = predictions, "per_classifier"
        elif has_document_files(sub):
            source, layout = sub, "per_document"
        else:
            continue
        classifier = _read_classifier(sub / "classifier.json", sub.name, issues)
        entries.append(ClassifierEntry(qid, classifier, source, layout))
    return entries


def _older_layout_entries(
    data_dir: Path, qid: str, issues: list[LoadIssue]
) -> list[ClassifierEntry]:
    folder = data_dir / "predictions" / qid
    if not folder.is_dir():
        return []
    entries = []
    for predictions in sorted(folder.glob("*.jsonl")):
        classifier_id = predictions.stem
        if not is_valid_classifier_id(classifier_id):
            continue
        metadata_path = data_dir / "classifiers" / qid / f"{classifier_id}.json"
        classifier = _read_classifier(metadata_path, classifier_id, issues)
        entries.append(ClassifierEntry(qid, classifier, predictions, "older"))
    return entries


def _read_classifier(path: Path, classifier_id: str, issues: list[LoadIssue]) -> Classifier:
    data = _read_json_object(path, issues) if path.is_file() else None
    if data is not None:
        # the folder or file name is the id the URLs use; the file's own id may differ
        data["id"] = classifier_id
        classifier = _validate(Classifier, data, path, issues)
        if classifier is not None:
            return classifier
    return Classifier(id=classifier_id)


def _read_json_object(path: Path, issues: list[LoadIssue]) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        # an OSError's text repeats the absolute path: the issue already says which file
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        issues.append(LoadIssue(str(path), None, f"unreadable metadata file: {reason}"))
        return None
    if not isinstance(data, dict):
        issues.append(LoadIssue(str(path), None, "metadata file is not a JSON object"))
        return None
    return data


def _validate(model, data: dict, path: Path, issues: list[LoadIssue]):
    try:
        return model.model_validate(data)
    except ValidationError as error:
        where, what = describe_validation_error(error)
        issues.append(LoadIssue(str(path), None, f"invalid metadata ({where}: {what})"))
        return None
