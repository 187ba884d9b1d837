"""The baseline: load and query predictions the way the original FastAPI service did.

Read the file line by line, validate each line into a pydantic `LabelledPassage` (the same
models the project uses), keep the list in memory, and answer every query by filtering the
list in Python. The benchmarks compare `predictions_core` against this, in the same run.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from predictions_core.data.models import LabelledPassage
from predictions_core.query.filters import Filters


@dataclass
class BaselineResult:
    """What a baseline query returns: the filtered count and one page of passages."""

    filtered_count: int
    rows: list[LabelledPassage]


def load_passages(path: Path) -> list[LabelledPassage]:
    """Every valid line of `path` as a `LabelledPassage` (invalid lines are skipped)."""
    passages = []
    with Path(path).open("rb") as source:
        for line in source:
            if not line.strip():
                continue
            try:
                passages.append(LabelledPassage.model_validate_json(line))
            except ValidationError:
                continue
    return passages


def _meta_text(passage: LabelledPassage, key: str) -> str | None:
    value = passage.metadata.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _year(passage: LabelledPassage) -> int | None:
    published = _meta_text(passage, "document_metadata.publication_ts")
    if published is None or not published[:4].isdigit():
        return None
    return int(published[:4])


def _translated(passage: LabelledPassage) -> bool | None:
    value = _meta_text(passage, "translated")
    if value is None:
        return None
    return {"true": True, "false": False}.get(value.lower())


def _search_predicate(filters: Filters):
    pattern = filters.search_pattern
    if pattern is None:
        return None
    if pattern.is_regex:
        compiled = re.compile(pattern.pattern, re.IGNORECASE if pattern.case_insensitive else 0)
        return lambda passage: compiled.search(passage.text) is not None
    needle = pattern.pattern.lower()
    return lambda passage: needle in passage.text.lower()


def _keeps(filters: Filters, passage: LabelledPassage) -> bool:
    """Every filter except search, tested on one passage the way the old service did."""
    if filters.region and _meta_text(passage, "world_bank_region") not in filters.region:
        return False
    corpus = _meta_text(passage, "document_metadata.corpus_type_name")
    if filters.corpus and corpus not in filters.corpus:
        return False
    if filters.translated is not None and _translated(passage) is not filters.translated:
        return False
    if filters.year_min is not None or filters.year_max is not None:
        year = _year(passage)
        if year is None:
            return False
        if filters.year_min is not None and year < filters.year_min:
            return False
        if filters.year_max is not None and year > filters.year_max:
            return False
    if filters.document_id:
        document_id = _meta_text(passage, "document_id") or ""
        if filters.document_id.lower() not in document_id.lower():
            return False
    return filters.has_spans is None or bool(passage.spans) is filters.has_spans


def _sorted(passages: list[LabelledPassage], filters: Filters) -> list[LabelledPassage]:
    if filters.sort == "length_asc":
        return sorted(passages, key=lambda p: len(p.text))
    if filters.sort == "length_desc":
        return sorted(passages, key=lambda p: -len(p.text))
    if filters.sort == "document":
        return sorted(
            passages,
            key=lambda p: (
                _meta_text(p, "document_id") is None,
                _meta_text(p, "document_id") or "",
            ),
        )
    if filters.sort == "random":
        shuffled = list(passages)
        random.Random(filters.seed or 0).shuffle(shuffled)
        return shuffled
    return passages


def query_passages(passages: list[LabelledPassage], filters: Filters) -> BaselineResult:
    """Filter, sort and slice one page, in Python over the in-memory list."""
    matches_search = _search_predicate(filters)
    filtered = [
        passage
        for passage in passages
        if (matches_search is None or matches_search(passage)) and _keeps(filters, passage)
    ]
    ordered = _sorted(filtered, filters)
    start = (filters.page - 1) * filters.page_size
    return BaselineResult(len(filtered), ordered[start : start + filters.page_size])
