"""Reviewers' judgements: durable store, concurrency, gold export, feedback as gold, UI.

Every test of the store runs twice: on a SQLite file and on a real PostgreSQL server (the
`postgres_url` fixture; skipped where PostgreSQL is not installed). SQLite-only behaviour (WAL,
no file made by reading) is tested on SQLite alone.
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from predictions_core.analysis.evaluation import evaluate_concept
from predictions_core.data.models import Concept, LabelledPassage
from predictions_core.data.store import PredictionStore
from predictions_core.errors import DataError, InvalidParameterError
from predictions_core.feedback.engines import postgres_url
from predictions_core.feedback.store import FeedbackStore, FeedbackUnavailableError

HIT = {
    "id": "p1",
    "text": "Forest management and timber.",
    "spans": [
        {"start_index": 0, "end_index": 17, "concept_id": "Q787", "labellers": ["kw"]},
        {"start_index": 22, "end_index": 28, "concept_id": "Q787", "labellers": ["kw"]},
    ],
    "metadata": {"world_bank_region": "South Asia", "document_id": "D1"},
}
MISS = {"id": "p2", "text": "Nothing predicted here.", "spans": [], "metadata": {}}


def _passage(passage_id: str, text: str = "some text") -> dict:
    return {"id": passage_id, "text": text, "spans": [], "metadata": {}}


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path) -> Path | str:
    """Where a test's judgements live: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "fb.sqlite"
    return request.getfixturevalue("postgres_url")


def test_judgements_history_and_latest_per_reviewer(target):
    store = FeedbackStore(target)
    store.record("Q787", "kw", HIT, "correct", reviewer="ann")
    store.record("Q787", "kw", HIT, "incorrect", note="not forestry", reviewer="ann")
    store.record("Q787", "kw", HIT, "unsure", reviewer="bob")
    store.record("Q787", "other", HIT, "correct")
    effective = store.list_judgements("Q787", "kw")
    assert [(j["reviewer"], j["verdict"]) for j in effective] == [
        ("ann", "incorrect"),
        ("bob", "unsure"),
    ]
    assert effective[0]["note"] == "not forestry"
    assert effective[0]["predicted_spans"][0]["end_index"] == 17
    assert effective[0]["passage_metadata"]["document_id"] == "D1"
    assert effective[0]["created_at"].endswith("+00:00")  # UTC ISO
    assert len(store.history("Q787", "kw")) == 3  # history kept
    assert len(store.list_judgements("Q787", None)) == 3  # every classifier
    assert store.list_judgements("Q787", "other")[0]["reviewer"] is None  # anonymous
    # a restart is a new store object on the same file: nothing lost
    assert FeedbackStore(target).list_judgements("Q787", "kw") == effective


def test_database_is_wal_and_reading_never_creates_it(tmp_path):
    path = tmp_path / "sub" / "fb.sqlite"
    store = FeedbackStore(path)
    assert (
        store.list_judgements("Q787", "kw") == [] and list(store.export_jsonl("Q787", "kw")) == []
    )
    assert not path.exists()
    store.record("Q787", "kw", HIT, "correct")
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize(
    ("qid", "classifier_id", "passage", "verdict", "note", "parameter"),
    [
        ("Q787", "kw", HIT, "maybe", "", "verdict"),
        ("forest", "kw", HIT, "correct", "", "concept"),
        ("Q787", "../x", HIT, "correct", "", "classifier"),
        ("Q787", "kw", {"text": "no id"}, "correct", "", "passage"),
        ("Q787", "kw", HIT, "correct", "x" * 2_001, "note"),
    ],
)
def test_bad_judgements_are_refused_with_the_parameter_named(
    target, qid, classifier_id, passage, verdict, note, parameter
):
    store = FeedbackStore(target)
    with pytest.raises(InvalidParameterError) as raised:
        store.record(qid, classifier_id, passage, verdict, note=note)
    assert raised.value.parameter == parameter
    assert store.history("Q787") == []


