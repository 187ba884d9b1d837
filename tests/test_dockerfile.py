"""Dockerfile and .dockerignore, checked offline.

There is no Docker engine here, so the Dockerfile is parsed, and the two commands the image
runs by itself (its CMD and its HEALTHCHECK) are executed against stand-ins on this machine.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.local_ports import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SEED_SCRIPT = REPO_ROOT / "infra" / "seed_bucket.py"


# --- a small Dockerfile parser ------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    arguments: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        """Arguments of every `keyword` instruction, with this stage's ARG defaults filled in."""
        defaults = dict(
            i.arguments.partition("=")[::2] for i in self.instructions if i.keyword == "ARG"
        )
        return [
            re.sub(r"\$\{(\w+)\}", lambda m: defaults.get(m[1]) or m[0], i.arguments)
            for i in self.instructions
            if i.keyword == keyword
        ]


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the build stages, with line continuations joined."""
    logical_lines, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical_lines.append(pending + line)
        pending = ""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical_lines:
        keyword, _, arguments = line.partition(" ")
        keyword, arguments = keyword.upper(), arguments.strip()
        if keyword == "FROM":
            words = arguments.split()
            image = re.sub(r"\$\{(\w+)\}", lambda m: global_args.get(m[1], m[0]), words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=image, name=name))
        elif not stages and keyword == "ARG":
            key, _, default = arguments.partition("=")
            global_args[key] = default
        elif stages:
            stages[-1].instructions.append(Instruction(keyword, arguments))
    return global_args, stages


def exec_form(arguments: str) -> list[str]:
    """The JSON (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD; fail on the shell form."""
    assert arguments.startswith("["), f"use the exec form, got: {arguments}"
    return json.loads(arguments)


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())[1]


@pytest.fixture(scope="module")
def runtime(stages) -> Stage:
    return stages[-1]


def test_build_has_a_builder_stage_and_a_slim_python_runtime(stages, runtime):
    assert len(stages) >= 2
    builder_names = {stage.name for stage in stages[:-1]}
    assert runtime.base == "python:3.11-slim"
    copies_from = [c for c in runtime.all("COPY") if c.startswith("--from=")]
    assert copies_from, "the runtime stage copies nothing from the builder"
    assert {c.split()[0].removeprefix("--from=") for c in copies_from} <= builder_names
    # The runtime stage installs nothing: no uv, no pip, no compiler.
    assert not any(re.search(r"\b(pip|uv|apt-get)\b", run) for run in runtime.all("RUN"))


def test_dependencies_come_from_the_lock_file_without_dev_tools(stages):
    builder = stages[0]
    runs = builder.all("RUN")
    assert any(re.search(r"pip install .*\buv==\d+\.\d+\.\d+", run) for run in runs), "pin uv"
    syncs = [run for run in runs if "uv sync" in run]
    assert syncs, "the builder never runs uv sync"
    for sync in syncs:
        assert "--frozen" in sync and "--no-dev" in sync, sync
    lock_copy = next(i for i, c in enumerate(builder.instructions) if "uv.lock" in c.arguments)
    first_sync = next(i for i, c in enumerate(builder.instructions) if "uv sync" in c.arguments)
    assert builder.instructions[lock_copy].keyword == "COPY" and lock_copy < first_sync


def test_runtime_runs_as_a_non_root_user(runtime):
    users = runtime.all("USER")
    assert users, "the runtime stage never switches user"
    assert users[-1].split(":")[0] not in {"root", "0"}
    created = " ".join(runtime.all("RUN"))
    assert re.search(rf"useradd\b.*\b{re.escape(users[-1])}\b", created), "user not created"
    # The app writes synced data, caches and feedback under /app/data.
    assert re.search(rf"chown -R {users[-1]}(:\w+)? /app/data\b", created)
    last_user = max(i for i, ins in enumerate(runtime.instructions) if ins.keyword == "USER")
    later = [ins.keyword for ins in runtime.instructions[last_user:]]
    assert "RUN" not in later and "COPY" not in later, "files written as root after USER"


def test_port_is_configurable_with_8501_by_default(runtime):
    environment = " ".join(runtime.all("ENV"))
    assert re.search(r"\bPORT=8501\b", environment)
    assert "8501" in runtime.all("EXPOSE")


def _fake_uvicorn(directory: Path) -> Path:
    fake = directory / "uvicorn"
    fake.write_text('#!/bin/sh\necho "uvicorn $*"\n')
    fake.chmod(0o755)
    return directory


@pytest.mark.parametrize(("port", "expected"), [("9123", "9123"), (None, "8501")])
def test_cmd_starts_uvicorn_on_the_configured_port(runtime, tmp_path, port, expected):
    (command,) = runtime.all("CMD") or runtime.all("ENTRYPOINT")
    argv = exec_form(command)
    assert "uvicorn app:app" in " ".join(argv)
    env = {"PATH": f"{_fake_uvicorn(tmp_path)}:{os.environ['PATH']}"}
    if port is not None:
        env["PORT"] = port
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    words = shlex.split(result.stdout)
    assert words[:2] == ["uvicorn", "app:app"]
    assert words[words.index("--port") + 1] == expected
    assert words[words.index("--host") + 1] == "0.0.0.0"


class _HealthHandler(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):  # noqa: N802 (http.server's name)
        code = self.status if self.path == "/api/health" else 404
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *args):
        pass


def _serve(status: int) -> ThreadingHTTPServer:
    handler = type("Handler", (_HealthHandler,), {"status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _run_healthcheck(runtime: Stage, port: int) -> int:
    (healthcheck,) = runtime.all("HEALTHCHECK")
    options, _, command = healthcheck.partition(" CMD ")
    assert "--interval" in options and "--start-period" in options
    argv = exec_form(command.strip())
    assert argv[0] == "python", "slim images have no curl: the check must use python"
    argv[0] = sys.executable
    env = {"PORT": str(port), "PATH": os.environ["PATH"]}
    return subprocess.run(argv, env=env, capture_output=True, timeout=20).returncode


def test_healthcheck_passes_only_when_api_health_answers_ok(runtime):
    (healthcheck,) = runtime.all("HEALTHCHECK")
    assert "/api/health" in healthcheck
    healthy, failing = _serve(200), _serve(503)
    try:
        assert _run_healthcheck(runtime, healthy.server_address[1]) == 0
        assert _run_healthcheck(runtime, failing.server_address[1]) != 0
    finally:
        healthy.shutdown()
        failing.shutdown()
    assert _run_healthcheck(runtime, free_port()) != 0


# --- .dockerignore ------------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern:
    """Docker's pattern syntax: `**` any depth, `*` and `?` within one path segment."""
    parts = re.split(r"(\*\*/?|\*|\?)", pattern)
    translated = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(translated.get(part, re.escape(part)) for part in parts))


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Whether Docker leaves `path` out: the last pattern matching it or a parent decides."""
    prefixes = ["/".join(path.split("/")[: i + 1]) for i in range(path.count("/") + 1)]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = _pattern_regex(pattern.lstrip("!").strip("/"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


@pytest.fixture(scope="module")
def ignore_patterns() -> list[str]:
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_dockerignore_matcher_follows_docker_rules():
    assert dockerignore_excludes(["data/*", "!data/demo"], "data/raw/x.jsonl")
    assert not dockerignore_excludes(["data/*", "!data/demo"], "data/demo/Q1/x.jsonl")
    assert dockerignore_excludes(["**/.cache"], "data/demo/.cache/a.parquet")
    assert dockerignore_excludes(["**/.cache"], ".cache/a")
    assert not dockerignore_excludes(["tests"], "src/tests_helper.py")


@pytest.mark.parametrize(
    "path",
    [
        "tests/test_api.py",
        ".venv/bin/python",
        ".cache/predictions/x.parquet",
        ".git/HEAD",
        ".env",
        "data/processed/Q218/abc/predictions.jsonl",
        "data/raw/passages.parquet",
        "data/feedback.sqlite",
        "data/demo/.cache/Q218.parquet",
        "data/demo/feedback.sqlite",
        "benchmarks/bench_filters.py",
        "docs/deploy.md",
        "infra/__main__.py",
        "predictions_core/__pycache__/models.cpython-311.pyc",
    ],
)
def test_dockerignore_keeps_out(ignore_patterns, path):
    assert dockerignore_excludes(ignore_patterns, path)


@pytest.mark.parametrize(
    "path",
    [
        "app.py",
        "pages/browse.py",
        "predictions_core/models.py",
        "pyproject.toml",
        "uv.lock",
        "README.md",
        ".streamlit/config.toml",
        "data/demo/Q218/abc123/predictions.jsonl",
        "data/demo/predictions/Q218/abc123.jsonl",
        "data/demo/concepts/Q218.json",
    ],
)
def test_dockerignore_lets_in(ignore_patterns, path):
    assert not dockerignore_excludes(ignore_patterns, path)


def test_files_the_builder_copies_by_name_exist_and_are_in_the_context(stages, ignore_patterns):
    named = [c.split()[:-1] for c in stages[0].all("COPY") if not c.startswith("--")]
    for name in (n for names in named for n in names if n != "."):
        assert (REPO_ROOT / name).exists(), name
        assert not dockerignore_excludes(ignore_patterns, name), name
