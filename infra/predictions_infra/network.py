"""VPC across two AZs: public subnets for the ALB, private subnets (no internet route) for tasks.

Private tasks reach AWS through VPC endpoints rather than a NAT gateway: an S3 gateway endpoint
(free; serves the data bucket and ECR's image layers) and interface endpoints for ECR and
CloudWatch Logs, and Secrets Manager (ECS fetches the feedback database's credentials through it
when a task starts). The app talks to nothing else, so tasks get no path to the internet at all,
no NAT data-processing charge on every image pull and bucket sync, and the endpoints cost about
what one or two NAT gateways do (an HA set-up needs a NAT per AZ).

The feedback database has its own security group: PostgreSQL's port, from the tasks' group only.

Security groups carry no inline rules; every rule is its own resource, so the ALB and task
groups can reference each other without a dependency cycle, and tests can read each rule.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from predictions_infra.config import StackConfig

HTTPS_PORT = 443
HTTP_PORT = 80
POSTGRES_PORT = 5432
AZ_COUNT = 2
INTERFACE_ENDPOINT_SERVICES = ("ecr.api", "ecr.dkr", "logs", "secretsmanager")


@dataclass(frozen=True)
class Network:
    """What the load balancer and service need from the network."""

    vpc: aws.ec2.Vpc
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    alb_security_group: aws.ec2.SecurityGroup
    task_security_group: aws.ec2.SecurityGroup
    database_security_group: aws.ec2.SecurityGroup


def build_network(config: StackConfig) -> Network:
    """Create the VPC, subnets, routes, endpoints and security groups."""
    name = config.name
    vpc = aws.ec2.Vpc(
        f"{name}-vpc",
        cidr_block=config.vpc_cidr,
        # Interface endpoints with private DNS need both DNS settings on.
        enable_dns_support=True,
        enable_dns_hostnames=True,
        tags={"Name": f"{name}-vpc"},
    )
    zones = aws.get_availability_zones_output(state="available").names
    blocks = list(ipaddress.ip_network(config.vpc_cidr).subnets(prefixlen_diff=4))
    public_ids, private_ids = [], []
    for index in range(AZ_COUNT):
        zone = zones.apply(lambda names, position=index: names[position])
        public = _subnet(name, "public", index, vpc, zone, blocks[index], public=True)
        private = _subnet(name, "private", index, vpc, zone, blocks[AZ_COUNT + index], public=False)
        public_ids.append(public.id)
        private_ids.append(private.id)
    _public_routes(name, vpc, public_ids)
    private_route_table = aws.ec2.RouteTable(
        f"{name}-private-rt", vpc_id=vpc.id, tags={"Name": f"{name}-private"}
    )
    for index, subnet_id in enumerate(private_ids):
        aws.ec2.RouteTableAssociation(
            f"{name}-private-rta-{index}",
            subnet_id=subnet_id,
            route_table_id=private_route_table.id,
        )
    alb_sg, task_sg = _security_groups(config, vpc)
    _endpoints(config, vpc, private_ids, private_route_table, task_sg)
    database_sg = _database_security_group(config, vpc, task_sg)
    return Network(vpc, public_ids, private_ids, alb_sg, task_sg, database_sg)


def _subnet(name, kind, index, vpc, zone, block, *, public: bool) -> aws.ec2.Subnet:
    return aws.ec2.Subnet(
        f"{name}-{kind}-{index}",
        vpc_id=vpc.id,
        cidr_block=str(block),
        availability_zone=zone,
        # Only ALB nodes live in public subnets; nothing there should get a public IP by default.
        map_public_ip_on_launch=False,
        tags={"Name": f"{name}-{kind}-{index}", "tier": "public" if public else "private"},
    )


def _public_routes(name: str, vpc: aws.ec2.Vpc, public_ids: list[pulumi.Output[str]]) -> None:
    gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{name}-igw"})
    table = aws.ec2.RouteTable(f"{name}-public-rt", vpc_id=vpc.id, tags={"Name": f"{name}-public"})
    aws.ec2.Route(
        f"{name}-public-default",
        route_table_id=table.id,
        destination_cidr_block="0.0.0.0/0",
        gateway_id=gateway.id,
    )
    for index, subnet_id in enumerate(public_ids):
        aws.ec2.RouteTableAssociation(
            f"{name}-public-rta-{index}", subnet_id=subnet_id, route_table_id=table.id
        )


def _security_groups(
    config: StackConfig, vpc: aws.ec2.Vpc
) -> tuple[aws.ec2.SecurityGroup, aws.ec2.SecurityGroup]:
    """ALB: listener ports from `allowedCidrs` only. Tasks: the app port from the ALB only."""
    name = config.name
    alb_sg = aws.ec2.SecurityGroup(
        f"{name}-alb-sg", vpc_id=vpc.id, description="predictions dashboard load balancer"
    )
    task_sg = aws.ec2.SecurityGroup(
        f"{name}-task-sg", vpc_id=vpc.id, description="predictions dashboard tasks"
    )
    listener_ports = [HTTP_PORT] + ([HTTPS_PORT] if config.https_enabled else [])
    for port in listener_ports:
        for index, cidr in enumerate(config.allowed_cidrs):
            family = "cidr_ipv6" if ipaddress.ip_network(cidr).version == 6 else "cidr_ipv4"
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-alb-in-{port}-{index}",
                security_group_id=alb_sg.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=f"clients on {port}",
                **{family: cidr},
            )
    _port_rule(f"{name}-alb-out-app", "egress", alb_sg, task_sg, config.app_port)
    _port_rule(f"{name}-task-in-app", "ingress", task_sg, alb_sg, config.app_port)
    return alb_sg, task_sg


def _database_security_group(
    config: StackConfig, vpc: aws.ec2.Vpc, task_sg: aws.ec2.SecurityGroup
) -> aws.ec2.SecurityGroup:
    """PostgreSQL reachable on its port from the tasks' group only; the tasks may connect to it."""
    name = config.name
    database_sg = aws.ec2.SecurityGroup(
        f"{name}-db-sg", vpc_id=vpc.id, description="predictions feedback database"
    )
    _port_rule(f"{name}-db-in-postgres", "ingress", database_sg, task_sg, POSTGRES_PORT)
    _port_rule(f"{name}-task-out-postgres", "egress", task_sg, database_sg, POSTGRES_PORT)
    return database_sg


