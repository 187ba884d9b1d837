"""The feedback database: RDS PostgreSQL in the private subnets, shared by every task.

Reviewers' judgements must outlive tasks (Fargate disks are thrown away at every deploy) and be
the same on every task, so they live in one PostgreSQL server (`PREDICTIONS_FEEDBACK_DB_*` in the
tasks, CONTRACT §3). We chose a plain RDS instance over Aurora Serverless v2: the load is a few
writes a minute, a db.t4g.micro costs a fraction of Aurora's 0.5-ACU floor, and RDS gives every
property we need (encryption, automated backups, Multi-AZ as an option, a managed password).

The master password is created and kept by RDS in Secrets Manager (`manage_master_user_password`):
it never appears in this program, the stack config or the state. ECS reads it from that secret
when a task starts (`container_secrets`); only the execution role may read it
(`secret_read_policy`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from predictions_infra.config import StackConfig
from predictions_infra.network import POSTGRES_PORT, Network

DB_NAME = "predictions"
DB_USERNAME = "predictions"
# The app builds its connection from these variables (the password only ever arrives as a secret).
ENV_HOST = "PREDICTIONS_FEEDBACK_DB_HOST"
ENV_PORT = "PREDICTIONS_FEEDBACK_DB_PORT"
ENV_NAME = "PREDICTIONS_FEEDBACK_DB_NAME"
SECRET_USER = "PREDICTIONS_FEEDBACK_DB_USER"
SECRET_PASSWORD = "PREDICTIONS_FEEDBACK_DB_PASSWORD"
# RDS-managed secrets are JSON objects with these keys.
SECRET_KEYS = {SECRET_USER: "username", SECRET_PASSWORD: "password"}
# RDS rotates the managed password on this schedule, inside the window; the service is then
# redeployed (compute.py) so that new tasks read the new password. Sunday night, UTC.
ROTATION_SCHEDULE = "cron(0 3 ? * SUN *)"
ROTATION_WINDOW = "1h"
REDEPLOY_SCHEDULE = "cron(15 4 ? * SUN *)"
UPDATE_SERVICE_TARGET = "arn:aws:scheduler:::aws-sdk:ecs:updateService"
BACKUP_WINDOW = "02:00-02:30"
MAINTENANCE_WINDOW = "tue:03:00-tue:04:00"


@dataclass(frozen=True)
class FeedbackDatabase:
    """The instance and what the tasks need to reach it."""

    instance: aws.rds.Instance
    address: pulumi.Output[str]
    port: int
    name: str
    secret_arn: pulumi.Output[str]


def build_database(config: StackConfig, network: Network) -> FeedbackDatabase:
    """Create the subnet group, a TLS-only parameter group and the PostgreSQL instance."""
    name = config.name
    subnet_group = aws.rds.SubnetGroup(
        f"{name}-db-subnets",
        subnet_ids=network.private_subnet_ids,
        description="private subnets of the predictions feedback database",
    )
    major = config.db_engine_version.split(".", 1)[0]
    parameters = aws.rds.ParameterGroup(
        f"{name}-db-params",
        family=f"postgres{major}",
        description="predictions feedback database: TLS connections only",
        parameters=[{"name": "rds.force_ssl", "value": "1"}],
    )
    instance = aws.rds.Instance(
        f"{name}-feedback-db",
        engine="postgres",
        engine_version=config.db_engine_version,
        instance_class=config.db_instance_class,
        allocated_storage=config.db_allocated_storage_gb,
        max_allocated_storage=config.db_max_allocated_storage_gb,
        storage_type="gp3",
        storage_encrypted=True,
        db_name=DB_NAME,
        username=DB_USERNAME,
        manage_master_user_password=True,
        port=POSTGRES_PORT,
        db_subnet_group_name=subnet_group.name,
        vpc_security_group_ids=[network.database_security_group.id],
        parameter_group_name=parameters.name,
        publicly_accessible=False,
        multi_az=config.db_multi_az,
        backup_retention_period=config.db_backup_retention_days,
        backup_window=BACKUP_WINDOW,
        maintenance_window=MAINTENANCE_WINDOW,
        copy_tags_to_snapshot=True,
        # Deleting the stack must not delete the judgements: `pulumi destroy` fails until
        # deletion protection is turned off, and then leaves a final snapshot.
        deletion_protection=True,
        skip_final_snapshot=False,
        final_snapshot_identifier=f"{name}-feedback-db-final",
        delete_automated_backups=False,
        auto_minor_version_upgrade=True,
        # Changes wait for the maintenance window instead of restarting the database mid-day.
        apply_immediately=False,
        tags={"Name": f"{name}-feedback-db"},
    )
    secret_arn = instance.master_user_secrets.apply(lambda secrets: secrets[0]["secret_arn"])
    aws.secretsmanager.SecretRotation(
        f"{name}-feedback-db-rotation",
        secret_id=secret_arn,
        rotation_rules={"schedule_expression": ROTATION_SCHEDULE, "duration": ROTATION_WINDOW},
        # RDS owns the rotation; this only sets when it happens, without rotating on creation.
        rotate_immediately=False,
    )
    return FeedbackDatabase(
        instance=instance,
        address=instance.address,
        port=POSTGRES_PORT,
        name=DB_NAME,
        secret_arn=secret_arn,
    )


def container_database_environment(database_address: str) -> dict[str, str]:
    """Where the database is: plain environment values (no credentials among them)."""
    return {ENV_HOST: database_address, ENV_PORT: str(POSTGRES_PORT), ENV_NAME: DB_NAME}


def container_secrets(secret_arn: str) -> list[dict[str, str]]:
    """ECS `secrets` entries: the user name and password, read from the RDS-managed secret."""
    return [
        {"name": variable, "valueFrom": f"{secret_arn}:{key}::"}
        for variable, key in sorted(SECRET_KEYS.items())
    ]


def secret_read_policy(secret_arn: str) -> str:
    """Least privilege for the execution role: read this one secret, nothing else.

    The secret is encrypted with the AWS-managed key `aws/secretsmanager`, whose key policy lets
    Secrets Manager decrypt for any principal of the account allowed to read the secret, so no
    kms:Decrypt grant is needed (it would be, for a customer-managed key).
    """
    statement = {
        "Sid": "ReadFeedbackDatabaseSecret",
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": secret_arn,
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def build_rotation_redeploy(
    config: StackConfig, cluster: aws.ecs.Cluster, service: aws.ecs.Service
) -> aws.scheduler.Schedule:
    """Roll the service out after each password rotation, so tasks start with the new password.

    ECS injects secrets when a task starts, so tasks started before a rotation hold the old
    password: their open connections keep working, new ones would fail. A weekly forced
    deployment, 15 minutes after the rotation window, replaces them (new tasks become ready
    before old ones are drained, as in any deployment).
    """
    name = config.name
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = aws.iam.Role(f"{name}-redeploy", assume_role_policy=json.dumps(trust))
    aws.iam.RolePolicy(
        f"{name}-redeploy-update-service",
        role=role.id,
        policy=service.arn.apply(_update_service_policy),
    )
    return aws.scheduler.Schedule(
        f"{name}-redeploy-after-rotation",
        description="forced deployment after the feedback database password rotation",
        schedule_expression=REDEPLOY_SCHEDULE,
        schedule_expression_timezone="UTC",
        flexible_time_window={"mode": "OFF"},
        target={
            "arn": UPDATE_SERVICE_TARGET,
            "role_arn": role.arn,
            "input": pulumi.Output.json_dumps(
                {"Cluster": cluster.arn, "Service": service.name, "ForceNewDeployment": True}
            ),
        },
    )


def _update_service_policy(service_arn: str) -> str:
    statement = {
        "Sid": "RedeployTheDashboard",
        "Effect": "Allow",
        "Action": ["ecs:UpdateService"],
        "Resource": service_arn,
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
