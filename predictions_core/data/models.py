"""pydantic models of the JSON that the upstream tools write.

Every model keeps unknown keys (`extra="allow"`), so reading a file and writing it back loses
nothing. Computed keys that upstream serialises (a span's `id`, `labelled_text`, `text`) are
accepted and kept as extras.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

QID_PATTERN = re.compile(r"Q[0-9]{1,12}")
CLASSIFIER_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def is_valid_qid(value: str) -> bool:
    """True for a Wikibase item id such as `Q218`."""
    return isinstance(value, str) and bool(QID_PATTERN.fullmatch(value))


def is_valid_classifier_id(value: str) -> bool:
    """True for a classifier id of letters, digits and `._:-` (and not `.` or `..`)."""
    return (
        isinstance(value, str)
        and bool(CLASSIFIER_ID_PATTERN.fullmatch(value))
        and value not in {".", ".."}
    )


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Span(_Open):
    """A labelled stretch of a passage: `text[start_index:end_index]` (code points)."""

    start_index: int
    end_index: int
    concept_id: str | None = None
    labellers: list[str] = Field(default_factory=list)
    timestamps: list[datetime | str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.start_index < 0 or self.end_index < self.start_index:
            raise ValueError(f"span [{self.start_index}, {self.end_index}) is not a valid range")
        return self


class LabelledPassage(_Open):
    """One passage with the spans a classifier (or a person) labelled in it."""

    id: str
    text: str
    spans: list[Span] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata_or_empty(cls, value: Any) -> Any:
        return {} if value is None else value


class Concept(_Open):
    """A Wikibase concept. Only `wikibase_id` is needed; labels fall back to it."""

    wikibase_id: str
    preferred_label: str = ""
    alternative_labels: list[str] = Field(default_factory=list)
    negative_labels: list[str] = Field(default_factory=list)
    description: str | None = None
    definition: str | None = None
    labelled_passages: list[LabelledPassage] = Field(default_factory=list)

    @model_validator(mode="after")
    def _label_falls_back_to_id(self) -> Concept:
        if not self.preferred_label:
            self.preferred_label = self.wikibase_id
        return self

    @property
    def all_labels(self) -> list[str]:
        """Preferred label first, then the alternative labels, without duplicates or blanks."""
        seen: dict[str, None] = {}
        for label in [self.preferred_label, *self.alternative_labels]:
            if label and label.strip():
                seen.setdefault(label.strip(), None)
        return list(seen)

    @property
    def url(self) -> str | None:
        """The concept's Wikibase page, when the concept file names one (`url` key)."""
        value = (self.model_extra or {}).get("url")
        return (
            value if isinstance(value, str) and value.startswith(("https://", "http://")) else None
        )


class Classifier(_Open):
    """A classifier's metadata (`classifier.json`); only `id` is needed."""

    id: str
    name: str = ""
    date: date | datetime | str | None = None

    @model_validator(mode="after")
    def _name_falls_back_to_id(self) -> Classifier:
        if not self.name:
            self.name = self.id
        return self

    @property
    def date_text(self) -> str:
        if self.date is None:
            return ""
        return self.date.isoformat() if hasattr(self.date, "isoformat") else str(self.date)
