"""The response side of the HTTP routes: one error shape, JSON bodies, streamed bodies.

Every non-2xx answer of `/api/...` is `{"error": "..."}` (plus `"parameter"` for a bad
parameter), whatever raised it: our own `PredictionsError`s, FastAPI's request validation,
Starlette's 404/405, or a bug (500, logged by the server, never shown to the client).
"""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from predictions_core.errors import (
    InvalidParameterError,
    PredictionsError,
    describe_validation_error,
)

JSON_MEDIA_TYPE = "application/json"


def json_response(body: Any, status_code: int = 200) -> Response:
    """`body` serialised with orjson (datetimes, dates and numpy-free dicts as they are)."""
    return Response(
        orjson.dumps(body, default=_jsonable), status_code=status_code, media_type=JSON_MEDIA_TYPE
    )


def error_response(
    status_code: int, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    """The one error shape of the API: `{"error": message, ...extra}`."""
    response = json_response({"error": message, **extra}, status_code)
    response.headers.update(headers or {})
    return response


def streamed_response(
    chunks: Iterator[bytes], media_type: str, attachment_name: str | None = None
) -> StreamingResponse:
    """Stream `chunks`; the first one is produced here, before any byte is sent.

    Producing it eagerly means a failure before the first byte (a query that cannot run)
    still becomes a proper JSON error answer instead of a connection cut after a 200.
    """
    first = next(chunks, b"")
    headers = {}
    if attachment_name is not None:
        headers["Content-Disposition"] = f'attachment; filename="{attachment_name}"'
    return StreamingResponse(_chained(first, chunks), media_type=media_type, headers=headers)


def _chained(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield first
        yield from rest
    finally:
        # a client that goes away mid-download must not leave the query's cursor open
        close = getattr(rest, "close", None)
        if close is not None:
            close()


def install_error_handlers(api: FastAPI) -> None:
    """Map every exception to `{"error": ...}` with the right status."""
    api.add_exception_handler(PredictionsError, _predictions_error)
    api.add_exception_handler(RequestValidationError, _validation_error)
    api.add_exception_handler(StarletteHTTPException, _http_error)
    api.add_exception_handler(Exception, _unexpected_error)


async def _predictions_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, PredictionsError)
    if isinstance(error, InvalidParameterError):
        return error_response(error.http_status, error.message, parameter=error.parameter)
    return error_response(error.http_status, error.message)


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    where, what = describe_validation_error(error)
    # FastAPI puts where the value came from first (`query.page`); clients know it as `page`
    parameter = ".".join(part for part in where.split(".") if part not in ("query", "path"))
    parameter = parameter or "request"
    return error_response(400, f"{parameter}: {what}", parameter=parameter)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 404:
        message = f"not found: {request.method} {request.url.path}"
    elif error.status_code == 405:
        message = f"method not allowed: {request.method} {request.url.path}"
    else:
        message = str(error.detail)
    return error_response(error.status_code, message, headers=dict(error.headers or {}))


async def _unexpected_error(request: Request, error: Exception) -> Response:
    # Starlette re-raises after this answer, so the server logs the traceback; the client
    # gets no internals
    return error_response(500, "internal error")


def _jsonable(value: Any) -> Any:
    """orjson fallback: pydantic models, paths and anything else by its text."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    return str(value)


class ApiErrorShapeMiddleware:
    """ASGI middleware: a non-JSON error answer under `/api/` becomes `{"error": ...}`.

    Streamlit's own path-security middleware answers unsafe paths (`..` segments, NUL bytes)
    with a plain-text 400 before the request reaches the API. That check is worth keeping; this
    only rewrites its answer (and any other non-JSON error from the layers around the API), so
    API clients see one error shape. `app.py` passes it as user middleware, which Streamlit
    runs outside its own.
    """

    def __init__(self, app: ASGIApp, prefix: str = "/api/"):
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        held_start: Message | None = None

        async def send_json_errors(message: Message) -> None:
            nonlocal held_start
            if message["type"] == "http.response.start" and _is_non_json_error(message):
                held_start = message  # wait for the body, then answer in its place
                return
            if message["type"] != "http.response.body" or held_start is None:
                await send(message)
                return
            if message.get("more_body", False):
                return
            await _send_error_message(held_start, scope, send)
            held_start = None

        await self.app(scope, receive, send_json_errors)


def _is_non_json_error(start: Message) -> bool:
    content_type = dict(start.get("headers", [])).get(b"content-type", b"")
    return start["status"] >= 400 and not content_type.startswith(JSON_MEDIA_TYPE.encode())


async def _send_error_message(start: Message, scope: Scope, send: Send) -> None:
    """Send `{"error": ...}` with the status of `start` (its other headers kept)."""
    status = start["status"]
    try:
        phrase = HTTPStatus(status).phrase.lower()
    except ValueError:
        phrase = "error"
    where = f"{scope.get('method', 'GET')} {scope['path']!r}"
    body = orjson.dumps({"error": f"{phrase}: {where} was refused before it reached the API"})
    dropped = {b"content-type", b"content-length"}
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in dropped]
    headers += [(b"content-type", JSON_MEDIA_TYPE.encode()), (b"content-length", b"%d" % len(body))]
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body})
