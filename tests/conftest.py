"""Shared fixtures: where the real public fixtures are, and settings pointing at a data dir."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from predictions_core.data.location import DEMO_DATA_DIR, forget_settings
from predictions_core.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
REAL_FIXTURES = REPO_ROOT.parent / "shared" / "fixtures" / "real"


@pytest.fixture(autouse=True)
def settings_read_afresh():
    """Each test's process settings come from the environment that test sets up.

    A real process reads its settings once; tests change the environment between tests.
    """
    forget_settings()
    yield
    forget_settings()


@pytest.fixture(scope="session")
def real_fixtures() -> Path:
    """`../shared/fixtures/real`, or a skip where it is absent (a user's clone)."""
    if not REAL_FIXTURES.is_dir():
        pytest.skip(f"real fixtures not found at {REAL_FIXTURES} (they live beside the repo in CI)")
    return REAL_FIXTURES


@pytest.fixture
def settings_for(tmp_path: Path):
    """Build `Settings` for a data dir, with the cache and feedback DB under tmp_path."""

    def make(data_dir: Path) -> Settings:
        return Settings(
            data_dir=data_dir,
            cache_dir=tmp_path / "cache",
            feedback_db=tmp_path / "feedback.sqlite",
            skip_s3_sync=True,
        )

    return make


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled demo data (tests must never write into data/demo)."""
    if not DEMO_DATA_DIR.is_dir():
        pytest.skip("data/demo has not been generated yet (`uv run predictions demo`)")
    target = tmp_path / "demo"
    shutil.copytree(DEMO_DATA_DIR, target, ignore=shutil.ignore_patterns(".cache", "*.sqlite*"))
    return target


@pytest.fixture
def both_layouts(tmp_path: Path, real_fixtures: Path) -> Path:
    """One data dir holding the real fixtures in both layouts side by side (CONTRACT §2)."""
    target = tmp_path / "both"
    shutil.copytree(real_fixtures / "seed_layout", target)
    for concept in (real_fixtures / "vibe_layout").iterdir():
        shutil.copytree(concept, target / concept.name)
    return target
