"""`just feedback-import FILE` (infra/deploy.just), run against stand-ins for `pulumi` and `aws`:
the file goes under the bucket prefix the task role may read, a one-off task in the private
subnets imports it with `predictions feedback import`, its exit code decides, and the uploaded
copy is removed whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra_support import INFRA_DIR

PULUMI_STUB = """#!/bin/sh
case "$*" in
    *"config get aws:region"*) echo eu-west-1 ;;
    *"config get s3Prefix"*) echo "/dash/v1/" ;;
    *"output bucketName"*) echo the-bucket ;;
    *"output privateSubnetIds --json"*) printf '[\\n  "subnet-a",\\n  "subnet-b"\\n]\\n' ;;
    *"output taskSecurityGroupId"*) echo sg-task ;;
    *"output clusterName"*) echo the-cluster ;;
    *"output taskDefinitionArn"*) echo arn:aws:ecs:eu-west-1:1:task-definition/dash:3 ;;
    *"output logGroupName"*) echo /ecs/predictions ;;
    *) echo "unexpected pulumi call: $*" >&2; exit 2 ;;
esac
"""
AWS_STUB = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["AWS_CALLS"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1:3] == ["ecs", "run-task"]:
    print("arn:aws:ecs:eu-west-1:1:task/the-cluster/abc123")
elif sys.argv[1:3] == ["ecs", "describe-tasks"]:
    print(os.environ["TASK_EXIT_CODE"])
"""


def run_import(tmp_path: Path, exit_code: str) -> tuple[subprocess.CompletedProcess, list[list]]:
    just = shutil.which("just")
    if just is None:
        pytest.skip("the just binary is not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("pulumi", PULUMI_STUB), ("aws", AWS_STUB)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    calls = tmp_path / "aws-calls.jsonl"
    export = tmp_path / "feedback.jsonl"
    export.write_text('{"passage_id": "p1"}\n')
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "AWS_CALLS": str(calls),
        "TASK_EXIT_CODE": exit_code,
    }
    result = subprocess.run(
        [just, "--justfile", str(INFRA_DIR / "deploy.just"), "feedback-import", str(export)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    logged = [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []
    return result, logged


def test_feedback_import_runs_a_one_off_task_and_cleans_up(tmp_path):
    result, calls = run_import(tmp_path, "0")
    assert result.returncode == 0, result.stderr
    upload, run_task = calls[0], next(c for c in calls if c[:2] == ["ecs", "run-task"])
    assert upload[:2] == ["s3", "cp"]
    destination = upload[3]
    assert destination.startswith("s3://the-bucket/dash/v1/feedback-import/")
    assert destination.endswith(".jsonl")
    key = destination.removeprefix("s3://the-bucket/")
    options = dict(zip(run_task[2::2], run_task[3::2], strict=False))
    assert options["--task-definition"] == "arn:aws:ecs:eu-west-1:1:task-definition/dash:3"
    assert options["--launch-type"] == "FARGATE"
    assert options["--network-configuration"] == (
        'awsvpcConfiguration={subnets=["subnet-a","subnet-b"],securityGroups=[sg-task],'
        "assignPublicIp=DISABLED}"
    )
    (override,) = json.loads(options["--overrides"])["containerOverrides"]
    assert override["name"] == "app"
    assert override["environment"] == [{"name": "IMPORT_KEY", "value": key}]
    command = override["command"]
    assert command[:2] == ["sh", "-c"]
    assert command[2].endswith("&& predictions feedback import /tmp/feedback.jsonl")
    assert next(c[:3] for c in calls if c[1] == "wait") == ["ecs", "wait", "tasks-stopped"]
    assert calls[-1][:3] == ["s3", "rm", destination]
    assert "imported" in result.stdout


def test_a_failed_import_task_fails_the_recipe_and_still_removes_the_upload(tmp_path):
    result, calls = run_import(tmp_path, "1")
    assert result.returncode != 0
    assert "the import task failed (exit code 1)" in result.stderr
    assert calls[-1][:2] == ["s3", "rm"]
    assert calls[-1][2] == calls[0][3]
