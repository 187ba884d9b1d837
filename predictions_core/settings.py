"""Settings: one pydantic model, read from the environment (and a `.env` file) once.

Every field has a default and a description; CONTRACT §3 is the list of variables.
"""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import load_dotenv
from pydantic import BaseModel, Field

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_DATA_DIR = REPO_ROOT / "data" / "demo"
DEFAULT_DATA_DIR = Path("data/processed")


class Settings(BaseModel):
    """Where data lives and how it is kept up to date."""

    data_dir: Path = Field(
        DEFAULT_DATA_DIR,
        description="PREDICTIONS_DATA_DIR: where predictions are read from.",
    )
    data_dir_is_demo: bool = Field(
        False, description="True when data_dir fell back to the bundled demo data."
    )
    s3_bucket: str | None = Field(
        None,
        description="PREDICTIONS_S3_BUCKET: bucket to sync into the data dir (unset: no sync).",
    )
    s3_prefix: str = Field("", description="PREDICTIONS_S3_PREFIX: key prefix inside the bucket.")
    skip_s3_sync: bool = Field(
        False, description="SKIP_S3_SYNC: never sync, use local data as it is."
    )
    sync_interval_s: float = Field(
        0.0,
        ge=0,
        description="PREDICTIONS_SYNC_INTERVAL_S: re-sync every N seconds (0: at start-up only).",
    )
    cache_dir: Path | None = Field(
        None,
        description="PREDICTIONS_CACHE_DIR: derived columnar caches (default <data dir>/.cache).",
    )
    feedback_db: Path | None = Field(
        None,
        description=(
            "PREDICTIONS_FEEDBACK_DB: reviewers' judgements (default <data dir>/feedback.sqlite)."
        ),
    )

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

    @classmethod
    def from_env(
        cls, environ: dict[str, str] | None = None, *, read_dotenv: bool = True
    ) -> Settings:
        """Build settings from `environ` (default: `os.environ`, after reading `./.env`)."""
        if environ is None:
            if read_dotenv:
                # override=False: a real environment variable always wins over .env
                load_dotenv(Path.cwd() / ".env", override=False)
            environ = dict(os.environ)
        bucket = environ.get("PREDICTIONS_S3_BUCKET") or None
        data_dir_value = environ.get("PREDICTIONS_DATA_DIR")
        data_dir = Path(data_dir_value) if data_dir_value else DEFAULT_DATA_DIR
        is_demo = False
        if not data_dir_value and not bucket and not _holds_a_concept(data_dir):
            data_dir, is_demo = DEMO_DATA_DIR, True
        return cls(
            data_dir=data_dir,
            data_dir_is_demo=is_demo,
            s3_bucket=bucket,
            s3_prefix=environ.get("PREDICTIONS_S3_PREFIX", ""),
            skip_s3_sync=_parse_bool(environ.get("SKIP_S3_SYNC", "false")),
            sync_interval_s=_parse_seconds(environ.get("PREDICTIONS_SYNC_INTERVAL_S")),
            cache_dir=_optional_path(environ.get("PREDICTIONS_CACHE_DIR")),
            feedback_db=_optional_path(environ.get("PREDICTIONS_FEEDBACK_DB")),
        )


def _holds_a_concept(data_dir: Path) -> bool:
    from predictions_core.catalogue import find_concept_ids

    return bool(find_concept_ids(data_dir))


def _parse_seconds(value: str | None) -> float:
    from predictions_core.errors import InvalidParameterError

    try:
        seconds = float(value or 0)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also rejects NaN
        raise InvalidParameterError(
            "PREDICTIONS_SYNC_INTERVAL_S", f"expected a number of seconds >= 0, got {value!r}"
        )
    return seconds


def _parse_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _optional_path(value: str | None) -> Path | None:
    return Path(value) if value else None
