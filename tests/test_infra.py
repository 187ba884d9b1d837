"""The Pulumi program, built under `pulumi.runtime.set_mocks`: no cloud, no CLI, no network.

A recording mock captures every resource's type and inputs; the tests assert the deployment's
security and scaling properties on what the program asked for.
"""

from __future__ import annotations

import json
import re
import runpy
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

# pulumi_aws warns about its own deprecated aliases when it loads its resource modules.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

INFRA_DIR = Path(__file__).resolve().parent.parent / "infra"
sys.path.insert(0, str(INFRA_DIR))

from predictions_infra.config import (  # noqa: E402
    CONFIG_KEYS,
    InfraConfigError,
    StackConfig,
    parse_stack_config,
)
from predictions_infra.mocks import (  # noqa: E402
    MOCK_ZONES,
    Recorded,
    Synthesis,
    is_secret,
    mock_arn,
    run_program,
    synthesize,
    unwrap,
    use_mocks,
)
from predictions_infra.stack import EXPORT_NAMES  # noqa: E402

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


@pytest.fixture(scope="module")
def plain() -> Synthesis:
    return synthesize(plain_config())


@pytest.fixture(scope="module")
def secure() -> Synthesis:
    return synthesize(secure_config())


def task_security_group(synthesis: Synthesis) -> Recorded:
    service = synthesis.one(T_SERVICE)
    (group_id,) = service.inputs["networkConfiguration"]["securityGroups"]
    return synthesis.by_id(group_id)


def alb_security_group(synthesis: Synthesis) -> Recorded:
    (group_id,) = synthesis.one("aws:lb/loadBalancer:LoadBalancer").inputs["securityGroups"]
    return synthesis.by_id(group_id)


def task_role_policies(synthesis: Synthesis) -> list[dict]:
    role_arn = synthesis.one(T_TASK_DEF).inputs["taskRoleArn"]
    role = next(r for r in synthesis.of_type(T_ROLE) if r.name == role_arn.rsplit(":", 1)[-1])
    policies = [p for p in synthesis.of_type(T_ROLE_POLICY) if p.inputs["role"] == role.id]
    assert policies, "the task role has no policy"
    return [statement for p in policies for statement in policy_statements(p.inputs["policy"])]


def container_definition(synthesis: Synthesis) -> dict:
    (container,) = json.loads(synthesis.one(T_TASK_DEF).inputs["containerDefinitions"])
    return container


# --- the bucket -------------------------------------------------------------------------------


def test_bucket_blocks_every_kind_of_public_access(plain):
    bucket = plain.one(T_BUCKET)
    block = plain.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert block["bucket"] == bucket.id
    for setting in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls"):
        assert block[setting] is True, setting
    assert block["restrictPublicBuckets"] is True
    ownership = plain.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"


