"""Data of the score tests: six passages whose scores are known by construction.

A passage's score is the highest `prediction_probability` among its spans (CONTRACT §2): two
passages tie, two have none (no spans; a span without a probability). The first two carry
today's vibe-checker metadata (`document_name`, `document_slug`, `family_slug`), so their
cards link to their source document.
"""

from __future__ import annotations

import json
from pathlib import Path

QID, CLASSIFIER = "Q218", "scored.v1"


def _span(start: int, end: int, probability: float | None) -> dict:
    span = {"start_index": start, "end_index": end, "concept_id": QID, "labellers": ["x"]}
    if probability is not None:
        span["prediction_probability"] = probability
    return span


def _vibe(document: str) -> dict[str, str]:
    return {
        "document_id": document,
        "document_name": f"Plan {document} <b>&</b>",
        "document_slug": f"plan-{document}",
        "family_slug": f"family-{document}",
    }


PASSAGES: list[dict] = [
    {
        "id": "p1",
        "text": "greenhouse gas one",
        "spans": [_span(0, 5, 0.9), _span(6, 9, 0.4)],
        "metadata": _vibe("d1"),
    },
    {"id": "p2", "text": "nothing here", "spans": [], "metadata": _vibe("d2")},
    {"id": "p3", "text": "gas without a probability", "spans": [_span(0, 3, None)]},
    {"id": "p4", "text": "greenhouse gas four", "spans": [_span(0, 5, 0.5)]},
    {"id": "p5", "text": "gas five", "spans": [_span(0, 3, 0.9)]},
    {"id": "p6", "text": "gas six", "spans": [_span(0, 3, 0.1)]},
]
SCORES = {"p1": 0.9, "p2": None, "p3": None, "p4": 0.5, "p5": 0.9, "p6": 0.1}


def write_passages(path: Path, passages: list[dict] = PASSAGES) -> Path:
    """`passages` as a predictions JSONL file (a passage without metadata gets a document id)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    passages = [{"metadata": {"document_id": f"doc.{p['id']}"}, **p} for p in passages]
    path.write_text("".join(json.dumps(p) + "\n" for p in passages), encoding="utf-8")
    return path
