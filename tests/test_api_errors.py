"""HTTP routes of CONTRACT §5, in process: every error answers in the one shape.

`{"error": "..."}` (plus `"parameter"` for a bad parameter) with the right status, for bad
parameters, FastAPI's own validation, unknown routes and methods, and bugs (a 500 without
internals); and the OpenAPI document lists every route and parameter. Data: the demo data.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import FastAPI

from predictions_core.api import routes as api_module
from predictions_core.api.responses import install_error_handlers
from predictions_core.query.filters import Filters
from tests.api_support import client_of

DEMO_URL = "/api/predictions/Q218/grld4c4r"


# --- errors ---------------------------------------------------------------------------------


BAD_PARAMETERS = [
    ("page=0", "page"),
    ("page_size=5000", "page_size"),
    ("page_size=abc", "page_size"),
    ("year_min=abc", "year_min"),
    ("year_max=99999", "year_max"),
    ("year_min=2020&year_max=2010", "year_min"),
    ("search=%2F(%2F", "search"),
    ("search=%2F%5B%2Fi", "search"),
    ("translated=maybe", "translated"),
    ("has_spans=2", "has_spans"),
    ("sort=bogus", "sort"),
    ("seed=-1", "seed"),
    ("format=xml", "format"),
    ("download=maybe", "download"),
]


@pytest.mark.parametrize(("query", "parameter"), BAD_PARAMETERS, ids=[q for q, _ in BAD_PARAMETERS])
def test_a_bad_parameter_is_a_400_naming_it(demo_copy, serve, query, parameter):
    answer = serve(demo_copy).get(f"{DEMO_URL}?{query}")
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["error"].startswith(f"{parameter}:") and body["parameter"] == parameter


def test_a_request_validation_error_names_the_parameter_in_the_error_shape():
    api = FastAPI()
    install_error_handlers(api)

    def typed(page: int) -> dict:
        return {"page": page}

    api.get("/typed")(typed)

    answer = client_of(api).get("/typed?page=abc")
    assert answer.status_code == 400
    body = answer.json()
    assert body["parameter"] == "page"
    assert body["error"].startswith("page: Input should be a valid integer")
    assert body["error"].endswith("(got 'abc')")


def test_concurrent_regex_searches_are_all_answered(demo_copy, serve):
    # distinct patterns: each one is validated afresh (the check is cached per pattern)
    client = serve(demo_copy)
    patterns = [f"/(green|GHG){{1,{n}}}x?/i" for n in range(1, 121)]

    def status(pattern: str) -> int:
        return client.get(DEMO_URL, params={"search": pattern, "page_size": 1}).status_code

    with ThreadPoolExecutor(max_workers=8) as executor:
        statuses = list(executor.map(status, patterns))
    assert statuses == [200] * len(patterns)


def test_unknown_route_and_wrong_method_answer_in_the_same_error_shape(demo_copy, serve):
    client = serve(demo_copy)
    missing = client.get("/api/no/such/route")
    assert missing.status_code == 404 and "/api/no/such/route" in missing.json()["error"]
    assert client.get("/api/health/", follow_redirects=False).status_code == 404
    wrong = client.post("/api/health")
    assert wrong.status_code == 405 and "POST" in wrong.json()["error"]
    assert wrong.headers["allow"] == "GET"


def test_an_unexpected_failure_is_a_500_without_internals(demo_copy, serve, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(api_module, "query_predictions", broken)
    answer = serve(demo_copy, raise_server_exceptions=False).get(DEMO_URL)
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error"}


def test_openapi_documents_every_route_and_filter_parameter(demo_copy, serve):
    client = serve(demo_copy)
    document = client.get("/api/openapi.json").json()
    assert set(document["paths"]) == {
        "/health",
        "/concepts",
        "/concepts/{qid}",
        "/predictions/{qid}/{classifier_id}",
        "/evaluation/{qid}",
        "/feedback/{qid}/{classifier_id}",
    }
    assert document["servers"] == [{"url": "/api"}]  # so "try it out" calls /api/...
    operation = document["paths"]["/predictions/{qid}/{classifier_id}"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert names == {"qid", "classifier_id", "format", "download", *Filters.model_fields}
    evaluation = document["paths"]["/evaluation/{qid}"]["get"]
    assert {p["name"] for p in evaluation["parameters"]} == {"qid", "gold_source", "threshold"}
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "'/api/openapi.json'" in docs.text
