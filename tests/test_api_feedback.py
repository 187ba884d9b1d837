"""`POST /api/feedback/{qid}/{classifier_id}` (CONTRACT §5): one judgement in, 201 out.

Every refusal is `{"error": ...}` with its status (400, 404, 413, 503), never a 500, and
nothing is stored by a refused request. The demo data is the classifier's passages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from predictions_core.data.location import app_settings
from predictions_core.feedback.store import FeedbackStore

QID, CLASSIFIER = "Q218", "grld4c4r"
URL = f"/api/feedback/{QID}/{CLASSIFIER}"


@pytest.fixture
def api(demo_copy: Path, serve):
    """(client, the classifier's passages by id as the predictions route shows them)."""
    client = serve(demo_copy)
    answer = client.get(f"/api/predictions/{QID}/{CLASSIFIER}?format=jsonl")
    passages = {p["id"]: p for p in map(json.loads, answer.text.splitlines())}
    return client, passages


def stored() -> list[dict]:
    return FeedbackStore(app_settings().resolved_feedback_db).history(QID)


def assert_error(answer, status: int) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert isinstance(body["error"], str) and body["error"]
    return body["error"]


def test_a_judgement_is_stored_with_its_passage_and_answered_with_201(api):
    client, passages = api
    passage = next(p for p in passages.values() if p["spans"])
    body = {
        "passage_id": passage["id"],
        "judgement": "incorrect",
        "note": " too broad ",
        "reviewer": "ann",
    }
    answer = client.post(URL, json=body)
    assert answer.status_code == 201, answer.text
    record = answer.json()
    assert (record["concept_id"], record["classifier_id"]) == (QID, CLASSIFIER)
    assert (record["passage_id"], record["verdict"]) == (passage["id"], "incorrect")
    assert (record["note"], record["reviewer"]) == ("too broad", "ann")
    # the passage is kept as it was judged: its text, spans and metadata
    assert record["passage_text"] == passage["text"]
    assert [(s["start_index"], s["end_index"]) for s in record["predicted_spans"]] == [
        (s["start_index"], s["end_index"]) for s in passage["spans"]
    ]
    assert record["passage_metadata"] == passage["metadata"]
    listed = client.get(URL).json()["judgements"]
    assert [j["judgement_id"] for j in listed] == [record["judgement_id"]]


def test_the_latest_judgement_of_a_reviewer_wins_and_history_is_kept(api):
    client, passages = api
    passage_id = next(iter(passages))
    for judgement in ("correct", "unsure", "incorrect"):
        body = {"passage_id": passage_id, "judgement": judgement, "reviewer": "ann"}
        assert client.post(URL, json=body).status_code == 201
    anonymous = {"passage_id": passage_id, "judgement": "correct"}
    assert client.post(URL, json=anonymous).status_code == 201
    listed = client.get(URL).json()["judgements"]
    assert [(j["reviewer"], j["verdict"]) for j in listed] == [
        ("ann", "incorrect"),
        (None, "correct"),
    ]
    assert len(stored()) == 4


BAD_BODIES = {
    "not JSON": (b"judgement=correct", "body"),
    "a JSON list": (b'[{"passage_id": "x"}]', "body"),
    "empty": (b"", "body"),
    "no judgement": (b'{"passage_id": "P"}', "judgement"),
    "no passage id": (b'{"judgement": "correct"}', "passage_id"),
    "unknown judgement": (b'{"passage_id": "P", "judgement": "maybe"}', "judgement"),
    "judgement not text": (b'{"passage_id": "P", "judgement": 1}', "judgement"),
    "passage id a number": (b'{"passage_id": 7, "judgement": "correct"}', "passage_id"),
    "note a list": (b'{"passage_id": "P", "judgement": "correct", "note": ["a"]}', "note"),
    "note too long": (
        b'{"passage_id": "P", "judgement": "correct", "note": "' + b"n" * 2001 + b'"}',
        "note",
    ),
    "reviewer too long": (
        b'{"passage_id": "P", "judgement": "correct", "reviewer": "' + b"r" * 101 + b'"}',
        "reviewer",
    ),
    "unknown field": (b'{"passage_id": "P", "judgement": "correct", "verdict": "x"}', "verdict"),
    "blank passage id": (b'{"passage_id": "", "judgement": "correct"}', "passage_id"),
}


@pytest.mark.parametrize("case", BAD_BODIES, ids=list(BAD_BODIES))
def test_a_bad_body_is_a_400_naming_what_is_wrong(api, case):
    client, passages = api
    raw, parameter = BAD_BODIES[case]
    raw = raw.replace(b'"P"', json.dumps(next(iter(passages))).encode())
    answer = client.post(URL, content=raw, headers={"content-type": "application/json"})
    message = assert_error(answer, 400)
    assert answer.json()["parameter"] == parameter and parameter in message
    assert stored() == []


@pytest.mark.parametrize(
    ("url", "passage_id"),
    [
        ("/api/feedback/Q999999/grld4c4r", None),
        (f"/api/feedback/{QID}/no-such-classifier", None),
        ("/api/feedback/not-a-qid/grld4c4r", None),
        (URL, "no-such-passage"),
    ],
)
def test_unknown_concept_classifier_or_passage_is_a_404(api, url, passage_id):
    client, passages = api
    body = {"passage_id": passage_id or next(iter(passages)), "judgement": "correct"}
    status = 400 if "not-a-qid" in url else 404
    assert_error(client.post(url, json=body), status)
    assert stored() == []


def test_a_body_over_the_bound_is_a_413_declared_or_streamed(api):
    client, passages = api
    big = json.dumps(
        {"passage_id": next(iter(passages)), "judgement": "correct", "note": "x" * 70_000}
    ).encode()
    assert "65536" in assert_error(client.post(URL, content=big), 413)

    def chunks():  # no Content-Length: the bound is applied while reading
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    assert_error(client.post(URL, content=chunks()), 413)
    assert stored() == []


def test_an_unavailable_database_is_a_503_and_reading_routes_keep_answering(
    demo_copy, serve, tmp_path, monkeypatch
):
    client = serve(demo_copy)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the database's folder should be")
    monkeypatch.setenv("PREDICTIONS_FEEDBACK_DB", str(blocker / "feedback.sqlite"))
    from predictions_core.data.location import forget_settings

    forget_settings()
    passage_id = client.get(f"/api/predictions/{QID}/{CLASSIFIER}").json()["predictions"][0]["id"]
    answer = client.post(URL, json={"passage_id": passage_id, "judgement": "correct"})
    message = assert_error(answer, 503)
    assert str(tmp_path) not in message  # no server path in a message
    assert answer.headers.get("retry-after")
    assert client.get("/api/health").status_code == 200
    assert client.get(f"/api/predictions/{QID}/{CLASSIFIER}").status_code == 200


def test_a_passage_id_in_two_documents_needs_its_document_id(tmp_path, serve):
    folder = tmp_path / "data" / "Q5" / "kw"
    folder.mkdir(parents=True)
    lines = [
        {"id": "p1", "text": f"Text of {doc}.", "spans": [], "metadata": {"document_id": doc}}
        for doc in ("DOC.A", "DOC.B")
    ]
    (folder / "predictions.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    client = serve(tmp_path / "data")
    url = "/api/feedback/Q5/kw"
    message = assert_error(client.post(url, json={"passage_id": "p1", "judgement": "correct"}), 400)
    assert "document_id" in message
    body = {"passage_id": "p1", "judgement": "correct", "document_id": "DOC.B"}
    answer = client.post(url, json=body)
    assert answer.status_code == 201 and answer.json()["passage_text"] == "Text of DOC.B."
    body["document_id"] = "DOC.C"
    assert_error(client.post(url, json=body), 404)


def test_the_route_is_described_in_openapi_with_its_body(api):
    client, _ = api
    operation = client.get("/api/openapi.json").json()["paths"]["/feedback/{qid}/{classifier_id}"][
        "post"
    ]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert {"passage_id", "judgement"} <= set(schema["required"])
    assert set(operation["responses"]) >= {"201", "400", "404", "413", "503"}
