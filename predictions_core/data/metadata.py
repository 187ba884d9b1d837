"""Where the filterable facts of a passage live in its metadata: one list, read everywhere.

Browse's filters (derived once in SQL at load time, see `derive`), Evaluate's slices and the
per-document layout's defaults all read these paths, so a region filter and a region slice
cannot disagree. Each field lists its keys in order of preference; a dotted key is tried flat
(`"document_metadata.corpus_type_name"` as one key, as upstream writes it) and nested.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

METADATA_PATHS: dict[str, tuple[str, ...]] = {
    "document_id": ("document_id",),
    "region": ("world_bank_region", "document_metadata.world_bank_region"),
    "corpus": ("document_metadata.corpus_type_name", "corpus_type_name"),
    "published": ("document_metadata.publication_ts", "publication_ts"),
    "translated": ("translated",),
}


def metadata_value(metadata: Mapping[str, Any], field: str) -> str | None:
    """The first non-blank value of `field` (a key of `METADATA_PATHS`), as stripped text."""
    for key in METADATA_PATHS[field]:
        value = metadata.get(key)
        if value is None and "." in key:
            value = metadata
            for part in key.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None and str(value).strip():
            return str(value).strip()
    return None
