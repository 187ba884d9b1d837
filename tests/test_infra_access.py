"""Who may do what in the deployment, built under `pulumi.runtime.set_mocks` (no cloud):
IAM roles and policies, and the load balancer's listeners and sign-in.
"""

from __future__ import annotations

import pytest
from predictions_infra.mocks import (
    Synthesis,
    is_secret,
    mock_arn,
    synthesize,
    unwrap,
)

from tests.infra_support import (
    CERTIFICATE_ARN,
    OIDC_VALUES,
    PUBLISHER_ARN,
    T_BUCKET,
    T_LISTENER,
    T_ROLE,
    T_ROLE_POLICY,
    T_TASK_DEF,
    as_list,
    container_definition,
    plain_config,
    policy_statements,
    task_role_policies,
)

# pulumi_aws warns about its own deprecated aliases when it loads its resource modules.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# --- IAM -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["plain_stack", "secure_stack"])
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


def test_task_role_is_scoped_to_the_configured_prefix(secure_stack):
    bucket_arn = mock_arn(secure_stack.one(T_BUCKET).name)
    statements = {s["Sid"]: s for s in task_role_policies(secure_stack)}
    assert statements["ReadPredictions"]["Resource"] == f"{bucket_arn}/dashboard/v1/*"
    assert statements["ListPredictions"]["Resource"] == bucket_arn
    prefixes = statements["ListPredictions"]["Condition"]["StringLike"]["s3:prefix"]
    assert prefixes == ["dashboard/v1", "dashboard/v1/*"]


def test_roles_trust_ecs_tasks_and_execution_role_uses_the_managed_policy(plain_stack):
    task_def = plain_stack.one(T_TASK_DEF).inputs
    roles = {r.name: r for r in plain_stack.of_type(T_ROLE)}
    for arn in (task_def["taskRoleArn"], task_def["executionRoleArn"]):
        trust = policy_statements(roles[arn.rsplit(":", 1)[-1]].inputs["assumeRolePolicy"])
        assert [s["Principal"] for s in trust] == [{"Service": "ecs-tasks.amazonaws.com"}]
    attachments = plain_stack.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert [(a.inputs["role"], a.inputs["policyArn"].rsplit("/", 1)[-1]) for a in attachments] == [
        (task_def["executionRoleArn"].rsplit(":", 1)[-1], "AmazonECSTaskExecutionRolePolicy")
    ]


def test_publisher_role_exists_only_when_principals_are_configured(plain_stack, secure_stack):
    def put_policies(synthesis):
        return [
            p
            for p in synthesis.of_type(T_ROLE_POLICY)
            for s in policy_statements(p.inputs["policy"])
            if "s3:PutObject" in as_list(s["Action"])
        ]

    assert put_policies(plain_stack) == []
    assert "publisher_role_arn" not in plain_stack.outputs
    (publisher_policy,) = put_policies(secure_stack)
    role = secure_stack.by_id(publisher_policy.inputs["role"])
    trust = policy_statements(role.inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in trust] == [{"AWS": [PUBLISHER_ARN]}]
    actions = {
        a
        for s in policy_statements(publisher_policy.inputs["policy"])
        for a in as_list(s["Action"])
    }
    assert actions == {"s3:GetObject", "s3:PutObject", "s3:ListBucket"}
    assert secure_stack.outputs["publisher_role_arn"].endswith(role.name)


# --- load balancer ------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["plain_stack", "secure_stack"])
def test_target_group_checks_health_and_keeps_sessions_sticky(stack, request):
    synthesis: Synthesis = request.getfixturevalue(stack)
    target_group = synthesis.one("aws:lb/targetGroup:TargetGroup").inputs
    # The readiness path: 503 until the task's first sync finished, so no traffic before data.
    assert target_group["healthCheck"]["path"] == "/api/health?ready=true"
    assert target_group["healthCheck"]["matcher"] == "200"
    assert target_group["healthCheck"]["enabled"] is True
    assert target_group["stickiness"]["enabled"] is True
    assert target_group["stickiness"]["type"] == "lb_cookie"
    assert target_group["targetType"] == "ip"
    app_port = container_definition(synthesis)["portMappings"][0]["containerPort"]
    assert target_group["port"] == app_port


def test_without_certificate_port_80_forwards_and_there_is_no_https(plain_stack):
    (listener,) = plain_stack.of_type(T_LISTENER)
    assert (listener.inputs["port"], listener.inputs["protocol"]) == (80, "HTTP")
    actions = unwrap(listener.inputs["defaultActions"])
    assert [a["type"] for a in actions] == ["forward"]
    assert actions[0]["targetGroupArn"].endswith("predictions-tg")
    assert plain_stack.outputs["url"] == "http://predictions-alb.elb.mock"


def test_with_certificate_https_serves_and_http_redirects(secure_stack):
    listeners = {
        listener.inputs["port"]: listener.inputs for listener in secure_stack.of_type(T_LISTENER)
    }
    assert set(listeners) == {80, 443}
    https = listeners[443]
    assert https["protocol"] == "HTTPS"
    assert https["certificateArn"] == CERTIFICATE_ARN
    assert https["sslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    (redirect,) = unwrap(listeners[80]["defaultActions"])
    assert redirect["type"] == "redirect"
    assert redirect["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}
    assert secure_stack.outputs["url"] == "https://predictions.example.org"


def test_oidc_signs_users_in_before_forwarding_and_keeps_the_secret_secret(secure_stack):
    (https,) = [lst for lst in secure_stack.of_type(T_LISTENER) if lst.inputs["port"] == 443]
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
