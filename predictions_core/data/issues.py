"""What could not be read: kept, counted and shown, never raised."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class LoadIssue:
    """One skipped line, span or file: where it is and why it was skipped."""

    path: str
    line: int | None
    message: str

    def describe(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"

    def to_dict(self) -> dict:
        return asdict(self)
