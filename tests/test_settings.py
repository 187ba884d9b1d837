"""Settings from the environment and `.env` (CONTRACT §3), and the demo-data fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from predictions_core.data.location import DEMO_DATA_DIR, app_settings, with_demo_fallback
from predictions_core.errors import InvalidParameterError
from predictions_core.settings import Settings


def from_environment(environ: dict[str, str]) -> Settings:
    """What a process with exactly `environ` (and no `.env`) would read."""
    return with_demo_fallback(Settings(_env_file=None, **_as_fields(environ)))


def _as_fields(environ: dict[str, str]) -> dict[str, str]:
    aliases = {field.validation_alias: name for name, field in Settings.model_fields.items()}
    return {aliases[key]: value for key, value in environ.items() if key in aliases}


@pytest.fixture(autouse=True)
def no_predictions_environment(monkeypatch):
    """A clean environment: what the machine running the tests sets must not leak in."""
    for field in Settings.model_fields.values():
        monkeypatch.delenv(str(field.validation_alias), raising=False)


def test_defaults_fall_back_to_demo_data_when_nothing_is_configured(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no data/processed here
    settings = from_environment({})
    assert settings.data_dir == DEMO_DATA_DIR and settings.data_dir_is_demo
    assert settings.resolved_cache_dir == DEMO_DATA_DIR / ".cache"
    assert settings.resolved_feedback_db == DEMO_DATA_DIR / "feedback.sqlite"
    assert not settings.sync_enabled and settings.sync_interval_s == 0


def test_data_processed_is_used_once_it_holds_a_concept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "processed" / "Q1").mkdir(parents=True)
    settings = from_environment({})
    assert settings.data_dir == Path("data/processed") and not settings.data_dir_is_demo


def test_a_bucket_means_no_demo_fallback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = from_environment({"PREDICTIONS_S3_BUCKET": "b", "PREDICTIONS_S3_PREFIX": "p/"})
    assert settings.data_dir == Path("data/processed") and not settings.data_dir_is_demo
    assert settings.sync_enabled and settings.s3_prefix == "p/"
    assert not from_environment({"PREDICTIONS_S3_BUCKET": "b", "SKIP_S3_SYNC": "TRUE"}).sync_enabled


def test_an_explicit_data_dir_is_never_replaced_by_the_demo(tmp_path):
    settings = from_environment({"PREDICTIONS_DATA_DIR": str(tmp_path / "empty")})
    assert settings.data_dir == tmp_path / "empty" and not settings.data_dir_is_demo


def test_every_variable_is_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    values = {
        "PREDICTIONS_DATA_DIR": str(tmp_path),
        "PREDICTIONS_S3_BUCKET": "bucket",
        "PREDICTIONS_S3_PREFIX": "pre/",
        "SKIP_S3_SYNC": "on",
        "PREDICTIONS_SYNC_INTERVAL_S": "30",
        "PREDICTIONS_CACHE_DIR": str(tmp_path / "c"),
        "PREDICTIONS_FEEDBACK_DB": str(tmp_path / "f.db"),
        "PREDICTIONS_FEEDBACK_DB_HOST": "db.internal",
        "PREDICTIONS_FEEDBACK_DB_PORT": "5433",
        "PREDICTIONS_FEEDBACK_DB_NAME": "predictions",
        "PREDICTIONS_FEEDBACK_DB_USER": "app",
        "PREDICTIONS_FEEDBACK_DB_PASSWORD": "s3cret",
        "PREDICTIONS_REVIEWER_FROM_ALB": "true",
        "PREDICTIONS_ALB_ARN": "arn:aws:elasticloadbalancing:eu-west-2:1:loadbalancer/app/a/b",
        "PREDICTIONS_ALB_PUBLIC_KEYS_URL": "http://127.0.0.1:1/keys",
        "PREDICTIONS_DOCUMENT_URL": "https://example.org/d/{document_slug}",
        "PREDICTIONS_CONCEPT_URL": "https://example.org/c/{qid}",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.data_dir == tmp_path and not settings.data_dir_is_demo
    assert (settings.s3_bucket, settings.s3_prefix, settings.skip_s3_sync) == (
        "bucket",
        "pre/",
        True,
    )
    assert settings.sync_interval_s == 30
    assert settings.resolved_cache_dir == tmp_path / "c"
    assert settings.resolved_feedback_db == tmp_path / "f.db"  # the whole value wins over parts
    assert (settings.feedback_db_host, settings.feedback_db_port) == ("db.internal", 5433)
    assert (settings.feedback_db_name, settings.feedback_db_user) == ("predictions", "app")
    assert settings.feedback_db_password.get_secret_value() == "s3cret"
    assert settings.reviewer_from_alb is True
    assert settings.alb_arn == values["PREDICTIONS_ALB_ARN"]
    assert settings.alb_public_keys_url == "http://127.0.0.1:1/keys"
    assert settings.document_url == "https://example.org/d/{document_slug}"
    assert settings.concept_url == "https://example.org/c/{qid}"
    assert len(values) == len(Settings.model_fields)  # the test names every setting


def test_dotenv_file_is_read_but_real_environment_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "PREDICTIONS_S3_PREFIX=from-dotenv\nPREDICTIONS_SYNC_INTERVAL_S=5\n"
    )
    monkeypatch.setenv("PREDICTIONS_SYNC_INTERVAL_S", "7")
    settings = Settings()
    assert settings.s3_prefix == "from-dotenv" and settings.sync_interval_s == 7


def test_the_process_reads_its_settings_once(tmp_path, monkeypatch):
    monkeypatch.setenv("PREDICTIONS_DATA_DIR", str(tmp_path / "first"))
    first = app_settings()
    monkeypatch.setenv("PREDICTIONS_DATA_DIR", str(tmp_path / "second"))
    assert app_settings() is first  # the API and the UI share this one object
    from predictions_core.data.location import reload_settings

    assert reload_settings().data_dir == tmp_path / "second"


@pytest.mark.parametrize("value", ["abc", "-1", "nan"])
def test_a_bad_interval_is_a_clear_error(value):
    with pytest.raises(
        (InvalidParameterError, ValidationError), match="PREDICTIONS_SYNC_INTERVAL_S"
    ):
        from_environment({"PREDICTIONS_SYNC_INTERVAL_S": value})


@pytest.mark.parametrize("value", ["ture", "nope", "2"])
def test_a_mistyped_flag_is_an_error_not_false(value):
    with pytest.raises((InvalidParameterError, ValidationError), match="SKIP_S3_SYNC"):
        from_environment({"SKIP_S3_SYNC": value})


@pytest.mark.parametrize("value", ["true", "TRUE", " yes ", "on", "1"])
def test_every_true_word_is_read_as_true(value):
    assert from_environment({"SKIP_S3_SYNC": value}).skip_s3_sync is True


def test_every_field_is_described():
    assert all(field.description for field in Settings.model_fields.values())


def test_the_feedback_db_is_a_path_or_a_postgresql_url():
    url = "postgresql://app:pw@db.internal:5432/predictions"
    assert from_environment({"PREDICTIONS_FEEDBACK_DB": url}).resolved_feedback_db == url
    relative = from_environment({"PREDICTIONS_FEEDBACK_DB": "data/fb.sqlite"})
    assert relative.resolved_feedback_db == Path("data/fb.sqlite")


def test_the_feedback_db_in_parts_makes_an_encoded_url_and_hides_the_password():
    parts = {
        "PREDICTIONS_FEEDBACK_DB_HOST": "db.internal",
        "PREDICTIONS_FEEDBACK_DB_NAME": "predictions",
        "PREDICTIONS_FEEDBACK_DB_USER": "app@team",
        "PREDICTIONS_FEEDBACK_DB_PASSWORD": "p@ss:w/rd%?#",
    }
    settings = from_environment(parts)
    assert settings.resolved_feedback_db == (
        "postgresql+psycopg://app%40team:p%40ss%3Aw%2Frd%25%3F%23@db.internal:5432/predictions"
    )
    assert "p@ss" not in repr(settings) and "p@ss" not in str(settings.model_dump())
    without_name = from_environment({**parts, "PREDICTIONS_FEEDBACK_DB_NAME": ""})
    with pytest.raises(InvalidParameterError, match="PREDICTIONS_FEEDBACK_DB_NAME"):
        without_name.resolved_feedback_db  # noqa: B018
