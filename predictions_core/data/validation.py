"""The exact, line-by-line check of a predictions file, used only when a file has bad lines.

It mirrors what the fast DuckDB reader needs of a line, so that the lines it passes are
read without loss, and says for every other line what is wrong with it.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from predictions_core.data.issues import LoadIssue

_SPAN_LIST_FIELDS = ("labellers", "timestamps")


def find_bad_lines(path: Path) -> tuple[list[LoadIssue], list[int]]:
    """Issues for every unusable line, and the (1-based) numbers of the usable ones."""
    issues: list[LoadIssue] = []
    good: list[int] = []
    with path.open("rb") as source:
        for number, raw in enumerate(source, start=1):
            if not raw.strip():
                continue
            problem = _problem_with_line(raw)
            if problem is None:
                good.append(number)
            else:
                issues.append(LoadIssue(str(path), number, problem))
    return issues, good


def line_numbers_of_rows(path: Path) -> list[int]:
    """The line number of each row a reader produces: blank lines make no row."""
    with path.open("rb") as source:
        return [number for number, raw in enumerate(source, start=1) if raw.strip()]


def _problem_with_line(raw: bytes) -> str | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"not UTF-8 (byte {error.start + 1} of the line)"
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return f"malformed JSON ({error.msg})"
    if not isinstance(data, dict):
        return "not a JSON object"
    if not isinstance(data.get("id"), str | int) or isinstance(data.get("id"), bool):
        return "no passage id"
    if not isinstance(data.get("text"), str):
        return "no passage text"
    if data.get("metadata") is not None and not isinstance(data["metadata"], dict):
        return "metadata is not an object"
    return _problem_with_spans(data.get("spans"))


def _problem_with_spans(spans: object) -> str | None:
    if spans is None:
        return None
    if not isinstance(spans, list):
        return "spans is not a list"
    for position, span in enumerate(spans, start=1):
        if not isinstance(span, dict):
            return f"span {position} is not an object"
        for key in ("start_index", "end_index"):
            value = span.get(key)
            if not isinstance(value, int) or isinstance(value, bool):
                return f"span {position} has no integer {key}"
        for key in _SPAN_LIST_FIELDS:
            value = span.get(key)
            if value is not None and not isinstance(value, list):
                return f"span {position}: {key} is not a list"
    return None
