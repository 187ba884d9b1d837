"""Settings: one pydantic-settings model, read from the environment and a `.env` file.

Every field has a default and a description; CONTRACT §3 is the list of variables. Reading
settings never looks at the disk beyond `.env`: the fallback to the bundled demo data (which
needs a look inside `data/processed`) is `data.location.app_settings`, which is also the one
place a process reads its settings, once.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from predictions_core.flags import parse_bool

DEFAULT_DATA_DIR = Path("data/processed")
_POSTGRES_SCHEMES = ("postgresql://", "postgresql+psycopg://", "postgres://")
DEFAULT_DOCUMENT_URL = (
    "https://app.climatepolicyradar.org/documents/{document_slug}?id={family_slug}"
)
DEFAULT_CONCEPT_URL = "https://climatepolicyradar.wikibase.cloud/wiki/Item:{qid}"
_LINK_TEMPLATES = ("PREDICTIONS_DOCUMENT_URL", "PREDICTIONS_CONCEPT_URL")


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
    feedback_db: Path | str | None = Field(
        None,
        validation_alias="PREDICTIONS_FEEDBACK_DB",
        description=(
            "PREDICTIONS_FEEDBACK_DB: reviewers' judgements: a SQLite file path (default "
            "<data dir>/feedback.sqlite) or a postgresql:// URL shared by every replica."
        ),
    )
    # the same PostgreSQL connection in parts, used when PREDICTIONS_FEEDBACK_DB is unset: on
    # AWS the password arrives as an ECS secret in a variable of its own
    feedback_db_host: str | None = Field(
        None,
        validation_alias="PREDICTIONS_FEEDBACK_DB_HOST",
        description="PREDICTIONS_FEEDBACK_DB_HOST: PostgreSQL host of the judgements (parts).",
    )
    feedback_db_port: int = Field(
        5432,
        validation_alias="PREDICTIONS_FEEDBACK_DB_PORT",
        description="PREDICTIONS_FEEDBACK_DB_PORT: its port (default 5432).",
    )
    feedback_db_name: str | None = Field(
        None,
        validation_alias="PREDICTIONS_FEEDBACK_DB_NAME",
        description="PREDICTIONS_FEEDBACK_DB_NAME: its database name.",
    )
    feedback_db_user: str | None = Field(
        None,
        validation_alias="PREDICTIONS_FEEDBACK_DB_USER",
        description="PREDICTIONS_FEEDBACK_DB_USER: its user.",
    )
    feedback_db_password: SecretStr | None = Field(
        None,
        validation_alias="PREDICTIONS_FEEDBACK_DB_PASSWORD",
        description="PREDICTIONS_FEEDBACK_DB_PASSWORD: its password (never printed).",
    )
    reviewer_from_alb: Annotated[bool, _flag("PREDICTIONS_REVIEWER_FROM_ALB")] = Field(
        False,
        validation_alias="PREDICTIONS_REVIEWER_FROM_ALB",
        description=(
            "PREDICTIONS_REVIEWER_FROM_ALB: the reviewer is the load balancer's signed-in user "
            "(its x-amzn-oidc-data token, verified); otherwise reviewers type their name."
        ),
    )
    alb_arn: str | None = Field(
        None,
        validation_alias="PREDICTIONS_ALB_ARN",
        description=(
            "PREDICTIONS_ALB_ARN: the load balancer whose signed tokens are trusted (the token's "
            "`signer`); its region picks the key endpoint. Needed with REVIEWER_FROM_ALB."
        ),
    )
    alb_public_keys_url: str | None = Field(
        None,
        validation_alias="PREDICTIONS_ALB_PUBLIC_KEYS_URL",
        description=(
            "PREDICTIONS_ALB_PUBLIC_KEYS_URL: where the load balancer's signing keys are fetched "
            "by key id (default https://public-keys.auth.elb.{region}.amazonaws.com)."
        ),
    )
    document_url: str = Field(
        DEFAULT_DOCUMENT_URL,
        validation_alias="PREDICTIONS_DOCUMENT_URL",
        description=(
            "PREDICTIONS_DOCUMENT_URL: link from a passage card to its source document; "
            "`{name}` is filled from the passage's metadata (URL-encoded); empty: no links."
        ),
    )
    concept_url: str = Field(
        DEFAULT_CONCEPT_URL,
        validation_alias="PREDICTIONS_CONCEPT_URL",
        description=(
            "PREDICTIONS_CONCEPT_URL: link from a concept to its page (`{qid}`); empty: no link."
        ),
    )
    # set only by `data.location.with_demo_fallback`, never from the environment
    _data_dir_is_demo: bool = PrivateAttr(False)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The usual sources, plus: an empty link template means "no links", not "unset"."""
        blank_links = _BlankLinkTemplates(settings_cls, getattr(dotenv_settings, "env_file", None))
        return init_settings, blank_links, env_settings, dotenv_settings, file_secret_settings

    @field_validator("document_url", "concept_url")
    @classmethod
    def _url_template(cls, value: str, info: ValidationInfo) -> str:
        from predictions_core.errors import InvalidParameterError

        name = str(cls.model_fields[str(info.field_name)].validation_alias)
        try:
            url_template_parts(value)
        except ValueError as error:
            raise InvalidParameterError(name, f"{error} in {value!r}") from None
        return value.strip()

    @field_validator("feedback_db", mode="before")
    @classmethod
    def _feedback_target(cls, value: object) -> object:
        # a URL stays text (a Path would fold its `//`); anything else is a file path
        if isinstance(value, str) and value.strip().startswith(_POSTGRES_SCHEMES):
            return value.strip()
        return Path(value) if isinstance(value, str) else value

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
    def resolved_feedback_db(self) -> Path | str:
        """The judgements' database: a SQLite file path, or a PostgreSQL URL (which may hold a
        password: hand it to the feedback store, never print it).
        """
        if self.feedback_db is not None:
            return self.feedback_db
        if self.feedback_db_host:
            return self._feedback_db_url_from_parts()
        return self.data_dir / "feedback.sqlite"

    def _feedback_db_url_from_parts(self) -> str:
        from predictions_core.errors import InvalidParameterError

        missing = [
            alias
            for alias, value in (
                ("PREDICTIONS_FEEDBACK_DB_NAME", self.feedback_db_name),
                ("PREDICTIONS_FEEDBACK_DB_USER", self.feedback_db_user),
            )
            if not value
        ]
        if missing:
            raise InvalidParameterError(
                missing[0], "needed with PREDICTIONS_FEEDBACK_DB_HOST (or PREDICTIONS_FEEDBACK_DB)"
            )
        secret = self.feedback_db_password
        password = secret.get_secret_value() if secret is not None else ""
        credentials = quote(str(self.feedback_db_user), safe="")
        if password:
            credentials += ":" + quote(password, safe="")
        host = self.feedback_db_host or ""
        host = f"[{host}]" if ":" in host else host  # an IPv6 address
        database = quote(str(self.feedback_db_name), safe="")
        return f"postgresql+psycopg://{credentials}@{host}:{self.feedback_db_port}/{database}"

    @property
    def sync_enabled(self) -> bool:
        return bool(self.s3_bucket) and not self.skip_s3_sync

    def as_demo(self, demo_dir: Path) -> Settings:
        """A copy reading the bundled demo data at `demo_dir`."""
        copy = self.model_copy(update={"data_dir": demo_dir})
        copy._data_dir_is_demo = True
        return copy


