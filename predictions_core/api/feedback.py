"""`POST /api/feedback/{qid}/{classifier_id}`: record one judgement (CONTRACT §5).

The body is `{"passage_id", "judgement", "note"?, "reviewer"?, "document_id"?}`, read with a
size bound before anything else. Checks run from the cheapest refusal to the write:

1. sign-in, when `PREDICTIONS_REVIEWER_FROM_ALB` is on (401 for a token not to be trusted);
2. the concept and classifier exist (404);
3. the body is a valid judgement (400; 413 when over `MAX_BODY_BYTES`);
4. the passage is one of the classifier's (404);
5. the write itself (503 when the feedback database is unavailable).

The judgement is stored by `feedback.judging.record_judgement`, the function the dashboard's
controls call too. Every refusal is `{"error": ...}`; nothing reaches a 500.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from predictions_core.api.responses import error_response, json_response
from predictions_core.data.store import PredictionStore
from predictions_core.errors import DataError, InvalidParameterError, PredictionsError
from predictions_core.feedback.judging import JudgementBody, find_passage, record_judgement
from predictions_core.feedback.signin import OIDC_DATA_HEADER, signed_in_reviewer
from predictions_core.feedback.store import FeedbackStore
from predictions_core.settings import Settings

MAX_BODY_BYTES = 64 * 1024
_log = logging.getLogger(__name__)

OPENAPI_FEEDBACK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": JudgementBody.model_json_schema()}},
    },
    "responses": {
        "201": {"description": "The stored judgement"},
        "400": {"description": 'A body that is not a valid judgement: `{"error": ...}`'},
        "401": {"description": "Signed-in reviewers are on and the sign-in is not valid"},
        "404": {"description": "Unknown concept, classifier or passage"},
        "413": {"description": f"A body over {MAX_BODY_BYTES} bytes"},
        "503": {"description": "The feedback database is unavailable: try again"},
    },
}


class BodyTooLargeError(PredictionsError):
    """A request body over `MAX_BODY_BYTES` (HTTP 413)."""

    http_status = 413


def feedback_store_for(settings: Settings) -> FeedbackStore:
    """The feedback database the settings name (`PREDICTIONS_FEEDBACK_DB`)."""
    return FeedbackStore(settings.resolved_feedback_db)


async def post_feedback(
    qid: str, classifier_id: str, request: Request, store: PredictionStore
) -> Response:
    """Record one judgement of a classifier's passage; 201 with the stored record."""
    raw = await read_bounded_body(request, MAX_BODY_BYTES)
    token = request.headers.get(OIDC_DATA_HEADER)
    return await run_in_threadpool(_record, qid, classifier_id, raw, token, store)


async def read_bounded_body(request: Request, limit: int) -> bytes:
    """The request body, or `BodyTooLargeError` as soon as it exceeds `limit` bytes.

    A declared `Content-Length` over the limit is refused before reading; a chunked body is
    read only up to the limit, so a huge upload costs at most `limit` bytes of memory.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(f"the request body is over {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(f"the request body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _record(
    qid: str, classifier_id: str, raw: bytes, token: str | None, store: PredictionStore
) -> Response:
    settings = store.settings
    signed_in = signed_in_reviewer(token, settings) if settings.reviewer_from_alb else None
    classifier = store.catalogue().classifier(qid, classifier_id)  # 404 for unknown ids
    body = JudgementBody.parse(_json_of(raw))
    table = store.load_entry(classifier).table
    passage = find_passage(table, classifier_id, body.passage_id, body.document_id)
    try:
        stored = record_judgement(
            feedback_store_for(settings), qid, classifier_id, passage, body, signed_in
        )
    except DataError as error:
        # the detail (a host, a lock) is for the server's log; the client learns what to do
        _log.warning("judgement not saved: %s", error.message)
        return error_response(
            503,
            "the feedback database is unavailable: the judgement was not saved; try again",
            headers={"Retry-After": "5"},
        )
    return json_response(stored, 201)


def _json_of(raw: bytes) -> Any:
    if not raw.strip():
        raise InvalidParameterError(
            "body", "empty: send a JSON object with passage_id and judgement"
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidParameterError("body", f"not valid JSON ({error.msg})") from None
