"""Reviewers' judgements of predictions, kept durably in SQLite (CONTRACT §3, §5).

A judgement says whether a classifier's prediction on one passage is right: `correct`,
`incorrect` or `unsure`, with an optional note and reviewer name. Every judgement is kept
(history); the latest one per (concept, classifier, passage, reviewer) is the effective one.
What judgements mean as gold labels is `feedback.gold`'s business.

Storage: one SQLite file (`Settings.resolved_feedback_db`) in WAL mode, one connection per
call, so any number of Streamlit sessions, worker threads and processes can write at once
without losing a judgement, and a restart loses nothing (it is a file). Reading never creates
the file. A call waits for another writer's lock at most `busy_timeout_s` in all (SQLite's
busy handler and our retries together), then fails with a `DataError` that says so.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson

from predictions_core.data.models import LabelledPassage, is_valid_classifier_id, is_valid_qid
from predictions_core.errors import DataError, InvalidParameterError
from predictions_core.feedback.gold import gold_passages

VERDICTS = ("correct", "incorrect", "unsure")
MAX_NOTE_CHARS = 2_000
MAX_REVIEWER_CHARS = 100
DEFAULT_BUSY_TIMEOUT_S = 30.0
_COLUMNS = (
    "id, concept_id, classifier_id, passage_id, passage_text, predicted_spans, "
    "passage_metadata, verdict, note, reviewer, created_at"
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS judgements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    concept_id TEXT NOT NULL,
    classifier_id TEXT NOT NULL,
    passage_id TEXT NOT NULL,
    passage_text TEXT NOT NULL,
    predicted_spans TEXT NOT NULL,
    passage_metadata TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('correct', 'incorrect', 'unsure')),
    note TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS judgements_by_passage
    ON judgements (concept_id, classifier_id, passage_id, reviewer, id);
"""
_T = TypeVar("_T")


class FeedbackStore:
    """Judgements in the SQLite file at `path` (created on the first write).

    `busy_timeout_s` bounds how long one call waits while another writer holds the lock.
    """

    def __init__(self, path: Path | str, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S):
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s

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

        Returns the stored judgement as `list_judgements` shows it. Raises
        `InvalidParameterError` for a bad id, verdict, note or reviewer, and `DataError` when
        the database cannot be written.
        """
        row = _validated_row(qid, classifier_id, passage, verdict, note, reviewer)
        sql = f"INSERT INTO judgements ({_COLUMNS.removeprefix('id, ')}) VALUES ({_marks(10)})"

        def insert(connection: sqlite3.Connection) -> int:
            return int(connection.execute(sql, row).lastrowid)

        judgement_id = self._run(insert, write=True)
        return _judgement_dict((judgement_id, *row))

    # ------------------------------------------------------------------ reading

    def history(self, qid: str, classifier_id: str | None = None) -> list[dict[str, Any]]:
        """Every judgement of a concept (optionally one classifier), oldest first."""
        where, params = _scope(qid, classifier_id)
        sql = f"SELECT {_COLUMNS} FROM judgements WHERE {where} ORDER BY id"
        return [_judgement_dict(row) for row in self._select(sql, params)]

    def list_judgements(self, qid: str, classifier_id: str | None) -> list[dict[str, Any]]:
        """The effective judgements: the latest per (classifier, passage, reviewer), oldest first.

        `classifier_id=None` lists every classifier of the concept.
        """
        where, params = _scope(qid, classifier_id)
        sql = f"""
            SELECT {_COLUMNS} FROM judgements WHERE id IN (
                SELECT max(id) FROM judgements WHERE {where}
                GROUP BY classifier_id, passage_id, reviewer)
            ORDER BY id"""
        return [_judgement_dict(row) for row in self._select(sql, params)]

    def last_judgement_id(self, qid: str) -> int:
        """The id of the concept's latest judgement (0 for none): changes on every new one."""
        rows = self._select("SELECT max(id) FROM judgements WHERE concept_id = ?", [qid])
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

    # ------------------------------------------------------------------ connections

    def _select(self, sql: str, params: list[Any]) -> list[tuple]:
        if not self.path.is_file():
            return []  # reading never creates the database

        def select(connection: sqlite3.Connection) -> list[tuple]:
            try:
                return connection.execute(sql, params).fetchall()
            except sqlite3.OperationalError as error:
                if "no such table" in str(error):
                    return []  # a file another process is creating right now
                raise

        return self._run(select, write=False)

    def _run(self, action: Callable[[sqlite3.Connection], _T], *, write: bool) -> _T:
        """Run `action` on a fresh connection, retrying while another writer holds a lock.

        SQLite's busy handler waits inside a call; a lock can still surface as "locked" (for
        example while another connection switches the journal mode), so the call is retried,
        each attempt getting only what is left of the one deadline.
        """
        deadline = time.monotonic() + self.busy_timeout_s
        pause = 0.01
        while True:
            remaining = max(deadline - time.monotonic(), 0.0)
            try:
                with self._connection(write=write, timeout_s=remaining) as connection:
                    return action(connection)
            except sqlite3.OperationalError as error:
                if "locked" not in str(error):
                    raise DataError(f"feedback database {self.path}: {error}") from error
                if time.monotonic() + pause >= deadline:
                    raise DataError(
                        f"feedback database {self.path} is busy: another writer held its lock "
                        f"for more than {self.busy_timeout_s:g} s; try again ({error})"
                    ) from error
                time.sleep(pause)
                pause = min(pause * 2, 0.5)
            except sqlite3.Error as error:
                raise DataError(f"feedback database {self.path}: {error}") from error

    @contextmanager
    def _connection(self, *, write: bool, timeout_s: float) -> Iterator[sqlite3.Connection]:
        # a connection per call: sqlite3 connections must not be shared between threads
        if write:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DataError(f"cannot create {self.path.parent}: {error}") from error
        connection = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None)
        try:
            if write:
                # WAL: readers never block the writer; the mode is stored in the file
                connection.execute("PRAGMA journal_mode = WAL")
                connection.executescript(_SCHEMA)
            yield connection
        finally:
            connection.close()


# ---------------------------------------------------------------------- rows


def _validated_row(
    qid: str,
    classifier_id: str,
    passage: dict[str, Any],
    verdict: str,
    note: str,
    reviewer: str | None,
) -> tuple:
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
    created_at = datetime.now(UTC).isoformat(timespec="microseconds")
    metadata = passage.get("metadata") or {}
    return (
        qid,
        classifier_id,
        passage_id,
        text,
        orjson.dumps(spans).decode(),
        orjson.dumps(metadata, default=str).decode(),
        verdict,
        note,
        reviewer,
        created_at,
    )


def _judgement_dict(row: tuple) -> dict[str, Any]:
    judgement = dict(zip([name.strip() for name in _COLUMNS.split(",")], row, strict=True))
    judgement["judgement_id"] = judgement.pop("id")
    judgement["predicted_spans"] = orjson.loads(judgement["predicted_spans"])
    judgement["passage_metadata"] = orjson.loads(judgement["passage_metadata"])
    judgement["reviewer"] = judgement["reviewer"] or None
    return judgement


def _scope(qid: str, classifier_id: str | None) -> tuple[str, list[str]]:
    if classifier_id is None:
        return "concept_id = ?", [qid]
    return "concept_id = ? AND classifier_id = ?", [qid, classifier_id]


def _marks(count: int) -> str:
    return ", ".join("?" * count)
