"""Settings from the environment and `.env` (CONTRACT §3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from predictions_core.errors import InvalidParameterError
from predictions_core.settings import DEMO_DATA_DIR, Settings


def test_defaults_fall_back_to_demo_data_when_nothing_is_configured(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no data/processed here
    settings = Settings.from_env({})
    assert settings.data_dir == DEMO_DATA_DIR and settings.data_dir_is_demo
    assert settings.resolved_cache_dir == DEMO_DATA_DIR / ".cache"
    assert settings.resolved_feedback_db == DEMO_DATA_DIR / "feedback.sqlite"
    assert not settings.sync_enabled and settings.sync_interval_s == 0


def test_data_processed_is_used_once_it_holds_a_concept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "processed" / "Q1").mkdir(parents=True)
    settings = Settings.from_env({})
    assert settings.data_dir == Path("data/processed") and not settings.data_dir_is_demo


def test_a_bucket_means_no_demo_fallback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"PREDICTIONS_S3_BUCKET": "b", "PREDICTIONS_S3_PREFIX": "p/"})
    assert settings.data_dir == Path("data/processed")
    assert settings.sync_enabled and settings.s3_prefix == "p/"
    assert not Settings.from_env(
        {"PREDICTIONS_S3_BUCKET": "b", "SKIP_S3_SYNC": "TRUE"}
    ).sync_enabled


def test_every_variable_is_read(tmp_path):
    settings = Settings.from_env(
        {
            "PREDICTIONS_DATA_DIR": str(tmp_path),
            "PREDICTIONS_SYNC_INTERVAL_S": "30",
            "PREDICTIONS_CACHE_DIR": str(tmp_path / "c"),
            "PREDICTIONS_FEEDBACK_DB": str(tmp_path / "f.db"),
        }
    )
    assert settings.data_dir == tmp_path and not settings.data_dir_is_demo
    assert settings.sync_interval_s == 30
    assert settings.resolved_cache_dir == tmp_path / "c"
    assert settings.resolved_feedback_db == tmp_path / "f.db"


def test_dotenv_file_is_read_but_real_environment_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "PREDICTIONS_S3_PREFIX=from-dotenv\nPREDICTIONS_SYNC_INTERVAL_S=5\n"
    )
    monkeypatch.setenv("PREDICTIONS_SYNC_INTERVAL_S", "7")
    monkeypatch.delenv("PREDICTIONS_S3_PREFIX", raising=False)
    settings = Settings.from_env()
    assert settings.s3_prefix == "from-dotenv" and settings.sync_interval_s == 7
    monkeypatch.delenv("PREDICTIONS_S3_PREFIX", raising=False)


@pytest.mark.parametrize("value", ["abc", "-1", "nan"])
def test_a_bad_interval_is_a_clear_error(value):
    with pytest.raises(InvalidParameterError, match="PREDICTIONS_SYNC_INTERVAL_S"):
        Settings.from_env({"PREDICTIONS_SYNC_INTERVAL_S": value})


def test_every_field_is_described():
    assert all(field.description for field in Settings.model_fields.values())
