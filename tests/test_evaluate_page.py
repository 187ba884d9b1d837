"""The Evaluate page in AppTest: Q787's real gold, feedback as gold, bad URLs, the demo data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from predictions_core.analysis.evaluation import evaluate_concept
from predictions_core.data.location import app_settings
from predictions_core.data.store import PredictionStore
from predictions_core.feedback.store import FeedbackStore
from predictions_core.settings import Settings
from tests.test_evaluation import make_q787_data

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "evaluate.py")


def _use_data_dir(monkeypatch, data_dir: Path, tmp_path: Path) -> Settings:
    monkeypatch.setenv("PREDICTIONS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("PREDICTIONS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PREDICTIONS_FEEDBACK_DB", str(tmp_path / "feedback.sqlite"))
    monkeypatch.setenv("SKIP_S3_SYNC", "true")
    return app_settings()


def _open(**params: str) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.query_params.update(params)
    return app.run()


@pytest.fixture
def q787_settings(tmp_path, monkeypatch, real_fixtures) -> Settings:
    make_q787_data(real_fixtures, tmp_path / "data")
    return _use_data_dir(monkeypatch, tmp_path / "data", tmp_path)


def test_q787_page_shows_every_table(q787_settings):
    app = _open(concept="Q787")
    assert not app.exception and not app.error
    summary, agreement, breakdown, comparison = (frame.value for frame in app.dataframe)
    expected = evaluate_concept(PredictionStore(q787_settings), "Q787", n_resamples=1_000)
    assert list(summary["id"]) == [c["id"] for c in expected["classifiers"]]
    assert list(summary["TP"]) == [c["passage"]["tp"] for c in expected["classifiers"]]
    assert summary["F1"].str.contains(r"\[").all()  # intervals shown
    assert "sion vs tabea" in set(agreement["labellers"])
    kappa = expected["labeller_agreement"]["ceiling"]["passage"]["kappa"]
    assert app.metric[0].value == f"{kappa:.3f}"
    assert "⚠ small" in set(breakdown["small"])  # South Asia, North America: n < 10
    assert comparison["ΔF1 (A − B)"].notna().any()
    assert app.get("vega_lite_chart")  # the A-vs-B bar chart
    assert app.radio[0].value == "concept"


def test_q787_page_widgets_change_the_views(q787_settings):
    app = _open(concept="Q787")
    app.segmented_control[0].set_value("translated").run()
    assert set(app.dataframe[2].value["translated"]) == {"true", "false"}
    app.selectbox(key="evaluate_b").set_value(app.selectbox(key="evaluate_a").value).run()
    assert any("Pick two different classifiers" in c.value for c in app.caption)
    assert not app.exception


@pytest.mark.parametrize(
    ("concept", "message"),
    [("forestry", "not a concept id"), ("Q999999", "not found")],
)
def test_bad_concept_in_the_url_says_so_and_falls_back(q787_settings, concept, message):
    app = _open(concept=concept)
    assert not app.exception
    assert message in app.error[0].value and "Showing Q787 instead" in app.error[0].value
    assert len(app.dataframe) == 4


def test_unknown_gold_source_warns_and_falls_back(q787_settings):
    app = _open(concept="Q787", gold_source="everything")
    assert not app.exception
    assert "'everything' is not available" in app.warning[0].value
    assert app.radio[0].value == "concept" and len(app.dataframe) == 4
    assert app.query_params["gold_source"] in ("concept", ["concept"])  # the URL is corrected


def test_no_concept_param_uses_the_sidebar_pick(q787_settings):
    app = _open()
    assert not app.exception
    assert app.selectbox(key="sidebar_concept").value == "Q787"
    assert len(app.dataframe) == 4


def _write_concept(data_dir: Path, qid: str, gold: list[dict], predictions: list[dict]) -> None:
    folder = data_dir / qid / "kw"
    folder.mkdir(parents=True)
    concept = {"wikibase_id": qid, "preferred_label": "forestry", "labelled_passages": gold}
    (data_dir / qid / "concept.json").write_text(json.dumps(concept))
    lines = "".join(json.dumps(row) + "\n" for row in predictions)
    (folder / "predictions.jsonl").write_text(lines)


def test_concept_without_gold_says_how_to_add_it(tmp_path, monkeypatch):
    _write_concept(tmp_path / "data", "Q5", [], [{"id": "a", "text": "forestry", "spans": []}])
    _use_data_dir(monkeypatch, tmp_path / "data", tmp_path)
    app = _open(concept="Q5")
    assert not app.exception and not app.dataframe
    assert "labelled_passages" in app.info[0].value and "Browse" in app.info[0].value


def test_passage_text_is_escaped_in_cards(tmp_path, monkeypatch):
    text = '<img src=x onerror="alert(1)"> forestry & <b>logging</b>'
    gold = [
        {
            "id": "g1",
            "text": text,
            "spans": [{"start_index": 31, "end_index": 39, "labellers": ["ann"]}],
        }
    ]
    _write_concept(tmp_path / "data", "Q6", gold, [{"id": "g1", "text": text, "spans": []}])
    _use_data_dir(monkeypatch, tmp_path / "data", tmp_path)
    app = _open(concept="Q6")
    assert not app.exception
    bodies = [element.proto.body for element in app.get("html")]
    card = next(body for body in bodies if "pc-card" in body)  # the false negative
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in card and "<img" not in card
    assert '<mark class="pc-gold" title="gold span">forestry</mark>' in card
    assert "&lt;b&gt;logging&lt;/b&gt;" in card


def test_feedback_as_gold_on_the_page(q787_settings):
    store = PredictionStore(q787_settings)
    classifier = sorted(store.catalogue().concept("Q787").classifiers)[0]
    rows = [
        json.loads(line)
        for line in (q787_settings.data_dir / "Q787" / classifier / "predictions.jsonl")
        .read_text()
        .splitlines()[:5]
    ]
    feedback = FeedbackStore(q787_settings.resolved_feedback_db)
    verdicts = ["correct", "correct", "incorrect", "unsure", "correct"]
    for row, verdict in zip(rows, verdicts, strict=True):
        feedback.record("Q787", classifier, row, verdict)
    app = _open(concept="Q787", gold_source="feedback")
    assert not app.exception
    assert app.radio[0].options == ["Concept's gold labels", "Reviewers' feedback", "Both"]
    assert app.radio[0].value == "feedback"
    assert any("4 gold passages" in caption.value for caption in app.caption)


def test_demo_data_pages_render(demo_copy, tmp_path, monkeypatch):
    settings = _use_data_dir(monkeypatch, demo_copy, tmp_path)
    catalogue = PredictionStore(settings).catalogue()
    with_gold = [qid for qid, entry in catalogue.concepts.items() if entry.gold_passages]
    assert with_gold, "the demo data should carry gold labels (Q787)"
    for qid in catalogue.concepts:
        app = _open(concept=qid)
        assert not app.exception, qid
        if qid in with_gold:
            assert len(app.dataframe) >= 3, qid
        else:
            assert "labelled_passages" in app.info[0].value, qid
