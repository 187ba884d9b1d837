"""`predictions predict`: run candidate classifiers over a passages file, write CONTRACT §2.

Input: JSONL, Parquet or Feather with a `text_block.text` (or `text`) column; every other
column becomes metadata. Output, per classifier, in the per-classifier layout:

    {QID}/{classifier_id}/predictions.jsonl   every passage, with `spans: []` for negatives
    {QID}/{classifier_id}/classifier.json     id, name, date, kind, parameters, concept_id
    {QID}/{classifier_id}/concept.json        the concept at inference time (no gold labels)
    {QID}/concept.json                        the concept, with its gold labels if it has any

Every file is written to a temp file beside it and moved into place, so a reader never sees
half a file. `predict_concept` is the Python API; `run_predict_command` is the CLI.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import orjson
from pydantic import ValidationError
from tqdm import tqdm

from predictions_core.data.issues import LoadIssue
from predictions_core.data.location import app_settings
from predictions_core.data.models import Concept, is_valid_qid
from predictions_core.errors import (
    DataError,
    InvalidParameterError,
    NotFoundError,
    PredictionsError,
    SyncError,
)
from predictions_core.predict.classifiers import ConceptClassifier, build_classifier, resolve_kinds
from predictions_core.settings import DEFAULT_DATA_DIR, Settings

TEXT_COLUMNS = ("text_block.text", "text")
_CHUNK_SIZE = 2_000
_PROGRESS_MIN_PASSAGES = 5_000
_MAX_ISSUES_SHOWN = 20
_JSON_FILE = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE


@dataclass(frozen=True, slots=True)
class Passage:
    """One passage to classify: its id, its text and every other column of its row."""

    id: str
    text: str
    metadata: dict[str, Any]


@dataclass
class PassagesFile:
    """The passages read from a file, and the rows that were skipped (with line numbers)."""

    path: Path
    passages: list[Passage]
    issues: list[LoadIssue] = field(default_factory=list)


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


# --------------------------------------------------------------------------- reading passages


def read_passages(path: Path) -> PassagesFile:
    """Read a JSONL, Parquet or Feather passages file (the format is sniffed from its bytes).

    Unusable rows are skipped and reported in `issues`; a file that cannot be read at all,
    or that holds no usable passage, raises `DataError` (`NotFoundError` when it is missing).
    """
    if not path.is_file():
        raise NotFoundError(f"passages file not found: {path}")
    try:
        with path.open("rb") as source:
            magic = source.read(6)
        if magic[:4] == b"PAR1":
            passages_file = _read_table(path, "Parquet")
        elif magic == b"ARROW1" or magic[:4] == b"FEA1":
            passages_file = _read_table(path, "Feather")
        else:
            passages_file = _read_jsonl(path)
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror or error}") from error
    if not passages_file.passages:
        problems = "; ".join(issue.describe() for issue in passages_file.issues[:3])
        raise DataError(
            f"no passage with text in {path} (need a {' or '.join(TEXT_COLUMNS)} column)"
            + (f": {problems}" if problems else "")
        )
    _report_duplicate_ids(passages_file)
    return passages_file


def _read_jsonl(path: Path) -> PassagesFile:
    passages_file = PassagesFile(path=path, passages=[])
    with path.open("rb") as source:
        for line_number, raw in enumerate(source, start=1):
            if line_number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")  # a BOM from Windows editors
            if not raw.strip():
                continue
            try:
                row = orjson.loads(raw)
            except orjson.JSONDecodeError as error:
                passages_file.issues.append(
                    LoadIssue(str(path), line_number, f"malformed JSON ({error.msg})")
                )
                continue
            _add_row(passages_file, row, line_number)
    return passages_file


def _read_table(path: Path, format_name: str) -> PassagesFile:
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as parquet

    try:
        table = parquet.read_table(path) if format_name == "Parquet" else feather.read_table(path)
    except (OSError, pa.ArrowException) as error:
        raise DataError(f"cannot read {path} as {format_name}: {error}") from error
    # struct columns (`text_block: {text, ...}`) become the dotted columns upstream writes
    while any(pa.types.is_struct(column.type) for column in table.schema):
        table = table.flatten()
    passages_file = PassagesFile(path=path, passages=[])
    for row_number, row in enumerate(table.to_pylist(), start=1):
        _add_row(passages_file, row, row_number)
    return passages_file


def _add_row(passages_file: PassagesFile, row: object, row_number: int) -> None:
    if not isinstance(row, dict):
        issue = LoadIssue(str(passages_file.path), row_number, "not a JSON object")
        passages_file.issues.append(issue)
        return
    row = _flatten(row)
    text_column = next((name for name in TEXT_COLUMNS if name in row), None)
    text = row.get(text_column) if text_column else None
    if not isinstance(text, str):
        problem = "no text (need a text_block.text or text column)"
        if text_column and text is not None:
            problem = f"{text_column} is not a string"
        passages_file.issues.append(LoadIssue(str(passages_file.path), row_number, problem))
        return
    passage_id = _passage_id(row, row_number)
    metadata = {
        key: _metadata_value(value)
        for key, value in row.items()
        if key not in (text_column, "id") and not _is_null(value)
    }
    passages_file.passages.append(Passage(passage_id, text, metadata))


def _flatten(row: dict, prefix: str = "") -> dict:
    if not any(isinstance(value, dict) for value in row.values()):
        return {f"{prefix}{key}": value for key, value in row.items()} if prefix else row
    flat: dict = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _passage_id(row: dict, row_number: int) -> str:
    """`id` if present, else `{document_id}.{text_block.text_block_id}`, else the row number."""
    if not _is_null(row.get("id")):
        return str(row["id"])
    document_id, block_id = row.get("document_id"), row.get("text_block.text_block_id")
    if not _is_null(document_id) and not _is_null(block_id):
        return f"{document_id}.{block_id}"
    return str(row_number)


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _metadata_value(value: object) -> object:
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list | tuple):
        return [_metadata_value(item) for item in value if not _is_null(item)]
    return str(value)


def _report_duplicate_ids(passages_file: PassagesFile) -> None:
    n_unique = len({passage.id for passage in passages_file.passages})
    n_repeated = len(passages_file.passages) - n_unique
    if n_repeated:
        message = f"{n_repeated} passages repeat the id of an earlier passage (kept as they are)"
        passages_file.issues.append(LoadIssue(str(passages_file.path), None, message))


# --------------------------------------------------------------------------- the concept


def load_concept(qid: str, concept_path: Path | None, data_dir: Path) -> tuple[Concept, Path]:
    """The concept `qid` and the file it came from: `concept_path`, else found in `data_dir`."""
    if not is_valid_qid(qid):
        raise InvalidParameterError("QID", f"{qid!r} is not a concept id (Q followed by digits)")
    if concept_path is None:
        candidates = [data_dir / qid / "concept.json", data_dir / "concepts" / f"{qid}.json"]
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
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise DataError(f"{concept_path} is not a concept: {where}: {first['msg']}") from error


# --------------------------------------------------------------------------- predicting


def predict_concept(
    concept: Concept,
    passages: Sequence[Passage],
    classifier_kinds: Sequence[str] | None,
    out_dir: Path,
    *,
    now: datetime | None = None,
    concept_source: Path | None = None,
) -> list[PredictionRun]:
    """Run each classifier kind over `passages` and write its folder under `out_dir/{QID}`.

    `now` stamps spans and classifier dates (fixed by the demo so its files never change).
    `concept_source` is the file the concept was read from: `{QID}/concept.json` is not
    rewritten when it is that file.
    """
    now = now or datetime.now(UTC)
    kinds = resolve_kinds(classifier_kinds)
    concept_dir = out_dir / concept.wikibase_id
    runs = []
    for kind in kinds:
        classifier = build_classifier(kind, concept)
        runs.append(_run_classifier(classifier, passages, concept_dir / classifier.id, now))
    top_concept_path = concept_dir / "concept.json"
    if concept_source is None or not _same_file(concept_source, top_concept_path):
        _write_top_concept(concept, top_concept_path)
        runs[-1].written.append(top_concept_path)
    return runs


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


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[bytes]]:
    """A binary file that appears at `path` only once it is complete (temp file + os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as sink:
            yield sink
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_json(path: Path, payload: object) -> None:
    """Write `payload` as indented JSON, atomically."""
    with atomic_writer(path) as sink:
        sink.write(orjson.dumps(payload, option=_JSON_FILE))


# --------------------------------------------------------------------------- the command


def run_predict_command(args: argparse.Namespace) -> int:
    """`predictions predict QID --passages FILE ...`; returns the exit code."""
    settings = app_settings()
    # never write a user's predictions into the bundled demo data the settings fell back to
    out_dir = args.out or (DEFAULT_DATA_DIR if settings.data_dir_is_demo else settings.data_dir)
    kinds = resolve_kinds(args.classifiers)
    if args.save_to_s3 and not settings.s3_bucket:
        raise PredictionsError("--save-to-s3 needs a bucket: set PREDICTIONS_S3_BUCKET")
    concept, concept_path = load_concept(args.qid, args.concept, out_dir)
    passages_file = read_passages(args.passages)
    _print_issues(passages_file.issues)
    try:
        runs = predict_concept(
            concept, passages_file.passages, kinds, out_dir, concept_source=concept_path
        )
    except OSError as error:
        raise PredictionsError(f"cannot write predictions into {out_dir}: {error}") from error
    _print_summary(concept, passages_file, runs, out_dir)
    if args.save_to_s3:
        _upload(runs, out_dir, settings)
    return 0


def _print_issues(issues: list[LoadIssue]) -> None:
    for issue in issues[:_MAX_ISSUES_SHOWN]:
        print(f"warning: skipped {issue.describe()}", file=sys.stderr)
    if len(issues) > _MAX_ISSUES_SHOWN:
        print(f"warning: ... and {len(issues) - _MAX_ISSUES_SHOWN} more", file=sys.stderr)


def _print_summary(
    concept: Concept, passages_file: PassagesFile, runs: list[PredictionRun], out_dir: Path
) -> None:
    print(
        f"{concept.wikibase_id} ({concept.preferred_label}): {len(passages_file.passages)} "
        f"passages from {passages_file.path}, written to {out_dir / concept.wikibase_id}"
    )
    print(
        f"  {'classifier':<10} {'kind':<14} {'positives / total':>20} {'spans':>8} {'seconds':>8}"
    )
    for run in runs:
        share = f"{run.n_positives} / {run.n_passages}"
        print(
            f"  {run.classifier_id:<10} {run.kind:<14} {share:>20} {run.n_spans:>8} "
            f"{run.seconds:>8.2f}   {run.classifier_name}"
        )


def _upload(runs: list[PredictionRun], out_dir: Path, settings: Settings) -> None:
    """Upload the files this run wrote (and nothing else of the concept's folder)."""
    from predictions_core.sync.s3 import upload_directory
    from predictions_core.sync.state import normalise_prefix

    concept_id = runs[0].concept_id
    concept_dir = out_dir / concept_id
    prefix = normalise_prefix(settings.s3_prefix) + concept_id
    report = upload_directory(
        local_dir=concept_dir,
        bucket=settings.s3_bucket,
        prefix=prefix,
        session=None,
        exclude_paths=_paths_not_written(concept_dir, [p for run in runs for p in run.written]),
    )
    if not report.ok:
        problems = (
            [report.error] if report.error else [f"{f.key}: {f.reason}" for f in report.failed]
        )
        raise SyncError(
            f"upload to s3://{settings.s3_bucket}/{prefix}/ failed: " + "; ".join(problems)
        )
    print(f"uploaded {len(report.uploaded)} files to s3://{settings.s3_bucket}/{prefix}/")


def _paths_not_written(concept_dir: Path, written: list[Path]) -> list[Path]:
    """Everything in `concept_dir` that this run did not write: other classifiers, stray files."""
    written_files = {path.resolve() for path in written}
    written_folders = {path.parent for path in written_files}
    excluded: list[Path] = []
    for child in concept_dir.resolve().iterdir():
        if child in written_folders:
            excluded += [path for path in child.iterdir() if path not in written_files]
        elif child not in written_files:
            excluded.append(child)
    return excluded
