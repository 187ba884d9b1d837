"""Reviewers' judgements of predictions, kept durably in SQLite or PostgreSQL (CONTRACT §3, §5).

A judgement says whether a classifier's prediction on one passage is right: `correct`,
`incorrect` or `unsure`, with an optional note and reviewer name. Every judgement is kept
(history); the latest one (by time) per (concept, classifier, passage, reviewer) is the
effective one. What judgements mean as gold labels is `feedback.gold`'s business.

Storage: `PREDICTIONS_FEEDBACK_DB` is a SQLite file (WAL mode, created on the first write;
reading never creates it) or a `postgresql://` URL. One code path, SQLAlchemy Core, over the
process's one pooled engine per database (`feedback.engines`, which also migrates the schema on
first use). Each write is one transaction; a SQLite write takes the write lock at once and waits
for another writer at most `busy_timeout_s` in all (SQLite's busy handler and our retries
together), then fails with `FeedbackUnavailableError` (a `DataError`) that says so; so does an
unreachable PostgreSQL server, with the URL shown without its password.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from predictions_core.data.models import LabelledPassage, is_valid_classifier_id, is_valid_qid
from predictions_core.errors import DataError, InvalidParameterError
from predictions_core.feedback.engines import (
    FeedbackDatabase,
    FeedbackUnavailableError,
    is_postgres_target,
    postgres_url,
)
from predictions_core.feedback.gold import gold_passages
from predictions_core.feedback.schema import RECORD_COLUMNS, SHOWN_COLUMNS, judgements

__all__ = ["VERDICTS", "FeedbackStore", "FeedbackUnavailableError"]

VERDICTS = ("correct", "incorrect", "unsure")
MAX_NOTE_CHARS = 2_000
MAX_REVIEWER_CHARS = 100
DEFAULT_BUSY_TIMEOUT_S = 30.0
IMPORT_BATCH_ROWS = 500
# PostgreSQL's "try again" states: serialization failure, deadlock detected, lock not available
# (our lock_timeout), statement cancelled (our statement_timeout)
_RETRY_SQLSTATES = {"40001", "40P01", "55P03", "57014"}
_T = TypeVar("_T")


class FeedbackStore:
    """Judgements in the database `target`: a SQLite file path or a `postgresql://` URL.

    Cheap to make (one per request or page run is fine): the engine and the migration state
    belong to the process (`FeedbackDatabase.of`). `busy_timeout_s` bounds how long one call
    waits for another writer's lock (SQLite) or retries a conflict (PostgreSQL).
    """

    def __init__(self, target: Path | str, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S):
        self.target: Path | str = target if is_postgres_target(target) else Path(target)
        self.kind = "postgresql" if is_postgres_target(target) else "sqlite"
        self.busy_timeout_s = busy_timeout_s

    @property
    def path(self) -> Path | None:
        """The SQLite file (None on PostgreSQL)."""
        return self.target if isinstance(self.target, Path) else None

    @property
    def description(self) -> str:
        """The database as messages name it: file name, or URL without its password."""
        from predictions_core.feedback.engines import describe_target

        return describe_target(self.target)

    # ------------------------------------------------------------------ writing

    def record(
        self,
        qid: str,
        classifier_id: str,
        passage: dict[str, Any],
        verdict: str,
        note: str = "",
        reviewer: str | None = None,
    ) -> dict[str, Any]:
        """Store one judgement of `passage` (a LabelledPassage dict: id, text, spans, metadata).

        Returns the stored judgement as `list_judgements` shows it, once it is committed.
        Raises `InvalidParameterError` for a bad id, verdict, note or reviewer,
        `FeedbackUnavailableError` when the database cannot be reached or stays locked, and
        `DataError` when it cannot be written.
        """
        row = _validated_row(qid, classifier_id, passage, verdict, note, reviewer)

        def insert(connection: Connection) -> int:
            result = connection.execute(judgements.insert().values(row))
            return int(result.inserted_primary_key[0])

        judgement_id = self._run(insert, write=True)
        return _judgement_dict({"id": judgement_id, **row})

    def add_records(self, records: Iterable[dict[str, Any]]) -> int:
        """Add exported judgements (`RECORD_COLUMNS` each, JSON fields as text); returns how
        many were new. A judgement whose `uid` is already stored is skipped, so importing the
        same records twice adds nothing. Each batch is one transaction.
        """
        added, batch = 0, []
        for record in records:
            batch.append(record)
            if len(batch) == IMPORT_BATCH_ROWS:
                added += self._insert_new(batch)
                batch = []
        return added + (self._insert_new(batch) if batch else 0)

    def _insert_new(self, rows: list[dict[str, Any]]) -> int:
        dialect = postgresql if self.kind == "postgresql" else sqlite
        statement = (
            dialect.insert(judgements)
            .on_conflict_do_nothing(index_elements=["uid"])
            .returning(judgements.c.id)
        )

        def insert(connection: Connection) -> int:
            return len(connection.execute(statement, rows).all())

        return self._run(insert, write=True)

    # ------------------------------------------------------------------ reading

    def history(self, qid: str, classifier_id: str | None = None) -> list[dict[str, Any]]:
        """Every judgement of a concept (optionally one classifier), oldest first."""
        query = (
            sa.select(*_shown(judgements))
            .where(*_scope(qid, classifier_id))
            .order_by(judgements.c.created_at, judgements.c.id)
        )
        return [_judgement_dict(row) for row in self._select(query)]

    def list_judgements(self, qid: str, classifier_id: str | None) -> list[dict[str, Any]]:
        """The effective judgements: the latest per (classifier, passage, reviewer), oldest first.

        `classifier_id=None` lists every classifier of the concept. One query.
        """
        table = judgements.c
        rank = (
            sa.func.row_number()
            .over(
                partition_by=(table.classifier_id, table.passage_id, table.reviewer),
                order_by=(table.created_at.desc(), table.id.desc()),
            )
            .label("rank")
        )
        ranked = sa.select(*_shown(judgements), rank).where(*_scope(qid, classifier_id))
        latest = ranked.subquery()
        query = (
            sa.select(*_shown(latest))
            .where(latest.c.rank == 1)
            .order_by(latest.c.created_at, latest.c.id)
        )
        return [_judgement_dict(row) for row in self._select(query)]

    def last_judgement_id(self, qid: str) -> int:
        """The id of the concept's latest judgement (0 for none): changes on every new one."""
        query = sa.select(sa.func.max(judgements.c.id)).where(judgements.c.concept_id == qid)
        rows = self._select(query)
        return int(rows[0][0] or 0) if rows else 0

    def judgements_by_passage(
        self, qid: str, classifier_id: str
    ) -> dict[str, list[dict[str, Any]]]:
        """The effective judgements of one classifier's passages, by passage id (one query).

        Each passage's list holds one judgement per reviewer, oldest first.
        """
        by_passage: dict[str, list[dict[str, Any]]] = {}
        for judgement in self.list_judgements(qid, classifier_id):
            by_passage.setdefault(judgement["passage_id"], []).append(judgement)
        return by_passage

    def labelled_passages(
        self, qid: str, classifier_id: str | None = None
    ) -> list[LabelledPassage]:
        """The judged passages as gold LabelledPassages (rules: `feedback.gold`).

        One passage per (classifier, passage id); passages judged only `unsure` are left out.
        """
        return gold_passages(qid, self.list_judgements(qid, classifier_id))

    def export_jsonl(self, qid: str, classifier_id: str | None) -> Iterator[bytes]:
        """`labelled_passages` as JSON lines, each readable by `LabelledPassage`."""
        for passage in self.labelled_passages(qid, classifier_id):
            yield orjson.dumps(passage.model_dump(mode="json"), option=orjson.OPT_APPEND_NEWLINE)

    def all_records(self) -> list[dict[str, Any]]:
        """Every judgement of every concept (`RECORD_COLUMNS`, JSON fields as text), oldest
        first: what `predictions feedback export` writes.
        """
        columns = [judgements.c[name] for name in RECORD_COLUMNS]
        query = sa.select(*columns).order_by(judgements.c.created_at, judgements.c.id)
        return [dict(zip(RECORD_COLUMNS, row, strict=True)) for row in self._select(query)]

    def check(self) -> dict[str, Any]:
        """A cheap health check: `{"kind": "sqlite"|"postgresql", "ok": bool, "error"?: str}`.

        A SQLite file not made yet is fine (the first judgement makes it); the error never
        holds a password or a server path.
        """
        report: dict[str, Any] = {"kind": self.kind, "ok": True}
        try:
            self._select(sa.select(sa.literal(1)))
        except DataError as error:
            report.update(ok=False, error=error.message)
        return report

    # ------------------------------------------------------------------ connections

    def _select(self, query: sa.Select) -> list[Any]:
        if self.path is not None and not self.path.is_file():
            return []  # reading never creates the database
        return self._run(lambda connection: list(connection.execute(query)), write=False)

    def _run(self, action: Callable[[Connection], _T], *, write: bool) -> _T:
        """Run `action` in one transaction, retrying while another writer holds a lock.

        SQLite's busy handler waits inside a call; a lock can still surface as "locked" (for
        example while another connection switches the journal mode), so the transaction is
        retried, each attempt getting only what is left of the one deadline.
        """
        deadline = time.monotonic() + self.busy_timeout_s
        pause = 0.01
        while True:
            remaining_ms = max(int((deadline - time.monotonic()) * 1000), 1)
            try:
                return self._attempt(action, write=write, timeout_ms=remaining_ms)
            except DBAPIError as error:
                if not self._retryable(error):
                    raise self._translated(error) from error
                if time.monotonic() + pause >= deadline:
                    raise FeedbackUnavailableError(
                        f"the feedback database ({self.description}) is busy: another writer "
                        f"held its lock for more than {self.busy_timeout_s:g} s; try again "
                        f"({_reason(error, self.target)})"
                    ) from error
                time.sleep(pause)
                pause = min(pause * 2, 0.5)
            except SQLAlchemyError as error:
                raise DataError(
                    f"feedback database ({self.description}): {_reason(error, self.target)}"
                ) from error

    def _attempt(self, action: Callable[[Connection], _T], *, write: bool, timeout_ms: int) -> _T:
        if write and self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DataError(
                    f"cannot create the folder of the feedback database: {error.strerror}"
                ) from error
        database = FeedbackDatabase.of(self.target)
        database.ensure_schema(timeout_ms)
        options = {"write": write, "busy_timeout_ms": timeout_ms}
        with database.engine.execution_options(**options).begin() as connection:
            if self.kind == "postgresql":
                # bounded waits, like SQLite's busy timeout: a held lock is an error, not a hang
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = {timeout_ms}")
                connection.exec_driver_sql(f"SET LOCAL statement_timeout = {timeout_ms}")
            return action(connection)

    def _retryable(self, error: DBAPIError) -> bool:
        if self.kind == "sqlite":
            return "locked" in str(error.orig) or "busy" in str(error.orig)
        return getattr(error.orig, "sqlstate", None) in _RETRY_SQLSTATES

    def _translated(self, error: DBAPIError) -> DataError:
        reason = _reason(error, self.target)
        if self.kind == "postgresql" and (
            error.connection_invalidated or isinstance(error, sa.exc.OperationalError)
        ):
            return FeedbackUnavailableError(
                f"the feedback database ({self.description}) cannot be reached: {reason}"
            )
        return DataError(f"feedback database ({self.description}): {reason}")


