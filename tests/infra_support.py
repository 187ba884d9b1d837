"""Plain helpers of the Pulumi program tests (`test_infra_*.py`): configs, lookups, constants.

`predictions_infra` imports from `infra/`, which pytest puts on `sys.path` (pyproject).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
from predictions_infra.config import (
    StackConfig,
    parse_stack_config,
)
from predictions_infra.mocks import (
    Recorded,
    Synthesis,
)

INFRA_DIR = Path(__file__).resolve().parent.parent / "infra"
PROJECT = "predictions-dashboard"
REGION = "eu-west-1"
CERTIFICATE_ARN = "arn:aws:acm:eu-west-1:000000000000:certificate/test"
PUBLISHER_ARN = "arn:aws:iam::000000000000:role/ci-pipeline"
OIDC_VALUES = {
    "oidcIssuer": "https://login.example.org",
    "oidcClientId": "dashboard",
    "oidcAuthorizationEndpoint": "https://login.example.org/authorize",
    "oidcTokenEndpoint": "https://login.example.org/token",
    "oidcUserInfoEndpoint": "https://login.example.org/userinfo",
}

T_BUCKET = "aws:s3/bucket:Bucket"
T_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
T_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
T_SG = "aws:ec2/securityGroup:SecurityGroup"
T_LISTENER = "aws:lb/listener:Listener"
T_ROLE = "aws:iam/role:Role"
T_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
T_TASK_DEF = "aws:ecs/taskDefinition:TaskDefinition"
T_SERVICE = "aws:ecs/service:Service"
T_DB = "aws:rds/instance:Instance"


def policy_statements(policy_json: str) -> list[dict]:
    statements = json.loads(policy_json)["Statement"]
    return statements if isinstance(statements, list) else [statements]


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def plain_config(**overrides: Any) -> StackConfig:
    values = {"allowedCidrs": ["203.0.113.0/24"], **overrides}
    return parse_stack_config(values, region=REGION)


def secure_config() -> StackConfig:
    values = {
        "allowedCidrs": ["0.0.0.0/0", "2001:db8::/32"],
        "certificateArn": CERTIFICATE_ARN,
        "domainName": "predictions.example.org",
        "publisherPrincipalArns": [PUBLISHER_ARN],
        "cpu": 2048,
        "memory": 8192,
        "minTasks": 2,
        "desiredCount": 3,
        "maxTasks": 6,
        "cpuTargetPercent": 55,
        "syncIntervalSeconds": 120,
        "s3Prefix": "/dashboard/v1/",
        "logRetentionDays": 90,
        "appPort": 8080,
        **OIDC_VALUES,
    }
    return parse_stack_config(
        values, region=REGION, oidc_client_secret=pulumi.Output.secret("client-secret-value")
    )


def task_security_group(synthesis: Synthesis) -> Recorded:
    service = synthesis.one(T_SERVICE)
    (group_id,) = service.inputs["networkConfiguration"]["securityGroups"]
    return synthesis.by_id(group_id)


def alb_security_group(synthesis: Synthesis) -> Recorded:
    (group_id,) = synthesis.one("aws:lb/loadBalancer:LoadBalancer").inputs["securityGroups"]
    return synthesis.by_id(group_id)


def task_role_policies(synthesis: Synthesis, role_key: str = "taskRoleArn") -> list[dict]:
    """Every statement of the inline policies of the task definition's task (or execution) role."""
    role_arn = synthesis.one(T_TASK_DEF).inputs[role_key]
    role = next(r for r in synthesis.of_type(T_ROLE) if r.name == role_arn.rsplit(":", 1)[-1])
    policies = [p for p in synthesis.of_type(T_ROLE_POLICY) if p.inputs["role"] == role.id]
    assert policies, f"the {role_key} role has no policy"
    return [statement for p in policies for statement in policy_statements(p.inputs["policy"])]


def container_definition(synthesis: Synthesis) -> dict:
    (container,) = json.loads(synthesis.one(T_TASK_DEF).inputs["containerDefinitions"])
    return container
