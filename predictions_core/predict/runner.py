"""Run candidate classifiers over passages and write the layout of CONTRACT §2.

Output, per classifier, in the per-classifier layout:

    {QID}/{classifier_id}/predictions.jsonl   every passage, with `spans: []` for negatives
    {QID}/{classifier_id}/classifier.json     id, name, date, kind, parameters, concept_id
    {QID}/{classifier_id}/concept.json        the concept at inference time (no gold labels)
    {QID}/concept.json                        the concept, with its gold labels if it has any

Gold passages: when the concept has `labelled_passages`, they are predicted too (their ids,
texts and metadata kept, appended after the passages file's own), so every classifier made here
can be scored on Evaluate (CONTRACT §4); a gold passage whose text is already in the passages
file is not repeated. `include_gold=False` (`--no-gold`) leaves them out.

Every file is written atomically (`data.files`), so a reader never sees half a file.
`predict_concept` is the Python API; `cli.predict` is the command around it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
from pydantic import ValidationError
from tqdm import tqdm

from predictions_core.data.catalogue import concept_files
from predictions_core.data.files import atomic_writer, write_json
from predictions_core.data.models import Concept, is_valid_qid
from predictions_core.errors import (
    DataError,
    InvalidParameterError,
    NotFoundError,
    describe_validation_error,
)
from predictions_core.predict.classifiers import ConceptClassifier, build_classifier, resolve_kinds
from predictions_core.predict.passages import Passage

_CHUNK_SIZE = 2_000
_PROGRESS_MIN_PASSAGES = 5_000


@dataclass
class PredictionRun:
    """What one classifier found, how long it took, and the files it wrote."""

    concept_id: str
    classifier_id: str
    classifier_name: str
    kind: str
    n_passages: int
    n_positives: int
    n_spans: int
    seconds: float
    written: list[Path] = field(default_factory=list)
    n_gold_added: int = 0  # gold passages predicted besides the passages file's


# --------------------------------------------------------------------------- the concept


def load_concept(qid: str, concept_path: Path | None, data_dir: Path) -> tuple[Concept, Path]:
    """The concept `qid` and the file it came from: `concept_path`, else found in `data_dir`."""
    if not is_valid_qid(qid):
        raise InvalidParameterError("QID", f"{qid!r} is not a concept id (Q followed by digits)")
    if concept_path is None:
        candidates = concept_files(data_dir, qid)
        concept_path = next((path for path in candidates if path.is_file()), None)
        if concept_path is None:
            looked_in = " or ".join(str(path) for path in candidates)
            raise NotFoundError(
                f"no concept file for {qid} (looked for {looked_in}): pass --concept FILE"
            )
    elif not concept_path.is_file():
        raise NotFoundError(f"concept file not found: {concept_path}")
    try:
        data = orjson.loads(concept_path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        raise DataError(f"cannot read concept file {concept_path}: {error}") from error
    if not isinstance(data, dict):
        raise DataError(f"concept file {concept_path} does not hold a JSON object")
    if data.setdefault("wikibase_id", qid) != qid:
        raise InvalidParameterError(
            "--concept", f"{concept_path} is concept {data['wikibase_id']!r}, not {qid}"
        )
    if not data.get("preferred_label") and not data.get("alternative_labels"):
        raise DataError(f"concept file {concept_path} has no labels for a classifier to match")
    try:
        return Concept.model_validate(data), concept_path
    except ValidationError as error:
        where, what = describe_validation_error(error)
        raise DataError(f"{concept_path} is not a concept: {where}: {what}") from error


# --------------------------------------------------------------------------- predicting


def predict_concept(
    concept: Concept,
    passages: Sequence[Passage],
    classifier_kinds: Sequence[str] | None,
    out_dir: Path,
    *,
    now: datetime | None = None,
    concept_source: Path | None = None,
    include_gold: bool = True,
) -> list[PredictionRun]:
    """Run each classifier kind over `passages` and write its folder under `out_dir/{QID}`.

    `now` stamps spans and classifier dates (fixed by the demo so its files never change).
    `concept_source` is the file the concept was read from: `{QID}/concept.json` is not
    rewritten when it is that file. `include_gold`: also predict the concept's gold passages
    that `passages` lacks (module docstring).
    """
    now = now or datetime.now(UTC)
    kinds = resolve_kinds(classifier_kinds)
    gold = missing_gold_passages(concept, passages) if include_gold else []
    passages = [*passages, *gold]
    concept_dir = out_dir / concept.wikibase_id
    runs = []
    for kind in kinds:
        classifier = build_classifier(kind, concept)
        runs.append(_run_classifier(classifier, passages, concept_dir / classifier.id, now))
        runs[-1].n_gold_added = len(gold)
    top_concept_path = concept_dir / "concept.json"
    if concept_source is None or not _same_file(concept_source, top_concept_path):
        _write_top_concept(concept, top_concept_path)
        runs[-1].written.append(top_concept_path)
    return runs


def missing_gold_passages(concept: Concept, passages: Sequence[Passage]) -> list[Passage]:
    """The concept's gold passages whose text is absent from `passages`.

    A gold passage whose id is taken by another text gets the id `gold.{id}` (Evaluate then
    finds it by its text), so ids stay unique in the file.
    """
    ids = {passage.id for passage in passages}
    texts = {passage.text for passage in passages}
    missing = []
    for gold in concept.labelled_passages or []:
        if gold.text in texts:
            continue
        passage_id = gold.id if gold.id not in ids else f"gold.{gold.id}"
        ids.add(passage_id)
        texts.add(gold.text)
        missing.append(Passage(passage_id, gold.text, dict(gold.metadata or {})))
    return missing


def _run_classifier(
    classifier: ConceptClassifier, passages: Sequence[Passage], folder: Path, now: datetime
) -> PredictionRun:
    started = time.perf_counter()
    spans_per_passage = _predict_with_progress(classifier, [p.text for p in passages])
    seconds = time.perf_counter() - started
    concept = classifier.concept
    fields = span_fields(classifier, now)
    predictions_path = folder / "predictions.jsonl"
    with atomic_writer(predictions_path) as sink:
        for passage, spans in zip(passages, spans_per_passage, strict=True):
            sink.write(prediction_line(passage, spans, fields))
    classifier_json = classifier_metadata(classifier, now)
    write_json(folder / "classifier.json", classifier_json)
    write_json(folder / "concept.json", concept_payload(concept, with_gold=False))
    return PredictionRun(
        concept_id=concept.wikibase_id,
        classifier_id=classifier.id,
        classifier_name=classifier.name,
        kind=classifier.kind,
        n_passages=len(passages),
        n_positives=sum(1 for spans in spans_per_passage if spans),
        n_spans=sum(len(spans) for spans in spans_per_passage),
        seconds=seconds,
        written=[predictions_path, folder / "classifier.json", folder / "concept.json"],
    )


def _predict_with_progress(classifier: ConceptClassifier, texts: list[str]) -> list:
    show = sys.stderr.isatty() and len(texts) >= _PROGRESS_MIN_PASSAGES
    spans_per_text: list = []
    with tqdm(
        total=len(texts), desc=classifier.kind, unit="passage", file=sys.stderr, disable=not show
    ) as progress:
        for start in range(0, len(texts), _CHUNK_SIZE):
            chunk = texts[start : start + _CHUNK_SIZE]
            spans_per_text.extend(classifier.predict_spans(chunk))
            progress.update(len(chunk))
    return spans_per_text


def span_fields(classifier: ConceptClassifier, now: datetime) -> dict:
    """The keys every span a classifier predicts shares: concept, labeller, timestamp."""
    return {
        "concept_id": classifier.concept.wikibase_id,
        "labellers": [classifier.name],
        "timestamps": [now.isoformat()],
    }


def prediction_line(passage: Passage, spans: list[tuple[int, int]], fields: dict) -> bytes:
    """One LabelledPassage JSONL line (with its newline); `fields` from `span_fields`."""
    line = {
        "id": passage.id,
        "text": passage.text,
        "spans": [{"start_index": s, "end_index": e, **fields} for s, e in spans],
        "metadata": passage.metadata,
    }
    return orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)


def classifier_metadata(classifier: ConceptClassifier, now: datetime) -> dict:
    """The `classifier.json` of a classifier run at `now`."""
    return {
        "id": classifier.id,
        "name": classifier.name,
        "date": now.date().isoformat(),
        "kind": classifier.kind,
        "parameters": classifier.parameters,
        "concept_id": classifier.concept.wikibase_id,
    }


def concept_payload(concept: Concept, *, with_gold: bool) -> dict:
    """The concept as JSON; gold `labelled_passages` only when `with_gold` (and present)."""
    exclude = None if with_gold and concept.labelled_passages else {"labelled_passages"}
    return concept.model_dump(mode="json", exclude_unset=True, exclude=exclude)


def _write_top_concept(concept: Concept, path: Path) -> None:
    payload = concept_payload(concept, with_gold=True)
    if "labelled_passages" not in payload and path.is_file():
        # gold labels already there stay, even when the concept given now has none
        try:
            existing = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            existing = None
        if isinstance(existing, dict) and existing.get("labelled_passages"):
            payload["labelled_passages"] = existing["labelled_passages"]
    write_json(path, payload)


def _same_file(first: Path, second: Path) -> bool:
    try:
        return second.exists() and os.path.samefile(first, second)
    except OSError:
        return False
