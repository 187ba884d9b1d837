"""The Browse page when the PostgreSQL feedback database is unavailable (issue 13).

"PostgreSQL unavailable at start-up or going away later gives a clear message on the page [...]
and the rest of the dashboard keeps working." The write route's side is in
test_api_feedback.py; here AppTest opens `app.py` on Browse (a copy of the demo data) with
`PREDICTIONS_FEEDBACK_DB` pointing at:

- a PostgreSQL URL where nothing listens (always runs): the cards, filters and pager are shown,
  no exception, one clear message says judgements are unavailable (no password, no server
  path), and a click on a card's verdict says it was not saved;
- a real PostgreSQL server that stops and starts again (skips without PostgreSQL's binaries):
  judging works, then the page shows the message, then judging works again.

Each run must stay fast: the store gives up connecting after `CONNECT_TIMEOUT_S`.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from predictions_core.data.location import forget_settings
from predictions_core.feedback.engines import CONNECT_TIMEOUT_S, dispose_engines
from predictions_core.feedback.store import FeedbackStore
from predictions_core.query.engine import query_predictions
from predictions_core.query.filters import Filters
from predictions_core.ui.feedback import feedback_key
from tests.local_ports import free_port
from tests.page_support import (
    APP,
    cards,
    first_classifier,
    open_page,
    shown_counts,
    shown_range,
    table_of,
)

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches", "forgotten_engines")
BROWSE = "pages/browse.py"
QID = "Q218"
PAGE_SIZE = "10"  # few cards: each run draws (and each test clicks) less
SECRET = "secretpw"
# how long one page run may take when the database is unreachable: the store's connect
# timeout plus the page's own work (AppTest in a loaded CI machine)
RUN_BUDGET_S = CONNECT_TIMEOUT_S + 10


@pytest.fixture
def forgotten_engines():
    """Pooled engines are per process: each test starts and ends without any."""
    dispose_engines()
    yield
    dispose_engines()


@pytest.fixture
def browse(use_data, demo_copy: Path) -> tuple[Path, dict[str, str]]:
    """(data dir, URL parameters of Q218's first classifier, ten cards a page)."""
    data = use_data(demo_copy)
    classifier = first_classifier(data, QID)
    # review mode: the cards carry the verdict controls (read mode shows judgements as text)
    params = {"concept": QID, "classifier": classifier, "page_size": PAGE_SIZE, "review": "true"}
    return data, {**params, "has_spans": "any"}  # every passage, as `page_verdict_keys` counts


def use_feedback_db(monkeypatch: pytest.MonkeyPatch, target: str | Path) -> None:
    """Point `PREDICTIONS_FEEDBACK_DB` at `target`; the next page run reads the settings again."""
    monkeypatch.setenv("PREDICTIONS_FEEDBACK_DB", str(target))
    forget_settings()


def unreachable_url() -> str:
    """A PostgreSQL URL with a password where nothing listens."""
    return f"postgresql://u:{SECRET}@127.0.0.1:{free_port()}/db"


def page_verdict_keys(data: Path, params: dict[str, str]) -> list[str]:
    """The verdict control keys of the cards of the page `params` shows (the API's rows)."""
    classifier_id = params["classifier"]
    result = query_predictions(
        table_of(data, QID, classifier_id), Filters.from_query_params(params)
    )
    ids = result.rows.column("id").to_pylist()
    assert ids, "the page shows no passage"
    return [f"{feedback_key('browse', classifier_id, str(i))}_verdict" for i in ids]


def verdict_controls(at: AppTest) -> dict[str, object]:
    """The verdict controls on the page, by key."""
    return {
        control.key: control
        for control in at.segmented_control
        if control.key and control.key.startswith("browse_fb_") and control.key.endswith("_verdict")
    }


def page_text(at: AppTest) -> str:
    """Everything a user reads on the page outside the cards: messages, captions, markdown."""
    parts = [*at.error, *at.warning, *at.info, *at.caption, *at.markdown, *at.toast]
    return "\n".join(str(part.value) for part in parts)


def unavailable_messages(at: AppTest) -> list[str]:
    """The messages saying that judgements (feedback) are unavailable."""
    return [
        line
        for line in page_text(at).splitlines()
        if "unavailable" in line.lower() and ("feedback" in line.lower() or "judge" in line.lower())
    ]


def timed_run(at: AppTest) -> AppTest:
    """Rerun `at`, asserting it neither raised nor took much longer than the connect timeout."""
    started = time.monotonic()
    at.run()
    elapsed = time.monotonic() - started
    assert not at.exception, [e.value for e in at.exception]
    assert elapsed < RUN_BUDGET_S, f"a page run took {elapsed:.1f} s"
    return at


def assert_browse_works(at: AppTest, expected_cards: int) -> None:
    """The cards, filters and pager are all there and usable."""
    assert not at.exception, [e.value for e in at.exception]
    assert len(cards(at)) == expected_cards
    filtered, total = shown_counts(at)
    assert 0 < filtered <= total
    assert at.text_input(key="browse_search") is not None
    assert at.radio(key="browse_has_spans") is not None
    assert at.button(key="browse_next_top") is not None
    assert at.number_input(key="browse_page").value == 1


def assert_clear_unavailable_message(at: AppTest, *secrets: str) -> None:
    """A message says judgements are unavailable, naming neither a password nor a path."""
    messages = unavailable_messages(at)
    assert messages, f"no 'feedback unavailable' message on the page:\n{page_text(at)}"
    text = page_text(at)
    for secret in secrets:
        assert secret not in text
    assert "Traceback" not in text
    for message in messages:
        assert "/tmp" not in message and str(Path.home()) not in message


def test_browse_works_and_says_so_when_postgres_is_unreachable_at_start(
    browse, monkeypatch: pytest.MonkeyPatch
):
    data, params = browse
    use_feedback_db(monkeypatch, unreachable_url())
    started = time.monotonic()
    at = open_page(BROWSE, params)
    assert time.monotonic() - started < RUN_BUDGET_S + 30  # the first run also loads the data
    expected = len(page_verdict_keys(data, params))
    assert_browse_works(at, expected)
    assert_clear_unavailable_message(at, SECRET)
    assert not verdict_controls(at)  # nothing offers to save what cannot be saved
    # the rest of the page keeps working: filter, then page on
    at.text_input(key="browse_search").set_value("emissions")
    timed_run(at)  # a search reruns the view only: the tree holds just what it redrew
    assert at.query_params["search"] == "emissions"
    assert_clear_unavailable_message(at, SECRET)
    assert cards(at)
    timed_run(at)  # a full run, so the search box is in the tree again
    at.text_input(key="browse_search").set_value("")
    timed_run(at)
    timed_run(at)
    at.button(key="browse_next_top").click()
    timed_run(at)
    assert at.number_input(key="browse_page").value == 2
    assert shown_range(at)[0] == int(PAGE_SIZE) + 1
    assert len(cards(at)) == expected
    assert_clear_unavailable_message(at, SECRET)


def test_a_judgement_clicked_after_postgres_went_away_says_not_saved(
    browse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    data, params = browse
    at = open_page(BROWSE, params)  # feedback in a working SQLite file: controls are drawn
    keys = page_verdict_keys(data, params)
    assert set(keys) <= set(verdict_controls(at))
    # the database becomes unreachable between drawing the page and the click
    use_feedback_db(monkeypatch, unreachable_url())
    at.segmented_control(key=keys[0]).set_value("incorrect")
    timed_run(at)
    toasts = [toast.value for toast in at.toast]
    assert any(t.startswith("Not saved") for t in toasts), toasts
    assert not any(t.startswith("Saved") for t in toasts), toasts
    assert all(SECRET not in t for t in toasts)
    assert_browse_works(at, len(keys))
    assert_clear_unavailable_message(at, SECRET)
    # nothing was written anywhere (the SQLite file was never the target of the click)
    sqlite_file = tmp_path / "feedback.sqlite"
    if sqlite_file.exists():
        assert FeedbackStore(sqlite_file).list_judgements(QID, params["classifier"]) == []


@pytest.fixture
def own_postgres():
    """A PostgreSQL server of this test's own (it is stopped and started): conftest's
    `postgres_server` is shared by the session, so a test stopping it would break others.
    Skips where PostgreSQL is not installed.
    """
    from tests.postgres_server import PASSWORD, PostgresServer, postgres_binaries

    if postgres_binaries() is None:
        pytest.skip("PostgreSQL is not installed (initdb/pg_ctl; `apt-get install postgresql`)")
    server = PostgresServer()
    try:
        yield server, PASSWORD
    finally:
        dispose_engines()
        server.close()


def test_browse_when_postgres_goes_away_and_comes_back(
    browse, own_postgres, monkeypatch: pytest.MonkeyPatch
):
    from urllib.parse import quote

    server, password = own_postgres
    data, params = browse
    url = server.new_database()
    use_feedback_db(monkeypatch, url)
    classifier_id = params["classifier"]
    keys = page_verdict_keys(data, params)
    store = FeedbackStore(url)

    # up: the page draws the controls and a click is saved
    at = open_page(BROWSE, params)
    assert_browse_works(at, len(keys))
    assert set(keys) <= set(verdict_controls(at))
    assert not unavailable_messages(at)
    at.segmented_control(key=keys[0]).set_value("correct")
    timed_run(at)
    assert any(t.value.startswith("Saved") for t in at.toast), [t.value for t in at.toast]
    assert [j["verdict"] for j in store.list_judgements(QID, classifier_id)] == ["correct"]

    # down: the next rerun (a click on a control drawn while it was up) is not saved, and
    # shows the message and still the cards
    server.stop()
    at.segmented_control(key=keys[1]).set_value("unsure")
    timed_run(at)
    assert any(t.value.startswith("Not saved") for t in at.toast), [t.value for t in at.toast]
    assert_browse_works(at, len(keys))
    assert_clear_unavailable_message(at, password, quote(password, safe=""), str(server.root))
    # a judgement cannot be made meanwhile, and the page keeps paging
    assert not verdict_controls(at)
    timed_run(at)
    assert_clear_unavailable_message(at, password, quote(password, safe=""), str(server.root))
    at.button(key="browse_next_top").click()
    timed_run(at)
    assert at.number_input(key="browse_page").value == 2
    assert_clear_unavailable_message(at, password, quote(password, safe=""), str(server.root))
    at.button(key="browse_previous_top").click()
    timed_run(at)

    # up again: judging works again, in the same session, without a restart of the app
    server.start()
    timed_run(at)
    assert not unavailable_messages(at)
    controls = verdict_controls(at)
    assert set(keys) <= set(controls)
    assert controls[keys[0]].value == "correct"  # the judgement saved before is shown
    assert controls[keys[1]].value is None  # the click that was not saved is not shown
    at.segmented_control(key=keys[1]).set_value("incorrect")
    timed_run(at)
    assert any(t.value.startswith("Saved") for t in at.toast), [t.value for t in at.toast]
    saved = {j["passage_id"]: j["verdict"] for j in store.list_judgements(QID, classifier_id)}
    assert sorted(saved.values()) == ["correct", "incorrect"]


@pytest.fixture
def silent_server_url():
    """A PostgreSQL URL whose port accepts TCP connections and never answers (a hung server,
    or a proxy in front of a dead one): only the store's connect timeout ends a wait.
    """
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)  # the kernel completes the handshakes; nobody ever reads
        yield f"postgresql://u:{SECRET}@127.0.0.1:{listener.getsockname()[1]}/db"


def test_browse_stays_within_the_connect_timeout_when_postgres_hangs(
    browse, silent_server_url: str, monkeypatch: pytest.MonkeyPatch
):
    data, params = browse
    use_feedback_db(monkeypatch, silent_server_url)
    at = AppTest.from_file(str(APP), default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(BROWSE)
    timed_run(at)  # the first run: it also loads the data
    assert_browse_works(at, len(page_verdict_keys(data, params)))
    assert_clear_unavailable_message(at, SECRET)
