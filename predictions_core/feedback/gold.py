"""Reviewers' judgements as gold labels: what each verdict says about a passage's label.

A judgement is about the whole passage and implies its label:

- a hit (the prediction has spans) judged `correct`: positive, the predicted spans are gold;
- a hit judged `incorrect`: negative (the reviewer said the hit is wrong);
- a passage without predicted spans judged `correct`: negative (rightly not a hit);
- a passage without predicted spans judged `incorrect`: positive (a missed hit); its exact
  extent is unknown, so the gold span covers the whole passage (`"whole_passage": true`);
- `unsure`: no label (kept in the listing, left out of gold).

Several reviewers of the same passage are combined like the labellers of CONTRACT §2: the
passage is positive when any reviewer's judgement makes it positive.

Limitation: `incorrect` on a passage with several predicted spans makes the whole passage
negative, even if some spans were right; per-span judgements are out of scope.
"""

from __future__ import annotations

from typing import Any

from predictions_core.data.models import LabelledPassage

ANONYMOUS = "anonymous"


def reviewer_label(reviewer: str | None) -> str:
    """How a reviewer appears among a gold span's labellers: `reviewer:<name or anonymous>`."""
    return f"reviewer:{reviewer or ANONYMOUS}"


def gold_passages(qid: str, judgements: list[dict[str, Any]]) -> list[LabelledPassage]:
    """Effective judgements (oldest first, as the store lists them) as gold LabelledPassages.

    One passage per (classifier, passage id); passages judged only `unsure` are left out.
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for judgement in judgements:
        key = (judgement["classifier_id"], judgement["passage_id"])
        groups.setdefault(key, []).append(judgement)
    passages = (_as_labelled_passage(qid, group) for group in groups.values())
    return [passage for passage in passages if passage is not None]


def _implied_spans(qid: str, judgement: dict[str, Any]) -> list[tuple[int, int, dict]]:
    """The gold spans one judgement implies: `(start, end, extra span keys)`."""
    text_length = len(judgement["passage_text"])
    predicted = [
        (span["start_index"], span["end_index"])
        for span in judgement["predicted_spans"]
        if isinstance(span.get("start_index"), int)
        and isinstance(span.get("end_index"), int)
        and span.get("concept_id") in (None, qid)
        and 0 <= span["start_index"] < span["end_index"] <= text_length
    ]
    if judgement["verdict"] == "correct":
        return [(start, end, {}) for start, end in predicted]
    if judgement["verdict"] == "incorrect" and not predicted and text_length:
        return [(0, text_length, {"whole_passage": True})]
    return []


def _as_labelled_passage(qid: str, judgements: list[dict[str, Any]]) -> LabelledPassage | None:
    """One passage's effective judgements (one per reviewer) as a gold LabelledPassage."""
    decided = [j for j in judgements if j["verdict"] != "unsure"]
    if not decided:
        return None
    latest = decided[-1]
    spans: dict[tuple[int, int], dict[str, Any]] = {}
    for judgement in decided:
        for start, end, extra in _implied_spans(qid, judgement):
            span = spans.setdefault(
                (start, end),
                {"start_index": start, "end_index": end, "concept_id": qid, **extra},
            )
            span.setdefault("labellers", []).append(reviewer_label(judgement["reviewer"]))
            span.setdefault("timestamps", []).append(judgement["created_at"])
    feedback = {
        "verdict": latest["verdict"],
        "note": latest["note"],
        "classifier_id": latest["classifier_id"],
        "created_at": latest["created_at"],
        "reviewers": {reviewer_label(j["reviewer"]): j["verdict"] for j in decided},
    }
    return LabelledPassage.model_validate(
        {
            "id": latest["passage_id"],
            "text": latest["passage_text"],
            "spans": sorted(spans.values(), key=lambda s: (s["start_index"], s["end_index"])),
            "metadata": {**latest["passage_metadata"], "feedback": feedback},
        }
    )
