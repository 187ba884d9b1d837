"""The deployment's storage and network, built under `pulumi.runtime.set_mocks` (no cloud):
the bucket is private and encrypted, and only the load balancer reaches the tasks.
"""

from __future__ import annotations

import pytest
from predictions_infra.mocks import (
    MOCK_ZONES,
    Synthesis,
    mock_arn,
)

from tests.infra_support import (
    REGION,
    T_BUCKET,
    T_EGRESS,
    T_INGRESS,
    T_SERVICE,
    T_SG,
    alb_security_group,
    as_list,
    container_definition,
    policy_statements,
    task_security_group,
)

# pulumi_aws warns about its own deprecated aliases when it loads its resource modules.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# --- the bucket -------------------------------------------------------------------------------


def test_bucket_blocks_every_kind_of_public_access(plain_stack):
    bucket = plain_stack.one(T_BUCKET)
    block = plain_stack.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert block["bucket"] == bucket.id
    for setting in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls"):
        assert block[setting] is True, setting
    assert block["restrictPublicBuckets"] is True
    ownership = plain_stack.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"


def test_bucket_policy_denies_requests_without_tls(plain_stack):
    bucket_arn = mock_arn(plain_stack.one(T_BUCKET).name)
    policy = plain_stack.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"]
    statements = policy_statements(policy)
    denials = [s for s in statements if s["Effect"] == "Deny"]
    assert len(denials) == 1
    denial = denials[0]
    assert denial["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(as_list(denial["Resource"])) == {bucket_arn, f"{bucket_arn}/*"}
    assert denial["Action"] in ("s3:*", ["s3:*"])
    assert not [s for s in statements if s["Effect"] == "Allow"], "the bucket policy grants access"


def test_bucket_is_versioned_and_encrypted(plain_stack):
    bucket_id = plain_stack.one(T_BUCKET).id
    versioning = plain_stack.one("aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["bucket"] == bucket_id
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    encryption = plain_stack.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs
    assert encryption["bucket"] == bucket_id
    (rule,) = encryption["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] in ("AES256", "aws:kms")


# --- network exposure -------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["plain_stack", "secure_stack"])
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


def test_alb_ingress_is_limited_to_the_configured_cidrs(plain_stack, secure_stack):
    def alb_rules(synthesis):
        alb_sg = alb_security_group(synthesis)
        return [
            r.inputs
            for r in synthesis.of_type(T_INGRESS)
            if r.inputs["securityGroupId"] == alb_sg.id
        ]

    plain_rules = alb_rules(plain_stack)
    assert {(r["cidrIpv4"], r["fromPort"], r["toPort"]) for r in plain_rules} == {
        ("203.0.113.0/24", 80, 80)
    }
    secure_rules = alb_rules(secure_stack)
    cidrs = {r.get("cidrIpv4") or r.get("cidrIpv6") for r in secure_rules}
    assert cidrs == {"0.0.0.0/0", "2001:db8::/32"}
    assert {r["fromPort"] for r in secure_rules} == {80, 443}
    assert {r.get("cidrIpv6") for r in secure_rules} == {None, "2001:db8::/32"}


@pytest.mark.parametrize("stack", ["plain_stack", "secure_stack"])
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


def test_private_tasks_reach_s3_ecr_and_logs_through_endpoints(plain_stack):
    endpoints = {
        e.inputs["serviceName"]: e.inputs
        for e in plain_stack.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    }
    services = ("s3", "ecr.api", "ecr.dkr", "logs", "secretsmanager")
    assert set(endpoints) == {f"com.amazonaws.{REGION}.{service}" for service in services}
    s3_endpoint = endpoints[f"com.amazonaws.{REGION}.s3"]
    assert s3_endpoint["vpcEndpointType"] == "Gateway"
    assert s3_endpoint["routeTableIds"] == [plain_stack.named("predictions-private-rt").id]
    for name, endpoint in endpoints.items():
        if endpoint["vpcEndpointType"] == "Interface":
            assert endpoint["privateDnsEnabled"] is True, name
    task_sg = task_security_group(plain_stack)
    egress = [
        r.inputs for r in plain_stack.of_type(T_EGRESS) if r.inputs["securityGroupId"] == task_sg.id
    ]
    database_sg = plain_stack.named("predictions-db-sg")
    https = [r for r in egress if (r["fromPort"], r["toPort"]) == (443, 443)]
    postgres = [r for r in egress if (r["fromPort"], r["toPort"]) == (5432, 5432)]
    assert len(https) + len(postgres) == len(egress), egress
    assert [r["referencedSecurityGroupId"] for r in postgres] == [database_sg.id]
    assert all("cidrIpv4" not in r for r in egress), "tasks may only talk to endpoints and the DB"