def _write_many(path: Path | str, worker: int, count: int) -> None:
    store = FeedbackStore(path)
    for index in range(count):
        passage = _passage(f"w{worker}-p{index}")
        store.record("Q787", f"c{worker % 2}", passage, "correct", note=f"{worker}:{index}")


def test_concurrent_threads_lose_nothing(target):
    path = target
    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(_write_many, path, worker, 50) for worker in range(8)]:
            future.result()
    notes = {j["note"] for j in FeedbackStore(path).history("Q787")}
    assert notes == {f"{worker}:{index}" for worker in range(8) for index in range(50)}


@pytest.mark.timeout(120)
def test_concurrent_processes_lose_nothing(target):
    path = target
    # fork: a spawned child would re-import this module (Streamlit and all) before writing
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_write_many, args=(path, w, 50)) for w in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=90)
        assert process.exitcode == 0
    history = FeedbackStore(path).history("Q787")
    assert len(history) == 200
    assert {j["note"] for j in history} == {f"{w}:{i}" for w in range(4) for i in range(50)}


@contextmanager
def _lock_held(target: Path | str):
    """Another connection holding the judgements' write lock until the block ends."""
    if isinstance(target, Path):
        holder = sqlite3.connect(target, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.rollback()
            holder.close()
        return
    engine = sa.create_engine(postgres_url(target), poolclass=sa.pool.NullPool)
    with engine.connect() as holder:
        holder.exec_driver_sql("LOCK TABLE judgements IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            holder.rollback()
    engine.dispose()


def test_a_held_lock_fails_within_the_busy_timeout_and_says_so(target):
    FeedbackStore(target).record("Q787", "kw", HIT, "correct")
    store = FeedbackStore(target, busy_timeout_s=0.5)
    with _lock_held(target):
        started = time.monotonic()
        with pytest.raises(FeedbackUnavailableError) as raised:
            store.record("Q787", "kw", MISS, "incorrect")
        elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 2.0  # waited for the lock, but not beyond the bound
    assert "busy" in raised.value.message and "0.5 s" in raised.value.message
    assert isinstance(raised.value, DataError) and raised.value.http_status == 503
    # once the lock is released, the same store writes again
    store.record("Q787", "kw", MISS, "incorrect")
    assert len(store.history("Q787")) == 2


def test_judgements_by_passage_are_the_effective_ones_of_one_classifier(target):
    store = FeedbackStore(target)
    assert store.judgements_by_passage("Q787", "kw") == {}
    store.record("Q787", "kw", HIT, "correct", reviewer="ann")
    store.record("Q787", "kw", HIT, "incorrect", reviewer="ann")
    store.record("Q787", "kw", HIT, "unsure", reviewer="bob")
    store.record("Q787", "kw", MISS, "correct")
    store.record("Q787", "other", MISS, "incorrect")
    by_passage = store.judgements_by_passage("Q787", "kw")
    verdicts = {
        passage_id: [(j["reviewer"], j["verdict"]) for j in judgements]
        for passage_id, judgements in by_passage.items()
    }
    assert verdicts == {"p1": [("ann", "incorrect"), ("bob", "unsure")], "p2": [(None, "correct")]}


def _exported(store: FeedbackStore, classifier_id: str | None = "kw") -> list[LabelledPassage]:
    return [
        LabelledPassage.model_validate_json(line)
        for line in b"".join(store.export_jsonl("Q787", classifier_id)).splitlines()
    ]


def test_export_round_trips_into_the_gold_format(target):
    store = FeedbackStore(target)
    store.record("Q787", "kw", HIT, "correct", note="yes", reviewer="ann")
    miss = {
        **HIT,
        "id": "p3",
        "text": "Timber yards.",
        "spans": [HIT["spans"][1] | {"start_index": 0, "end_index": 6}],
    }
    store.record("Q787", "kw", miss, "incorrect", reviewer="ann")
    store.record("Q787", "kw", _passage("p4"), "unsure", reviewer="ann")
    passages = _exported(store)
    concept = Concept(wikibase_id="Q787", labelled_passages=passages)
    by_id = {p.id: p for p in concept.labelled_passages}
    assert set(by_id) == {"p1", "p3"}  # unsure left out of gold
    correct = by_id["p1"]
    assert [(s.start_index, s.end_index) for s in correct.spans] == [(0, 17), (22, 28)]
    assert all(s.labellers == ["reviewer:ann"] and len(s.timestamps) == 1 for s in correct.spans)
    assert all(s.concept_id == "Q787" for s in correct.spans)
    assert correct.metadata["world_bank_region"] == "South Asia"  # original metadata kept
    assert correct.metadata["feedback"] | {"created_at": None} == {
        "verdict": "correct",
        "note": "yes",
        "classifier_id": "kw",
        "created_at": None,
        "reviewers": {"reviewer:ann": "correct"},
    }
    assert by_id["p3"].spans == [] and by_id["p3"].metadata["feedback"]["verdict"] == "incorrect"


def test_reviewers_combine_like_labellers_and_a_missed_hit_covers_the_passage(target):
    store = FeedbackStore(target)
    store.record("Q787", "kw", HIT, "correct", reviewer="ann")
    store.record("Q787", "kw", HIT, "incorrect", reviewer="bob")
    store.record("Q787", "kw", MISS, "incorrect")  # no spans predicted, reviewer: a miss
    by_id = {p.id: p for p in _exported(store)}
    assert [s.labellers for s in by_id["p1"].spans] == [["reviewer:ann"], ["reviewer:ann"]]
    assert by_id["p1"].metadata["feedback"]["reviewers"] == {
        "reviewer:ann": "correct",
        "reviewer:bob": "incorrect",
    }
    (whole,) = by_id["p2"].spans
    assert (whole.start_index, whole.end_index) == (0, len(MISS["text"]))
    assert whole.labellers == ["reviewer:anonymous"] and whole.model_extra["whole_passage"]


def test_feedback_as_gold_gives_the_expected_scores(demo_copy, settings_for):
    settings = settings_for(demo_copy)
    store, feedback = PredictionStore(settings), FeedbackStore(settings.resolved_feedback_db)
    concept = Concept.model_validate_json((demo_copy / "Q787" / "concept.json").read_bytes())
    gold_ids = {p.id for p in concept.labelled_passages}
    judged_id = sorted(p.name for p in (demo_copy / "Q787").iterdir() if p.is_dir())[0]
    lines = (demo_copy / "Q787" / judged_id / "predictions.jsonl").read_text().splitlines()
    # hits on gold passages, so that `both` merges them with the concept's gold
    rows = [row for row in map(json.loads, lines) if row["spans"] and row["id"] in gold_ids][:12]
    for row in rows[:7]:
        feedback.record("Q787", judged_id, row, "correct", reviewer="ann")
    for row in rows[7:10]:
        feedback.record("Q787", judged_id, row, "incorrect", reviewer="ann")
    for row in rows[10:]:
        feedback.record("Q787", judged_id, row, "unsure", reviewer="ann")

    def evaluate(**options):
        return evaluate_concept(
            store, "Q787", feedback_passages=lambda: feedback.labelled_passages("Q787"), **options
        )

    result = evaluate(gold_source="feedback")
    assert result.gold_source == "feedback" and result.n_gold == 10
    judged = next(c for c in result.classifiers if c.id == judged_id)
    assert (judged.passage.tp, judged.passage.fp, judged.passage.fn) == (7, 3, 0)
    assert judged.passage.precision == pytest.approx(7 / 10)
    assert judged.span.exact.recall == 1.0  # the gold spans are its own spans
    both = evaluate(gold_source="both")
    # same texts merge with the concept's gold passages; spans of all labellers united
    assert both.n_gold == len(concept.labelled_passages)
    concept_positive = {p.text for p in concept.labelled_passages if p.spans}
    feedback_positive = {row["text"] for row in rows[:7]}
    assert both.n_gold_positive == len(concept_positive | feedback_positive)
    # the default source is the concept's gold when it has some
    assert evaluate().gold_source == "concept"


# ------------------------------------------------------------------ the Streamlit controls


def _controls_script() -> None:
    import streamlit as st

    from predictions_core.ui.feedback import passage_judging, render_feedback_export
    from predictions_core.ui.views import markdown_text

    passage = {
        "id": "p1",
        "text": "Forest management.",
        "spans": [{"start_index": 0, "end_index": 17, "concept_id": "Q787"}],
        "metadata": {},
    }
    st.session_state.setdefault("feedback_reviewer", "ann")
    judging = passage_judging("Q787", [("spans", "kw")], "browse")
    judging.begin(review=True)
    judging.controls([passage])
    st.caption(markdown_text(judging.summary(passage)))
    render_feedback_export("Q787", "kw", "browse")


def _page_of_cards_script() -> None:
    import streamlit as st

    from predictions_core.ui.feedback import passage_judging
    from predictions_core.ui.views import markdown_text

    st.session_state.setdefault("feedback_reviewer", "ann")
    judging = passage_judging("Q787", [("spans", "kw")], "browse")  # reads judgements once
    judging.begin(review=True)
    for index in range(50):
        passage = {"id": f"p{index}", "text": f"timber {index}", "spans": [], "metadata": {}}
        judging.controls([passage])
        st.caption(markdown_text(judging.summary(passage)))


@pytest.fixture
def feedback_env(target, tmp_path, monkeypatch) -> Path | str:
    db = target
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("PREDICTIONS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PREDICTIONS_FEEDBACK_DB", str(db))
    monkeypatch.setenv("SKIP_S3_SYNC", "true")
    return db


def test_controls_save_on_change_and_show_the_current_judgement(feedback_env):
    app = AppTest.from_function(_controls_script, default_timeout=30).run()
    assert not app.exception
    assert app.caption[0].value == "Not judged yet\\."
    assert app.get("download_button")[0].proto.disabled
    assert not app.text_input  # the note comes with a judgement
    app.segmented_control[0].set_value("incorrect").run()
    app.text_input[0].set_value("about forests, not forestry").run()
    (judgement,) = FeedbackStore(feedback_env).list_judgements("Q787", "kw")
    assert (judgement["verdict"], judgement["reviewer"]) == ("incorrect", "ann")
    assert judgement["note"] == "about forests, not forestry"
    assert len(FeedbackStore(feedback_env).history("Q787")) == 2  # one save per change
    # a new session shows the saved judgement
    fresh = AppTest.from_function(_controls_script, default_timeout=30).run()
    assert fresh.segmented_control[0].value == "incorrect"
    assert fresh.text_input[0].value == "about forests, not forestry"
    assert "Your judgement: ✗ incorrect" in fresh.caption[0].value
    assert not fresh.get("download_button")[0].proto.disabled


def test_a_page_of_cards_reads_the_judgements_once(feedback_env):
    store = FeedbackStore(feedback_env)
    store.record("Q787", "kw", _passage("p3", "timber 3"), "correct", reviewer="ann")
    store.record("Q787", "kw", _passage("p4", "timber 4"), "incorrect", reviewer="bob")
    store.record("Q787", "other", _passage("p5", "timber 5"), "correct", reviewer="ann")
    queries: list[str] = []

    def count(_connection, _cursor, statement, *_args) -> None:
        if "judgements" in statement:
            queries.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", count)
    try:
        app = AppTest.from_function(_page_of_cards_script, default_timeout=30).run()
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", count)
    assert not app.exception
    assert len(queries) <= 2, f"{len(queries)} queries for one run of 50 cards"
    captions = [caption.value for caption in app.caption]
    assert len(captions) == 50
    assert captions[3].startswith("Your judgement: ✓ correct")
    assert captions[4] == "✗ bob"  # another reviewer's, by name
    assert captions[5] == "Not judged yet\\."  # judged for another classifier only
    assert app.segmented_control[3].value == "correct" and app.segmented_control[4].value is None
    # a judgement saved on one card shows on the next run
    app.segmented_control[7].set_value("unsure").run()
    assert app.caption[7].value.startswith("Your judgement: ? unsure")
