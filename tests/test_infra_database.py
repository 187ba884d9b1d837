"""The feedback database in the deployment, built under `pulumi.runtime.set_mocks` (no cloud):
a private, encrypted, backed-up PostgreSQL whose password only RDS, Secrets Manager and ECS see,
reachable from the tasks alone; the tasks get it as ECS secrets, and readiness gates traffic.
"""

from __future__ import annotations

import json
import re

import pytest
from predictions_infra.config import CONFIG_KEYS
from predictions_infra.mocks import Synthesis, mock_arn, mock_secret_arn, synthesize

from tests.infra_support import (
    INFRA_DIR,
    T_DB,
    T_EGRESS,
    T_INGRESS,
    T_ROLE,
    T_ROLE_POLICY,
    T_SERVICE,
    T_SG,
    as_list,
    container_definition,
    plain_config,
    policy_statements,
    task_role_policies,
    task_security_group,
)

# pulumi_aws warns about its own deprecated aliases when it loads its resource modules.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

DB_NAME = "predictions-feedback-db"


def database_security_group(synthesis: Synthesis):
    (group_id,) = synthesis.one(T_DB).inputs["vpcSecurityGroupIds"]
    return synthesis.by_id(group_id)


# --- the instance -------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["plain_stack", "secure_stack"])
def test_database_is_encrypted_private_backed_up_and_protected(stack, request):
    synthesis: Synthesis = request.getfixturevalue(stack)
    db = synthesis.one(T_DB).inputs
    assert db["engine"] == "postgres"
    assert db["storageEncrypted"] is True
    assert db["publiclyAccessible"] is False
    assert db["backupRetentionPeriod"] >= 7
    assert db["deletionProtection"] is True
    assert db["skipFinalSnapshot"] is False
    assert db["finalSnapshotIdentifier"] == "predictions-feedback-db-final"
    assert db["deleteAutomatedBackups"] is False
    assert db["port"] == 5432


@pytest.mark.parametrize("stack", ["plain_stack", "secure_stack"])
def test_master_password_is_managed_by_rds_and_never_in_the_program(stack, request):
    synthesis: Synthesis = request.getfixturevalue(stack)
    db = synthesis.one(T_DB).inputs
    assert db["manageMasterUserPassword"] is True
    assert not {"password", "passwordWo"} & set(db), "a master password was set in the program"
    # No resource anywhere is given a password (or a secret value) by the program.
    for resource in synthesis.resources:
        for key in resource.inputs:
            lowered = key.lower()
            if "password" in lowered and lowered != "managemasteruserpassword":
                pytest.fail(f"{resource.name} gets a password input: {key}")
        assert resource.type != "aws:secretsmanager/secretVersion:SecretVersion", resource.name


def test_no_password_in_the_stack_config_or_the_program_text():
    assert not [key for key in CONFIG_KEYS if "password" in key.lower()]
    example = (INFRA_DIR / "Pulumi.dev.yaml.example").read_text().lower()
    assert "password" not in example
    assignment = re.compile(r"\b(master_)?password\s*=", re.IGNORECASE)
    for path in sorted((INFRA_DIR / "predictions_infra").glob("*.py")):
        assert not assignment.search(path.read_text()), f"a password is assigned in {path.name}"


def test_database_lives_in_the_private_subnets_with_tls_forced(plain_stack):
    db = plain_stack.one(T_DB).inputs
    subnet_group = plain_stack.one("aws:rds/subnetGroup:SubnetGroup")
    assert db["dbSubnetGroupName"] == subnet_group.name
    service_subnets = plain_stack.one(T_SERVICE).inputs["networkConfiguration"]["subnets"]
    assert sorted(subnet_group.inputs["subnetIds"]) == sorted(service_subnets)
    for subnet_id in subnet_group.inputs["subnetIds"]:
        assert plain_stack.by_id(subnet_id).inputs["tags"]["tier"] == "private"
    parameters = plain_stack.one("aws:rds/parameterGroup:ParameterGroup")
    assert db["parameterGroupName"] == parameters.name
    assert parameters.inputs["family"] == "postgres16"
    assert {"name": "rds.force_ssl", "value": "1"} in parameters.inputs["parameters"]


