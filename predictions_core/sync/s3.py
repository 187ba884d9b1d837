"""S3: sync a bucket's predictions into the data dir, publish a data dir to a bucket.

The only module that imports boto3. Every function takes an optional `boto3.session.Session`;
the default one is built from the environment, so `AWS_ENDPOINT_URL`, `AWS_REGION`,
`AWS_PROFILE` and the rest work exactly as they do for boto3 (CONTRACT §3).

A sync never raises for S3 or network trouble: it returns a `SyncReport` whose `error` (the
whole sync failed, nothing was changed or deleted) or `failed` (single objects) say why.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    IncompleteReadError,
    NoCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from predictions_core.data.files import atomic_writer
from predictions_core.settings import Settings
from predictions_core.sync.state import (
    FEEDBACK_DB_PREFIX,
    KeyProblem,
    ManifestEntry,
    SyncManifest,
    SyncProgress,
    SyncReport,
    UploadReport,
    local_path_for_key,
    normalise_prefix,
    utc_now,
)

MIB = 1024 * 1024
DEFAULT_MAX_WORKERS = 8
DOWNLOAD_CHUNK_BYTES = MIB
DEFAULT_MULTIPART_THRESHOLD_BYTES = 8 * MIB
S3_MIN_PART_BYTES = 5 * MIB
_CREDENTIAL_ERROR_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
}


@dataclass(frozen=True)
class ListedObject:
    """One object from a listing: its key, size and ETag (quotes kept, as S3 sends it)."""

    key: str
    size: int
    etag: str


def make_s3_client(
    session: Any = None,
    max_workers: int = DEFAULT_MAX_WORKERS,
    *,
    connect_timeout_s: float = 5.0,
    read_timeout_s: float = 60.0,
    max_attempts: int = 3,
) -> Any:
    """One S3 client (thread-safe, shared by all workers) with bounded retries and timeouts."""
    session = session if session is not None else boto3.session.Session()
    config = Config(
        retries={"max_attempts": max_attempts, "mode": "standard"},
        connect_timeout=connect_timeout_s,
        read_timeout=read_timeout_s,
        # one pooled connection per worker, or workers queue for a connection
        max_pool_connections=max(10, max_workers),
    )
    return session.client("s3", config=config)


def describe_s3_error(error: BaseException, bucket: str, key: str | None = None) -> str:
    """A sentence for the person running the sync, naming the likely cause.

    `key` is the object concerned, if any: a bare 404 (HEAD has no error body) then means the
    object is gone, without one the bucket.
    """
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchBucket" or (code == "404" and key is None):
            return f"bucket '{bucket}' does not exist (NoSuchBucket)"
        if code in _CREDENTIAL_ERROR_CODES:
            return f"the AWS credentials were rejected ({code}): check AWS_PROFILE or the keys"
        if code in {"AccessDenied", "AllAccessDisabled", "403"} or status == 403:
            return (
                f"access denied to bucket '{bucket}' ({code or status}): "
                "check the credentials' permissions and the bucket policy"
            )
        if code in {"NoSuchKey", "404"}:
            return "the object disappeared from the bucket during the sync"
        return f"S3 answered {code or status}: {details.get('Message') or error}"
    if isinstance(error, NoCredentialsError):
        return (
            "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        return f"could not connect to S3 ({error}): check the network and AWS_ENDPOINT_URL"
    if isinstance(error, IncompleteReadError | ResponseStreamingError):
        return f"the download broke off ({error}); the previous file, if any, is kept"
    if isinstance(error, ReadTimeoutError):
        return f"S3 stopped answering ({error})"
    if isinstance(error, BotoCoreError):
        return str(error)
    if isinstance(error, OSError):
        return f"local file error: {error}"
    return f"{type(error).__name__}: {error}"


def list_objects(
    client: Any, bucket: str, prefix: str, page_size: int = 1000
) -> list[ListedObject]:
    """Every object under `prefix`, all pages. Raises botocore errors (the caller reports)."""
    listed: list[ListedObject] = []
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
    )
    for page in pages:
        for item in page.get("Contents", []):
            listed.append(ListedObject(item["Key"], int(item["Size"]), str(item["ETag"])))
    return listed


def download_object(client: Any, bucket: str, key: str, target: Path) -> tuple[int, str]:
    """Download through `atomic_writer`, checking the length before the file replaces `target`.

    Readers see the old file or the whole new one, never part of one: a short or failed
    download leaves `target` as it was. Returns the (size, ETag) of what was written.
    """
    with atomic_writer(target) as sink:
        response = client.get_object(Bucket=bucket, Key=key)
        written = 0
        for chunk in response["Body"].iter_chunks(DOWNLOAD_CHUNK_BYTES):
            sink.write(chunk)
            written += len(chunk)
        expected = int(response["ContentLength"])
        if written != expected:
            raise IncompleteReadError(actual_bytes=written, expected_bytes=expected)
    return written, str(response["ETag"])


def sync_bucket(
    bucket: str,
    prefix: str,
    data_dir: Path | str,
    session: Any = None,
    max_workers: int = DEFAULT_MAX_WORKERS,
    *,
    protected_paths: Iterable[Path] = (),
    progress: SyncProgress | None = None,
) -> SyncReport:
    """Bring `data_dir` up to date with `s3://bucket/prefix`; never raises for S3 trouble.

    Only new or changed objects are downloaded (size and ETag against the manifest), in
    parallel, each atomically. Files whose objects left the bucket are deleted only when a
    sync created them and they are unchanged since. Unsafe keys and keys landing on the
    cache dir, the feedback DB or `protected_paths` are refused and reported. `progress`, if
    given, is told the number of objects once listed and advanced as each one is dealt with.
    """
    prefix = normalise_prefix(prefix)
    report = SyncReport(bucket=bucket, prefix=prefix, data_dir=Path(data_dir))
    try:
        root = _prepare_data_dir(Path(data_dir))
        client = make_s3_client(session, max_workers)
        listed = list_objects(client, bucket, prefix)
    except (BotoCoreError, ClientError, OSError) as error:
        # nothing is downloaded or deleted when the listing is incomplete
        report.error = describe_s3_error(error, bucket)
        report.finished_at = utc_now()
        return report
    protected = tuple(path.resolve() for path in protected_paths)
    manifest = SyncManifest.load(root)
    wanted = _plan_downloads(listed, bucket, prefix, root, protected, manifest, report)
    if progress is not None:
        progress.listed(len(wanted) + len(report.unchanged) + len(report.refused))
        progress.advance(len(report.unchanged) + len(report.refused))
    _download_all(client, bucket, wanted, root, manifest, report, max_workers, progress)
    _delete_vanished(bucket, prefix, {obj.key for obj in listed}, root, manifest, report)
    try:
        if manifest.changed:
            manifest.save()
    except OSError as error:
        report.error = f"could not write the sync manifest in {root}: {error}"
    for names in (report.downloaded, report.unchanged, report.deleted):
        names.sort()
    report.finished_at = utc_now()
    return report


def _prepare_data_dir(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir.resolve()


def _plan_downloads(
    listed: list[ListedObject],
    bucket: str,
    prefix: str,
    root: Path,
    protected: tuple[Path, ...],
    manifest: SyncManifest,
    report: SyncReport,
) -> list[tuple[ListedObject, Path]]:
    """Sort the listing into refused, unchanged and to-download (with local paths)."""
    wanted: list[tuple[ListedObject, Path]] = []
    for obj in listed:
        if obj.key.endswith("/") and obj.size == 0:
            continue  # a "folder" placeholder made by the S3 console: nothing to write
        target, reason = local_path_for_key(obj.key[len(prefix) :], root, protected)
        if target is None:
            report.refused.append(KeyProblem(obj.key, str(reason)))
            continue
        entry = manifest.get(bucket, obj.key)
        if (
            entry is not None
            and (entry.size, entry.etag) == (obj.size, obj.etag)
            and entry.path == target.relative_to(root).as_posix()
            and entry.local_file_is_as_synced(root, check_mtime=False)
        ):
            report.unchanged.append(obj.key)
        else:
            wanted.append((obj, target))
    return wanted


def _download_all(
    client: Any,
    bucket: str,
    wanted: list[tuple[ListedObject, Path]],
    root: Path,
    manifest: SyncManifest,
    report: SyncReport,
    max_workers: int,
    progress: SyncProgress | None = None,
) -> None:
    if not wanted:
        return
    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="s3-get") as pool:
        futures = {
            pool.submit(download_object, client, bucket, obj.key, target): (obj, target)
            for obj, target in wanted
        }
        for future in as_completed(futures):
            obj, target = futures[future]
            if progress is not None:
                progress.advance()  # downloaded or failed: either way, dealt with
            try:
                size, etag = future.result()
                mtime_ns = target.stat().st_mtime_ns
            except Exception as error:  # one object's failure must not stop the others
                report.failed.append(KeyProblem(obj.key, describe_s3_error(error, bucket, obj.key)))
                continue
            relative = target.relative_to(root).as_posix()
            manifest.put(ManifestEntry(bucket, obj.key, size, etag, relative, mtime_ns))
            report.downloaded.append(obj.key)


def _delete_vanished(
    bucket: str,
    prefix: str,
    listed_keys: set[str],
    root: Path,
    manifest: SyncManifest,
    report: SyncReport,
) -> None:
    """Delete files a sync created whose objects are gone; never a file the user changed."""
    for entry in manifest.entries_under(bucket, prefix):
        if entry.key in listed_keys:
            continue
        # re-check the recorded path: a hand-edited manifest must not lead outside the data dir
        path, reason = local_path_for_key(entry.path, root)
        if path is None or not path.exists():
            manifest.forget(bucket, entry.key)
            continue
        if not entry.local_file_is_as_synced(root, check_mtime=True):
            reason = "gone from the bucket, but the local file changed since the sync; kept"
            report.kept_local.append(KeyProblem(entry.key, reason))
            manifest.forget(bucket, entry.key)
            continue
        try:
            path.unlink()
        except OSError as error:
            report.failed.append(KeyProblem(entry.key, f"could not delete {path}: {error}"))
            continue
        _remove_empty_parents(path.parent, root)
        manifest.forget(bucket, entry.key)
        report.deleted.append(entry.key)


def _remove_empty_parents(directory: Path, root: Path) -> None:
    # so a concept whose objects all left the bucket does not linger as an empty folder
    while directory != root and directory.is_relative_to(root):
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def protected_paths_for(settings: Settings) -> tuple[Path, ...]:
    """The configured cache dir and feedback DB, which a sync must never write over."""
    return tuple(path for path in (settings.cache_dir, settings.feedback_db) if path is not None)


def sync_from_settings(
    settings: Settings, session: Any = None, progress: SyncProgress | None = None
) -> SyncReport:
    """One sync of the configured bucket into the configured data dir (see `sync_bucket`)."""
    return sync_bucket(
        settings.s3_bucket or "",
        settings.s3_prefix,
        settings.data_dir,
        session,
        protected_paths=protected_paths_for(settings),
        progress=progress,
    )


def upload_directory(
    local_dir: Path | str,
    bucket: str,
    prefix: str,
    session: Any = None,
    *,
    max_workers: int = DEFAULT_MAX_WORKERS,
    multipart_threshold_bytes: int = DEFAULT_MULTIPART_THRESHOLD_BYTES,
    exclude_paths: Iterable[Path] = (),
) -> UploadReport:
    """Publish a data dir's files under `s3://bucket/prefix`, keeping their relative paths.

    Files at or above `multipart_threshold_bytes` go up as multipart uploads (boto3's
    managed transfer). Never uploaded: hidden files and folders (the cache dir, the sync
    manifest, temp downloads, `.env`), feedback DB files, symbolic links, `exclude_paths`.
    """
    prefix = normalise_prefix(prefix)
    local_dir = Path(local_dir)
    report = UploadReport(bucket=bucket, prefix=prefix, local_dir=local_dir)
    if not local_dir.is_dir():
        report.error = f"{local_dir} is not a directory"
        return report
    excluded = tuple(path.resolve() for path in exclude_paths)
    files = _files_to_publish(local_dir.resolve(), excluded, report)
    part_bytes = max(S3_MIN_PART_BYTES, multipart_threshold_bytes)
    transfer_config = TransferConfig(
        multipart_threshold=multipart_threshold_bytes,
        multipart_chunksize=part_bytes,
        max_concurrency=max(1, max_workers),
    )
    try:
        client = make_s3_client(session, max_workers)
        client.head_bucket(Bucket=bucket)  # one clear error instead of one per file
        with create_transfer_manager(client, transfer_config) as manager:
            futures = [
                (prefix + relative, manager.upload(str(path), bucket, prefix + relative))
                for path, relative in files
            ]
            for key, future in futures:
                try:
                    future.result()
                    report.uploaded.append(key)
                except Exception as error:  # one file's failure must not stop the others
                    report.failed.append(KeyProblem(key, describe_s3_error(error, bucket, key)))
    except (BotoCoreError, ClientError) as error:
        report.error = describe_s3_error(error, bucket)
    report.uploaded.sort()
    return report


def _files_to_publish(
    root: Path, excluded: tuple[Path, ...], report: UploadReport
) -> list[tuple[Path, str]]:
    """(path, key relative to the prefix) of every publishable file under `root`."""
    files: list[tuple[Path, str]] = []
    for directory, folder_names, file_names in os.walk(root):
        here = Path(directory)
        for name in sorted(folder_names):
            folder = here / name
            if name.startswith(".") or folder in excluded or folder.is_symlink():
                folder_names.remove(name)  # os.walk then skips it
                relative = folder.relative_to(root).as_posix()
                reason = "hidden, excluded or linked folder (links are not followed)"
                report.skipped.append(KeyProblem(f"{relative}/", reason))
        for name in sorted(file_names):
            path = here / name
            relative = path.relative_to(root).as_posix()
            reason = _unpublishable_reason(path, name, excluded)
            if reason:
                report.skipped.append(KeyProblem(relative, reason))
            else:
                files.append((path, relative))
    return files


def _unpublishable_reason(path: Path, name: str, excluded: tuple[Path, ...]) -> str | None:
    if name.startswith("."):
        return "hidden file (sync manifest, temp download or local config)"
    if name.startswith(FEEDBACK_DB_PREFIX):
        return "feedback database: reviewers' judgements stay local"
    if path.is_symlink() or not path.is_file():
        return "not a regular file (symbolic links are not followed)"
    if path in excluded:
        return "excluded path"
    return None


__all__ = [
    "ListedObject",
    "SyncProgress",
    "SyncReport",
    "UploadReport",
    "describe_s3_error",
    "download_object",
    "list_objects",
    "make_s3_client",
    "sync_bucket",
    "sync_from_settings",
    "upload_directory",
]
