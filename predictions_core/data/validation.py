"""The exact check of a predictions file, used only when a file has bad lines or items.

It mirrors what the fast DuckDB reader (`reader`) accepts of a record, so that the lines it
passes are read without loss, and says for every other line (or array item) what is wrong.
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
    return problem_with_record(data)


def problem_with_record(data: object) -> str | None:
    """What makes a parsed record unusable as a LabelledPassage, or None when it is usable."""
    if not isinstance(data, dict):
        return "not a JSON object"
    if not isinstance(data.get("id"), str | int) or isinstance(data.get("id"), bool):
        return "no passage id"
    if not isinstance(data.get("text"), str):
        return "no passage text"
    if data.get("metadata") is not None and not isinstance(data["metadata"], dict):
        return "metadata is not an object"
    return _problem_with_spans(data.get("spans"))


def find_bad_records_in_document(path: Path) -> list[LoadIssue]:
    """Issues for every unusable passage of a per-document file (CONTRACT §2, third layout).

    The file is JSONL (issues by line number) or a JSON array of LabelledPassage objects or of
    JSON strings of them (issues by item number; a file that is not valid JSON as a whole is
    one issue, with the line where parsing failed).
    """
    raw = path.read_bytes()
    if not raw.strip():
        return [LoadIssue(str(path), None, "empty file: no passages")]
    if not raw.lstrip().startswith(b"["):
        return find_bad_lines(path)[0]
    try:
        items = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return [LoadIssue(str(path), error.lineno, f"malformed JSON ({error.msg})")]
    issues = []
    for number, item in enumerate(items, start=1):
        problem = _problem_with_item(item)
        if problem is not None:
            issues.append(LoadIssue(str(path), None, f"item {number}: {problem}"))
    return issues


def _problem_with_item(item: object) -> str | None:
    if isinstance(item, str):  # older files: each item is a JSON string of a passage
        try:
            item = orjson.loads(item)
        except orjson.JSONDecodeError as error:
            return f"malformed JSON string ({error.msg})"
    return problem_with_record(item)


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
