"""The justfile wraps the contract's commands (CONTRACT §1) in plain commands.

The recipes are read from the file itself (no `just` needed); where the `just` binary is
installed, `just` must parse the file and print the same commands.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
JUSTFILE = REPO_ROOT / "justfile"
CONTRACT_RECIPES = {"run", "test", "predict", "sync", "bench", "demo"}
EXPECTED = {
    "run": "uv run streamlit run app.py",
    "test": "uv run pytest",
    "predict": "uv run predictions predict Q123 --passages f.jsonl",
}
RECIPE = re.compile(r"^([a-z][\w-]*)\b[^:=]*:\s*$")


def recipes() -> dict[str, list[str]]:
    """Each recipe of the root justfile with the command lines of its body."""
    found: dict[str, list[str]] = {}
    current = None
    for line in JUSTFILE.read_text(encoding="utf-8").splitlines():
        if match := RECIPE.match(line):
            current = found.setdefault(match[1], [])
        elif line.startswith((" ", "\t")) and line.strip() and current is not None:
            current.append(line.strip())
        elif not line.startswith("#"):
            current = None
    return found


def test_every_contract_recipe_is_a_plain_command():
    found = recipes()
    assert set(found) >= CONTRACT_RECIPES
    assert found["run"] == [EXPECTED["run"]] and found["test"] == [EXPECTED["test"]]
    assert found["predict"] == ["uv run predictions predict {{qid}} {{args}}"]
    for recipe in CONTRACT_RECIPES:
        assert found[recipe] and all(line.startswith("uv run ") for line in found[recipe])


def test_the_bench_recipe_runs_scripts_that_exist():
    scripts = [shlex.split(line)[-1] for line in recipes()["bench"]]
    assert scripts and all((REPO_ROOT / script).is_file() for script in scripts), scripts


def test_just_parses_the_justfile_and_prints_the_same_commands(run_just):
    summary = run_just(JUSTFILE, "--summary")
    assert summary.returncode == 0, summary.stderr
    assert set(summary.stdout.split()) >= CONTRACT_RECIPES
    for recipe, command in EXPECTED.items():
        args = [recipe, "Q123", "--passages", "f.jsonl"] if recipe == "predict" else [recipe]
        assert command in run_just(JUSTFILE, "--dry-run", *args).stderr
