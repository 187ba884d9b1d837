"""The justfile wraps the contract's commands (CONTRACT §1) and parses with `just`."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.skipif(shutil.which("just") is None, reason="the just binary is not installed")
def test_root_justfile_has_the_contract_recipes_and_wraps_plain_commands():
    just = [
        "just",
        "--justfile",
        str(REPO_ROOT / "justfile"),
        "--working-directory",
        str(REPO_ROOT),
    ]
    summary = subprocess.run([*just, "--summary"], capture_output=True, text=True, timeout=30)
    assert summary.returncode == 0, summary.stderr
    assert {"run", "test", "predict", "sync", "bench", "demo"} <= set(summary.stdout.split())
    expected = {
        "run": "uv run streamlit run app.py",
        "test": "uv run pytest",
        "predict": "uv run predictions predict Q123 --passages f.jsonl",
    }
    for recipe, command in expected.items():
        args = [recipe, "Q123", "--passages", "f.jsonl"] if recipe == "predict" else [recipe]
        dry = subprocess.run(
            [*just, "--dry-run", *args], capture_output=True, text=True, timeout=30
        )
        assert command in dry.stderr
