"""`sync_bucket`, `predictions sync` and the background refresher against a real moto server.

Every request here goes over HTTP to `python -m moto.server` on 127.0.0.1 (see
`tests/s3_server.py`); request counts come from botocore's `before-send` event, which fires
once per HTTP request actually sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from predictions_core.cli.main import main as cli_main
from predictions_core.data.location import REPO_ROOT
from predictions_core.settings import Settings
from predictions_core.sync.background import BackgroundSync, get_background_sync
from predictions_core.sync.s3 import list_objects, make_s3_client, sync_bucket
from predictions_core.sync.state import MANIFEST_NAME
from tests.local_ports import free_port
from tests.s3_server import BreakingProxy, S3Bucket, local_tree, make_session

pytestmark = pytest.mark.s3

PREFIX = "published/"


@pytest.fixture
def published(s3: S3Bucket, small_demo_tree: Path) -> dict[str, bytes]:
    """Two demo classifiers' folders uploaded under `published/` with plain put_object."""
    return s3.put_tree(small_demo_tree, PREFIX)


def without_prefix(objects: dict[str, bytes]) -> dict[str, bytes]:
    return {key.removeprefix(PREFIX): body for key, body in objects.items()}


def test_first_sync_downloads_every_object_intact(s3, published, tmp_path):
    s3.put("published-old/Q9/stale/predictions.jsonl", b"{}\n")  # same stem, other folder
    data_dir = tmp_path / "data"

    report = sync_bucket(s3.name, "published", data_dir, session=s3.session)

    assert report.ok, report.to_dict()
    assert report.downloaded == sorted(published)
    assert local_tree(data_dir) == without_prefix(published)
    assert s3.counter.snapshot() == {"ListObjectsV2": 1, "GetObject": len(published)}
    manifest = json.loads((data_dir / MANIFEST_NAME).read_text())
    assert {entry["key"] for entry in manifest["objects"].values()} == set(published)
    assert not list(data_dir.rglob(".*.part-*"))


def test_listing_follows_every_page(s3):
    for number in range(7):
        s3.put(f"Q{number}/c/predictions.jsonl", b"x" * number)

    client = make_s3_client(s3.session)
    listed = list_objects(client, s3.name, "", page_size=2)

    assert [(o.key, o.size) for o in listed] == [(f"Q{n}/c/predictions.jsonl", n) for n in range(7)]
    assert all(o.etag.startswith('"') for o in listed)
    assert s3.counter.snapshot() == {"ListObjectsV2": 4}  # 2 + 2 + 2 + 1


def test_second_sync_with_nothing_changed_only_lists(s3, published, tmp_path):
    data_dir = tmp_path / "data"
    sync_bucket(s3.name, PREFIX, data_dir, session=s3.session)
    mtimes = {path: path.stat().st_mtime_ns for path in data_dir.rglob("*") if path.is_file()}
    s3.counter.reset()

    report = sync_bucket(s3.name, PREFIX, data_dir, session=s3.session)

    assert report.ok
    assert report.downloaded == [] and report.deleted == []
    assert report.unchanged == sorted(published)
    assert s3.counter.snapshot() == {"ListObjectsV2": 1}  # no GetObject, no HeadObject
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes  # nothing rewritten


def test_changed_object_is_downloaded_again(s3, published, tmp_path):
    data_dir = tmp_path / "data"
    sync_bucket(s3.name, PREFIX, data_dir, session=s3.session)
    changed_key = next(key for key in published if key.endswith("predictions.jsonl"))
    new_body = published[changed_key] + b'{"id": "added", "text": "new line", "spans": []}\n'
    s3.put(changed_key, new_body)
    s3.counter.reset()

    report = sync_bucket(s3.name, PREFIX, data_dir, session=s3.session)

    assert report.downloaded == [changed_key]
    assert len(report.unchanged) == len(published) - 1
    assert (data_dir / changed_key.removeprefix(PREFIX)).read_bytes() == new_body
    assert s3.counter.snapshot() == {"ListObjectsV2": 1, "GetObject": 1}


def test_same_size_change_is_caught_by_the_etag(s3, tmp_path):
    data_dir = tmp_path / "data"
    s3.put("Q1/c/predictions.jsonl", b"aaaa")
    sync_bucket(s3.name, "", data_dir, session=s3.session)
    s3.put("Q1/c/predictions.jsonl", b"bbbb")

    report = sync_bucket(s3.name, "", data_dir, session=s3.session)

    assert report.downloaded == ["Q1/c/predictions.jsonl"]
    assert (data_dir / "Q1/c/predictions.jsonl").read_bytes() == b"bbbb"


