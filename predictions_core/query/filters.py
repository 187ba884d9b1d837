"""`Filters`: the one description of a view, used by the pages, the routes and the downloads.

The same object gives the SQL `WHERE` (`where_sql`), the URL query string
(`to_query_params`, parsed back by `from_query_params`) and the sentence a person reads
(`describe`), so the three cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from predictions_core.errors import InvalidParameterError
from predictions_core.flags import parse_bool
from predictions_core.query.text_search import check_re2_pattern, search_clauses

SortOrder = Literal[
    "default", "length_asc", "length_desc", "random", "document", "score_desc", "score_asc"
]
SORT_LABELS: dict[str, str] = {
    "default": "in file order",
    "length_asc": "shortest first",
    "length_desc": "longest first",
    "random": "shuffled",
    "document": "by document",
    "score_desc": "highest score first",
    "score_asc": "lowest score first",
}
SCORE_SORTS = ("score_desc", "score_asc")
"""The orders that need scores (a table without any has nothing to order by)."""
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50
_LIST_PARAMS = ("region", "corpus")


@dataclass(frozen=True)
class SearchPattern:
    """A parsed `search` value: substring, or regex (`/re/`, `/re/i`)."""

    pattern: str
    is_regex: bool
    case_insensitive: bool

    @classmethod
    def parse(cls, value: str) -> SearchPattern:
        if len(value) >= 3 and value.startswith("/") and value.endswith("/i"):
            return cls(value[1:-2], is_regex=True, case_insensitive=True)
        if len(value) >= 2 and value.startswith("/") and value.endswith("/"):
            return cls(value[1:-1], is_regex=True, case_insensitive=False)
        return cls(value, is_regex=False, case_insensitive=True)


class Filters(BaseModel):
    """Filter, sort and page parameters of CONTRACT §5, validated."""

    search: str | None = Field(
        None,
        description="`text`: case-insensitive substring; `/re/`: regex; `/re/i`: "
        "case-insensitive regex (RE2 syntax; an invalid pattern is a 400)",
    )
    region: list[str] = Field(
        default_factory=list, description="exact `world_bank_region`; repeat for several"
    )
    corpus: list[str] = Field(
        default_factory=list,
        description="exact `document_metadata.corpus_type_name`; repeat for several",
    )
    translated: bool | None = Field(None, description="`true` / `false` (`any`: no filter)")
    year_min: int | None = Field(
        None, ge=0, le=9999, description="publication year, inclusive lower bound"
    )
    year_max: int | None = Field(
        None, ge=0, le=9999, description="publication year, inclusive upper bound"
    )
    document_id: str | None = Field(
        None, description="case-insensitive substring of the document id"
    )
    has_spans: bool | None = Field(
        None,
        description="`true`: passages with spans only; `false`: without spans only; "
        "`any` (default): both",
    )
    min_score: float | None = Field(
        None,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="passage score (its spans' highest `prediction_probability`), inclusive "
        "lower bound, 0..1; a passage without a score is left out",
    )
    max_score: float | None = Field(
        None,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="passage score, inclusive upper bound, 0..1; a passage without a score "
        "is left out",
    )
    sort: SortOrder = Field(
        "default",
        description="row order; `score_desc` / `score_asc`: by passage score, passages "
        "without a score last",
    )
    seed: int | None = Field(
        None, ge=0, le=2**31 - 1, description="seed of `sort=random` (same seed, same order)"
    )
    page: int = Field(
        1, ge=1, le=10_000_000, description="page number, from 1 (`format=json` only)"
    )
    page_size: int = Field(
        DEFAULT_PAGE_SIZE,
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"rows per page, 1..{MAX_PAGE_SIZE} (`format=json` only)",
    )

    @field_validator("search", "document_id")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value if value and value.strip() else None

    @field_validator("search")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            parsed = SearchPattern.parse(value)
            if parsed.is_regex:
                check_re2_pattern(parsed.pattern)
        return value

    @property
    def search_pattern(self) -> SearchPattern | None:
        return SearchPattern.parse(self.search) if self.search else None

    @classmethod
    def from_query_params(cls, params: Mapping[str, str | Sequence[str]]) -> Filters:
        """Parse URL parameters (repeated keys allowed); unknown keys are ignored.

        Raises `InvalidParameterError` naming the first parameter that is wrong.
        """
        values: dict[str, object] = {}
        for name in cls.model_fields:
            if name not in params:
                continue
            raw = params[name]
            items = [raw] if isinstance(raw, str) else list(raw)
            if name in _LIST_PARAMS:
                values[name] = [item for item in items if item != ""]
            elif items and items[-1] != "":
                values[name] = _parse_scalar(name, items[-1])
        try:
            filters = cls.model_validate(values)
        except ValidationError as error:
            raise InvalidParameterError(*_first_problem(error)) from None
        low, high = filters.year_min, filters.year_max
        if low is not None and high is not None and low > high:
            raise InvalidParameterError("year_min", f"{low} is after year_max ({high})")
        low, high = filters.min_score, filters.max_score
        if low is not None and high is not None and low > high:
            raise InvalidParameterError("min_score", f"{low:g} is above max_score ({high:g})")
        return filters

    def to_query_params(self) -> dict[str, str | list[str]]:
        """The non-default parameters, as a dashboard URL or an API call carries them."""
        params: dict[str, str | list[str]] = {}
        for name, value in self.model_dump(exclude_defaults=True).items():
            if isinstance(value, list):
                params[name] = [str(v) for v in value]
            elif isinstance(value, bool):
                params[name] = "true" if value else "false"
            else:
                params[name] = str(value)
        return params

    def describe(self) -> str:
        """One line a person can read: what this view shows."""
        parts = []
        pattern = self.search_pattern
        if pattern is not None:
            kind = "matching regex" if pattern.is_regex else "containing"
            parts.append(f"{kind} “{pattern.pattern}”")
        if self.region:
            parts.append("region: " + ", ".join(self.region))
        if self.corpus:
            parts.append("corpus: " + ", ".join(self.corpus))
        if self.translated is not None:
            parts.append("translated: " + ("yes" if self.translated else "no"))
        if self.year_min is not None or self.year_max is not None:
            low, high = self.year_min or "…", self.year_max or "…"
            parts.append(f"published {low}–{high}")
        if self.document_id:
            parts.append(f"document id containing “{self.document_id}”")
        if self.has_spans is not None:
            parts.append("with spans" if self.has_spans else "without spans")
        if score := _describe_score(self.min_score, self.max_score):
            parts.append(score)
        text = "; ".join(parts) if parts else "all passages"
        order = SORT_LABELS[self.sort]
        if self.sort == "random":
            order += f" (seed {self.seed or 0})"
        return f"{text} · {order}"

    def where_sql(self) -> tuple[str, list[object]]:
        """`(where, parameters)` over the columns of a loaded predictions table.

        Sorting and paging are done on the matching row positions (see `query`).
        """
        search_where, search_params = self.search_sql()
        columns_where, columns_params = self.columns_sql()
        return f"({search_where}) AND ({columns_where})", [*search_params, *columns_params]

    def search_sql(self) -> tuple[str, list[object]]:
        """The text-search part of `where_sql` (the expensive part: `query` caches it)."""
        pattern = self.search_pattern
        if pattern is None:
            return "true", []
        clauses, params = search_clauses(
            pattern.pattern, pattern.is_regex, pattern.case_insensitive
        )
        return " AND ".join(clauses), params

    def columns_sql(self) -> tuple[str, list[object]]:
        """The metadata, year and span parts of `where_sql`."""
        clauses, params = _column_clauses(self)
        return (" AND ".join(clauses) if clauses else "true"), params


FILTER_PARAMS: tuple[str, ...] = tuple(Filters.model_fields)
"""Every URL/API parameter a view is made of (CONTRACT §5), in the order the model lists them."""


def _column_clauses(filters: Filters) -> tuple[list[str], list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    for column, values in (("region", filters.region), ("corpus", filters.corpus)):
        if values:
            clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params += values
    if filters.translated is not None:
        clauses.append("translated = ?")
        params.append(filters.translated)
    if filters.year_min is not None:
        clauses.append("year >= ?")
        params.append(filters.year_min)
    if filters.year_max is not None:
        clauses.append("year <= ?")
        params.append(filters.year_max)
    if filters.document_id:
        clauses.append("contains(lower(document_id), ?)")
        params.append(filters.document_id.lower())
    if filters.has_spans is not None:
        clauses.append("n_spans > 0" if filters.has_spans else "n_spans = 0")
    # a NULL score fails both comparisons: a passage without a score is left out by either
    if filters.min_score is not None:
        clauses.append("score >= ?")
        params.append(filters.min_score)
    if filters.max_score is not None:
        clauses.append("score <= ?")
        params.append(filters.max_score)
    return clauses, params


def _describe_score(low: float | None, high: float | None) -> str | None:
    if low is not None and high is not None:
        return f"score {low:g}–{high:g}"
    if low is not None:
        return f"score at least {low:g}"
    if high is not None:
        return f"score at most {high:g}"
    return None


ANY_WORD = "any"
"""A true/false parameter's third value: no filter (the dashboard's URL writes it where its
page's default is not `any`, e.g. Browse's `has_spans`)."""


def _parse_scalar(name: str, value: str) -> object:
    if Filters.model_fields[name].annotation in (bool | None,):
        if value.strip().lower() == ANY_WORD:
            return None
        try:
            return parse_bool(value, name)
        except InvalidParameterError:
            raise InvalidParameterError(
                name, f"expected true, false or any, got {_quoted(value)}"
            ) from None
    return value


def _first_problem(error: ValidationError) -> tuple[str, str]:
    """`(parameter, what was wrong)` of a validation error, in the user's words.

    Every field is top level, so the location is the parameter's name. Pydantic's own
    wording ("Input should be ...", "Value error, ...") never reaches the user.
    """
    problem = error.errors()[0]
    name = str(problem["loc"][0]) if problem.get("loc") else "value"
    kind, context = problem.get("type", ""), problem.get("ctx") or {}
    got = f" (got {_quoted(problem.get('input'))})"
    if kind == "value_error":  # our own validators' ValueErrors say it already
        return name, f"{_quoted(problem.get('input'))} is not a valid regular expression: " + str(
            context.get("error", "")
        )
    if kind == "literal_error" and name == "sort":
        orders = ", ".join(f"{order} ({label})" for order, label in SORT_LABELS.items())
        return name, f"{_quoted(problem.get('input'))} is not a sort order; use one of {orders}"
    if name in ("min_score", "max_score"):
        return name, "expected a number from 0 to 1" + got
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return name, "expected a whole number" + got
    if kind in ("greater_than_equal", "greater_than"):
        return name, f"must be at least {context.get('ge', context.get('gt'))}" + got
    if kind in ("less_than_equal", "less_than"):
        return name, f"must be at most {context.get('le', context.get('lt'))}" + got
    return name, "is not a value this parameter takes" + got


def _quoted(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 80 else text[:77] + "...")
