"""Builds the whole stack from a `StackConfig` and names what it exports."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from predictions_infra.compute import build_repository, build_service
from predictions_infra.config import StackConfig
from predictions_infra.database import build_database, build_rotation_redeploy
from predictions_infra.load_balancer import build_load_balancer
from predictions_infra.network import build_network
from predictions_infra.storage import build_bucket, build_publisher_role


@dataclass(frozen=True)
class StackOutputs:
    """Stack outputs; `deploy.just` reads them by their exported names (`EXPORT_NAMES`)."""

    url: pulumi.Output[str]
    bucket_name: pulumi.Output[str]
    ecr_repository_url: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    alb_dns_name: pulumi.Output[str]
    publisher_role_arn: pulumi.Output[str] | None
    database_address: pulumi.Output[str]
    database_secret_arn: pulumi.Output[str]
    task_definition_arn: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    task_security_group_id: pulumi.Output[str]


EXPORT_NAMES = {
    "url": "url",
    "bucket_name": "bucketName",
    "ecr_repository_url": "ecrRepositoryUrl",
    "cluster_name": "clusterName",
    "service_name": "serviceName",
    "log_group_name": "logGroupName",
    "alb_dns_name": "albDnsName",
    "publisher_role_arn": "publisherRoleArn",
    "database_address": "databaseAddress",
    "database_secret_arn": "databaseSecretArn",
    "task_definition_arn": "taskDefinitionArn",
    "private_subnet_ids": "privateSubnetIds",
    "task_security_group_id": "taskSecurityGroupId",
}


def build_stack(config: StackConfig) -> StackOutputs:
    """Create every resource: network, bucket, database, registry, load balancer, service."""
    network = build_network(config)
    data = build_bucket(config)
    publisher_role = build_publisher_role(config, data)
    repository = build_repository(config)
    load_balancer = build_load_balancer(config, network)
    database = build_database(config, network)
    service = build_service(config, network, data, load_balancer, repository, database)
    build_rotation_redeploy(config, service.cluster, service.service)
    return StackOutputs(
        url=load_balancer.url,
        bucket_name=data.name,
        ecr_repository_url=service.repository.repository_url,
        cluster_name=service.cluster.name,
        service_name=service.service.name,
        log_group_name=service.log_group.name,
        alb_dns_name=load_balancer.alb.dns_name,
        publisher_role_arn=publisher_role.arn if publisher_role is not None else None,
        database_address=database.address,
        database_secret_arn=database.secret_arn,
        task_definition_arn=service.task_definition.arn,
        private_subnet_ids=pulumi.Output.all(*network.private_subnet_ids),
        task_security_group_id=network.task_security_group.id,
    )


def export_outputs(outputs: StackOutputs) -> None:
    """`pulumi.export` every output that exists, under its `EXPORT_NAMES` name."""
    for field_name, export_name in EXPORT_NAMES.items():
        value = getattr(outputs, field_name)
        if value is not None:
            pulumi.export(export_name, value)