def test_bucket_policy_denies_requests_without_tls(plain):
    bucket_arn = mock_arn(plain.one(T_BUCKET).name)
    policy = plain.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"]
    statements = policy_statements(policy)
    denials = [s for s in statements if s["Effect"] == "Deny"]
    assert len(denials) == 1
    denial = denials[0]
    assert denial["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(as_list(denial["Resource"])) == {bucket_arn, f"{bucket_arn}/*"}
    assert denial["Action"] in ("s3:*", ["s3:*"])
    assert not [s for s in statements if s["Effect"] == "Allow"], "the bucket policy grants access"


def test_bucket_is_versioned_and_encrypted(plain):
    bucket_id = plain.one(T_BUCKET).id
    versioning = plain.one("aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["bucket"] == bucket_id
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    encryption = plain.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs
    assert encryption["bucket"] == bucket_id
    (rule,) = encryption["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] in ("AES256", "aws:kms")


# --- network exposure -------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["plain", "secure"])
def test_task_port_accepts_only_the_alb_security_group(stack, request):
    synthesis: Synthesis = request.getfixturevalue(stack)
    task_sg = task_security_group(synthesis)
    alb_sg = alb_security_group(synthesis)
    app_port = container_definition(synthesis)["portMappings"][0]["containerPort"]
    rules = [
        r.inputs for r in synthesis.of_type(T_INGRESS) if r.inputs["securityGroupId"] == task_sg.id
    ]
    assert len(rules) == 1, rules
    (rule,) = rules
    assert rule["referencedSecurityGroupId"] == alb_sg.id
    assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (app_port, app_port, "tcp")
    assert "cidrIpv4" not in rule and "cidrIpv6" not in rule and "prefixListId" not in rule
    # No security group anywhere lets the world in on the app port (the ALB listens on 80/443).
    for other in synthesis.of_type(T_INGRESS):
        inputs = other.inputs
        if inputs.get("cidrIpv4") == "0.0.0.0/0" or inputs.get("cidrIpv6") == "::/0":
            assert not inputs["fromPort"] <= app_port <= inputs["toPort"], other.name
    # Inline rules would bypass all of the above.
    for group in synthesis.of_type(T_SG):
        assert not group.inputs.get("ingress"), group.name


def test_alb_ingress_is_limited_to_the_configured_cidrs(plain, secure):
    def alb_rules(synthesis):
        alb_sg = alb_security_group(synthesis)
        return [
            r.inputs
            for r in synthesis.of_type(T_INGRESS)
            if r.inputs["securityGroupId"] == alb_sg.id
        ]

    plain_rules = alb_rules(plain)
    assert {(r["cidrIpv4"], r["fromPort"], r["toPort"]) for r in plain_rules} == {
        ("203.0.113.0/24", 80, 80)
    }
    secure_rules = alb_rules(secure)
    cidrs = {r.get("cidrIpv4") or r.get("cidrIpv6") for r in secure_rules}
    assert cidrs == {"0.0.0.0/0", "2001:db8::/32"}
    assert {r["fromPort"] for r in secure_rules} == {80, 443}
    assert {r.get("cidrIpv6") for r in secure_rules} == {None, "2001:db8::/32"}


@pytest.mark.parametrize("stack", ["plain", "secure"])
def test_tasks_run_in_private_subnets_without_public_ips(stack, request):
    synthesis: Synthesis = request.getfixturevalue(stack)
    network = synthesis.one(T_SERVICE).inputs["networkConfiguration"]
    assert network["assignPublicIp"] is False
    subnets = [synthesis.by_id(subnet_id) for subnet_id in network["subnets"]]
    assert len(subnets) == 2
    assert {s.inputs["tags"]["tier"] for s in subnets} == {"private"}
    assert {s.inputs["availabilityZone"] for s in subnets} == set(MOCK_ZONES[:2])
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
    # The only default route goes from the public route table to the internet gateway.
    routes = synthesis.of_type("aws:ec2/route:Route")
    assert [synthesis.by_id(r.inputs["routeTableId"]).name for r in routes] == [
        "predictions-public-rt"
    ]
    private_tables = {
        a.inputs["routeTableId"]
        for a in synthesis.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
        if a.inputs["subnetId"] in network["subnets"]
    }
    assert private_tables == {synthesis.named("predictions-private-rt").id}


def test_private_tasks_reach_s3_ecr_and_logs_through_endpoints(plain):
    endpoints = {
        e.inputs["serviceName"]: e.inputs for e in plain.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    }
    assert set(endpoints) == {
        f"com.amazonaws.{REGION}.{service}" for service in ("s3", "ecr.api", "ecr.dkr", "logs")
    }
    s3_endpoint = endpoints[f"com.amazonaws.{REGION}.s3"]
    assert s3_endpoint["vpcEndpointType"] == "Gateway"
    assert s3_endpoint["routeTableIds"] == [plain.named("predictions-private-rt").id]
    for name, endpoint in endpoints.items():
        if endpoint["vpcEndpointType"] == "Interface":
            assert endpoint["privateDnsEnabled"] is True, name
    task_sg = task_security_group(plain)
    egress = [
        r.inputs for r in plain.of_type(T_EGRESS) if r.inputs["securityGroupId"] == task_sg.id
    ]
    assert {(r["fromPort"], r["toPort"]) for r in egress} == {(443, 443)}
    assert all("cidrIpv4" not in r for r in egress), "tasks may only talk to the endpoints"


# --- IAM -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["plain", "secure"])
def test_task_role_may_only_read_the_bucket(stack, request):
    synthesis: Synthesis = request.getfixturevalue(stack)
    bucket_arn = mock_arn(synthesis.one(T_BUCKET).name)
    statements = task_role_policies(synthesis)
    actions = {action for s in statements for action in as_list(s["Action"])}
    assert actions == {"s3:GetObject", "s3:ListBucket"}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for resource in as_list(statement["Resource"]):
            assert resource == bucket_arn or resource.startswith(f"{bucket_arn}/"), resource
        if "s3:GetObject" in as_list(statement["Action"]):
            assert statement["Resource"] != "*"


def test_task_role_is_scoped_to_the_configured_prefix(secure):
    bucket_arn = mock_arn(secure.one(T_BUCKET).name)
    statements = {s["Sid"]: s for s in task_role_policies(secure)}
    assert statements["ReadPredictions"]["Resource"] == f"{bucket_arn}/dashboard/v1/*"
    assert statements["ListPredictions"]["Resource"] == bucket_arn
    prefixes = statements["ListPredictions"]["Condition"]["StringLike"]["s3:prefix"]
    assert prefixes == ["dashboard/v1", "dashboard/v1/*"]


def test_roles_trust_ecs_tasks_and_execution_role_uses_the_managed_policy(plain):
    task_def = plain.one(T_TASK_DEF).inputs
    roles = {r.name: r for r in plain.of_type(T_ROLE)}
    for arn in (task_def["taskRoleArn"], task_def["executionRoleArn"]):
        trust = policy_statements(roles[arn.rsplit(":", 1)[-1]].inputs["assumeRolePolicy"])
        assert [s["Principal"] for s in trust] == [{"Service": "ecs-tasks.amazonaws.com"}]
    attachments = plain.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert [(a.inputs["role"], a.inputs["policyArn"].rsplit("/", 1)[-1]) for a in attachments] == [
        (task_def["executionRoleArn"].rsplit(":", 1)[-1], "AmazonECSTaskExecutionRolePolicy")
    ]


def test_publisher_role_exists_only_when_principals_are_configured(plain, secure):
    def put_policies(synthesis):
        return [
            p
            for p in synthesis.of_type(T_ROLE_POLICY)
            for s in policy_statements(p.inputs["policy"])
            if "s3:PutObject" in as_list(s["Action"])
        ]

    assert put_policies(plain) == []
    assert "publisher_role_arn" not in plain.outputs
    (publisher_policy,) = put_policies(secure)
    role = secure.by_id(publisher_policy.inputs["role"])
    trust = policy_statements(role.inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in trust] == [{"AWS": [PUBLISHER_ARN]}]
    actions = {
        a
        for s in policy_statements(publisher_policy.inputs["policy"])
        for a in as_list(s["Action"])
    }
    assert actions == {"s3:GetObject", "s3:PutObject", "s3:ListBucket"}
    assert secure.outputs["publisher_role_arn"].endswith(role.name)


# --- load balancer ------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["plain", "secure"])
def test_target_group_checks_health_and_keeps_sessions_sticky(stack, request):
    synthesis: Synthesis = request.getfixturevalue(stack)
    target_group = synthesis.one("aws:lb/targetGroup:TargetGroup").inputs
    assert target_group["healthCheck"]["path"] == "/api/health"
    assert target_group["healthCheck"]["enabled"] is True
    assert target_group["stickiness"]["enabled"] is True
    assert target_group["stickiness"]["type"] == "lb_cookie"
    assert target_group["targetType"] == "ip"
    app_port = container_definition(synthesis)["portMappings"][0]["containerPort"]
    assert target_group["port"] == app_port


def test_without_certificate_port_80_forwards_and_there_is_no_https(plain):
    (listener,) = plain.of_type(T_LISTENER)
    assert (listener.inputs["port"], listener.inputs["protocol"]) == (80, "HTTP")
    actions = unwrap(listener.inputs["defaultActions"])
    assert [a["type"] for a in actions] == ["forward"]
    assert actions[0]["targetGroupArn"].endswith("predictions-tg")
    assert plain.outputs["url"] == "http://predictions-alb.elb.mock"


def test_with_certificate_https_serves_and_http_redirects(secure):
    listeners = {
        listener.inputs["port"]: listener.inputs for listener in secure.of_type(T_LISTENER)
    }
    assert set(listeners) == {80, 443}
    https = listeners[443]
    assert https["protocol"] == "HTTPS"
    assert https["certificateArn"] == CERTIFICATE_ARN
    assert https["sslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    (redirect,) = unwrap(listeners[80]["defaultActions"])
    assert redirect["type"] == "redirect"
    assert redirect["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}
    assert secure.outputs["url"] == "https://predictions.example.org"


def test_oidc_signs_users_in_before_forwarding_and_keeps_the_secret_secret(secure):
    (https,) = [lst for lst in secure.of_type(T_LISTENER) if lst.inputs["port"] == 443]
    assert is_secret(https.inputs["defaultActions"]), "the OIDC client secret went out in plain"
    actions = sorted(unwrap(https.inputs["defaultActions"]), key=lambda action: action["order"])
    assert [a["type"] for a in actions] == ["authenticate-oidc", "forward"]
    oidc = actions[0]["authenticateOidc"]
    assert oidc["issuer"] == OIDC_VALUES["oidcIssuer"]
    assert oidc["clientId"] == OIDC_VALUES["oidcClientId"]
    assert oidc["clientSecret"] == "client-secret-value"
    assert oidc["tokenEndpoint"] == OIDC_VALUES["oidcTokenEndpoint"]
    assert oidc["onUnauthenticatedRequest"] == "authenticate"


def test_certificate_without_oidc_forwards_without_sign_in():
    synthesis = synthesize(plain_config(certificateArn=CERTIFICATE_ARN))
    for listener in synthesis.of_type(T_LISTENER):
        types = [a["type"] for a in unwrap(listener.inputs["defaultActions"])]
        assert "authenticate-oidc" not in types
        assert types == (["forward"] if listener.inputs["port"] == 443 else ["redirect"])


# --- service, logs, scaling ---------------------------------------------------------------------


def test_service_size_and_autoscaling_come_from_config(plain, secure):
    for synthesis, (cpu, memory, desired, low, high, target) in (
        (plain, ("1024", "4096", 1, 1, 4, 60.0)),
        (secure, ("2048", "8192", 3, 2, 6, 55.0)),
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


def test_logs_are_kept_for_the_configured_days(plain, secure):
    for synthesis, days in ((plain, 30), (secure, 90)):
        log_group = synthesis.one("aws:cloudwatch/logGroup:LogGroup").inputs
        assert log_group["retentionInDays"] == days
        options = container_definition(synthesis)["logConfiguration"]["options"]
        assert options["awslogs-group"] == log_group["name"]
        assert options["awslogs-region"] == REGION


def test_container_is_told_where_the_data_is_and_how_often_to_resync(plain, secure):
    for synthesis, interval, prefix, port in (
        (plain, "300", "", "8501"),
        (secure, "120", "dashboard/v1", "8080"),
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


def test_ecr_repository_expires_old_images(secure):
    repository = secure.one("aws:ecr/repository:Repository")
    lifecycle = secure.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs
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


def test_stack_outputs_name_everything_a_deploy_needs(plain):
    for key in ("url", "bucket_name", "ecr_repository_url", "cluster_name", "service_name"):
        assert plain.outputs[key], key
    assert plain.outputs["ecr_repository_url"] == "registry.mock/predictions-app"
    assert plain.outputs["cluster_name"] == "predictions-cluster"


# --- configuration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "region", "complaint"),
    [
        ({}, REGION, "allowedCidrs is empty"),
        ({"allowedCidrs": []}, REGION, "allowedCidrs is empty"),
        ({"allowedCidrs": "10.0.0.0/8"}, REGION, "allowedCidrs must be a list"),
        ({"allowedCidrs": ["10.0.0.300/8"]}, REGION, "is not a CIDR block"),
        ({"allowedCidrs": ["10.0.0.0/8"]}, None, "aws:region is not set"),
        (
            {"allowedCidrs": ["10.0.0.0/8"], "cpu": 1024, "memory": 512},
            REGION,
            "not a Fargate size",
        ),
        ({"allowedCidrs": ["10.0.0.0/8"], "cpu": 300}, REGION, "cpu must be one of"),
        ({"allowedCidrs": ["10.0.0.0/8"], "minTasks": 3, "maxTasks": 2}, REGION, "minTasks <="),
        ({"allowedCidrs": ["10.0.0.0/8"], "logRetentionDays": 10}, REGION, "logRetentionDays"),
        ({"allowedCidrs": ["10.0.0.0/8"], "appPort": 80}, REGION, "appPort must be in"),
        ({"allowedCidrs": ["10.0.0.0/8"], "oidcIssuer": "https://x"}, REGION, "half configured"),
        ({"allowedCidrs": ["10.0.0.0/8"], "allowedCidr": ["1.2.3.4/32"]}, REGION, "unknown config"),
        ({"allowedCidrs": ["10.0.0.0/8"], "publisherPrincipalArns": ["ci"]}, REGION, "IAM ARNs"),
    ],
)
def test_bad_configuration_is_refused_with_a_clear_message(values, region, complaint):
    with pytest.raises(InfraConfigError) as raised:
        parse_stack_config(values, region=region)
    assert complaint in str(raised.value)
    # A RunError makes `pulumi up` print the message without a Python traceback.
    assert isinstance(raised.value, pulumi.RunError)


def test_oidc_needs_https_and_its_client_secret():
    values = {"allowedCidrs": ["10.0.0.0/8"], **OIDC_VALUES}
    with pytest.raises(InfraConfigError, match="oidcClientSecret"):
        parse_stack_config(values, region=REGION)
    with pytest.raises(InfraConfigError, match="needs HTTPS: set certificateArn"):
        parse_stack_config(values, region=REGION, oidc_client_secret="secret")


def test_every_problem_is_reported_at_once():
    with pytest.raises(InfraConfigError) as raised:
        parse_stack_config({"cpu": 333, "logRetentionDays": 2}, region=None)
    message = str(raised.value)
    for complaint in ("allowedCidrs", "aws:region", "cpu must be one of", "logRetentionDays"):
        assert complaint in message


def test_example_stack_config_is_valid_and_complete():
    example = yaml.safe_load((INFRA_DIR / "Pulumi.dev.yaml.example").read_text())["config"]
    project = yaml.safe_load((INFRA_DIR / "Pulumi.yaml").read_text())["name"]
    assert project == PROJECT
    values = {
        key.split(":", 1)[1]: v for key, v in example.items() if key.startswith(f"{project}:")
    }
    assert set(values) <= set(CONFIG_KEYS)
    config = parse_stack_config(values, region=example["aws:region"])
    assert config == plain_config(allowedCidrs=example[f"{project}:allowedCidrs"])


def test_no_account_ids_are_hard_coded_in_the_program():
    account_id = re.compile(r"(?<![\d.])\d{12}(?![\d.])")
    for path in sorted(INFRA_DIR.rglob("*")):
        if path.suffix in {".py", ".yaml", ".example", ".md", ".just"}:
            assert not account_id.search(path.read_text()), f"account id in {path}"


def run_main_program(config: dict[str, str], monkeypatch, mocks=None) -> Synthesis:
    """Run infra/__main__.py as `pulumi up` would, with this stack config, under mocks."""
    mocks = mocks or use_mocks(PROJECT)
    pulumi.runtime.set_all_config(config, secret_keys=[f"{PROJECT}:oidcClientSecret"])
    exported: dict[str, Any] = {}
    monkeypatch.setattr(pulumi, "export", lambda name, value: exported.setdefault(name, value))

    def program() -> dict[str, Any]:
        runpy.run_path(str(INFRA_DIR / "__main__.py"), run_name="__main__")
        return exported

    try:
        return run_program(mocks, program)
    finally:
        pulumi.runtime.set_all_config({}, secret_keys=[])


def test_main_program_reads_the_stack_config_and_exports_the_outputs(monkeypatch):
    config = {
        f"{PROJECT}:allowedCidrs": '["198.51.100.0/24"]',
        f"{PROJECT}:logRetentionDays": "14",
        f"{PROJECT}:maxTasks": "3",
        f"{PROJECT}:certificateArn": CERTIFICATE_ARN,
        f"{PROJECT}:oidcClientSecret": "from-secret-config",
        **{f"{PROJECT}:{key}": value for key, value in OIDC_VALUES.items()},
        "aws:region": REGION,
    }
    synthesis = run_main_program(config, monkeypatch)
    assert synthesis.one("aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 14
    assert synthesis.one("aws:appautoscaling/target:Target").inputs["maxCapacity"] == 3
    cidrs = {r.inputs.get("cidrIpv4") for r in synthesis.of_type(T_INGRESS)} - {None}
    assert cidrs == {"198.51.100.0/24"}
    (https,) = [lst for lst in synthesis.of_type(T_LISTENER) if lst.inputs["port"] == 443]
    assert is_secret(https.inputs["defaultActions"])
    assert unwrap(https.inputs["defaultActions"])[0]["authenticateOidc"]["clientSecret"] == (
        "from-secret-config"
    )
    assert set(synthesis.outputs) == set(EXPORT_NAMES.values()) - {"publisherRoleArn"}
    assert synthesis.outputs["url"] == "https://predictions-alb.elb.mock"


def test_main_program_refuses_a_misspelt_key_before_creating_anything(monkeypatch):
    config = {
        f"{PROJECT}:allowedCidrs": '["198.51.100.0/24"]',
        f"{PROJECT}:certificateArm": CERTIFICATE_ARN,
        "aws:region": REGION,
    }
    mocks = use_mocks(PROJECT)
    with pytest.raises(InfraConfigError, match=r"unknown config keys \['certificateArm'\]"):
        run_main_program(config, monkeypatch, mocks)
    assert mocks.resources == []
