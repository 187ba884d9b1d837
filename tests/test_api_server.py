"""The routes on a real server (`uvicorn app:app` on 127.0.0.1): nothing outside the data dir.

URL decoding and path normalisation happen in the server, so these requests go out raw
through `http.client` (which sends the path exactly as written) to two servers:

- the product, `uvicorn app:app`: Streamlit's routes and middleware around the API;
- the API alone under `/api` (no Streamlit middleware), to check the API's own id
  validation without the path-security middleware in front of it.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from predictions_core.data.location import DEMO_DATA_DIR
from tests.api_support import api_environment, start_uvicorn, stop_process

SECRET = "TOP-SECRET-CONTENT-never-served"
TRAVERSAL_PATHS = [
    "/api/predictions/..%2F..%2Fetc/passwd",
    "/api/predictions/Q218/%2e%2e",
    "/api/predictions/Q218/..",
    "/api/concepts/..",
    "/api/concepts/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/api/predictions/Q218/..%2F..%2F..%2Fsecret.txt",
    "/api/predictions/Q218/grld4c4r%2F..%2F..%2F..%2Fsecret.txt",
    "/api/predictions/%2Fetc%2Fpasswd/x",
    "/api/predictions/Q218/%2Fetc%2Fpasswd",
    "/api/predictions/Q218/grld4c4r%00",
    "/api/predictions/Q218/%00..%2F",
    "/api/concepts/Q218%00",
    "/api/../../etc/passwd",
    "/api/predictions/Q218/grld4c4r/../../../../etc/passwd",
    "/api/concepts/Q218/../../secret.txt",
    "/api//etc/passwd",
    "/api/predictions/Q218/C:%5CWindows%5Cwin.ini",
    "/api/predictions/Q218/%5C%5Cserver%5Cshare",
    "/api/feedback/Q218/..%2F..%2Fsecret.txt",
    "/api/evaluation/%2e%2e%2Fsecret.txt",
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo data (both layouts), with a secret file beside (outside) it."""
    root = tmp_path_factory.mktemp("served")
    target = root / "data"
    shutil.copytree(DEMO_DATA_DIR, target, ignore=shutil.ignore_patterns(".cache", "*.sqlite*"))
    (root / "secret.txt").write_text(SECRET)
    (target / "Q218" / "secret.txt").write_text(SECRET)
    return target


def _serve(target: str, data_dir: Path, *options: str) -> Iterator[str]:
    process, base_url, log_path = start_uvicorn(
        target, api_environment(data_dir, data_dir.parent), *options
    )
    try:
        yield base_url
    finally:
        stop_process(process)
        log_path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def product(data_dir: Path) -> Iterator[str]:
    """`uvicorn app:app`, exactly as production starts it."""
    yield from _serve("app:app", data_dir)


@pytest.fixture(scope="module")
def api_alone(data_dir: Path) -> Iterator[str]:
    """The API mounted at `/api` with nothing in front of it."""
    yield from _serve("tests.api_support:mounted_api", data_dir, "--factory")


def raw_get(base_url: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """GET `path` byte for byte as written (no normalisation, no re-encoding)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("path", TRAVERSAL_PATHS)
def test_the_api_alone_refuses_every_traversal_in_its_error_shape(api_alone, path):
    status, headers, body = raw_get(api_alone, path)
    assert status in (400, 404), body
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]
    assert SECRET.encode() not in body and b"root:" not in body


@pytest.mark.parametrize("path", TRAVERSAL_PATHS)
def test_the_product_server_refuses_every_traversal(product, path):
    status, _, body = raw_get(product, path)
    assert status in (400, 404), body
    assert SECRET.encode() not in body and b"root:" not in body


def test_the_product_server_answers_refused_paths_in_the_error_shape(product):
    # Streamlit's path check answers in plain text unless app.py passes
    # middleware=[Middleware(ApiErrorShapeMiddleware)] to st.App
    status, headers, body = raw_get(product, "/api/predictions/Q218/..")
    assert headers["content-type"] == "application/json"
    assert status == 400 and "/api/predictions/Q218/.." in json.loads(body)["error"]


def test_docs_and_openapi_work_under_the_mount(product):
    status, headers, body = raw_get(product, "/api/openapi.json")
    assert status == 200 and headers["content-type"] == "application/json"
    document = json.loads(body)
    assert document["servers"] == [{"url": "/api"}]
    assert "/predictions/{qid}/{classifier_id}" in document["paths"]
    status, headers, body = raw_get(product, "/api/docs")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"'/api/openapi.json'" in body


def test_the_dashboard_and_the_api_share_the_port(product):
    assert raw_get(product, "/_stcore/health")[2] == b"ok"
    status, _, page = raw_get(product, "/")
    assert status == 200 and b"<html" in page.lower()
    status, _, body = raw_get(product, "/api/health")
    assert status == 200 and json.loads(body)["concepts"] == 4


def test_a_csv_download_streams_through_the_real_server(product):
    query = "search=%2Fgreenhouse%2Fi&sort=length_desc"
    path = f"/api/predictions/Q218/grld4c4r?{query}"
    counts = json.loads(raw_get(product, path)[2])
    status, headers, body = raw_get(product, f"{path}&format=csv&download=true")
    assert status == 200 and headers.get("transfer-encoding") == "chunked"
    assert headers["content-disposition"] == 'attachment; filename="Q218-grld4c4r-predictions.csv"'
    header, *rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    assert header[:5] == ["id", "text", "labelled_text", "spans", "n_spans"]
    assert len(rows) == counts["filtered_count"] > 0
