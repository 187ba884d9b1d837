"""Writing files so that a reader sees the old file or the whole new one, never part of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import orjson

# Temp files are named `.{name}.part-{random}`: dot files, which the loader and the catalogue
# never read, and which a sync and a publish recognise as their own leftovers.
PART_MARKER = ".part-"
_JSON_FILE = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[bytes]]:
    """A binary file to write; it replaces `path` only when the block ends without error.

    Any exception inside the block removes the temp file and leaves `path` as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}{PART_MARKER}")
    try:
        with os.fdopen(handle, "wb") as temp_file:
            yield temp_file
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through `atomic_writer`."""
    with atomic_writer(path) as sink:
        sink.write(data)


def write_json(path: Path, payload: object) -> None:
    """Write `payload` as indented JSON (with a final newline) through `atomic_writer`."""
    write_bytes_atomically(path, orjson.dumps(payload, option=_JSON_FILE))
