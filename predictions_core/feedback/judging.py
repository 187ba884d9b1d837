"""Recording one judgement: the one code path of the dashboard's controls and the write route.

`POST /api/feedback/{qid}/{classifier_id}` and the ✓/✗/? controls under a passage card both
describe a judgement as a `JudgementBody` (so both refuse the same things in the same words),
and both store it through `record_judgement`, which applies the one rule about who the
reviewer is: a signed-in user (`feedback.signin`) replaces any name typed or sent. The route
finds the passage in the classifier's loaded predictions by id (`find_passage`); the dashboard
passes the passage its card shows. Either way the record keeps the passage's text, spans and
metadata as they were judged.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from predictions_core.errors import InvalidParameterError, NotFoundError, describe_validation_error
from predictions_core.feedback.store import MAX_NOTE_CHARS, MAX_REVIEWER_CHARS, FeedbackStore

MAX_PASSAGE_ID_CHARS = 1_000
_PASSAGE_COLUMNS = ["id", "text", "spans", "metadata"]


class JudgementBody(BaseModel):
    """One judgement as a client sends it (CONTRACT §5): the body of the write route."""

    model_config = ConfigDict(extra="forbid", strict=True)

    passage_id: Annotated[str, Field(min_length=1, max_length=MAX_PASSAGE_ID_CHARS)]
    judgement: Literal["correct", "incorrect", "unsure"]
    note: Annotated[str, Field(max_length=MAX_NOTE_CHARS)] = ""
    reviewer: Annotated[str | None, Field(max_length=MAX_REVIEWER_CHARS)] = None
    # passage ids need only be unique within a document (CONTRACT §2): this picks one
    document_id: Annotated[str | None, Field(max_length=MAX_PASSAGE_ID_CHARS)] = None

    @classmethod
    def parse(cls, value: Any) -> JudgementBody:
        """`value` (decoded JSON) as a judgement, or `InvalidParameterError` naming the field."""
        if not isinstance(value, dict):
            raise InvalidParameterError(
                "body", 'expected a JSON object such as {"passage_id": ..., "judgement": ...}'
            )
        try:
            return cls.model_validate(value)
        except ValidationError as error:
            where, what = describe_validation_error(error)
            raise InvalidParameterError(where, what) from error


def find_passage(
    table: pa.Table, classifier_id: str, passage_id: str, document_id: str | None = None
) -> dict[str, Any]:
    """The LabelledPassage dict (id, text, spans, metadata) of `passage_id` in `table`.

    `NotFoundError` when no row has that id (in that document); `InvalidParameterError` when
    the id is in several documents and no `document_id` says which.
    """
    mask = pc.equal(table["id"], passage_id)
    if document_id is not None:
        mask = pc.and_kleene(mask, pc.equal(table["document_id"], document_id))
    rows = table.filter(mask)
    if rows.num_rows == 0:
        where = f" of document {document_id!r}" if document_id is not None else ""
        raise NotFoundError(
            f"passage {passage_id!r}{where} is not a passage of classifier {classifier_id!r}"
        )
    documents = pc.unique(rows["document_id"]).to_pylist()
    if len(documents) > 1:
        raise InvalidParameterError(
            "document_id",
            f"passage id {passage_id!r} is in {len(documents)} documents; "
            "say which with document_id",
        )
    row = rows.slice(0, 1).select(_PASSAGE_COLUMNS).to_pylist()[0]
    row["metadata"] = orjson.loads(row["metadata"]) if row["metadata"] else {}
    row["spans"] = row["spans"] or []
    return row


def record_judgement(
    feedback: FeedbackStore,
    qid: str,
    classifier_id: str,
    passage: dict[str, Any],
    body: JudgementBody,
    signed_in: str | None = None,
) -> dict[str, Any]:
    """Store `body`'s judgement of `passage`; returns the stored record.

    `signed_in` is the verified signed-in user, or None where reviewers type their name; when
    given, it is the reviewer, whatever the body says.
    """
    reviewer = signed_in if signed_in is not None else body.reviewer
    return feedback.record(
        qid, classifier_id, passage, body.judgement, note=body.note, reviewer=reviewer
    )