def test_locally_removed_file_is_downloaded_again(s3, published, tmp_path):
    data_dir = tmp_path / "data"
    sync_bucket(s3.name, PREFIX, data_dir, session=s3.session)
    key = sorted(published)[0]
    (data_dir / key.removeprefix(PREFIX)).unlink()

    report = sync_bucket(s3.name, PREFIX, data_dir, session=s3.session)

    assert report.downloaded == [key]
    assert local_tree(data_dir) == without_prefix(published)


def test_deleted_object_is_removed_only_when_the_sync_created_it(s3, tmp_path):
    data_dir = tmp_path / "data"
    s3.put("Q1/gone/predictions.jsonl", b"synced, then deleted upstream\n")
    s3.put("Q1/edited/predictions.jsonl", b"synced, edited by the user\n")
    s3.put("Q1/stays/predictions.jsonl", b"still in the bucket\n")
    sync_bucket(s3.name, "", data_dir, session=s3.session)
    own_file = data_dir / "Q1" / "mine" / "predictions.jsonl"
    own_file.parent.mkdir(parents=True)
    own_file.write_bytes(b"the user's own file\n")
    (data_dir / "Q1/edited/predictions.jsonl").write_bytes(b"the user's edit, longer than before\n")
    for key in ("Q1/gone/predictions.jsonl", "Q1/edited/predictions.jsonl"):
        s3.delete(key)

    report = sync_bucket(s3.name, "", data_dir, session=s3.session)

    assert report.deleted == ["Q1/gone/predictions.jsonl"]
    assert [problem.key for problem in report.kept_local] == ["Q1/edited/predictions.jsonl"]
    assert not (data_dir / "Q1/gone").exists()  # its now empty folder went with it
    assert own_file.read_bytes() == b"the user's own file\n"
    assert (data_dir / "Q1/edited/predictions.jsonl").read_bytes().startswith(b"the user's edit")
    assert (data_dir / "Q1/stays/predictions.jsonl").exists()
    # the kept file is no longer the sync's: a later sync leaves it alone too
    again = sync_bucket(s3.name, "", data_dir, session=s3.session)
    assert again.deleted == [] and again.kept_local == []
    assert (data_dir / "Q1/edited/predictions.jsonl").exists()


def test_a_deleted_object_from_another_prefix_is_not_touched(s3, tmp_path):
    data_dir = tmp_path / "data"
    s3.put("a/Q1/c/predictions.jsonl", b"from prefix a\n")
    s3.put("b/Q2/c/predictions.jsonl", b"from prefix b\n")
    sync_bucket(s3.name, "a", data_dir, session=s3.session)
    sync_bucket(s3.name, "b", data_dir, session=s3.session)
    s3.delete("a/Q1/c/predictions.jsonl")

    report = sync_bucket(s3.name, "b", data_dir, session=s3.session)

    assert report.deleted == []
    assert (data_dir / "Q1/c/predictions.jsonl").exists()


HOSTILE_KEYS = {
    "../evil.jsonl": "'..'",
    "/abs/x": "absolute",
    "a\\b": "backslash",
    "Q1/../../x": "'..'",
    "Q1//x.jsonl": "empty path part",
    ".cache/Q1.arrow": "cache dir",
    "feedback.sqlite": "feedback database",
    "Q1/feedback.sqlite-wal": "feedback database",
    MANIFEST_NAME: "sync manifest",
    "linked/evil.jsonl": "outside the data dir",
    "reviews.db-wal": "protected path",
}


def test_hostile_keys_are_refused_and_nothing_is_written_outside(s3, tmp_path):
    data_dir = tmp_path / "sandbox" / "data"
    outside = tmp_path / "outside"
    outside.mkdir()
    data_dir.mkdir(parents=True)
    (data_dir / "linked").symlink_to(outside, target_is_directory=True)
    for key in HOSTILE_KEYS:
        s3.put(key, b"hostile")
    s3.put("Q1/c/predictions.jsonl", b"fine\n")
    listed = {o["Key"] for o in s3.admin.list_objects_v2(Bucket=s3.name)["Contents"]}
    assert set(HOSTILE_KEYS) <= listed, "the server must really hold the hostile keys"

    report = sync_bucket(
        s3.name, "", data_dir, session=s3.session, protected_paths=[data_dir / "reviews.db"]
    )

    refused = {problem.key: problem.reason for problem in report.refused}
    assert set(refused) == set(HOSTILE_KEYS)
    for key, expected_words in HOSTILE_KEYS.items():
        assert expected_words in refused[key], (key, refused[key])
    assert report.downloaded == ["Q1/c/predictions.jsonl"]
    assert report.ok  # refusals are warnings; the sync itself worked
    assert list(outside.iterdir()) == []
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == [
        f"sandbox/data/{MANIFEST_NAME}",
        "sandbox/data/Q1/c/predictions.jsonl",
    ]


