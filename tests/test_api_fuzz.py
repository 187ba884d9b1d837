"""Property-based tests of the HTTP routes: no input gives a 500, every error is `{"error"}`.

Hypothesis generates query strings (the §5 names plus junk keys; unicode, empty, huge and
regex-metacharacter values) and ids (any text), and sends them to the mounted API over the
bundled demo data (both layouts) plus the demo's Q787 gold passages as predictions. A second
property checks that any valid combination of filters gives exactly the rows of
`query_predictions` for the same `Filters`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predictions_core.data.location import DEMO_DATA_DIR, app_settings
from predictions_core.data.store import get_store
from predictions_core.query.engine import query_predictions
from predictions_core.query.filters import Filters
from tests.api_support import (
    RICH_CLASSIFIER,
    RICH_QID,
    api_environment,
    make_client,
    write_rich_data_dir,
)

PARAMETER_NAMES = [
    *Filters.model_fields,
    "format",
    "download",
    "gold_source",
    "concept",
    "classifier",
]
NASTY_VALUES = [
    "",
    " ",
    "true",
    "false",
    "maybe",
    "0",
    "-1",
    "1e9",
    "NaN",
    "99999999999999999999999999",
    "/(/",
    "/[/i",
    "/a{1000}{1000}/",
    "/(a+)+$/",
    "/.*/i",
    r"/\p{L}+/",
    "/",
    "//",
    "/i",
    "%",
    "_",
    "..",
    "../../etc/passwd",
    "\x00",
    "ＱＲ２１８",
    "١٢",
    "csv",
    "jsonl",
    "json",
    "random",
    "Europe & Central Asia",
]
ROUTE_IDS = ["Q218", "Q223", "Q787", "Q999", "grld4c4r", "lfy5fpmh", RICH_CLASSIFIER, "..", ""]
ERROR_STATUSES = {400, 404}
OK_MEDIA_TYPES = {"application/json", "application/x-ndjson", "text/csv; charset=utf-8"}

# any text a URL can carry (lone surrogates cannot be encoded as UTF-8)
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
values = st.one_of(
    st.sampled_from(NASTY_VALUES),
    any_text,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
keys = st.one_of(st.sampled_from(PARAMETER_NAMES), any_text)
query_params = st.lists(st.tuples(keys, values), max_size=8)
ids = st.one_of(st.sampled_from(ROUTE_IDS), any_text)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """One client for the module over the demo data plus Q787's gold as predictions."""
    root = tmp_path_factory.mktemp("fuzz")
    data_dir = root / "data"
    shutil.copytree(DEMO_DATA_DIR, data_dir, ignore=shutil.ignore_patterns(".cache", "*.sqlite*"))
    write_rich_data_dir(data_dir, DEMO_DATA_DIR / RICH_QID / "concept.json")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.delenv("PREDICTIONS_S3_BUCKET", raising=False)
        for name, value in api_environment(data_dir, root).items():
            patch.setenv(name, value)
        # raise_server_exceptions: a bug surfaces as the exception itself, with its example
        yield make_client(raise_server_exceptions=True)


def segment(value: str) -> str:
    """One path segment, every reserved character and every dot percent-encoded.

    httpx removes `.` and `..` segments before sending; `%2E` reaches the server as written.
    """
    return quote(value, safe="").replace(".", "%2E")


def assert_well_formed(answer) -> None:
    """200 with a known media type, or 400/404 with a JSON `{"error": "..."}`."""
    if answer.status_code == 200:
        assert answer.headers["content-type"] in OK_MEDIA_TYPES
        if answer.headers["content-type"] == "application/json":
            json.loads(answer.content)
        return
    assert answer.status_code in ERROR_STATUSES, (answer.status_code, answer.text)
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert isinstance(error, str) and error


fuzz_settings = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@fuzz_settings
@given(qid=ids, classifier_id=ids, params=query_params)
def test_predictions_never_fail_on_any_query(client, qid, classifier_id, params):
    url = f"/api/predictions/{segment(qid)}/{segment(classifier_id)}"
    assert_well_formed(client.get(url, params=params))


@fuzz_settings
@given(
    route=st.sampled_from(["concepts", "evaluation", "feedback"]),
    qid=ids,
    classifier_id=ids,
    params=query_params,
)
def test_other_routes_never_fail_on_any_input(client, route, qid, classifier_id, params):
    url = f"/api/{route}/{segment(qid)}"
    if route == "feedback":
        url += f"/{segment(classifier_id)}"
    assert_well_formed(client.get(url, params=params))


valid_filters = st.fixed_dictionaries(
    {},
    optional={
        "search": st.sampled_from(["forest", "FOREST", "/fores?t/i", "/Forest\\w+/", "wood"]),
        "region": st.lists(
            st.sampled_from(["Europe & Central Asia", "Sub-Saharan Africa", "South Asia"]),
            max_size=2,
        ),
        "translated": st.sampled_from(["true", "false"]),
        "year_min": st.integers(1990, 2025).map(str),
        "document_id": st.sampled_from(["unfccc", "CCLW", "party.1"]),
        "has_spans": st.sampled_from(["true", "false"]),
        "sort": st.sampled_from(["default", "length_asc", "length_desc", "random", "document"]),
        "seed": st.integers(0, 2**31 - 1).map(str),
        "page": st.integers(1, 4).map(str),
        "page_size": st.integers(1, 60).map(str),
    },
)


@settings(max_examples=100, deadline=None)
@given(params=valid_filters)
def test_any_valid_filters_give_the_rows_of_query_predictions(client, params):
    answer = client.get(f"/api/predictions/{RICH_QID}/{RICH_CLASSIFIER}", params=params)
    assert answer.status_code == 200, answer.text
    filters = Filters.from_query_params(params)
    table = get_store(app_settings()).predictions(RICH_QID, RICH_CLASSIFIER).table
    expected = query_predictions(table, filters)
    body = answer.json()
    assert body["filtered_count"] == expected.filtered_count
    assert [p["id"] for p in body["predictions"]] == expected.rows["id"].to_pylist()
