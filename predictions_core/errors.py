"""One base exception for the whole package, so callers can catch everything we raise."""

from __future__ import annotations


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
