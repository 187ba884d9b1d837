"""Reading a passages file for `predictions predict`: JSONL, Parquet or Feather.

A row's text is its `text_block.text` (or `text`) column; every other column becomes
metadata (nested columns flattened to dotted names, as the upstream pipeline writes them).
Unusable rows are skipped and reported with their line or row number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson

from predictions_core.data.issues import LoadIssue
from predictions_core.errors import DataError, NotFoundError

TEXT_COLUMNS = ("text_block.text", "text")


@dataclass(frozen=True, slots=True)
class Passage:
    """One passage to classify: its id, its text and every other column of its row."""

    id: str
    text: str
    metadata: dict[str, Any]


@dataclass
class PassagesFile:
    """The passages read from a file, and the rows that were skipped (with line numbers)."""

    path: Path
    passages: list[Passage]
    issues: list[LoadIssue] = field(default_factory=list)


def read_passages(path: Path) -> PassagesFile:
    """Read a JSONL, Parquet or Feather passages file (the format is sniffed from its bytes).

    Unusable rows are skipped and reported in `issues`; a file that cannot be read at all,
    or that holds no usable passage, raises `DataError` (`NotFoundError` when it is missing).
    """
    if not path.is_file():
        raise NotFoundError(f"passages file not found: {path}")
    try:
        with path.open("rb") as source:
            magic = source.read(6)
        if magic[:4] == b"PAR1":
            passages_file = _read_table(path, "Parquet")
        elif magic == b"ARROW1" or magic[:4] == b"FEA1":
            passages_file = _read_table(path, "Feather")
        else:
            passages_file = _read_jsonl(path)
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror or error}") from error
    if not passages_file.passages:
        problems = "; ".join(issue.describe() for issue in passages_file.issues[:3])
        raise DataError(
            f"no passage with text in {path} (need a {' or '.join(TEXT_COLUMNS)} column)"
            + (f": {problems}" if problems else "")
        )
    _report_duplicate_ids(passages_file)
    return passages_file


def _read_jsonl(path: Path) -> PassagesFile:
    passages_file = PassagesFile(path=path, passages=[])
    with path.open("rb") as source:
        for line_number, raw in enumerate(source, start=1):
            if line_number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")  # a BOM from Windows editors
            if not raw.strip():
                continue
            try:
                row = orjson.loads(raw)
            except orjson.JSONDecodeError as error:
                passages_file.issues.append(
                    LoadIssue(str(path), line_number, f"malformed JSON ({error.msg})")
                )
                continue
            _add_row(passages_file, row, line_number)
    return passages_file


def _read_table(path: Path, format_name: str) -> PassagesFile:
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as parquet

    try:
        table = parquet.read_table(path) if format_name == "Parquet" else feather.read_table(path)
    except (OSError, pa.ArrowException) as error:
        raise DataError(f"cannot read {path} as {format_name}: {error}") from error
    # struct columns (`text_block: {text, ...}`) become the dotted columns upstream writes
    while any(pa.types.is_struct(column.type) for column in table.schema):
        table = table.flatten()
    passages_file = PassagesFile(path=path, passages=[])
    for row_number, row in enumerate(table.to_pylist(), start=1):
        _add_row(passages_file, row, row_number)
    return passages_file


def _add_row(passages_file: PassagesFile, row: object, row_number: int) -> None:
    if not isinstance(row, dict):
        issue = LoadIssue(str(passages_file.path), row_number, "not a JSON object")
        passages_file.issues.append(issue)
        return
    row = _flatten(row)
    text_column = next((name for name in TEXT_COLUMNS if name in row), None)
    text = row.get(text_column) if text_column else None
    if not isinstance(text, str):
        problem = "no text (need a text_block.text or text column)"
        if text_column and text is not None:
            problem = f"{text_column} is not a string"
        passages_file.issues.append(LoadIssue(str(passages_file.path), row_number, problem))
        return
    passage_id = _passage_id(row, row_number)
    metadata = {
        key: _metadata_value(value)
        for key, value in row.items()
        if key not in (text_column, "id") and not _is_null(value)
    }
    passages_file.passages.append(Passage(passage_id, text, metadata))


def _flatten(row: dict, prefix: str = "") -> dict:
    if not any(isinstance(value, dict) for value in row.values()):
        return {f"{prefix}{key}": value for key, value in row.items()} if prefix else row
    flat: dict = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _passage_id(row: dict, row_number: int) -> str:
    """`id` if present, else `{document_id}.{text_block.text_block_id}`, else the row number."""
    if not _is_null(row.get("id")):
        return str(row["id"])
    document_id, block_id = row.get("document_id"), row.get("text_block.text_block_id")
    if not _is_null(document_id) and not _is_null(block_id):
        return f"{document_id}.{block_id}"
    return str(row_number)


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _metadata_value(value: object) -> object:
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list | tuple):
        return [_metadata_value(item) for item in value if not _is_null(item)]
    return str(value)


def _report_duplicate_ids(passages_file: PassagesFile) -> None:
    n_unique = len({passage.id for passage in passages_file.passages})
    n_repeated = len(passages_file.passages) - n_unique
    if n_repeated:
        message = f"{n_repeated} passages repeat the id of an earlier passage (kept as they are)"
        passages_file.issues.append(LoadIssue(str(passages_file.path), None, message))