def test_database_size_version_and_start_up_grace_come_from_config(plain_stack):
    synthesis = synthesize(
        plain_config(
            dbInstanceClass="db.m7g.large",
            dbEngineVersion="17.2",
            dbAllocatedStorageGb=50,
            dbMaxAllocatedStorageGb=200,
            dbBackupRetentionDays=14,
            dbMultiAz=True,
            startupGraceSeconds=1800,
        )
    )
    db = synthesis.one(T_DB).inputs
    assert (db["instanceClass"], db["engineVersion"]) == ("db.m7g.large", "17.2")
    assert (db["allocatedStorage"], db["maxAllocatedStorage"]) == (50, 200)
    assert (db["backupRetentionPeriod"], db["multiAz"]) == (14, True)
    family = synthesis.one("aws:rds/parameterGroup:ParameterGroup").inputs["family"]
    assert family == "postgres17"
    assert synthesis.one(T_SERVICE).inputs["healthCheckGracePeriodSeconds"] == 1800
    defaults = plain_stack.one(T_DB).inputs
    assert (defaults["instanceClass"], defaults["engineVersion"]) == ("db.t4g.micro", "16")
    assert (defaults["backupRetentionPeriod"], defaults["multiAz"]) == (7, False)


# --- network ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["plain_stack", "secure_stack"])
def test_postgres_port_is_reachable_only_from_the_tasks(stack, request):
    synthesis: Synthesis = request.getfixturevalue(stack)
    database_sg = database_security_group(synthesis)
    task_sg = task_security_group(synthesis)
    rules = synthesis.of_type(T_INGRESS)
    ingress = [r.inputs for r in rules if r.inputs["securityGroupId"] == database_sg.id]
    assert len(ingress) == 1, ingress
    (rule,) = ingress
    assert rule["referencedSecurityGroupId"] == task_sg.id
    assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (5432, 5432, "tcp")
    assert "cidrIpv4" not in rule and "cidrIpv6" not in rule and "prefixListId" not in rule
    assert not database_sg.inputs.get("ingress") and not database_sg.inputs.get("egress")
    # Nothing else in the VPC opens 5432.
    for other in synthesis.of_type(T_INGRESS):
        if other.inputs["securityGroupId"] != database_sg.id:
            assert not other.inputs["fromPort"] <= 5432 <= other.inputs["toPort"], other.name
    # The database's group is used by nothing but the database.
    users = [r for r in synthesis.of_type(T_SERVICE) if database_sg.id in str(r.inputs)]
    assert users == []
    egress = [
        r.inputs
        for r in synthesis.of_type(T_EGRESS)
        if r.inputs.get("referencedSecurityGroupId") == database_sg.id
    ]
    assert [(r["securityGroupId"], r["fromPort"]) for r in egress] == [(task_sg.id, 5432)]
    assert len(synthesis.of_type(T_SG)) == 4  # load balancer, tasks, endpoints, database


def test_tasks_reach_secrets_manager_through_a_private_endpoint(plain_stack):
    endpoints = {
        e.inputs["serviceName"]: e.inputs
        for e in plain_stack.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    }
    secrets = endpoints["com.amazonaws.eu-west-1.secretsmanager"]
    assert secrets["vpcEndpointType"] == "Interface"
    assert secrets["privateDnsEnabled"] is True
    service_subnets = plain_stack.one(T_SERVICE).inputs["networkConfiguration"]["subnets"]
    assert sorted(secrets["subnetIds"]) == sorted(service_subnets)


# --- the container ------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["plain_stack", "secure_stack"])
def test_container_gets_the_credentials_as_secrets_and_the_address_as_environment(stack, request):
    synthesis: Synthesis = request.getfixturevalue(stack)
    container = container_definition(synthesis)
    secret_arn = mock_secret_arn(DB_NAME)
    assert container["secrets"] == [
        {"name": "PREDICTIONS_FEEDBACK_DB_PASSWORD", "valueFrom": f"{secret_arn}:password::"},
        {"name": "PREDICTIONS_FEEDBACK_DB_USER", "valueFrom": f"{secret_arn}:username::"},
    ]
    environment = {entry["name"]: entry["value"] for entry in container["environment"]}
    assert environment["PREDICTIONS_FEEDBACK_DB_HOST"] == f"{DB_NAME}.rds.mock"
    assert environment["PREDICTIONS_FEEDBACK_DB_PORT"] == "5432"
    assert environment["PREDICTIONS_FEEDBACK_DB_NAME"] == "predictions"
    # Neither the password nor a whole URL (which would hold it) travels as plain environment.
    assert not {"PREDICTIONS_FEEDBACK_DB_PASSWORD", "PREDICTIONS_FEEDBACK_DB"} & set(environment)
    assert not [value for value in environment.values() if "postgres" in value.lower()]
    assert synthesis.outputs["database_secret_arn"] == secret_arn
    assert synthesis.outputs["database_address"] == f"{DB_NAME}.rds.mock"


