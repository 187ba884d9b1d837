"""Shared fixtures: where the real public fixtures are, and settings pointing at a data dir."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from predictions_core.data.location import DEMO_DATA_DIR, forget_settings
from predictions_core.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
REAL_FIXTURES = REPO_ROOT.parent / "shared" / "fixtures" / "real"


@pytest.fixture(autouse=True)
def settings_read_afresh():
    """Each test's process settings come from the environment that test sets up.

    A real process reads its settings once; tests change the environment between tests.
    """
    forget_settings()
    yield
    forget_settings()


@pytest.fixture(scope="session")
def real_fixtures() -> Path:
    """`../shared/fixtures/real`, or a skip where it is absent (a user's clone)."""
    if not REAL_FIXTURES.is_dir():
        pytest.skip(f"real fixtures not found at {REAL_FIXTURES} (they live beside the repo in CI)")
    return REAL_FIXTURES


@pytest.fixture
def settings_for(tmp_path: Path):
    """Build `Settings` for a data dir, with the cache and feedback DB under tmp_path."""

    def make(data_dir: Path) -> Settings:
        return Settings(
            data_dir=data_dir,
            cache_dir=tmp_path / "cache",
            feedback_db=tmp_path / "feedback.sqlite",
            skip_s3_sync=True,
        )

    return make


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled demo data (tests must never write into data/demo)."""
    if not DEMO_DATA_DIR.is_dir():
        pytest.skip("data/demo has not been generated yet (`uv run predictions demo`)")
    target = tmp_path / "demo"
    shutil.copytree(DEMO_DATA_DIR, target, ignore=shutil.ignore_patterns(".cache", "*.sqlite*"))
    return target


@pytest.fixture
def both_layouts(tmp_path: Path, real_fixtures: Path) -> Path:
    """One data dir holding the real fixtures in both layouts side by side (CONTRACT §2)."""
    target = tmp_path / "both"
    shutil.copytree(real_fixtures / "seed_layout", target)
    for concept in (real_fixtures / "vibe_layout").iterdir():
        shutil.copytree(concept, target / concept.name)
    return target


@pytest.fixture
def all_layouts(tmp_path: Path, real_fixtures: Path) -> Path:
    """One data dir holding the real fixtures in all four layouts side by side (CONTRACT §2).

    - older: `predictions/Q218/6z4pufsm.jsonl`, `predictions/Q223/36bhx4mu.jsonl`
    - per-classifier: `Q218/6z4pufsm/`, `Q223/36bhx4mu/` (vibe_layout)
    - per-document: `Q218/6z4pufsm-documents/` (JSON arrays of JSON strings); Q223's document
      files (JSONL in `.json`) are copied into `Q223/36bhx4mu/` beside its `predictions.jsonl`,
      which by the contract's rule keeps that folder per-classifier
    - today's vibe-checker schema: `Q218/6z4pufsm-current/` (scores, top-level HTML)
    """
    target = tmp_path / "all"
    copies = {
        "seed_layout": "",
        "vibe_layout/Q218": "Q218",
        "vibe_layout/Q223": "Q223",
        "inference_layout/Q218/6z4pufsm": "Q218/6z4pufsm-documents",
        "inference_layout/Q223/36bhx4mu": "Q223/36bhx4mu",
        "vibe_current/Q218/6z4pufsm": "Q218/6z4pufsm-current",
    }
    for source, destination in copies.items():
        # plain copies: ../shared is read-only, and tests add files to these folders
        shutil.copytree(
            real_fixtures / source,
            target / destination,
            copy_function=shutil.copyfile,
            dirs_exist_ok=True,
        )
        for folder in [target, *(p for p in target.rglob("*") if p.is_dir())]:
            folder.chmod(0o755)
    return target


@pytest.fixture
def fresh_streamlit_caches():
    """`st.cache_*` are process-wide: a page test starts (and leaves) them empty."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def use_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Point the app at a data dir, with caches and feedback under tmp_path, no S3."""

    def point(data_dir: Path) -> Path:
        monkeypatch.setenv("PREDICTIONS_DATA_DIR", str(data_dir))
        monkeypatch.setenv("PREDICTIONS_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.setenv("PREDICTIONS_FEEDBACK_DB", str(tmp_path / "feedback.sqlite"))
        monkeypatch.setenv("SKIP_S3_SYNC", "true")
        monkeypatch.delenv("PREDICTIONS_S3_BUCKET", raising=False)
        return data_dir

    return point


@pytest.fixture(scope="session")
def demo_table() -> tuple[list[dict], object]:
    """One bundled demo predictions file (Q787, rich metadata): its lines and its loaded table.

    Read in place (loading writes nothing without a cache dir), so data/demo is never touched.
    """
    import json

    from predictions_core.data.loading import load_predictions_file

    if not DEMO_DATA_DIR.is_dir():
        pytest.skip("data/demo has not been generated yet (`uv run predictions demo`)")
    path = sorted(DEMO_DATA_DIR.glob("Q787/*/predictions.jsonl"))[0]
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return lines, load_predictions_file(path).table


@pytest.fixture(params=["demo", "real"])
def q787_data(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A data dir holding only concept Q787: gold labels by several labellers, and classifiers'
    predictions covering every gold passage.

    `demo`: the bundled demo data's Q787 (always there). `real`: the real Q787 gold of
    ../shared with every classifier kind run over its passages (skips where ../shared is absent).
    """
    target = tmp_path / "q787"
    if request.param == "demo":
        if not (DEMO_DATA_DIR / "Q787").is_dir():
            pytest.skip("data/demo has not been generated yet (`uv run predictions demo`)")
        shutil.copytree(DEMO_DATA_DIR / "Q787", target / "Q787")
        return target
    from predictions_core.data.models import Concept
    from predictions_core.predict.passages import Passage
    from predictions_core.predict.runner import predict_concept

    source = request.getfixturevalue("real_fixtures") / "concepts_with_gold" / "Q787.json"
    concept_path = target / "Q787" / "concept.json"
    concept_path.parent.mkdir(parents=True)
    shutil.copyfile(source, concept_path)
    concept = Concept.model_validate_json(source.read_text(encoding="utf-8"))
    passages = [Passage(p.id, p.text, p.metadata) for p in concept.labelled_passages]
    predict_concept(concept, passages, None, target, concept_source=concept_path)
    return target


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """`serve(data_dir, **client_options)`: a TestClient of the API mounted at `/api` (as
    `app.py` mounts it) reading `data_dir`, run from tmp_path so no `.env` of the checkout counts.
    """
    from tests.api_support import make_client, set_api_environment

    def use(data_dir: Path, **options):
        set_api_environment(monkeypatch, data_dir, tmp_path)
        return make_client(**options)

    return use


@pytest.fixture
def rich(tmp_path: Path, serve):
    """(client, raw passages in file order): the demo's Q787 gold passages as the predictions
    of classifier `gold.v1` (region, corpus, translation and dates to filter on).
    """
    from tests.api_support import write_rich_data_dir

    passages = write_rich_data_dir(tmp_path / "rich", DEMO_DATA_DIR / "Q787" / "concept.json")
    return serve(tmp_path / "rich"), passages


@pytest.fixture
def rich_real(tmp_path: Path, serve, real_fixtures: Path):
    """As `rich`, over the real Q787 gold passages of ../shared (epoch-millisecond dates, the
    1900 placeholder date, blank regions); skips where ../shared is absent.
    """
    from tests.api_support import write_rich_data_dir

    concept_file = real_fixtures / "concepts_with_gold" / "Q787.json"
    passages = write_rich_data_dir(tmp_path / "rich-real", concept_file)
    return serve(tmp_path / "rich-real"), passages


@pytest.fixture(scope="module")
def plain_stack():
    """The Pulumi program synthesised under mocks with a minimal config (HTTP, one CIDR)."""
    from predictions_infra.mocks import synthesize

    from tests.infra_support import plain_config

    return synthesize(plain_config())


@pytest.fixture(scope="module")
def secure_stack():
    """The Pulumi program under mocks with everything on: HTTPS, OIDC sign-in, a publisher."""
    from predictions_infra.mocks import synthesize

    from tests.infra_support import secure_config

    return synthesize(secure_config())


@pytest.fixture(scope="module")
def moto_server():
    """One `python -m moto.server` process per test module (see tests/s3_server.py)."""
    from tests.s3_server import MotoServer

    server = MotoServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3(moto_server, monkeypatch: pytest.MonkeyPatch):
    """An empty bucket on the module's moto server, with boto3's environment pointing there."""
    from tests.s3_server import new_bucket

    return new_bucket(moto_server, monkeypatch)


@pytest.fixture
def breaking_proxy(moto_server):
    """A `BreakingProxy` in front of the module's moto server (cuts chosen downloads)."""
    from tests.s3_server import BreakingProxy

    proxy = BreakingProxy(moto_server)
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def small_demo_tree(tmp_path: Path) -> Path:
    """Two demo classifiers in the per-classifier layout (Q218/6o77pbch, Q787/vzyanawi): six
    files, each folder with its predictions, classifier.json and concept.json.
    """
    target = tmp_path / "small-demo"
    for relative in ("Q218/6o77pbch", "Q787/vzyanawi"):
        shutil.copytree(DEMO_DATA_DIR / relative, target / relative)
    return target


@pytest.fixture
def run_just():
    """`run(justfile, *args)`: the `just` binary on a justfile from the repo root, output kept.

    `just` comes with the dev dependencies (rust-just); a machine without it skips.
    """
    if shutil.which("just") is None:
        pytest.skip("the just binary is not installed")

    def run(justfile: Path, *args: str) -> subprocess.CompletedProcess:
        command = ["just", "--justfile", str(justfile), "--working-directory", str(REPO_ROOT)]
        return subprocess.run([*command, *args], capture_output=True, text=True, timeout=30)

    return run


@pytest.fixture(scope="session")
def postgres_server():
    """One throwaway PostgreSQL server for the session (tests/postgres_server.py): Debian's
    `postgresql` package run on 127.0.0.1 and a free port (as the `postgres` user when root),
    stopped and deleted at the end. Skips where PostgreSQL is not installed (`.ci/run` installs
    it). Tests that stop the server themselves start their own `PostgresServer()` instead.
    """
    from tests.postgres_server import PostgresServer, postgres_binaries

    if postgres_binaries() is None:
        pytest.skip("PostgreSQL is not installed (initdb/pg_ctl; `apt-get install postgresql`)")
    server = PostgresServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the session's PostgreSQL server, as a `postgresql://` URL
    (with a URL-encoded password); dropped after the test.
    """
    from predictions_core.feedback.engines import dispose_engines

    url = postgres_server.new_database()
    yield url
    dispose_engines()
    postgres_server.drop_database(url)


@pytest.fixture
def quiet_background_sync(monkeypatch: pytest.MonkeyPatch):
    """The process's background sync, its timer never started and its last report reset."""
    from predictions_core.sync.background import get_background_sync

    sync = get_background_sync()
    monkeypatch.setattr(sync, "start", lambda settings: False)
    monkeypatch.setattr(sync, "last_report", None)
    return sync
