"""LabelledPassage records that tests write into predictions files."""

from __future__ import annotations


def passage_record(pid, text: str, spans=(), concept_id: str = "Q1", **metadata) -> dict:
    """One LabelledPassage dict: spans `(start, end)` of `concept_id`, labelled by "k"."""
    return {
        "id": pid,
        "text": text,
        "spans": [
            {"start_index": s, "end_index": e, "concept_id": concept_id, "labellers": ["k"]}
            for s, e in spans
        ],
        "metadata": metadata,
    }