def _port_rule(resource_name, direction, group, peer_group, port: int) -> None:
    """One TCP port between two security groups (`peer_group` is the source or destination)."""
    rule_type = (
        aws.vpc.SecurityGroupIngressRule
        if direction == "ingress"
        else aws.vpc.SecurityGroupEgressRule
    )
    rule_type(
        resource_name,
        security_group_id=group.id,
        referenced_security_group_id=peer_group.id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=f"{direction} tcp {port}",
    )


def _endpoints(config, vpc, private_ids, private_route_table, task_sg) -> None:
    """S3 gateway endpoint plus interface endpoints (ECR, Logs, Secrets Manager), HTTPS only."""
    name, region = config.name, config.region
    endpoint_sg = aws.ec2.SecurityGroup(
        f"{name}-endpoint-sg", vpc_id=vpc.id, description="VPC interface endpoints"
    )
    _port_rule(f"{name}-endpoint-in-https", "ingress", endpoint_sg, task_sg, HTTPS_PORT)
    _port_rule(f"{name}-task-out-endpoints", "egress", task_sg, endpoint_sg, HTTPS_PORT)
    s3_endpoint = aws.ec2.VpcEndpoint(
        f"{name}-s3-endpoint",
        vpc_id=vpc.id,
        service_name=f"com.amazonaws.{region}.s3",
        vpc_endpoint_type="Gateway",
        route_table_ids=[private_route_table.id],
    )
    aws.vpc.SecurityGroupEgressRule(
        f"{name}-task-out-s3",
        security_group_id=task_sg.id,
        prefix_list_id=s3_endpoint.prefix_list_id,
        ip_protocol="tcp",
        from_port=HTTPS_PORT,
        to_port=HTTPS_PORT,
        description="S3 through the gateway endpoint",
    )
    for service in INTERFACE_ENDPOINT_SERVICES:
        aws.ec2.VpcEndpoint(
            f"{name}-{service.replace('.', '-')}-endpoint",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{region}.{service}",
            vpc_endpoint_type="Interface",
            private_dns_enabled=True,
            subnet_ids=private_ids,
            security_group_ids=[endpoint_sg.id],
        )
