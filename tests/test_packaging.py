"""The installed package (a wheel, not a checkout) carries and finds its bundled demo data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from predictions_core.data.location import DEMO_DATA_DIR, REPO_ROOT

# run inside the unzipped wheel, from a folder holding no checkout and no data
PROBE = """
import json
from pathlib import Path

import predictions_core
from predictions_core.data.location import DEMO_DATA_DIR, with_demo_fallback
from predictions_core.settings import Settings

print(json.dumps({
    "package": predictions_core.__file__,
    "demo": str(DEMO_DATA_DIR),
    "settings_data_dir": str(with_demo_fallback(Settings()).data_dir),
    "concepts": sorted(p.name for p in DEMO_DATA_DIR.iterdir() if p.name.startswith("Q")),
    "files": sorted(p.relative_to(DEMO_DATA_DIR).as_posix()
                    for p in DEMO_DATA_DIR.rglob("*") if p.is_file()),
}))
"""


# what a local run may leave in the demo folder: never part of the package
LOCAL_STATE = (".cache/Q218/columns.arrow", "feedback.sqlite", "feedback.sqlite-wal")
PROJECT_FILES = ("pyproject.toml", "hatch_build.py", "README.md", ".gitignore", "predictions_core")


@pytest.fixture(scope="module")
def installed_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, unzipped as `pip install` lays it out.

    Built from a copy of the project whose demo folder also holds a run's local state.
    """
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("`uv` is not on PATH: cannot build the wheel")
    project = tmp_path_factory.mktemp("project")
    for name in PROJECT_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, project / name)
    shutil.copytree(DEMO_DATA_DIR, project / "data" / "demo", ignore=shutil.ignore_patterns(".*"))
    for name in LOCAL_STATE:
        (project / "data" / "demo" / name).parent.mkdir(parents=True, exist_ok=True)
        (project / "data" / "demo" / name).write_text("local state", encoding="utf-8")
    out = tmp_path_factory.mktemp("wheel")
    build = [uv, "build", "--wheel", "--quiet", "-o", str(out)]
    subprocess.run(build, cwd=project, check=True, timeout=120)
    (wheel,) = out.glob("*.whl")
    site = out / "site-packages"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def test_the_wheel_finds_its_bundled_demo_data(installed_package: Path, tmp_path: Path) -> None:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("PREDICTIONS_")
    }
    environment.update(PYTHONPATH=str(installed_package), SKIP_S3_SYNC="true")
    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    found = json.loads(probe.stdout)
    bundled = installed_package / "predictions_core" / "demo" / "bundled"
    assert Path(found["package"]).is_relative_to(installed_package)  # not the checkout
    assert Path(found["demo"]) == bundled
    assert Path(found["settings_data_dir"]) == bundled
    assert found["concepts"] == ["Q1829", "Q218", "Q787"]
    committed = sorted(
        p.relative_to(DEMO_DATA_DIR).as_posix()
        for p in DEMO_DATA_DIR.rglob("*")
        if p.is_file()
        and not p.relative_to(DEMO_DATA_DIR).as_posix().startswith(".")
        and ".sqlite" not in p.name
    )
    assert found["files"] == committed  # every file of the demo, and only those


def test_local_state_in_the_demo_folder_is_not_shipped(installed_package: Path) -> None:
    bundled = installed_package / "predictions_core" / "demo" / "bundled"
    assert (bundled / "passages.jsonl").is_file()
    for name in LOCAL_STATE:
        assert not (bundled / name).exists(), name
    assert not list(bundled.rglob(".*"))
