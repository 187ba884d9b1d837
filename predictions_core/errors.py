"""One base exception for the whole package, so callers can catch everything we raise."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class PredictionsError(Exception):
    """Base of every error raised on purpose by `predictions_core`.

    `message` is written for the person using the tool: routes put it in `{"error": ...}`,
    the dashboard shows it with `st.error`, the CLI prints it.
    """

    http_status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidParameterError(PredictionsError):
    """A filter, sort, page or id value that cannot be used as given (HTTP 400)."""

    http_status = 400

    def __init__(self, parameter: str, message: str):
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


class NotFoundError(PredictionsError):
    """An unknown concept, classifier or file (HTTP 404)."""

    http_status = 404


class DataError(PredictionsError):
    """Input data that cannot be read at all (an unreadable or unparseable file)."""

    http_status = 422


class SyncError(PredictionsError):
    """A sync with S3 that could not complete (no bucket, no permission, no network)."""

    http_status = 502


def describe_validation_error(error: ValidationError | Any) -> tuple[str, str]:
    """`(where, what)` of a pydantic error's first problem, in the user's words.

    `error` is pydantic's `ValidationError` or anything with the same `errors()` list
    (FastAPI's `RequestValidationError`).

    `where` is the dotted location (`spans.0.end_index`, or "value" at the top level); `what`
    is pydantic's message without its "Value error, " prefix, with the offending input quoted
    when it is short text or a number.
    """
    problems = error.errors()
    first = problems[0] if problems else {}
    where = ".".join(str(part) for part in first.get("loc", ())) or "value"
    what = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    value = first.get("input")
    if isinstance(value, str | int) and not isinstance(value, bool) and len(str(value)) <= 80:
        what += f" (got {value!r})"
    return where, what
