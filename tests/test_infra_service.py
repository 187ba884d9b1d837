"""The deployment's service, logs and scaling, built under `pulumi.runtime.set_mocks`
(no cloud): sizes, retention and the container's environment come from the stack config.
"""

from __future__ import annotations

import json

import pytest

from tests.infra_support import (
    REGION,
    T_SERVICE,
    T_TASK_DEF,
    container_definition,
)

# pulumi_aws warns about its own deprecated aliases when it loads its resource modules.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# --- service, logs, scaling ---------------------------------------------------------------------


def test_service_size_and_autoscaling_come_from_config(plain_stack, secure_stack):
    for synthesis, (cpu, memory, desired, low, high, target) in (
        (plain_stack, ("1024", "4096", 1, 1, 4, 60.0)),
        (secure_stack, ("2048", "8192", 3, 2, 6, 55.0)),
    ):
        task_def = synthesis.one(T_TASK_DEF).inputs
        assert (task_def["cpu"], task_def["memory"]) == (cpu, memory)
        assert task_def["requiresCompatibilities"] == ["FARGATE"]
        service = synthesis.one(T_SERVICE).inputs
        assert service["desiredCount"] == desired
        assert service["launchType"] == "FARGATE"
        scaling = synthesis.one("aws:appautoscaling/target:Target").inputs
        assert (scaling["minCapacity"], scaling["maxCapacity"]) == (low, high)
        assert scaling["resourceId"] == "service/predictions-cluster/predictions-service"
        assert scaling["scalableDimension"] == "ecs:service:DesiredCount"
        policy = synthesis.one("aws:appautoscaling/policy:Policy").inputs
        tracking = policy["targetTrackingScalingPolicyConfiguration"]
        assert tracking["targetValue"] == target
        metric = tracking["predefinedMetricSpecification"]["predefinedMetricType"]
        assert metric == "ECSServiceAverageCPUUtilization"
        assert policy["resourceId"] == scaling["resourceId"]


def test_logs_are_kept_for_the_configured_days(plain_stack, secure_stack):
    for synthesis, days in ((plain_stack, 30), (secure_stack, 90)):
        log_group = synthesis.one("aws:cloudwatch/logGroup:LogGroup").inputs
        assert log_group["retentionInDays"] == days
        options = container_definition(synthesis)["logConfiguration"]["options"]
        assert options["awslogs-group"] == log_group["name"]
        assert options["awslogs-region"] == REGION


def test_container_is_told_where_the_data_is_and_how_often_to_resync(plain_stack, secure_stack):
    for synthesis, interval, prefix, port in (
        (plain_stack, "300", "", "8501"),
        (secure_stack, "120", "dashboard/v1", "8080"),
    ):
        container = container_definition(synthesis)
        environment = {entry["name"]: entry["value"] for entry in container["environment"]}
        assert environment["PREDICTIONS_S3_BUCKET"] == synthesis.outputs["bucket_name"]
        assert environment["PREDICTIONS_SYNC_INTERVAL_S"] == interval
        assert environment["PREDICTIONS_S3_PREFIX"] == prefix
        assert environment["PORT"] == port
        assert environment["AWS_DEFAULT_REGION"] == environment["AWS_REGION"] == REGION
        assert container["image"] == f"{synthesis.outputs['ecr_repository_url']}:latest"
        assert container["portMappings"] == [{"containerPort": int(port), "protocol": "tcp"}]


def test_ecr_repository_expires_old_images(secure_stack):
    repository = secure_stack.one("aws:ecr/repository:Repository")
    lifecycle = secure_stack.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs
    assert lifecycle["repository"] == repository.name
    rules = json.loads(lifecycle["policy"])["rules"]
    selections = {rule["selection"]["tagStatus"]: rule["selection"] for rule in rules}
    assert selections["untagged"]["countType"] == "sinceImagePushed"
    assert selections["any"] == {
        "tagStatus": "any",
        "countType": "imageCountMoreThan",
        "countNumber": 20,
    }
    assert repository.inputs["imageScanningConfiguration"]["scanOnPush"] is True


def test_stack_outputs_name_everything_a_deploy_needs(plain_stack):
    for key in ("url", "bucket_name", "ecr_repository_url", "cluster_name", "service_name"):
        assert plain_stack.outputs[key], key
    assert plain_stack.outputs["ecr_repository_url"] == "registry.mock/predictions-app"
    assert plain_stack.outputs["cluster_name"] == "predictions-cluster"