@pytest.mark.parametrize("stack", ["plain_stack", "secure_stack"])
def test_only_the_execution_role_reads_the_secret_and_only_that_one(stack, request):
    synthesis: Synthesis = request.getfixturevalue(stack)
    statements = task_role_policies(synthesis, "executionRoleArn")
    assert statements == [
        {
            "Sid": "ReadFeedbackDatabaseSecret",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": mock_secret_arn(DB_NAME),
        }
    ]
    task_actions = {a for s in task_role_policies(synthesis) for a in as_list(s["Action"])}
    assert not [a for a in task_actions if a.startswith(("secretsmanager:", "kms:"))]
    # No policy in the stack grants a secret or key action on a wildcard.
    for policy in synthesis.of_type(T_ROLE_POLICY):
        for statement in policy_statements(policy.inputs["policy"]):
            for action in as_list(statement["Action"]):
                assert "*" not in action, (policy.name, action)
            for resource in as_list(statement["Resource"]):
                assert resource != "*" and not resource.endswith(":*"), (policy.name, resource)


# --- password rotation --------------------------------------------------------------------------


def test_rotation_is_scheduled_and_followed_by_a_redeploy(plain_stack):
    rotation = plain_stack.one("aws:secretsmanager/secretRotation:SecretRotation").inputs
    assert rotation["secretId"] == mock_secret_arn(DB_NAME)
    assert rotation["rotateImmediately"] is False
    assert "rotationLambdaArn" not in rotation  # RDS rotates its own secret
    rules = rotation["rotationRules"]
    assert (rules["scheduleExpression"], rules["duration"]) == ("cron(0 3 ? * SUN *)", "1h")
    schedule = plain_stack.one("aws:scheduler/schedule:Schedule").inputs
    # 04:15 on Sunday: after the 03:00-04:00 rotation window.
    assert schedule["scheduleExpression"] == "cron(15 4 ? * SUN *)"
    assert schedule["scheduleExpressionTimezone"] == "UTC"
    target = schedule["target"]
    assert target["arn"] == "arn:aws:scheduler:::aws-sdk:ecs:updateService"
    assert json.loads(target["input"]) == {
        "Cluster": mock_arn("predictions-cluster"),
        "Service": "predictions-service",
        "ForceNewDeployment": True,
    }
    role = plain_stack.by_id(target["roleArn"].rsplit(":", 1)[-1] + "-id")
    trust = policy_statements(role.inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in trust] == [{"Service": "scheduler.amazonaws.com"}]
    (policy,) = [p for p in plain_stack.of_type(T_ROLE_POLICY) if p.inputs["role"] == role.id]
    assert policy_statements(policy.inputs["policy"]) == [
        {
            "Sid": "RedeployTheDashboard",
            "Effect": "Allow",
            "Action": ["ecs:UpdateService"],
            "Resource": mock_arn("predictions-service"),
        }
    ]
    assert len(plain_stack.of_type(T_ROLE)) == 3  # execution, task, redeploy


# --- readiness ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["plain_stack", "secure_stack"])
def test_traffic_waits_for_readiness_within_the_start_up_grace(stack, request):
    synthesis: Synthesis = request.getfixturevalue(stack)
    service = synthesis.one(T_SERVICE).inputs
    assert service["healthCheckGracePeriodSeconds"] == 600
    # New tasks must be ready before old ones are drained.
    assert service["deploymentMinimumHealthyPercent"] == 100
    check = synthesis.one("aws:lb/targetGroup:TargetGroup").inputs["healthCheck"]
    assert check["path"] == "/api/health?ready=true"
    assert check["matcher"] == "200"


def test_signed_in_reviewers_are_switched_on_with_oidc_and_bound_to_this_load_balancer(
    plain_stack, secure_stack
):
    def environment(synthesis: Synthesis) -> dict[str, str]:
        return {e["name"]: e["value"] for e in container_definition(synthesis)["environment"]}

    secure = environment(secure_stack)
    assert secure["PREDICTIONS_REVIEWER_FROM_ALB"] == "true"
    alb = secure_stack.one("aws:lb/loadBalancer:LoadBalancer")
    assert secure["PREDICTIONS_ALB_ARN"] == mock_arn(alb.name)
    plain = environment(plain_stack)  # no sign-in: reviewers type their name
    assert not {"PREDICTIONS_REVIEWER_FROM_ALB", "PREDICTIONS_ALB_ARN"} & set(plain)
