"""Image registry, ECS cluster, Fargate service, its roles, logs and CPU auto scaling.

Each task syncs the bucket into its own disk at start-up and then every
`syncIntervalSeconds` (PREDICTIONS_SYNC_INTERVAL_S), so new predictions reach running tasks
without a redeploy; the task role can therefore only list and read that bucket.

Reviewers' judgements go to the shared PostgreSQL database (database.py): the container gets its
host, port and name as environment values and its user name and password as ECS `secrets`, which
the execution role reads from the RDS-managed secret when the task starts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from predictions_infra.config import StackConfig
from predictions_infra.database import (
    FeedbackDatabase,
    container_database_environment,
    container_secrets,
    secret_read_policy,
)
from predictions_infra.load_balancer import LoadBalancer
from predictions_infra.network import Network
from predictions_infra.storage import DataBucket, task_read_policy

CONTAINER_NAME = "app"
# Inside the image the app runs from /app; this directory is writable by its user.
CONTAINER_DATA_DIR = "/app/data/processed"
EXECUTION_ROLE_POLICY_ARN = aws.iam.ManagedPolicy.AMAZON_ECS_TASK_EXECUTION_ROLE_POLICY


@dataclass(frozen=True)
class ServiceResources:
    """What the stack exports about the running service."""

    repository: aws.ecr.Repository
    cluster: aws.ecs.Cluster
    task_definition: aws.ecs.TaskDefinition
    service: aws.ecs.Service
    log_group: aws.cloudwatch.LogGroup


def build_repository(config: StackConfig) -> aws.ecr.Repository:
    """ECR repository, scanned on push, with untagged and old images expiring."""
    repository = aws.ecr.Repository(
        f"{config.name}-app",
        image_scanning_configuration={"scan_on_push": True},
        # Mutable so `image-push` + a forced new deployment can roll out the same tag.
        image_tag_mutability="MUTABLE",
        encryption_configurations=[{"encryption_type": "AES256"}],
    )
    aws.ecr.LifecyclePolicy(
        f"{config.name}-app-lifecycle",
        repository=repository.name,
        policy=ecr_lifecycle_policy(config.ecr_keep_images),
    )
    return repository


def ecr_lifecycle_policy(keep_images: int) -> str:
    """Expire untagged images after a week and keep only the newest `keep_images` images."""
    rules = [
        {
            "rulePriority": 1,
            "description": "expire untagged images after 7 days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 7,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": f"keep the newest {keep_images} images",
            "selection": {
                "tagStatus": "any",
                "countType": "imageCountMoreThan",
                "countNumber": keep_images,
            },
            "action": {"type": "expire"},
        },
    ]
    return json.dumps({"rules": rules})


def container_environment(
    config: StackConfig, bucket_name: str, database_address: str, alb_arn: str
) -> list[dict[str, str]]:
    """The app's settings (CONTRACT §3) as ECS environment entries; no credentials among them.

    With OIDC sign-in at the load balancer, the reviewer is the signed-in user: the app trusts
    the `x-amzn-oidc-data` token only when this load balancer (`alb_arn`) signed it.
    """
    sign_in = (
        {"PREDICTIONS_REVIEWER_FROM_ALB": "true", "PREDICTIONS_ALB_ARN": alb_arn}
        if config.oidc is not None
        else {}
    )
    environment = {
        **sign_in,
        **container_database_environment(database_address),
        "PORT": str(config.app_port),
        "PREDICTIONS_S3_BUCKET": bucket_name,
        "PREDICTIONS_S3_PREFIX": config.s3_prefix,
        "PREDICTIONS_SYNC_INTERVAL_S": str(config.sync_interval_s),
        "PREDICTIONS_DATA_DIR": CONTAINER_DATA_DIR,
        # boto3 takes its region from AWS_DEFAULT_REGION; without it, S3 calls would go to the
        # global endpoint, which private subnets cannot reach (only the regional one).
        "AWS_DEFAULT_REGION": config.region,
        "AWS_REGION": config.region,
        # The task security group admits only the ALB, so its X-Forwarded-* headers are trusted.
        "FORWARDED_ALLOW_IPS": "*",
    }
    return [{"name": key, "value": value} for key, value in sorted(environment.items())]


def _task_roles(
    config: StackConfig, data: DataBucket, database: FeedbackDatabase
) -> tuple[aws.iam.Role, aws.iam.Role]:
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    execution_role = aws.iam.Role(f"{config.name}-execution", assume_role_policy=trust)
    aws.iam.RolePolicyAttachment(
        f"{config.name}-execution-policy",
        role=execution_role.name,
        policy_arn=EXECUTION_ROLE_POLICY_ARN,
    )
    # ECS (not the app) reads the database credentials, with the execution role, at task start.
    aws.iam.RolePolicy(
        f"{config.name}-execution-read-db-secret",
        role=execution_role.id,
        policy=database.secret_arn.apply(secret_read_policy),
    )
    task_role = aws.iam.Role(f"{config.name}-task", assume_role_policy=trust)
    aws.iam.RolePolicy(
        f"{config.name}-task-read-s3",
        role=task_role.id,
        policy=data.arn.apply(lambda arn: task_read_policy(arn, config.s3_prefix)),
    )
    return execution_role, task_role


def _task_definition(
    config, data, database, repository, log_group, alb_arn
) -> aws.ecs.TaskDefinition:
    execution_role, task_role = _task_roles(config, data, database)
    environment = pulumi.Output.all(data.name, database.address, alb_arn).apply(
        lambda values: container_environment(config, *values)
    )
    container = {
        "name": CONTAINER_NAME,
        "image": pulumi.Output.concat(repository.repository_url, ":", config.image_tag),
        "essential": True,
        "portMappings": [{"containerPort": config.app_port, "protocol": "tcp"}],
        "environment": environment,
        "secrets": database.secret_arn.apply(container_secrets),
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group.name,
                "awslogs-region": config.region,
                "awslogs-stream-prefix": CONTAINER_NAME,
            },
        },
        "stopTimeout": 30,
    }
    return aws.ecs.TaskDefinition(
        f"{config.name}-task",
        family=f"{config.name}-dashboard",
        requires_compatibilities=["FARGATE"],
        network_mode="awsvpc",
        cpu=str(config.cpu),
        memory=str(config.memory_mib),
        runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": "X86_64"},
        execution_role_arn=execution_role.arn,
        task_role_arn=task_role.arn,
        container_definitions=pulumi.Output.json_dumps([container]),
    )


def build_service(
    config: StackConfig,
    network: Network,
    data: DataBucket,
    load_balancer: LoadBalancer,
    repository: aws.ecr.Repository,
    database: FeedbackDatabase,
) -> ServiceResources:
    """Cluster, log group, task definition, the Fargate service and its auto scaling."""
    name = config.name
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-logs", name=f"/ecs/{name}", retention_in_days=config.log_retention_days
    )
    cluster = aws.ecs.Cluster(
        f"{name}-cluster", settings=[{"name": "containerInsights", "value": "enabled"}]
    )
    task_definition = _task_definition(
        config, data, database, repository, log_group, load_balancer.alb.arn
    )
    service = aws.ecs.Service(
        f"{name}-service",
        cluster=cluster.arn,
        task_definition=task_definition.arn,
        desired_count=config.desired_count,
        launch_type="FARGATE",
        network_configuration={
            "subnets": network.private_subnet_ids,
            "security_groups": [network.task_security_group.id],
            "assign_public_ip": False,
        },
        load_balancers=[
            {
                "target_group_arn": load_balancer.target_group.arn,
                "container_name": CONTAINER_NAME,
                "container_port": config.app_port,
            }
        ],
        # The target group routes to a task once its readiness path answers 200, i.e. after its
        # first sync; until then ECS ignores the failing checks, for at most this long.
        health_check_grace_period_seconds=config.startup_grace_s,
        deployment_circuit_breaker={"enable": True, "rollback": True},
        deployment_minimum_healthy_percent=100,
        deployment_maximum_percent=200,
        propagate_tags="SERVICE",
        opts=pulumi.ResourceOptions(
            depends_on=load_balancer.listeners,
            # Auto scaling owns the running count once the service exists.
            ignore_changes=["desiredCount"],
        ),
    )
    _cpu_autoscaling(config, cluster, service)
    return ServiceResources(repository, cluster, task_definition, service, log_group)


def _cpu_autoscaling(config: StackConfig, cluster: aws.ecs.Cluster, service: aws.ecs.Service):
    target = aws.appautoscaling.Target(
        f"{config.name}-scaling-target",
        service_namespace="ecs",
        scalable_dimension="ecs:service:DesiredCount",
        resource_id=pulumi.Output.concat("service/", cluster.name, "/", service.name),
        min_capacity=config.min_tasks,
        max_capacity=config.max_tasks,
    )
    aws.appautoscaling.Policy(
        f"{config.name}-cpu-scaling",
        policy_type="TargetTrackingScaling",
        service_namespace=target.service_namespace,
        scalable_dimension=target.scalable_dimension,
        resource_id=target.resource_id,
        target_tracking_scaling_policy_configuration={
            "target_value": config.cpu_target_percent,
            "predefined_metric_specification": {
                "predefined_metric_type": "ECSServiceAverageCPUUtilization"
            },
            # Scale out fast, scale in slowly: scale-in drops the sessions on the removed task.
            "scale_out_cooldown": 60,
            "scale_in_cooldown": 300,
        },
    )
