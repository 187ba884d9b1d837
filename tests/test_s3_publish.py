"""`upload_directory` (publish, used by `predictions predict --save-to-s3`) against real moto."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from predictions_core.sync.s3 import sync_bucket, upload_directory
from tests.s3_server import S3Bucket, local_tree

pytestmark = pytest.mark.s3

MIB = 1024 * 1024


def bucket_keys(bucket: S3Bucket) -> list[str]:
    pages = bucket.admin.get_paginator("list_objects_v2").paginate(Bucket=bucket.name)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


@pytest.fixture
def data_dir_with_local_state(tmp_path: Path, small_demo_tree: Path) -> Path:
    """Two demo classifiers' folders, plus every kind of local file a publish must leave out."""
    out = tmp_path / "out"
    shutil.copytree(small_demo_tree, out)
    (out / ".cache").mkdir()
    (out / ".cache" / "Q218.arrow").write_bytes(b"derived")
    (out / "feedback.sqlite").write_bytes(b"reviewers' judgements")
    (out / "feedback.sqlite-wal").write_bytes(b"wal")
    (out / ".sync-manifest.json").write_text("{}")
    (out / "Q218" / ".predictions.jsonl.part-x1y2").write_bytes(b"half a download")
    (out / ".env").write_text("AWS_SECRET_ACCESS_KEY=never-published")
    secret = tmp_path / "outside-secret.txt"
    secret.write_text("not part of the data dir")
    (out / "Q787" / "link.jsonl").symlink_to(secret)
    (out / "Q999").symlink_to(secret.parent, target_is_directory=True)
    return out


def test_publish_then_sync_gives_back_the_same_files(
    s3, data_dir_with_local_state, small_demo_tree, tmp_path
):
    report = upload_directory(data_dir_with_local_state, s3.name, "runs/2025", session=s3.session)

    expected = local_tree(small_demo_tree)
    assert report.ok, report
    assert report.uploaded == sorted(f"runs/2025/{relative}" for relative in expected)
    assert bucket_keys(s3) == report.uploaded  # nothing else, nothing outside the prefix
    skipped = {problem.key for problem in report.skipped}
    assert skipped == {
        ".cache/",
        "feedback.sqlite",
        "feedback.sqlite-wal",
        ".sync-manifest.json",
        "Q218/.predictions.jsonl.part-x1y2",
        ".env",
        "Q787/link.jsonl",
        "Q999/",
    }

    synced = sync_bucket(s3.name, "runs/2025/", tmp_path / "elsewhere", session=s3.session)

    assert synced.ok and len(synced.downloaded) == len(expected)
    assert local_tree(tmp_path / "elsewhere") == expected


def test_a_file_above_the_threshold_goes_up_in_parts_and_arrives_intact(s3, tmp_path):
    out = tmp_path / "out"
    large = out / "Q1" / "big" / "predictions.jsonl"
    large.parent.mkdir(parents=True)
    line = b'{"id": "p", "text": "greenhouse gas emissions from forestry", "spans": []}\n'
    large.write_bytes(line * (6 * MIB // len(line) + 1))  # a little over 6 MiB
    (out / "Q1" / "concept.json").write_text('{"wikibase_id": "Q1"}')

    report = upload_directory(
        out, s3.name, "", session=s3.session, multipart_threshold_bytes=5 * MIB
    )

    assert report.ok, report
    counts = s3.counter.snapshot()
    assert counts["CreateMultipartUpload"] == 1 and counts["CompleteMultipartUpload"] == 1
    assert counts["UploadPart"] == 2  # 5 MiB + the rest
    assert counts["PutObject"] == 1  # the small file went up whole
    head = s3.admin.head_object(Bucket=s3.name, Key="Q1/big/predictions.jsonl")
    assert head["ETag"].endswith('-2"')  # S3's mark of a two-part upload

    sync_bucket(s3.name, "", tmp_path / "back", session=s3.session)

    arrived = (tmp_path / "back" / "Q1" / "big" / "predictions.jsonl").read_bytes()
    assert hashlib.sha256(arrived).digest() == hashlib.sha256(large.read_bytes()).digest()


def test_publishing_to_a_missing_bucket_is_one_clear_error(s3, tmp_path):
    (tmp_path / "Q1").mkdir()
    (tmp_path / "Q1" / "concept.json").write_text("{}")

    report = upload_directory(tmp_path, f"{s3.name}-missing", "", session=s3.session)

    assert not report.ok
    assert "does not exist" in report.error
    assert report.uploaded == [] and report.failed == []


def test_publishing_something_that_is_not_a_directory_is_refused(s3, tmp_path):
    report = upload_directory(tmp_path / "nowhere", s3.name, "", session=s3.session)

    assert not report.ok and "is not a directory" in report.error
    assert bucket_keys(s3) == []
