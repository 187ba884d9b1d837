"""Judgements as JSON lines, to back up or move between stores (`predictions feedback export /
import`, CONTRACT §4).

One line per judgement, history included, in the order they were made:

    {"uid", "concept_id", "classifier_id", "passage_id", "passage_text", "predicted_spans": [...],
     "passage_metadata": {...}, "verdict", "note", "reviewer": "ann" | null, "created_at"}

Lossless: importing an exported file into an empty store of either kind (SQLite, PostgreSQL)
gives back the same judgements (only the databases' own row ids differ). `uid` is the
judgement's stable id: a judgement already stored is skipped, so an import is idempotent. A line
without a `uid` (written by hand or another tool) gets one derived from its content, so importing
it twice still adds it once. Bad lines are skipped and reported with their file and line number.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from predictions_core.data.models import is_valid_classifier_id, is_valid_qid
from predictions_core.errors import DataError, describe_validation_error
from predictions_core.feedback.schema import RECORD_COLUMNS
from predictions_core.feedback.store import (
    MAX_NOTE_CHARS,
    MAX_REVIEWER_CHARS,
    VERDICTS,
    FeedbackStore,
)

# a fixed namespace: the uid of a line without one depends on its content only
_CONTENT_NAMESPACE = uuid.UUID("5d1f0b9e-53a4-4a55-9d55-0c6f3e0f6a21")


class ExportedJudgement(BaseModel):
    """One line of an export file, checked as strictly as `FeedbackStore.record` checks."""

    model_config = ConfigDict(extra="ignore")

    uid: str | None = Field(None, min_length=1, max_length=64)
    concept_id: str
    classifier_id: str
    passage_id: str = Field(min_length=1)
    passage_text: str
    predicted_spans: list[dict[str, Any]]
    passage_metadata: dict[str, Any]
    verdict: str
    note: str = Field("", max_length=MAX_NOTE_CHARS)
    reviewer: str | None = Field(None, max_length=MAX_REVIEWER_CHARS)
    created_at: datetime

    @field_validator("concept_id")
    @classmethod
    def _qid(cls, value: str) -> str:
        if not is_valid_qid(value):
            raise ValueError("not a concept id (Q + digits)")
        return value

    @field_validator("classifier_id")
    @classmethod
    def _classifier(cls, value: str) -> str:
        if not is_valid_classifier_id(value):
            raise ValueError("not a classifier id")
        return value

    @field_validator("verdict")
    @classmethod
    def _verdict(cls, value: str) -> str:
        if value not in VERDICTS:
            raise ValueError(f"not one of {', '.join(VERDICTS)}")
        return value

    def as_row(self) -> dict[str, Any]:
        """The row to store: JSON fields as text, the time as the store writes it (ISO UTC)."""
        moment = self.created_at if self.created_at.tzinfo else self.created_at.replace(tzinfo=UTC)
        row = {
            "concept_id": self.concept_id,
            "classifier_id": self.classifier_id,
            "passage_id": self.passage_id,
            "passage_text": self.passage_text,
            "predicted_spans": orjson.dumps(self.predicted_spans).decode(),
            "passage_metadata": orjson.dumps(self.passage_metadata, default=str).decode(),
            "verdict": self.verdict,
            "note": self.note,
            "reviewer": self.reviewer or "",
            "created_at": moment.astimezone(UTC).isoformat(timespec="microseconds"),
        }
        row["uid"] = self.uid or _content_uid(row)
        return row


@dataclass
class ImportReport:
    """What an import did: judgements read, how many were new, and the lines skipped."""

    source: str
    read: int = 0
    added: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def already_there(self) -> int:
        """Judgements of the file the store held already (skipped: the import is idempotent)."""
        return self.read - self.added


def export_lines(store: FeedbackStore) -> Iterator[bytes]:
    """Every judgement of `store` as a JSON line, oldest first."""
    for record in store.all_records():
        line = dict(record)
        line["predicted_spans"] = orjson.loads(record["predicted_spans"])
        line["passage_metadata"] = orjson.loads(record["passage_metadata"])
        line["reviewer"] = record["reviewer"] or None
        yield orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)


def import_file(store: FeedbackStore, path: Path) -> ImportReport:
    """Add the judgements of the export file `path` to `store`; bad lines are skipped and
    reported as `file:line: what is wrong`. Raises `DataError` when the file cannot be read.
    """
    try:
        with path.open("rb") as handle:
            report, rows = read_lines(handle, path.name)
    except OSError as error:
        raise DataError(f"cannot read {path.name}: {error.strerror or error}") from error
    # oldest first, so that row ids follow time in the receiving store as they did in the source
    rows.sort(key=lambda row: (row["created_at"], row["uid"]))
    report.added = store.add_records(rows)
    return report


def read_lines(lines: Iterable[bytes], source: str) -> tuple[ImportReport, list[dict[str, Any]]]:
    """Parse export lines: the report (problems by line) and the rows to store, one per uid."""
    report, rows = ImportReport(source), {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            row = ExportedJudgement.model_validate(orjson.loads(raw)).as_row()
        except orjson.JSONDecodeError as error:
            report.problems.append(f"{source}:{number}: not JSON ({error.msg})")
            continue
        except ValidationError as error:
            where, what = describe_validation_error(error)
            report.problems.append(f"{source}:{number}: {where}: {what}")
            continue
        rows[row["uid"]] = row  # the same judgement twice in one file is one judgement
    report.read = len(rows)
    return report, list(rows.values())


def _content_uid(row: dict[str, Any]) -> str:
    key = "\x1f".join(str(row[name]) for name in RECORD_COLUMNS if name != "uid")
    return str(uuid.uuid5(_CONTENT_NAMESPACE, key))
