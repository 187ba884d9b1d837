"""`download_object` replaces a file only with a whole, checked download (no server needed)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from botocore.exceptions import IncompleteReadError

from predictions_core.data.files import PART_MARKER
from predictions_core.sync.s3 import download_object


class _Body:
    """The part of botocore's `StreamingBody` that `download_object` reads."""

    def __init__(self, data: bytes):
        self._stream = io.BytesIO(data)

    def iter_chunks(self, chunk_size: int):
        while chunk := self._stream.read(chunk_size):
            yield chunk


class _Client:
    """An S3 client whose one object says it is `content_length` bytes long."""

    def __init__(self, body: bytes, content_length: int):
        self.body, self.content_length = body, content_length

    def get_object(self, Bucket: str, Key: str) -> dict:  # noqa: N803 (boto3's names)
        return {"Body": _Body(self.body), "ContentLength": self.content_length, "ETag": '"e"'}


def _leftovers(folder: Path) -> list[Path]:
    return [path for path in folder.iterdir() if PART_MARKER in path.name]


def test_a_whole_download_replaces_the_file(tmp_path):
    target = tmp_path / "Q1" / "c" / "predictions.jsonl"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old\n")
    new = b"new version\n" * 1000

    assert download_object(_Client(new, len(new)), "b", "k", target) == (len(new), '"e"')
    assert target.read_bytes() == new and not _leftovers(target.parent)


def test_a_short_download_leaves_the_old_file_and_no_temp_file(tmp_path):
    target = tmp_path / "predictions.jsonl"
    target.write_bytes(b"old\n")
    new = b"new version\n" * 1000

    with pytest.raises(IncompleteReadError):
        download_object(_Client(new[:-5], len(new)), "b", "k", target)

    assert target.read_bytes() == b"old\n" and not _leftovers(tmp_path)
