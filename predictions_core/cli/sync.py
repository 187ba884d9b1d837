"""`predictions sync [--bucket B] [--prefix P] [--data-dir D]`: sync once, print the report."""

from __future__ import annotations

import argparse
import sys

from predictions_core.data.location import app_settings
from predictions_core.settings import DEFAULT_DATA_DIR
from predictions_core.sync.s3 import protected_paths_for, sync_bucket
from predictions_core.sync.state import SyncReport


def run_sync_command(args: argparse.Namespace) -> int:
    """Sync once and print what happened; exit 1 on failure, 2 when no bucket is set."""
    settings = app_settings()
    explicit_bucket = getattr(args, "bucket", None)
    bucket = explicit_bucket or settings.s3_bucket
    if not bucket:
        print(
            "error: no bucket configured: pass --bucket or set PREDICTIONS_S3_BUCKET",
            file=sys.stderr,
        )
        return 2
    if settings.skip_s3_sync and not explicit_bucket:
        print("SKIP_S3_SYNC is true: nothing synced (pass --bucket to sync anyway)")
        return 0
    prefix = args.prefix if getattr(args, "prefix", None) is not None else settings.s3_prefix
    data_dir = getattr(args, "data_dir", None)
    if data_dir is None:
        # never sync into the bundled demo data the settings fall back to
        data_dir = DEFAULT_DATA_DIR if settings.data_dir_is_demo else settings.data_dir
    report = sync_bucket(bucket, prefix, data_dir, protected_paths=protected_paths_for(settings))
    print(format_sync_report(report))
    if not report.ok:
        reason = report.error or f"{len(report.failed)} object(s) failed"
        print(f"error: sync failed: {reason}", file=sys.stderr)
        return 1
    return 0


def format_sync_report(report: SyncReport) -> str:
    """Plain-text summary: every downloaded, deleted, refused and failed key; unchanged counted."""
    seconds = (report.finished_at - report.started_at).total_seconds() if report.finished_at else 0
    lines = [
        f"sync s3://{report.bucket}/{report.prefix} -> {report.data_dir} ({seconds:.2f} s)",
        f"downloaded: {len(report.downloaded)}",
        *(f"  {key}" for key in report.downloaded),
        f"unchanged (skipped): {len(report.unchanged)}",
        f"deleted: {len(report.deleted)}",
        *(f"  {key}" for key in report.deleted),
    ]
    for title, problems in (
        ("kept (changed locally)", report.kept_local),
        ("refused", report.refused),
        ("failed", report.failed),
    ):
        lines.append(f"{title}: {len(problems)}")
        lines.extend(f"  {problem.key}: {problem.reason}" for problem in problems)
    if report.error:
        lines.append(f"error: {report.error}")
    return "\n".join(lines)
