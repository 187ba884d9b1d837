"""Query parameters of the HTTP routes: reading them raw, and documenting them in OpenAPI.

The filter and sort parameters are parsed by `Filters.from_query_params` (the dashboard's
parser), not declared as FastAPI arguments, so there is one parser for both. Their OpenAPI
entries are made from `Filters`' own fields (type, bounds, default, description).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request

from predictions_core.errors import InvalidParameterError
from predictions_core.flags import parse_bool
from predictions_core.query.filters import FILTER_PARAMS, Filters

FEEDBACK_FORMATS = ("json", "jsonl")


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
    """One of the true/false words of `flags`; False when absent or empty."""
    values = [value for value in params.get(name) or [] if value.strip()]
    return parse_bool(values[-1], name) if values else False


def _parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_BOOL = {"type": "string", "enum": ["true", "false"]}


def _filter_parameter(name: str) -> dict[str, Any]:
    field = Filters.model_fields[name]
    schema = dict(Filters.model_json_schema()["properties"][name])
    schema.pop("title", None)
    if "anyOf" in schema:  # `int | None` and the like: the parameter is simply optional
        schema.update(next(s for s in schema.pop("anyOf") if s.get("type") != "null"))
    if schema.get("type") == "boolean":
        schema = {"type": "string", "enum": ["true", "false", "any"]}
    if schema.get("default") in (None, []):
        schema.pop("default", None)
    return _parameter(name, field.description or name, schema)


OPENAPI_PREDICTIONS_PARAMETERS = [
    *(_filter_parameter(name) for name in FILTER_PARAMS),
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
    _parameter(
        "threshold",
        "0..1: a passage of a classifier with scores counts as predicted positive only when its "
        "score (highest span prediction_probability) is at least this; others are unaffected",
        {"type": "number", "minimum": 0, "maximum": 1},
    ),
]
