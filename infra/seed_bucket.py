"""Seed an S3-compatible bucket with a predictions data directory (docker-compose's `seed`).

    python infra/seed_bucket.py --source data/demo [--bucket B] [--prefix P]

Bucket and prefix default to PREDICTIONS_S3_BUCKET / PREDICTIONS_S3_PREFIX, so the seeding
service and the app read them from the same environment. The endpoint and credentials are
boto3's own (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...). It waits for the server to answer,
creates the bucket if it is missing, and publishes the directory the way
`predictions predict --save-to-s3` does (`predictions_core.sync.s3.upload_directory`: caches,
hidden files and the feedback DB stay out). It never deletes anything.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from predictions_core.sync.s3 import upload_directory
from predictions_core.sync.state import UploadReport


def wait_for_s3(client, timeout_s: float, poll_s: float = 1.0) -> None:
    """Poll until the S3 endpoint answers; raise TimeoutError naming the endpoint if it never does.

    The server (a compose service) may still be starting when the seeding service runs.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            client.list_buckets()
            return
        except (BotoCoreError, ClientError) as error:
            if time.monotonic() >= deadline:
                endpoint = client.meta.endpoint_url
                message = f"S3 at {endpoint} did not answer in {timeout_s:g} s: {error}"
                raise TimeoutError(message) from error
            time.sleep(poll_s)


def ensure_bucket(client, bucket: str) -> bool:
    """Create `bucket` unless it exists; True if it was created."""
    existing = {entry["Name"] for entry in client.list_buckets().get("Buckets", [])}
    if bucket in existing:
        return False
    region = client.meta.region_name
    if region and region != "us-east-1":
        client.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
        )
    else:
        client.create_bucket(Bucket=bucket)
    return True


def seed_bucket(client, source: Path, bucket: str, prefix: str = "") -> UploadReport:
    """Create `bucket` if needed and upload `source` under `prefix`; the upload's report."""
    ensure_bucket(client, bucket)
    return upload_directory(source, bucket, prefix)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="data directory to upload")
    parser.add_argument("--bucket", default=os.environ.get("PREDICTIONS_S3_BUCKET"))
    parser.add_argument("--prefix", default=os.environ.get("PREDICTIONS_S3_PREFIX", ""))
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for S3")
    args = parser.parse_args(argv)
    if not args.bucket:
        print("error: no bucket: pass --bucket or set PREDICTIONS_S3_BUCKET", file=sys.stderr)
        return 2
    if not args.source.is_dir():
        print(f"error: {args.source} is not a directory", file=sys.stderr)
        return 2
    client = boto3.client("s3")
    try:
        wait_for_s3(client, args.wait)
        report = seed_bucket(client, args.source, args.bucket, args.prefix)
    except (TimeoutError, BotoCoreError, ClientError) as error:
        print(f"error: seeding s3://{args.bucket} failed: {error}", file=sys.stderr)
        return 1
    for problem in report.failed:
        print(f"error: {problem.key}: {problem.reason}", file=sys.stderr)
    if not report.ok:
        print(
            f"error: seeding s3://{args.bucket} failed: {report.error or 'see above'}",
            file=sys.stderr,
        )
        return 1
    print(f"seeded s3://{args.bucket}/{report.prefix} with {len(report.uploaded)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