def test_missing_bucket_is_reported_and_changes_nothing(s3, tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "Q1").mkdir(parents=True)
    (data_dir / "Q1" / "concept.json").write_text("{}")

    report = sync_bucket(f"{s3.name}-missing", "", data_dir, session=s3.session)

    assert not report.ok
    assert "does not exist" in report.error
    assert local_tree(data_dir) == {"Q1/concept.json": b"{}"}


def test_access_denied_is_reported(s3, moto_server, tmp_path):
    s3.put("Q1/c/predictions.jsonl", b"secret\n")
    iam = s3.session.client("iam")
    iam.create_user(UserName=f"reader-{s3.name}")
    get_only = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{s3.name}/*"}
        ],
    }
    iam.put_user_policy(
        UserName=f"reader-{s3.name}", PolicyName="get-only", PolicyDocument=json.dumps(get_only)
    )
    access_key = iam.create_access_key(UserName=f"reader-{s3.name}")["AccessKey"]
    reader = make_session(
        aws_access_key_id=access_key["AccessKeyId"],
        aws_secret_access_key=access_key["SecretAccessKey"],
    )
    moto_server.set_iam_enforcement(True)
    try:
        # the credentials are good (a single object can be read) but may not list the bucket
        allowed = reader.client("s3").get_object(Bucket=s3.name, Key="Q1/c/predictions.jsonl")
        assert allowed["Body"].read() == b"secret\n"
        report = sync_bucket(s3.name, "", tmp_path / "data", session=reader)
    finally:
        moto_server.set_iam_enforcement(False)

    assert not report.ok
    assert "access denied" in report.error and "AccessDenied" in report.error
    assert local_tree(tmp_path / "data") == {}


def test_no_network_is_reported_quickly_and_deletes_nothing(s3, published, tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    sync_bucket(s3.name, PREFIX, data_dir, session=s3.session)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nobody listens

    started = time.monotonic()
    report = sync_bucket(s3.name, PREFIX, data_dir)  # default session, from the environment

    assert time.monotonic() - started < 30
    assert not report.ok
    assert "could not connect" in report.error
    assert local_tree(data_dir) == without_prefix(published)


def test_download_broken_half_way_keeps_the_previous_file(
    s3, breaking_proxy: BreakingProxy, tmp_path, monkeypatch
):
    key = "Q1/c/predictions.jsonl"
    old_body, new_body = b"old version\n" * 100, b"new version, longer\n" * 5000
    s3.put(key, old_body)
    s3.put("Q1/c/classifier.json", b'{"id": "c"}')
    monkeypatch.setenv("AWS_ENDPOINT_URL", breaking_proxy.endpoint_url)
    data_dir = tmp_path / "data"
    assert sync_bucket(s3.name, "", data_dir, session=make_session()).ok
    s3.put(key, new_body)
    s3.put("Q1/c/classifier.json", b'{"id": "c", "name": "renamed"}')
    breaking_proxy.break_object(s3.name, key)

    broken = sync_bucket(s3.name, "", data_dir, session=make_session())

    assert breaking_proxy.cut_count >= 1  # the body really was cut over HTTP
    assert [problem.key for problem in broken.failed] == [key]
    assert "broke off" in broken.failed[0].reason
    assert broken.downloaded == ["Q1/c/classifier.json"]  # the others still arrive
    assert (data_dir / key).read_bytes() == old_body
    assert not [p for p in data_dir.rglob("*") if ".part-" in p.name]

    breaking_proxy.mend_all()
    retried = sync_bucket(s3.name, "", data_dir, session=make_session())

    assert retried.ok and retried.downloaded == [key]
    assert (data_dir / key).read_bytes() == new_body


def test_sync_command_prints_what_it_did(s3, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no developer's .env is read
    monkeypatch.delenv("PREDICTIONS_S3_BUCKET", raising=False)
    s3.put("p/Q1/c/predictions.jsonl", b"{}\n")
    s3.put("p/../evil.jsonl", b"hostile")
    args = ["sync", "--bucket", s3.name, "--prefix", "p", "--data-dir", str(tmp_path / "d")]

    assert cli_main(args) == 0
    first = capsys.readouterr().out
    assert cli_main(args) == 0
    second = capsys.readouterr().out

    assert "downloaded: 1\n  p/Q1/c/predictions.jsonl" in first
    assert "refused: 1\n  p/../evil.jsonl: has a '.' or '..' path part" in first
    assert "downloaded: 0" in second and "unchanged (skipped): 1" in second


def test_sync_command_fails_without_a_bucket_or_with_a_missing_one(
    s3, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PREDICTIONS_S3_BUCKET", raising=False)
    monkeypatch.setenv("PREDICTIONS_DATA_DIR", str(tmp_path / "d"))

    assert cli_main(["sync"]) == 2
    assert "no bucket configured" in capsys.readouterr().err

    monkeypatch.setenv("PREDICTIONS_S3_BUCKET", f"{s3.name}-missing")
    assert cli_main(["sync"]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_sync_command_runs_as_a_real_process(s3, tmp_path):
    s3.put("Q7/c/predictions.jsonl", b"{}\n")
    env = {**os.environ, "PREDICTIONS_S3_BUCKET": s3.name, "PREDICTIONS_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "predictions_core.cli.main", "sync"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Q7/c/predictions.jsonl" in done.stdout
    assert (tmp_path / "Q7/c/predictions.jsonl").read_bytes() == b"{}\n"


def settings_for_bucket(bucket: str, data_dir: Path, interval_s: float = 0.0) -> Settings:
    return Settings(data_dir=data_dir, s3_bucket=bucket, sync_interval_s=interval_s)


def wait_for(condition, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_background_sync_picks_up_new_objects_without_a_restart(s3, tmp_path):
    data_dir = tmp_path / "data"
    s3.put("Q1/c/predictions.jsonl", b"first\n")
    refresher = BackgroundSync(session=s3.session)
    try:
        assert refresher.start(settings_for_bucket(s3.name, data_dir, interval_s=0.2))
        assert not refresher.start(settings_for_bucket(s3.name, data_dir, interval_s=0.2))
        assert wait_for(lambda: refresher.last_report is not None)
        version_after_first = refresher.data_version
        assert version_after_first == 1 and refresher.last_error is None

        s3.put("Q2/c/predictions.jsonl", b"arrived later\n")

        assert wait_for(lambda: (data_dir / "Q2/c/predictions.jsonl").exists())
        assert wait_for(lambda: refresher.data_version == version_after_first + 1)
        assert (data_dir / "Q2/c/predictions.jsonl").read_bytes() == b"arrived later\n"
        status = refresher.status()
        assert status["ok"] and status["data_version"] == refresher.data_version
        assert status["finished_at"] == refresher.last_sync.isoformat()
    finally:
        refresher.stop()
    assert s3.counter.snapshot()["GetObject"] == 2  # idle rounds only listed


def test_concurrent_refresh_requests_share_one_sync(s3, tmp_path):
    s3.put("Q1/c/predictions.jsonl", b"x\n")
    # slow the real LIST request down so that every thread arrives while it is in flight
    s3.session.events.register("before-send.s3.ListObjectsV2", lambda **_: time.sleep(0.5))
    refresher = BackgroundSync(session=s3.session)
    settings = settings_for_bucket(s3.name, tmp_path / "data")
    start_together = threading.Barrier(6)
    reports = []

    def press_refresh() -> None:
        start_together.wait()
        reports.append(refresher.sync_now(settings))

    threads = [threading.Thread(target=press_refresh) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    distinct = list({id(report): report for report in reports}.values())
    assert len(reports) == 6 and len(distinct) < 6  # callers waited for the running sync
    assert s3.counter.snapshot()["ListObjectsV2"] == len(distinct)
    spans = sorted((report.started_at, report.finished_at) for report in distinct)
    assert all(
        end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False)
    )
    assert refresher.data_version == 1 and refresher.last_report in distinct


def test_sync_now_without_a_bucket_says_so_and_records_nothing(tmp_path):
    refresher = BackgroundSync()
    report = refresher.sync_now(Settings(data_dir=tmp_path, s3_bucket=None))
    assert not report.ok and "PREDICTIONS_S3_BUCKET" in report.error
    assert refresher.last_report is None and refresher.status() is None
    assert not refresher.start(Settings(data_dir=tmp_path, s3_bucket=None))


def test_the_background_sync_is_one_per_process():
    assert get_background_sync() is get_background_sync()
