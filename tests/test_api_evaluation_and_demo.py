"""HTTP routes of CONTRACT §5 over other engineers' modules and data: evaluation, feedback,
and every view of the bundled demo data (these skip, with the reason, until those exist).
"""

# ruff: noqa: F811 (the fixtures `serve` and `rich` are imported from tests.api_support)

from __future__ import annotations

import json
from collections import Counter

from predictions_core.data.location import app_settings
from predictions_core.data.store import get_store
from predictions_core.query.engine import query_predictions
from predictions_core.query.filters import Filters
from tests.api_support import (  # noqa: F401 (serve, rich: fixtures)
    RICH_CLASSIFIER,
    RICH_QID,
    current_table,
    ids_of,
    region_of,
    rich,
    serve,
)

# --- evaluation and feedback (modules written by another engineer) ----------------------------


def test_evaluation_returns_evaluate_concept_and_404_without_gold(rich, both_layouts, serve):
    from predictions_core.analysis.evaluation import evaluate_concept

    client, _ = rich
    body = client.get(f"/api/evaluation/{RICH_QID}").json()
    expected = evaluate_concept(get_store(app_settings()), RICH_QID)
    assert body == json.loads(json.dumps(expected, default=str))
    assert body["wikibase_id"] == RICH_QID and body["n_gold"] == 130
    (scores,) = body["classifiers"]
    # the classifier here is the gold labels themselves: a perfect score
    assert scores["id"] == RICH_CLASSIFIER and scores["passage"]["recall"] == 1.0
    assert set(scores["passage"]) >= {"tp", "fp", "fn", "precision", "recall", "f1"}
    no_feedback = client.get(f"/api/evaluation/{RICH_QID}?gold_source=feedback")
    assert no_feedback.status_code == 404 and no_feedback.json()["error"]
    bad_source = client.get(f"/api/evaluation/{RICH_QID}?gold_source=bogus")
    assert bad_source.status_code == 400 and bad_source.json()["parameter"] == "gold_source"
    assert client.get("/api/evaluation/Q999").status_code == 404
    no_gold = serve(both_layouts).get("/api/evaluation/Q218")
    assert no_gold.status_code == 404 and "Q218" in no_gold.json()["error"]


def test_feedback_lists_the_recorded_judgements(both_layouts, serve, tmp_path):
    from predictions_core.feedback.store import FeedbackStore

    client = serve(both_layouts)
    url = "/api/feedback/Q218/6z4pufsm"
    assert client.get(url).json()["judgements"] == []
    assert not (tmp_path / "feedback.sqlite").exists()  # a GET creates no database
    passage = client.get("/api/predictions/Q218/6z4pufsm?has_spans=true").json()["predictions"][0]
    feedback = FeedbackStore(tmp_path / "feedback.sqlite")
    feedback.record("Q218", "6z4pufsm", passage, "correct", note="fine", reviewer="ana")
    feedback.record("Q223", "36bhx4mu", passage, "incorrect")  # another classifier: not listed
    (judgement,) = client.get(url).json()["judgements"]
    assert (judgement["passage_id"], judgement["verdict"]) == (passage["id"], "correct")
    assert judgement["reviewer"] == "ana" and judgement["note"] == "fine"
    jsonl = client.get(url + "?format=jsonl&download=true")
    assert jsonl.content == b"".join(feedback.export_jsonl("Q218", "6z4pufsm"))
    (line,) = jsonl.text.splitlines()
    assert json.loads(line)["id"] == passage["id"] and json.loads(line)["spans"]
    assert 'filename="Q218-6z4pufsm-feedback.jsonl"' in jsonl.headers["content-disposition"]
    assert client.get("/api/feedback/Q218/nope").status_code == 404
    assert client.get(url + "?format=csv").json()["parameter"] == "format"


# --- the bundled demo data ----------------------------------------------------------------------


def test_every_demo_view_matches_query_predictions(demo_copy, serve):
    client = serve(demo_copy)
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


def test_demo_region_filter_keeps_exactly_that_region(demo_copy, serve):
    client = serve(demo_copy)
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
