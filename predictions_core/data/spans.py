"""Span arithmetic on `(start, end)` offsets (code points, end exclusive): written once."""

from __future__ import annotations

from collections.abc import Iterable

Offsets = tuple[int, int]


def overlaps(first: Offsets, second: Offsets) -> bool:
    """True when the two spans share at least one character."""
    return first[0] < second[1] and second[0] < first[1]


def overlaps_any(span: Offsets, others: Iterable[Offsets]) -> bool:
    """True when `span` shares a character with any of `others`."""
    return any(overlaps(span, other) for other in others)
