"""docker-compose.yml, the compose seeding script and infra/deploy.just, checked offline.

There is no Docker engine here: the compose file is read as YAML, the seeding script runs
against moto's in-process S3, and the deploy recipes are parsed (and dry-run with `just`
where it is installed).
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest
import yaml
from botocore.config import Config
from moto import mock_aws

from tests.local_ports import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SEED_SCRIPT = REPO_ROOT / "infra" / "seed_bucket.py"


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
    endpoint = f"http://127.0.0.1:{free_port()}"
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


def test_deploy_recipes_parse_with_just(run_just):
    listing = run_just(DEPLOY_JUST, "--summary")
    assert listing.returncode == 0, listing.stderr
    assert set(listing.stdout.split()) >= DEPLOY_RECIPES
    dry = run_just(DEPLOY_JUST, "--dry-run", "image-build", "v7")
    assert dry.returncode == 0, dry.stderr
    assert f'-t "predictions-dashboard:v7" "{REPO_ROOT}"' in dry.stderr
