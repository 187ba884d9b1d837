"""Query parameters of the HTTP routes: reading them raw, and documenting them in OpenAPI.

The filter and sort parameters are parsed by `Filters.from_query_params` (the dashboard's
parser), not declared as FastAPI arguments, so there is one parser for both. They are listed
in the OpenAPI document by hand below; a test checks the list against `Filters`' fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request

from predictions_core.errors import InvalidParameterError
from predictions_core.query.filters import MAX_PAGE_SIZE, SORT_LABELS

FEEDBACK_FORMATS = ("json", "jsonl")
_FLAG_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def query_lists(request: Request) -> dict[str, list[str]]:
    """The raw query string as `{name: [values, in order]}` (repeated keys kept)."""
    params: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        params.setdefault(name, []).append(value)
    return params


def parse_choice(
    params: dict[str, list[str]], name: str, allowed: Sequence[str], default: str
) -> str:
    """One of `allowed` (case-insensitive), `default` when absent or empty.

    The last value wins, as in `Filters.from_query_params`.
    """
    values = params.get(name) or []
    raw = values[-1] if values else ""
    value = raw.strip().lower()
    if not value:
        return default
    if value not in allowed:
        raise InvalidParameterError(name, f"expected one of {', '.join(allowed)}, got {raw!r}")
    return value


def parse_flag(params: dict[str, list[str]], name: str) -> bool:
    """`true`/`false` (also 1/0, yes/no); False when absent or empty."""
    return _FLAG_WORDS[parse_choice(params, name, list(_FLAG_WORDS), default="false")]


def _parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_TEXT = {"type": "string"}
_BOOL = {"type": "string", "enum": ["true", "false"]}
_INT = {"type": "integer"}
_REPEATED = {"type": "array", "items": {"type": "string"}}

FILTER_PARAMETER_HELP: dict[str, tuple[str, dict[str, Any]]] = {
    "search": (
        "`text`: case-insensitive substring; `/re/`: regex; `/re/i`: case-insensitive regex "
        "(RE2 syntax; an invalid pattern is a 400)",
        _TEXT,
    ),
    "region": ("exact `world_bank_region`; repeat for several", _REPEATED),
    "corpus": ("exact `document_metadata.corpus_type_name`; repeat for several", _REPEATED),
    "translated": ("`true` / `false`", _BOOL),
    "year_min": ("publication year, inclusive lower bound", _INT),
    "year_max": ("publication year, inclusive upper bound", _INT),
    "document_id": ("case-insensitive substring of the document id", _TEXT),
    "has_spans": ("`true`: positives only; `false`: negatives only", _BOOL),
    "sort": ("row order", {"type": "string", "enum": list(SORT_LABELS), "default": "default"}),
    "seed": ("seed of `sort=random` (same seed, same order)", _INT),
    "page": ("page number, from 1 (`format=json` only)", {**_INT, "minimum": 1, "default": 1}),
    "page_size": (
        f"rows per page, 1..{MAX_PAGE_SIZE} (`format=json` only)",
        {**_INT, "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 50},
    ),
}

OPENAPI_PREDICTIONS_PARAMETERS = [
    *(
        _parameter(name, *help_and_schema)
        for name, help_and_schema in FILTER_PARAMETER_HELP.items()
    ),
    _parameter(
        "format",
        "`json`: one page with counts and the query; `jsonl`, `csv`: every filtered row, streamed",
        {"type": "string", "enum": ["json", "jsonl", "csv"], "default": "json"},
    ),
    _parameter(
        "download",
        "`true`: every filtered row as an attachment `{qid}-{classifier_id}-predictions.{ext}`",
        _BOOL,
    ),
]

OPENAPI_FEEDBACK_PARAMETERS = [
    _parameter(
        "format",
        "`json`: a list of judgements; `jsonl`: one LabelledPassage per line",
        {"type": "string", "enum": list(FEEDBACK_FORMATS), "default": "json"},
    ),
    _parameter("download", "`true`: as an attachment", _BOOL),
]

OPENAPI_EVALUATION_PARAMETERS = [
    _parameter(
        "gold_source",
        "`concept`: the concept file's labelled passages; `feedback`: reviewers' judgements; "
        "`both`; `auto` (default): the concept file's, else the reviewers'",
        {"type": "string", "enum": ["auto", "concept", "feedback", "both"], "default": "auto"},
    ),
]
