"""The predictions bucket: private, versioned, encrypted, TLS only; plus the IAM policies on it.

Running tasks only read it (`task_read_policy`); pipelines that publish predictions
(`predictions predict --save-to-s3`) get write access through a separate, optional role.
SSE-S3 (AES256) rather than a KMS key keeps readers free of kms:Decrypt grants.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from predictions_infra.config import StackConfig

NONCURRENT_VERSION_DAYS = 90


@dataclass(frozen=True)
class DataBucket:
    """The bucket and what readers of it need to know."""

    bucket: aws.s3.Bucket
    name: pulumi.Output[str]
    arn: pulumi.Output[str]


def build_bucket(config: StackConfig) -> DataBucket:
    """Create the bucket with versioning, encryption, no public access and a TLS-only policy."""
    name = config.name
    bucket = aws.s3.Bucket(f"{name}-data", force_destroy=config.bucket_force_destroy)
    aws.s3.BucketVersioning(
        f"{name}-data-versioning",
        bucket=bucket.id,
        versioning_configuration={"status": "Enabled"},
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-data-encryption",
        bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
    )
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{name}-data-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    # ACLs off: every object belongs to the bucket owner, whoever uploaded it.
    aws.s3.BucketOwnershipControls(
        f"{name}-data-ownership", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}
    )
    # Old versions of republished predictions are kept for a while (undo), then expire.
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-data-lifecycle",
        bucket=bucket.id,
        rules=[
            {
                "id": "expire-old-versions",
                "status": "Enabled",
                "filter": {},
                "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_VERSION_DAYS},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
            }
        ],
    )
    aws.s3.BucketPolicy(
        f"{name}-data-tls-only",
        bucket=bucket.id,
        policy=bucket.arn.apply(tls_only_bucket_policy),
        # S3 rejects some policies while public-access settings are being applied.
        opts=pulumi.ResourceOptions(depends_on=[public_access_block]),
    )
    return DataBucket(bucket=bucket, name=bucket.bucket, arn=bucket.arn)


def tls_only_bucket_policy(bucket_arn: str) -> str:
    """Bucket policy denying every request that does not use TLS."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def _object_arn(bucket_arn: str, prefix: str) -> str:
    return f"{bucket_arn}/{prefix}/*" if prefix else f"{bucket_arn}/*"


def _list_statement(bucket_arn: str, prefix: str) -> dict:
    statement = {
        "Sid": "ListPredictions",
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": bucket_arn,
    }
    if prefix:
        statement["Condition"] = {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}}
    return statement


def task_read_policy(bucket_arn: str, prefix: str) -> str:
    """Least privilege for the dashboard: list the bucket (under `prefix`) and read objects."""
    statements = [
        _list_statement(bucket_arn, prefix),
        {
            "Sid": "ReadPredictions",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": _object_arn(bucket_arn, prefix),
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def publisher_policy(bucket_arn: str, prefix: str) -> str:
    """What a publishing pipeline needs: read, list and put objects (no delete, no bucket admin)."""
    statements = [
        _list_statement(bucket_arn, prefix),
        {
            "Sid": "PublishPredictions",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": _object_arn(bucket_arn, prefix),
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def build_publisher_role(config: StackConfig, data: DataBucket) -> aws.iam.Role | None:
    """A role the configured principals may assume to publish predictions; None if none are set."""
    if not config.publisher_principal_arns:
        return None
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": list(config.publisher_principal_arns)},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = aws.iam.Role(
        f"{config.name}-publisher",
        assume_role_policy=json.dumps(trust),
        description="publishes predictions to the dashboard bucket",
    )
    aws.iam.RolePolicy(
        f"{config.name}-publisher-s3",
        role=role.id,
        policy=data.arn.apply(lambda arn: publisher_policy(arn, config.s3_prefix)),
    )
    return role
