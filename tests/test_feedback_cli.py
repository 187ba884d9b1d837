"""`predictions feedback export` / `import` (CONTRACT §4): lossless between SQLite and
PostgreSQL, idempotent, bad lines skipped and reported with file and line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from predictions_core.cli.main import main
from predictions_core.feedback.store import FeedbackStore

HIT = {
    "id": "p1",
    "text": "Forêt — “management” 🌲 and timber.",
    "spans": [{"start_index": 0, "end_index": 5, "concept_id": "Q787", "labellers": ["kw"]}],
    "metadata": {"document_id": "D1", "nested": {"a": [1, 2.5, None]}, "translated": True},
}


def _fill(store: FeedbackStore) -> None:
    store.record("Q787", "kw", HIT, "correct", reviewer="ann")
    store.record("Q787", "kw", HIT, "incorrect", note="on second thoughts", reviewer="ann")
    store.record("Q787", "kw", HIT, "unsure", reviewer="bob")
    store.record("Q218", "rules", {"id": "x", "text": "Coal."}, "correct")  # anonymous


def _records(store: FeedbackStore) -> list[dict]:
    """A store's judgements without the row ids, which belong to one database."""
    return [dict(record) for record in store.all_records()]


def _run(monkeypatch, target: Path | str, *argv: str) -> int:
    monkeypatch.setenv("PREDICTIONS_FEEDBACK_DB", str(target))
    monkeypatch.setenv("PREDICTIONS_DATA_DIR", ".")
    return main(["feedback", *argv])


def test_export_import_round_trip_sqlite_postgresql_sqlite(
    tmp_path, monkeypatch, postgres_url, capsys
):
    source, back = tmp_path / "old.sqlite", tmp_path / "back.sqlite"
    _fill(FeedbackStore(source))
    assert _run(monkeypatch, source, "export", "--out", str(tmp_path / "one.jsonl")) == 0
    assert _run(monkeypatch, postgres_url, "import", str(tmp_path / "one.jsonl")) == 0
    assert "imported 4 new judgement(s)" in capsys.readouterr().out
    assert _run(monkeypatch, postgres_url, "export", "--out", str(tmp_path / "two.jsonl")) == 0
    assert _run(monkeypatch, back, "import", str(tmp_path / "two.jsonl")) == 0
    original = _records(FeedbackStore(source))
    assert _records(FeedbackStore(postgres_url)) == original
    assert _records(FeedbackStore(back)) == original
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    # what the dashboard and the API read is the same in every store
    for target in (postgres_url, back):
        effective = FeedbackStore(target).list_judgements("Q787", "kw")
        expected = FeedbackStore(source).list_judgements("Q787", "kw")
        assert [_without_id(j) for j in effective] == [_without_id(j) for j in expected]
    # the password of the URL is never printed
    captured = capsys.readouterr()
    assert "p%40ss" not in captured.out + captured.err and "p@ss" not in captured.out


def _without_id(judgement: dict) -> dict:
    return {key: value for key, value in judgement.items() if key != "judgement_id"}


def test_importing_the_same_file_twice_adds_nothing(tmp_path, monkeypatch, capsys):
    source, target = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    _fill(FeedbackStore(source))
    export = tmp_path / "export.jsonl"
    _run(monkeypatch, source, "export", "--out", str(export))
    assert _run(monkeypatch, target, "import", str(export)) == 0
    assert _run(monkeypatch, target, "import", str(export)) == 0
    assert "imported 0 new judgement(s)" in capsys.readouterr().out.splitlines()[-1]
    assert len(FeedbackStore(target).all_records()) == 4
    # into the store it came from: nothing new either
    assert _run(monkeypatch, source, "import", str(export)) == 0
    assert len(FeedbackStore(source).all_records()) == 4


def test_lines_without_a_uid_are_still_imported_once(tmp_path, monkeypatch):
    line = {
        "concept_id": "Q1",
        "classifier_id": "kw",
        "passage_id": "p",
        "passage_text": "t",
        "predicted_spans": [],
        "passage_metadata": {},
        "verdict": "correct",
        "created_at": "2025-03-01T12:00:00Z",
    }
    path = tmp_path / "by-hand.jsonl"
    path.write_text(json.dumps(line) + "\n")
    target = tmp_path / "fb.sqlite"
    _run(monkeypatch, target, "import", str(path))
    _run(monkeypatch, target, "import", str(path))
    (judgement,) = FeedbackStore(target).history("Q1")
    assert judgement["created_at"] == "2025-03-01T12:00:00.000000+00:00"
    assert judgement["note"] == "" and judgement["reviewer"] is None


def test_bad_lines_are_skipped_and_reported_with_file_and_line(tmp_path, monkeypatch, capsys):
    source = tmp_path / "a.sqlite"
    _fill(FeedbackStore(source))
    export = tmp_path / "export.jsonl"
    _run(monkeypatch, source, "export", "--out", str(export))
    good = export.read_text().splitlines()
    broken = json.loads(good[0]) | {"verdict": "maybe", "uid": "other"}
    lines = [good[0], "{not json", json.dumps(broken), "", "[1, 2]", *good[1:]]
    export.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert _run(monkeypatch, tmp_path / "b.sqlite", "import", str(export)) == 1
    captured = capsys.readouterr()
    assert "imported 4 new judgement(s)" in captured.out and "3 line(s) skipped" in captured.out
    assert "export.jsonl:2: not JSON" in captured.err
    assert "export.jsonl:3: verdict: not one of correct, incorrect, unsure" in captured.err
    assert "export.jsonl:5:" in captured.err
    assert str(tmp_path) not in captured.err  # the file's name, not the server's path


def test_an_import_of_older_judgements_never_overrides_newer_ones(tmp_path, monkeypatch):
    old, new = tmp_path / "task-a.sqlite", tmp_path / "task-b.sqlite"
    FeedbackStore(old).record("Q787", "kw", HIT, "correct", reviewer="ann")
    FeedbackStore(new).record("Q787", "kw", HIT, "incorrect", reviewer="ann")  # later
    export = tmp_path / "task-a.jsonl"
    _run(monkeypatch, old, "export", "--out", str(export))
    _run(monkeypatch, new, "import", str(export))  # merging a second task's file
    (latest,) = FeedbackStore(new).list_judgements("Q787", "kw")
    assert latest["verdict"] == "incorrect"
    assert len(FeedbackStore(new).history("Q787")) == 2


def test_export_to_stdout_and_from_an_empty_store(tmp_path, monkeypatch, capsys):
    assert _run(monkeypatch, tmp_path / "none.sqlite", "export") == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "exported 0 judgement(s)" in captured.err
    assert not (tmp_path / "none.sqlite").exists()  # exporting never creates the database
    _fill(FeedbackStore(tmp_path / "fb.sqlite"))
    assert _run(monkeypatch, tmp_path / "fb.sqlite", "export") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["verdict"] for line in lines] == [
        "correct",
        "incorrect",
        "unsure",
        "correct",
    ]


def test_a_missing_import_file_is_a_clear_error(tmp_path, monkeypatch, capsys):
    assert _run(monkeypatch, tmp_path / "fb.sqlite", "import", str(tmp_path / "nope.jsonl")) == 2
    assert "cannot read nope.jsonl" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["feedback"], ["feedback", "move"]])
def test_a_feedback_command_is_required(argv, capsys):
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