def url_template_parts(template: str) -> list[tuple[str, str | None]]:
    """`template` as (literal text, placeholder name or None) pairs, in order.

    Placeholders are `{name}` only (a metadata key, which may hold dots): no positional
    `{}`, no `{name!r}` or `{name:spec}`, so a template cannot do more than name keys.
    Raises ValueError saying what is wrong.
    """
    try:
        pieces = list(string.Formatter().parse(template))
    except ValueError:
        raise ValueError("a { or } is unmatched (write {{ or }} for a literal brace)") from None
    parts: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in pieces:
        if name is not None and (not name.strip() or spec or conversion):
            raise ValueError(f"placeholder {{{name}}} is not a plain {{name}}")
        parts.append((literal, name))
    return parts


class _BlankLinkTemplates(PydanticBaseSettingsSource):
    """`PREDICTIONS_DOCUMENT_URL=` (or `PREDICTIONS_CONCEPT_URL=`) set but empty: no links.

    Every other empty variable means "not set" (`env_ignore_empty`), so these two are read
    again here with empty values kept; the real environment wins over `.env`, as usual.
    """

    def __init__(self, settings_cls: type[BaseSettings], env_file: object) -> None:
        super().__init__(settings_cls)
        self._env_file = env_file

    def get_field_value(self, field: object, field_name: str) -> tuple[object, str, bool]:
        return None, field_name, False  # unused: `__call__` answers for every field

    def __call__(self) -> dict[str, object]:
        sources = [EnvSettingsSource(self.settings_cls, env_ignore_empty=False)]
        if self._env_file is not None:
            sources.append(
                DotEnvSettingsSource(
                    self.settings_cls, env_file=self._env_file, env_ignore_empty=False
                )
            )
        blank: dict[str, object] = {}
        for alias in _LINK_TEMPLATES:
            for source in sources:  # the first source that has the variable decides
                value = source.env_vars.get(alias.lower())
                if value is not None:
                    if not value.strip():
                        blank[alias] = ""
                    break
        return blank
