"""Settings: one pydantic-settings model, read from the environment and a `.env` file.

Every field has a default and a description; CONTRACT §3 is the list of variables. Reading
settings never looks at the disk beyond `.env`: the fallback to the bundled demo data (which
needs a look inside `data/processed`) is `data.location.app_settings`, which is also the one
place a process reads its settings, once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field, PrivateAttr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from predictions_core.flags import parse_bool

DEFAULT_DATA_DIR = Path("data/processed")


def _flag(name: str) -> BeforeValidator:
    # the project's own true/false words, so a typo ("ture") is an error, not False
    return BeforeValidator(lambda value: parse_bool(value, name))


class Settings(BaseSettings):
    """Where data lives and how it is kept up to date (CONTRACT §3)."""

    model_config = SettingsConfigDict(
        env_file=".env",  # relative to the working directory; a real variable wins over it
        env_ignore_empty=True,  # `PREDICTIONS_DATA_DIR=` means "not set"
        extra="ignore",
        populate_by_name=True,
        validate_default=False,
    )

    data_dir: Path = Field(
        DEFAULT_DATA_DIR,
        validation_alias="PREDICTIONS_DATA_DIR",
        description="PREDICTIONS_DATA_DIR: where predictions are read from.",
    )
    s3_bucket: str | None = Field(
        None,
        validation_alias="PREDICTIONS_S3_BUCKET",
        description="PREDICTIONS_S3_BUCKET: bucket to sync into the data dir (unset: no sync).",
    )
    s3_prefix: str = Field(
        "",
        validation_alias="PREDICTIONS_S3_PREFIX",
        description="PREDICTIONS_S3_PREFIX: key prefix inside the bucket.",
    )
    skip_s3_sync: Annotated[bool, _flag("SKIP_S3_SYNC")] = Field(
        False,
        validation_alias="SKIP_S3_SYNC",
        description="SKIP_S3_SYNC: never sync, use local data as it is.",
    )
    sync_interval_s: float = Field(
        0.0,
        validation_alias="PREDICTIONS_SYNC_INTERVAL_S",
        description="PREDICTIONS_SYNC_INTERVAL_S: re-sync every N seconds (0: at start-up only).",
    )
    cache_dir: Path | None = Field(
        None,
        validation_alias="PREDICTIONS_CACHE_DIR",
        description="PREDICTIONS_CACHE_DIR: derived columnar caches (default <data dir>/.cache).",
    )
    feedback_db: Path | None = Field(
        None,
        validation_alias="PREDICTIONS_FEEDBACK_DB",
        description=(
            "PREDICTIONS_FEEDBACK_DB: reviewers' judgements (default <data dir>/feedback.sqlite)."
        ),
    )
    # set only by `data.location.with_demo_fallback`, never from the environment
    _data_dir_is_demo: bool = PrivateAttr(False)

    @field_validator("sync_interval_s", mode="before")
    @classmethod
    def _seconds(cls, value: object) -> float:
        from predictions_core.errors import InvalidParameterError

        try:
            seconds = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            seconds = -1.0
        if not seconds >= 0:  # also rejects NaN
            raise InvalidParameterError(
                "PREDICTIONS_SYNC_INTERVAL_S", f"expected a number of seconds >= 0, got {value!r}"
            )
        return seconds

    @property
    def data_dir_is_demo(self) -> bool:
        """True when `data_dir` fell back to the bundled demo data."""
        return self._data_dir_is_demo

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else self.data_dir / ".cache"

    @property
    def resolved_feedback_db(self) -> Path:
        return (
            self.feedback_db if self.feedback_db is not None else self.data_dir / "feedback.sqlite"
        )

    @property
    def sync_enabled(self) -> bool:
        return bool(self.s3_bucket) and not self.skip_s3_sync

    def as_demo(self, demo_dir: Path) -> Settings:
        """A copy reading the bundled demo data at `demo_dir`."""
        copy = self.model_copy(update={"data_dir": demo_dir})
        copy._data_dir_is_demo = True
        return copy
