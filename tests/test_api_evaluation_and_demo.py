"""HTTP routes of CONTRACT §5 over repo-owned data: evaluation (Q787's gold, plus the real Q787
where ../shared exists), feedback, and every view of the bundled demo data.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from predictions_core.analysis.evaluation import evaluate_concept
from predictions_core.data.location import app_settings
from predictions_core.data.store import get_store
from predictions_core.feedback.store import FeedbackStore
from predictions_core.query.engine import query_predictions
from predictions_core.query.filters import Filters
from tests.api_support import current_table, ids_of, make_client, region_of


@pytest.fixture
def api(use_data):
    """`api(data_dir)`: a TestClient of the mounted API reading `data_dir`."""

    def client_for(data_dir: Path):
        use_data(data_dir)
        return make_client()

    return client_for


def _first_classifier(data_dir: Path, qid: str) -> str:
    return sorted(path.name for path in (data_dir / qid).iterdir() if path.is_dir())[0]


def _record_feedback(data_dir: Path, qid: str, classifier_id: str, verdicts: list[str]) -> None:
    feedback = FeedbackStore(app_settings().resolved_feedback_db)
    lines = (data_dir / qid / classifier_id / "predictions.jsonl").read_text().splitlines()
    for line, verdict in zip(lines, verdicts, strict=False):
        feedback.record(qid, classifier_id, json.loads(line), verdict, reviewer="ann")


# --- evaluation -----------------------------------------------------------------------------


def test_evaluation_route_is_the_typed_result_as_json(q787_data, api):
    client = api(q787_data)
    body = client.get("/api/evaluation/Q787").json()
    expected = evaluate_concept(get_store(app_settings()), "Q787")
    assert body == json.loads(json.dumps(expected.to_json()))
    assert list(body) == [
        "wikibase_id",
        "preferred_label",
        "gold_source",
        "n_gold",
        "n_gold_positive",
        "n_gold_spans",
        "classifiers",
        "labeller_agreement",
        "small_slice",
        "notes",
        "threshold",
    ]
    assert body["gold_source"] == "concept" and body["n_gold"] == expected.n_gold
    for scores, typed in zip(body["classifiers"], expected.classifiers, strict=True):
        assert scores["id"] == typed.id and scores["passage"]["f1"] == typed.passage.f1
        assert scores["passage"]["ci"]["f1"] == list(typed.ci.f1)
        assert set(scores["breakdown"]) == {
            "translated",
            "world_bank_region",
            "document_metadata.corpus_type_name",
        }
        assert set(scores["span_jaccard"]) == {"0", "0.5", "0.9", "0.99"}
        assert scores["span_jaccard"]["0.5"] == typed.span_jaccard["0.5"].to_json()
        assert scores["n_covered"] == typed.n_covered
    ceiling = body["labeller_agreement"]["ceiling"]
    assert ceiling["passage"]["kappa"] == expected.labeller_agreement.ceiling.kappa


def test_evaluation_route_reads_reviewers_feedback_and_answers_errors(demo_copy, api):
    client = api(demo_copy)
    no_feedback = client.get("/api/evaluation/Q787?gold_source=feedback")
    assert no_feedback.status_code == 404 and "judgements" in no_feedback.json()["error"]
    classifier_id = _first_classifier(demo_copy, "Q787")
    _record_feedback(demo_copy, "Q787", classifier_id, ["correct", "incorrect", "unsure"] * 4)
    feedback = client.get("/api/evaluation/Q787?gold_source=feedback").json()
    assert feedback["gold_source"] == "feedback" and feedback["n_gold"] == 8  # unsure left out
    reviewers = FeedbackStore(app_settings().resolved_feedback_db)
    expected = evaluate_concept(
        get_store(app_settings()),
        "Q787",
        gold_source="feedback",
        feedback_passages=lambda: reviewers.labelled_passages("Q787"),
    )
    assert feedback == json.loads(json.dumps(expected.to_json()))
    assert client.get("/api/evaluation/Q787").json()["gold_source"] == "concept"  # auto
    bad_source = client.get("/api/evaluation/Q787?gold_source=bogus")
    assert bad_source.status_code == 400 and bad_source.json()["parameter"] == "gold_source"
    assert client.get("/api/evaluation/Q999").status_code == 404
    no_gold = client.get("/api/evaluation/Q218")  # no gold labels, no judgements
    assert no_gold.status_code == 404 and "Q218" in no_gold.json()["error"]


# --- feedback -------------------------------------------------------------------------------


def test_feedback_lists_the_recorded_judgements(demo_copy, api, tmp_path):
    client = api(demo_copy)
    classifier_id = _first_classifier(demo_copy, "Q218")
    url = f"/api/feedback/Q218/{classifier_id}"
    assert client.get(url).json()["judgements"] == []
    assert not (tmp_path / "feedback.sqlite").exists()  # a GET creates no database
    passage = client.get(f"/api/predictions/Q218/{classifier_id}?has_spans=true").json()
    passage = passage["predictions"][0]
    feedback = FeedbackStore(tmp_path / "feedback.sqlite")
    feedback.record("Q218", classifier_id, passage, "correct", note="fine", reviewer="ana")
    feedback.record("Q1829", "other", passage, "incorrect")  # another classifier: not listed
    (judgement,) = client.get(url).json()["judgements"]
    assert (judgement["passage_id"], judgement["verdict"]) == (passage["id"], "correct")
    assert judgement["reviewer"] == "ana" and judgement["note"] == "fine"
    jsonl = client.get(url + "?format=jsonl&download=true")
    assert jsonl.content == b"".join(feedback.export_jsonl("Q218", classifier_id))
    (line,) = jsonl.text.splitlines()
    assert json.loads(line)["id"] == passage["id"] and json.loads(line)["spans"]
    disposition = jsonl.headers["content-disposition"]
    assert f'filename="Q218-{classifier_id}-feedback.jsonl"' in disposition
    assert client.get("/api/feedback/Q218/nope").status_code == 404
    assert client.get(url + "?format=csv").json()["parameter"] == "format"


# --- the bundled demo data ------------------------------------------------------------------


def test_every_demo_view_matches_query_predictions(demo_copy, api):
    client = api(demo_copy)
    concepts = client.get("/api/concepts").json()
    assert len(concepts) >= 3
    for concept in concepts:
        for classifier in concept["classifiers"]:
            qid, classifier_id = concept["wikibase_id"], classifier["id"]
            answer = client.get(
                f"/api/predictions/{qid}/{classifier_id}?has_spans=1&sort=length_desc"
            )
            _, _, table = current_table(qid, classifier_id)
            expected = query_predictions(table, Filters(has_spans=True, sort="length_desc"))
            assert answer.json()["filtered_count"] == expected.filtered_count
            assert expected.filtered_count == classifier["n_predictions"]
            assert ids_of(answer) == expected.rows["id"].to_pylist()


def test_demo_region_filter_keeps_exactly_that_region(demo_copy, api):
    client = api(demo_copy)
    concept = client.get("/api/concepts").json()[0]
    url = f"/api/predictions/{concept['wikibase_id']}/{concept['classifiers'][0]['id']}"

    def every_row(**params) -> list[dict]:
        answer = client.get(url, params={**params, "format": "jsonl"})
        return [json.loads(line) for line in answer.text.splitlines()]

    everything = every_row()
    regions = Counter(region for p in everything if (region := region_of(p)))
    assert regions, "the demo data should carry world_bank_region"
    region = regions.most_common(1)[0][0]
    expected = [p["id"] for p in everything if region_of(p) == region]
    assert [p["id"] for p in every_row(region=region)] == expected
    assert 0 < len(expected) < len(everything)