def _reason(error: Exception, target: Path | str) -> str:
    """The driver's own message, first line, with no password or server path in it."""
    original = getattr(error, "orig", None) or error
    reason = (str(original).strip().splitlines() or ["unknown error"])[0]
    if is_postgres_target(target):
        password = postgres_url(str(target)).password
        if password:
            reason = reason.replace(str(password), "***")
    else:
        reason = reason.replace(str(Path(target).parent), "…")
    return reason


def _shown(table: sa.Table | sa.Subquery) -> list[sa.ColumnElement]:
    return [table.c[name] for name in SHOWN_COLUMNS]


# ---------------------------------------------------------------------- rows


def _validated_row(
    qid: str,
    classifier_id: str,
    passage: dict[str, Any],
    verdict: str,
    note: str,
    reviewer: str | None,
) -> dict[str, Any]:
    """The row to insert (without its id), or `InvalidParameterError` naming what is wrong."""
    if not isinstance(qid, str) or not is_valid_qid(qid):
        raise InvalidParameterError("concept", f"{qid!r} is not a concept id (Q + digits)")
    if not isinstance(classifier_id, str) or not is_valid_classifier_id(classifier_id):
        raise InvalidParameterError("classifier", f"{classifier_id!r} is not a classifier id")
    if verdict not in VERDICTS:
        raise InvalidParameterError("verdict", f"{verdict!r} is not one of {', '.join(VERDICTS)}")
    passage_id, text = passage.get("id"), passage.get("text")
    if not isinstance(passage_id, str) or not passage_id or not isinstance(text, str):
        raise InvalidParameterError("passage", "a passage needs a non-empty id and a text")
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidParameterError("note", f"at most {MAX_NOTE_CHARS} characters")
    reviewer = (reviewer or "").strip()
    if len(reviewer) > MAX_REVIEWER_CHARS:
        raise InvalidParameterError("reviewer", f"at most {MAX_REVIEWER_CHARS} characters")
    spans = [
        {key: span.get(key) for key in ("start_index", "end_index", "concept_id")}
        for span in passage.get("spans") or []
    ]
    return {
        "uid": str(uuid.uuid4()),
        "concept_id": qid,
        "classifier_id": classifier_id,
        "passage_id": passage_id,
        "passage_text": text,
        "predicted_spans": orjson.dumps(spans).decode(),
        "passage_metadata": orjson.dumps(passage.get("metadata") or {}, default=str).decode(),
        "verdict": verdict,
        "note": note,
        "reviewer": reviewer,
        "created_at": datetime.now(UTC).isoformat(timespec="microseconds"),
    }


def _judgement_dict(row: Any) -> dict[str, Any]:
    """A stored row (or the inserted values) as `list_judgements` shows it."""
    values = row if isinstance(row, dict) else row._mapping
    judgement = {name: values[name] for name in SHOWN_COLUMNS}
    judgement["judgement_id"] = int(judgement.pop("id"))
    judgement["predicted_spans"] = orjson.loads(judgement["predicted_spans"])
    judgement["passage_metadata"] = orjson.loads(judgement["passage_metadata"])
    judgement["reviewer"] = judgement["reviewer"] or None
    return judgement


def _scope(qid: str, classifier_id: str | None) -> list[sa.ColumnElement[bool]]:
    where = [judgements.c.concept_id == qid]
    if classifier_id is not None:
        where.append(judgements.c.classifier_id == classifier_id)
    return where
