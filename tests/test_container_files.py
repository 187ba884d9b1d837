"""Dockerfile, .dockerignore, docker-compose.yml and the compose seeding script, checked offline.

There is no Docker engine here, so the Dockerfile is parsed, and the two commands the image
runs by itself (its CMD and its HEALTHCHECK) are executed against stand-ins on this machine.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest
import yaml
from botocore.config import Config
from moto import mock_aws

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    assert _run_healthcheck(runtime, _free_port()) != 0


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


# --- docker-compose.yml ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _environment(service: dict) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(entry.split("=", 1) for entry in environment)
    return {key: str(value) for key, value in environment.items()}


def test_compose_app_syncs_from_the_local_s3_service(compose):
    services = compose["services"]
    app = _environment(services["app"])
    endpoint = urlparse(app["AWS_ENDPOINT_URL"])
    assert endpoint.hostname in services, "AWS_ENDPOINT_URL must name the S3 service"
    s3_service = services[endpoint.hostname]
    assert "moto" in s3_service["image"] or "moto_server" in str(s3_service.get("command"))
    # moto_server listens on MOTO_PORT, 5000 unless set.
    assert str(endpoint.port) == _environment(s3_service).get("MOTO_PORT", "5000")
    assert app["PREDICTIONS_S3_BUCKET"]
    assert app["AWS_ACCESS_KEY_ID"] and app["AWS_SECRET_ACCESS_KEY"]
    assert app["AWS_DEFAULT_REGION"], "boto3 reads its region from AWS_DEFAULT_REGION"
    assert app.get("SKIP_S3_SYNC", "false") == "false"
    assert int(app["PREDICTIONS_SYNC_INTERVAL_S"]) > 0
    assert services["app"]["build"] in (".", {"context": "."})
    published = [str(p) for p in services["app"]["ports"]]
    assert any(p.endswith(f":{app['PORT']}") for p in published)


def test_compose_seeds_the_same_bucket_before_the_app_starts(compose):
    services = compose["services"]
    app, seed = services["app"], services["seed"]
    app_env, seed_env = _environment(app), _environment(seed)
    assert seed_env["PREDICTIONS_S3_BUCKET"] == app_env["PREDICTIONS_S3_BUCKET"]
    assert seed_env.get("PREDICTIONS_S3_PREFIX", "") == app_env.get("PREDICTIONS_S3_PREFIX", "")
    assert seed_env["AWS_ENDPOINT_URL"] == app_env["AWS_ENDPOINT_URL"]
    command = seed["command"]
    command = command if isinstance(command, list) else shlex.split(command)
    script = command[1]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in seed["volumes"]}
    assert (REPO_ROOT / mounts[script]).resolve() == SEED_SCRIPT
    assert command[command.index("--source") + 1] == "/app/data/demo"
    assert "--bucket" not in command, "the bucket must come from the shared environment"
    assert app["depends_on"]["seed"]["condition"] == "service_completed_successfully"
    s3_name = urlparse(seed_env["AWS_ENDPOINT_URL"]).hostname
    assert s3_name in seed["depends_on"]


# --- the seeding script ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_module():
    spec = importlib.util.spec_from_file_location("seed_bucket", SEED_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def demo_dir(tmp_path) -> Path:
    files = {
        "Q218/abc123/predictions.jsonl": '{"id": "1", "text": "t", "spans": []}\n',
        "Q218/abc123/classifier.json": '{"id": "abc123"}',
        "predictions/Q218/def456.jsonl": "{}\n",
        ".cache/Q218.parquet": "derived",
        "Q218/.cache/x": "derived",
        "feedback.sqlite": "judgements",
        "feedback.sqlite-wal": "judgements",
    }
    for relative, content in files.items():
        path = tmp_path / "demo" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return tmp_path / "demo"


@pytest.fixture
def fake_aws(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield boto3.client("s3")


def _keys(client, bucket: str) -> list[str]:
    listing = client.list_objects_v2(Bucket=bucket)
    return sorted(entry["Key"] for entry in listing.get("Contents", []))


def test_seed_uploads_the_layout_but_not_caches_or_feedback(seed_module, demo_dir, fake_aws):
    report = seed_module.seed_bucket(fake_aws, demo_dir, "predictions-demo", "")
    assert report.ok, report
    expected = [
        "Q218/abc123/classifier.json",
        "Q218/abc123/predictions.jsonl",
        "predictions/Q218/def456.jsonl",
    ]
    assert sorted(report.uploaded) == expected
    assert _keys(fake_aws, "predictions-demo") == expected
    body = fake_aws.get_object(Bucket="predictions-demo", Key=expected[1])["Body"].read()
    assert body == (demo_dir / expected[1]).read_bytes()
    # A second run (compose restarted) reuses the bucket and writes the same keys.
    again = seed_module.seed_bucket(fake_aws, demo_dir, "predictions-demo", "")
    assert sorted(again.uploaded) == expected
    assert _keys(fake_aws, "predictions-demo") == expected


def test_seed_command_reads_bucket_and_prefix_from_the_environment(
    seed_module, demo_dir, fake_aws, monkeypatch, capsys
):
    monkeypatch.setenv("PREDICTIONS_S3_BUCKET", "from-env")
    monkeypatch.setenv("PREDICTIONS_S3_PREFIX", "/team/v2/")
    assert seed_module.main(["--source", str(demo_dir), "--wait", "1"]) == 0
    keys = _keys(fake_aws, "from-env")
    assert keys and all(key.startswith("team/v2/") for key in keys)
    assert "seeded s3://from-env/team/v2/ with 3 files" in capsys.readouterr().out


def test_seed_command_explains_bad_input(seed_module, demo_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("PREDICTIONS_S3_BUCKET", raising=False)
    assert seed_module.main(["--source", str(demo_dir)]) == 2
    assert "no bucket" in capsys.readouterr().err
    missing = tmp_path / "nowhere"
    assert seed_module.main(["--source", str(missing), "--bucket", "b"]) == 2
    assert f"{missing} is not a directory" in capsys.readouterr().err


def test_seed_gives_up_on_an_unreachable_server_with_a_clear_error(seed_module, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    endpoint = f"http://127.0.0.1:{_free_port()}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(connect_timeout=0.5, read_timeout=0.5, retries={"max_attempts": 1}),
    )
    with pytest.raises(TimeoutError, match=re.escape(endpoint)):
        seed_module.wait_for_s3(client, timeout_s=0.3, poll_s=0.1)


# --- infra/deploy.just ----------------------------------------------------------------------------

DEPLOY_JUST = REPO_ROOT / "infra" / "deploy.just"
DEPLOY_RECIPES = {
    "infra-init",
    "infra-preview",
    "infra-up",
    "infra-outputs",
    "image-build",
    "image-push",
    "roll-out",
    "deploy",
    "data-push",
    "compose-up",
    "compose-down",
}


def test_deploy_recipes_exist_and_read_the_exported_outputs():
    text = DEPLOY_JUST.read_text()
    recipes = set(re.findall(r"^([a-z][a-z-]*)(?:\s[^:\n]*)?:(?!=)", text, flags=re.MULTILINE))
    assert recipes >= DEPLOY_RECIPES
    infra_main = (REPO_ROOT / "infra" / "predictions_infra" / "stack.py").read_text()
    for output in set(re.findall(r"stack output (\w+)", text)) | {"url"}:
        assert f'"{output}"' in infra_main, f"deploy.just reads an output the stack lacks: {output}"
    assert "--force-new-deployment" in text


@pytest.mark.skipif(shutil.which("just") is None, reason="the just binary is not installed")
def test_deploy_recipes_parse_with_just():
    just = ["just", "--justfile", str(DEPLOY_JUST), "--working-directory", str(REPO_ROOT)]
    listing = subprocess.run([*just, "--summary"], capture_output=True, text=True, timeout=30)
    assert listing.returncode == 0, listing.stderr
    assert set(listing.stdout.split()) >= DEPLOY_RECIPES
    dry = subprocess.run(
        [*just, "--dry-run", "image-build", "v7"], capture_output=True, text=True, timeout=30
    )
    assert dry.returncode == 0, dry.stderr
    assert f'-t "predictions-dashboard:v7" "{REPO_ROOT}"' in dry.stderr
