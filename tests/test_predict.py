"""`predictions predict`: reading passages files, the concept, the written layout, the CLI."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as parquet
import pytest
import snowballstemmer

from predictions_core.cli.main import main
from predictions_core.data.location import DEMO_DATA_DIR
from predictions_core.data.models import Classifier, Concept, LabelledPassage
from predictions_core.predict.classifiers import CLASSIFIER_KINDS, build_classifier
from predictions_core.predict.passages import Passage, read_passages
from predictions_core.predict.runner import predict_concept

FIXED_NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
# read only: the synthetic passages of the bundled demo (`text_block.text` and metadata columns)
DEMO_PASSAGES = DEMO_DATA_DIR / "passages.jsonl"
WORD = snowballstemmer.stemmer("english")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No bucket, no data dir, and no `.env` of the developer's (the CLI reads ./.env)."""
    for name in ("PREDICTIONS_S3_BUCKET", "PREDICTIONS_S3_PREFIX", "PREDICTIONS_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(params=["demo", "real"])
def corpus(request: pytest.FixtureRequest) -> tuple[Path, Path]:
    """(passages file, Q218 concept file): the bundled demo's, then the real fixtures' ones."""
    if request.param == "real":
        real_fixtures = request.getfixturevalue("real_fixtures")
        return (
            real_fixtures / "passages" / "cclw_passages.jsonl",
            real_fixtures / "seed_layout" / "concepts" / "Q218.json",
        )
    return DEMO_PASSAGES, DEMO_DATA_DIR / "Q218" / "concept.json"


@pytest.fixture
def q218_concept(tmp_path: Path) -> Path:
    """A copy of the demo's Q218 concept file (tests must never write into data/demo)."""
    copy = tmp_path / "concepts" / "Q218.json"
    copy.parent.mkdir()
    shutil.copy(DEMO_DATA_DIR / "Q218" / "concept.json", copy)
    return copy


def read_lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def run_cli(*argv: str | Path) -> int:
    return main([str(arg) for arg in argv])


def small_concept(qid: str = "Q787") -> Concept:
    return Concept(
        wikibase_id=qid,
        preferred_label="forestry",
        alternative_labels=["timber", "logging"],
        negative_labels=["data logging"],
    )


# --------------------------------------------------------------------------- on a passages corpus


def stems(text: str) -> tuple[str, ...]:
    return tuple(WORD.stemWords([w.lower() for w in text.replace("-", " ").split()]))


def test_predict_on_a_corpus_writes_the_layout(
    tmp_path: Path, corpus: tuple[Path, Path], capsys
) -> None:
    passages_path, concept_path = corpus
    out = tmp_path / "out"
    assert run_cli("predict", "Q218", "--passages", passages_path, "--concept", concept_path,
                   "--out", out) == 0  # fmt: skip
    n_rows = len(passages_path.read_bytes().splitlines())
    concept = Concept.model_validate(orjson.loads((out / "Q218" / "concept.json").read_bytes()))
    labels = {label.lower() for label in concept.all_labels}
    label_stems = {stems(label) for label in concept.all_labels}
    folders = sorted(p for p in (out / "Q218").iterdir() if p.is_dir())
    assert len(folders) == len(CLASSIFIER_KINDS)
    for folder in folders:
        classifier = Classifier.model_validate(
            orjson.loads((folder / "classifier.json").read_bytes())
        )
        assert classifier.id == folder.name
        assert classifier.concept_id == "Q218"
        inner = Concept.model_validate(orjson.loads((folder / "concept.json").read_bytes()))
        assert inner.all_labels == concept.all_labels
        passages = [
            LabelledPassage.model_validate(row) for row in read_lines(folder / "predictions.jsonl")
        ]
        assert len(passages) == n_rows  # positives AND negatives
        assert any(not p.spans for p in passages) and any(p.spans for p in passages)
        for passage in passages:
            for span in passage.spans:
                found = passage.text[span.start_index : span.end_index]
                assert span.labellers == [classifier.name]
                if classifier.kind == "stemmed":
                    assert stems(found) in label_stems
                else:
                    assert " ".join(found.lower().split()) in labels
    summary = capsys.readouterr().out
    assert f"/ {n_rows}" in summary and "KeywordClassifier" in summary


def test_passage_ids_and_metadata_come_from_the_columns(corpus: tuple[Path, Path]) -> None:
    passages_path, _ = corpus
    first_row = orjson.loads(passages_path.read_bytes().splitlines()[0])
    passage = read_passages(passages_path).passages[0]
    assert passage.id == f"{first_row['document_id']}.{first_row['text_block.text_block_id']}"
    assert passage.text == first_row["text_block.text"]
    # every other column, as it is
    assert passage.metadata == {k: v for k, v in first_row.items() if k != "text_block.text"}


def test_classifier_ids_are_the_same_on_every_run(
    tmp_path: Path, corpus: tuple[Path, Path]
) -> None:
    passages_path, concept_path = corpus
    for out in (tmp_path / "first", tmp_path / "second"):
        assert run_cli("predict", "Q218", "--passages", passages_path, "--concept", concept_path,
                       "--out", out) == 0  # fmt: skip
    first = sorted(p.name for p in (tmp_path / "first" / "Q218").iterdir() if p.is_dir())
    second = sorted(p.name for p in (tmp_path / "second" / "Q218").iterdir() if p.is_dir())
    assert first == second
    for classifier_id in first:
        spans = [
            [(r["id"], s["start_index"], s["end_index"]) for s in r["spans"]]
            for r in read_lines(tmp_path / "first" / "Q218" / classifier_id / "predictions.jsonl")
        ]
        again = [
            [(r["id"], s["start_index"], s["end_index"]) for s in r["spans"]]
            for r in read_lines(tmp_path / "second" / "Q218" / classifier_id / "predictions.jsonl")
        ]
        assert spans == again


# --------------------------------------------------------------------------- input formats


def test_parquet_and_feather_give_the_same_predictions_as_jsonl(tmp_path: Path) -> None:
    rows = read_lines(DEMO_PASSAGES)[:400]
    jsonl = tmp_path / "passages.jsonl"
    jsonl.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    table = pa.Table.from_pylist(rows)
    parquet.write_table(table, tmp_path / "passages.parquet")
    feather.write_feather(table, tmp_path / "passages.feather")
    outputs = []
    for name in ("passages.jsonl", "passages.parquet", "passages.feather"):
        passages = read_passages(tmp_path / name).passages
        assert len(passages) == 400
        runs = predict_concept(
            small_concept(), passages, ["keyword"], tmp_path / f"out-{name}", now=FIXED_NOW
        )
        outputs.append(runs[0].written[0].read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]


def test_nested_parquet_columns_are_flattened(tmp_path: Path) -> None:
    rows = [{"text_block": {"text": "illegal logging", "text_block_id": "7"}, "document_id": "D1"}]
    parquet.write_table(pa.Table.from_pylist(rows), tmp_path / "nested.parquet")
    (passage,) = read_passages(tmp_path / "nested.parquet").passages
    assert passage.id == "D1.7" and passage.text == "illegal logging"
    assert passage.metadata == {"text_block.text_block_id": "7", "document_id": "D1"}


def test_text_column_id_column_row_numbers_and_metadata_values(tmp_path: Path) -> None:
    path = tmp_path / "passages.jsonl"
    rows = [
        {"id": "given-id", "text": "timber", "translated": True, "page": 3, "note": None},
        {"text": "no id here", "score": 0.5, "tags": ["a", None, "b"]},
        {"document_id": "D1", "text": "only a document id"},
    ]
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    passages = read_passages(path).passages
    assert [p.id for p in passages] == ["given-id", "2", "3"]
    assert passages[0].metadata == {"translated": True, "page": 3}  # null dropped, types kept
    assert passages[1].metadata == {"score": 0.5, "tags": ["a", "b"]}


def test_a_byte_order_mark_does_not_cost_the_first_passage(tmp_path: Path) -> None:
    path = tmp_path / "passages.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "timber"}\n{"text": "logging"}\n')
    assert [p.text for p in read_passages(path).passages] == ["timber", "logging"]


def test_malformed_jsonl_lines_are_skipped_and_reported_with_line_numbers(
    tmp_path: Path, capsys
) -> None:
    path = tmp_path / "passages.jsonl"
    path.write_bytes(
        b'{"text": "timber one", "document_id": "D", "text_block.text_block_id": "1"}\n'
        b'{"text": "broken\n'
        b"\n"
        b"[1, 2]\n"
        b'{"document_id": "D", "text_block.text_block_id": "5"}\n'
        b'{"text": "timber six", "document_id": "D", "text_block.text_block_id": "6"}\n'
    )
    concept_path = tmp_path / "Q787.json"
    concept_path.write_bytes(orjson.dumps(small_concept().model_dump()))
    code = run_cli("predict", "Q787", "--passages", path, "--concept", concept_path,
                   "--out", tmp_path / "out", "--classifier", "keyword")  # fmt: skip
    assert code == 0
    errors = capsys.readouterr().err
    assert f"{path}:2: malformed JSON" in errors
    assert f"{path}:4: not a JSON object" in errors
    assert f"{path}:5: no text" in errors
    assert "Traceback" not in errors
    (predictions,) = (tmp_path / "out" / "Q787").glob("*/predictions.jsonl")
    assert [row["id"] for row in read_lines(predictions)] == ["D.1", "D.6"]


def test_a_file_without_any_passage_is_a_clear_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / "passages.jsonl"
    path.write_text('{"body": "no text column"}\nnot json\n', encoding="utf-8")
    concept_path = tmp_path / "Q787.json"
    concept_path.write_bytes(orjson.dumps(small_concept().model_dump()))
    assert run_cli("predict", "Q787", "--passages", path, "--concept", concept_path) == 2
    error = capsys.readouterr().err
    assert "no passage with text" in error and "text_block.text" in error
    assert "Traceback" not in error


def test_a_corrupt_parquet_file_is_a_clear_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / "passages.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    concept_path = tmp_path / "Q787.json"
    concept_path.write_bytes(orjson.dumps(small_concept().model_dump()))
    assert run_cli("predict", "Q787", "--passages", path, "--concept", concept_path) == 2
    assert "cannot read" in capsys.readouterr().err


# --------------------------------------------------------------------------- concept and CLI errors


def test_bad_qid_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert run_cli("predict", "218", "--passages", DEMO_PASSAGES, "--out", tmp_path) == 2
    assert "'218' is not a concept id" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_concept_of_another_qid_is_refused(tmp_path: Path, q218_concept: Path, capsys) -> None:
    code = run_cli("predict", "Q223", "--passages", DEMO_PASSAGES, "--concept", q218_concept,
                   "--out", tmp_path / "out")  # fmt: skip
    assert code == 2
    error = capsys.readouterr().err
    assert "'Q218'" in error and "Q223" in error
    assert not (tmp_path / "out").exists()


def test_missing_concept_says_to_pass_concept(tmp_path: Path, capsys) -> None:
    assert run_cli("predict", "Q218", "--passages", DEMO_PASSAGES, "--out", tmp_path) == 2
    assert "pass --concept FILE" in capsys.readouterr().err


@pytest.mark.parametrize(
    "location", ["Q787/concept.json", "concepts/Q787.json", "Q787/olderrun/concept.json"]
)
def test_concept_is_found_in_the_out_dir(tmp_path: Path, location: str) -> None:
    out = tmp_path / "out"
    (out / location).parent.mkdir(parents=True)
    (out / location).write_bytes(orjson.dumps(small_concept().model_dump()))
    passages = tmp_path / "p.jsonl"
    passages.write_text('{"text": "timber"}\n', encoding="utf-8")
    assert run_cli("predict", "Q787", "--passages", passages, "--out", out) == 0
    assert len(list((out / "Q787").glob("*/predictions.jsonl"))) == len(CLASSIFIER_KINDS)


def test_unknown_classifier_kind_lists_valid_kinds(
    tmp_path: Path, q218_concept: Path, capsys
) -> None:
    code = run_cli("predict", "Q218", "--passages", DEMO_PASSAGES, "--concept", q218_concept,
                   "--classifier", "bert", "--out", tmp_path / "out")  # fmt: skip
    assert code == 2
    error = capsys.readouterr().err
    assert "'bert'" in error and "keyword-cased" in error and "stemmed" in error


def test_missing_passages_file_is_a_clear_error(tmp_path: Path, q218_concept: Path, capsys) -> None:
    code = run_cli(
        "predict", "Q218", "--passages", tmp_path / "nope.jsonl", "--concept", q218_concept
    )
    assert code == 2
    assert "passages file not found" in capsys.readouterr().err


# --------------------------------------------------------------------------- what is written


def test_gold_labels_stay_in_the_concept_file_but_not_in_classifier_folders(
    tmp_path: Path,
) -> None:
    gold_concept = Concept.model_validate(
        orjson.loads((DEMO_DATA_DIR / "Q787" / "concept.json").read_bytes())
    )
    assert gold_concept.labelled_passages  # the demo's Q787 has gold labels
    passages = [Passage(p.id, p.text, p.metadata) for p in gold_concept.labelled_passages]
    runs = predict_concept(gold_concept, passages, ["keyword", "rules"], tmp_path, now=FIXED_NOW)
    top = orjson.loads((tmp_path / "Q787" / "concept.json").read_bytes())
    assert len(top["labelled_passages"]) == len(gold_concept.labelled_passages)
    for run in runs:
        inner = orjson.loads((tmp_path / "Q787" / run.classifier_id / "concept.json").read_bytes())
        assert "labelled_passages" not in inner
        assert inner["alternative_labels"] == gold_concept.alternative_labels
    # a later run with a concept that has no gold labels keeps the gold labels already there
    predict_concept(small_concept(), passages[:3], ["keyword"], tmp_path, now=FIXED_NOW)
    again = orjson.loads((tmp_path / "Q787" / "concept.json").read_bytes())
    assert again["labelled_passages"] == top["labelled_passages"]
    assert again["alternative_labels"] == small_concept().alternative_labels


def test_span_and_classifier_json_fields(tmp_path: Path) -> None:
    passages = [Passage("p1", "🌍 illegal logging and data logging", {"translated": "False"})]
    (run,) = predict_concept(small_concept(), passages, ["rules"], tmp_path, now=FIXED_NOW)
    (line,) = read_lines(tmp_path / "Q787" / run.classifier_id / "predictions.jsonl")
    assert line == {
        "id": "p1",
        "text": passages[0].text,
        "spans": [
            {
                "start_index": 10,
                "end_index": 17,
                "concept_id": "Q787",
                "labellers": ['RulesBasedClassifier("forestry")'],
                "timestamps": ["2025-03-01T09:30:00+00:00"],
            }
        ],
        "metadata": {"translated": "False"},
    }
    classifier_json = orjson.loads(
        (tmp_path / "Q787" / run.classifier_id / "classifier.json").read_bytes()
    )
    assert classifier_json == {
        "id": run.classifier_id,
        "name": 'RulesBasedClassifier("forestry")',
        "date": "2025-03-01",
        "kind": "rules",
        "parameters": {"case_sensitive": False, "negative_labels": ["data logging"]},
        "concept_id": "Q787",
    }
    assert run.classifier_id == build_classifier("rules", small_concept()).id


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    passages = [Passage(str(n), f"timber {n}", {}) for n in range(50)]
    predict_concept(small_concept(), passages, None, tmp_path, now=FIXED_NOW)
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".")]
    assert leftovers == []


def test_default_out_dir_is_never_the_bundled_demo(tmp_path: Path, q218_concept: Path) -> None:
    """With no data configured, settings fall back to data/demo for reading, not for writing."""
    demo_before = sorted(p.name for p in DEMO_DATA_DIR.iterdir()) if DEMO_DATA_DIR.is_dir() else []
    passages = tmp_path / "p.jsonl"
    passages.write_text('{"text": "methane"}\n', encoding="utf-8")
    assert run_cli("predict", "Q218", "--passages", passages, "--concept", q218_concept) == 0
    assert (tmp_path / "data" / "processed" / "Q218" / "concept.json").is_file()
    demo_after = sorted(p.name for p in DEMO_DATA_DIR.iterdir()) if DEMO_DATA_DIR.is_dir() else []
    assert demo_after == demo_before


# --------------------------------------------------------------------------- S3


def test_save_to_s3_without_a_bucket_fails_before_predicting(
    tmp_path: Path, q218_concept: Path, capsys
) -> None:
    code = run_cli("predict", "Q218", "--passages", DEMO_PASSAGES, "--concept", q218_concept,
                   "--out", tmp_path / "out", "--save-to-s3")  # fmt: skip
    assert code == 2
    assert "PREDICTIONS_S3_BUCKET" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_save_to_s3_uploads_only_what_the_run_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PREDICTIONS_S3_BUCKET": "predictions-test",
        "PREDICTIONS_S3_PREFIX": "runs",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "out"
    (out / "Q787" / "olderrun").mkdir(parents=True)
    (out / "Q787" / "olderrun" / "predictions.jsonl").write_text("{}\n", encoding="utf-8")
    concept_path = tmp_path / "Q787.json"
    concept_path.write_bytes(orjson.dumps(small_concept().model_dump()))
    passages = tmp_path / "p.jsonl"
    passages.write_text('{"text": "timber"}\n', encoding="utf-8")
    with moto.mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="predictions-test")
        code = run_cli("predict", "Q787", "--passages", passages, "--concept", concept_path,
                       "--out", out, "--classifier", "keyword", "--save-to-s3")  # fmt: skip
        listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(
            Bucket="predictions-test"
        )
    assert code == 0
    classifier_id = build_classifier("keyword", small_concept()).id
    assert sorted(item["Key"] for item in listed["Contents"]) == [
        f"runs/Q787/{classifier_id}/classifier.json",
        f"runs/Q787/{classifier_id}/concept.json",
        f"runs/Q787/{classifier_id}/predictions.jsonl",
        "runs/Q787/concept.json",
    ]


def test_the_concept_file_given_is_not_modified(q218_concept: Path, tmp_path: Path) -> None:
    """--concept pointing into other data must be read, never written back."""
    before = q218_concept.read_bytes()
    passages = tmp_path / "p.jsonl"
    passages.write_text('{"text": "methane"}\n', encoding="utf-8")
    assert run_cli("predict", "Q218", "--passages", passages, "--concept", q218_concept,
                   "--out", tmp_path) == 0  # fmt: skip
    assert (tmp_path / "Q218" / "concept.json").is_file()
    assert q218_concept.read_bytes() == before


def test_an_out_dir_that_cannot_be_written_is_a_clear_error(tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("a file where the data dir should be", encoding="utf-8")
    concept_path = tmp_path / "Q787.json"
    concept_path.write_bytes(orjson.dumps(small_concept().model_dump()))
    passages = tmp_path / "p.jsonl"
    passages.write_text('{"text": "timber"}\n', encoding="utf-8")
    code = run_cli("predict", "Q787", "--passages", passages, "--concept", concept_path,
                   "--out", blocker)  # fmt: skip
    assert code == 2
    assert "cannot write predictions into" in capsys.readouterr().err
    assert blocker.read_text(encoding="utf-8") == "a file where the data dir should be"


# --------------------------------------------------------------------------- gold passages too


@pytest.fixture
def q787_gold_concept(tmp_path: Path) -> Path:
    """A copy of the demo's Q787 concept file: gold labels by two annotators."""
    copy = tmp_path / "concepts" / "Q787.json"
    copy.parent.mkdir(exist_ok=True)
    shutil.copy(DEMO_DATA_DIR / "Q787" / "concept.json", copy)
    return copy


def _evaluate(settings):
    from predictions_core.analysis.evaluation import evaluate_concept
    from predictions_core.data.store import PredictionStore

    return evaluate_concept(PredictionStore(settings), "Q787", n_resamples=10)


def test_predict_also_predicts_the_gold_passages_so_evaluate_scores_them(
    tmp_path: Path, q787_gold_concept: Path, settings_for, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = Concept.model_validate_json(q787_gold_concept.read_text(encoding="utf-8"))
    gold_texts = {p.text for p in gold.labelled_passages}
    # a passages file sharing no passage with the gold set (one id collides with a gold id)
    rows = [
        {"id": gold.labelled_passages[0].id, "text": "Timber concessions expire in 2030."},
        {"id": "other-2", "text": "Illegal logging fell by a third."},
    ]
    assert not gold_texts & {row["text"] for row in rows}
    passages = tmp_path / "passages.jsonl"
    passages.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    out = tmp_path / "out"
    args = ("predict", "Q787", "--passages", passages, "--concept", q787_gold_concept, "--out", out)
    assert run_cli(*args) == 0
    n_gold = len(gold.labelled_passages)
    assert f"+ {n_gold} of the concept's {n_gold} gold passages" in capsys.readouterr().out
    result = _evaluate(settings_for(out))
    assert len(result.classifiers) == len(CLASSIFIER_KINDS)
    for classifier in result.classifiers:
        assert (classifier.n_covered, classifier.n_excluded) == (n_gold, 0)
        assert classifier.passage.f1 is not None
        lines = read_lines(out / "Q787" / classifier.id / "predictions.jsonl")
        assert len(lines) == len(rows) + n_gold
        assert [line["text"] for line in lines[:2]] == [row["text"] for row in rows]
        by_text = {line["text"]: line for line in lines}
        first = gold.labelled_passages[0]
        # its id was taken by another text: renamed, its metadata kept
        assert by_text[first.text]["id"] == f"gold.{first.id}"
        assert by_text[first.text]["metadata"] == first.metadata
        second = gold.labelled_passages[1]
        assert by_text[second.text]["id"] == second.id


def test_no_gold_leaves_the_gold_passages_out(
    tmp_path: Path, q787_gold_concept: Path, settings_for, capsys: pytest.CaptureFixture[str]
) -> None:
    passages = tmp_path / "passages.jsonl"
    # one positive and one negative: the file lists negatives, so gold passages it lacks are
    # excluded (not assumed negative)
    passages.write_text(
        '{"id": "x", "text": "Timber concessions expire."}\n{"id": "y", "text": "Sea level."}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    argv = ("predict", "Q787", "--passages", passages, "--concept", q787_gold_concept)
    assert run_cli(*argv, "--out", out, "--no-gold", "--classifier", "keyword") == 0
    assert "were not predicted (--no-gold)" in capsys.readouterr().out
    (classifier,) = _evaluate(settings_for(out)).classifiers
    n_gold = len(Concept.model_validate_json(q787_gold_concept.read_bytes()).labelled_passages)
    assert (classifier.n_covered, classifier.n_excluded) == (0, n_gold)


def test_gold_passages_already_in_the_passages_file_are_not_repeated(
    tmp_path: Path, q787_gold_concept: Path
) -> None:
    gold = Concept.model_validate_json(q787_gold_concept.read_text(encoding="utf-8"))
    # half of the gold passages, under other ids: found by their text
    half = gold.labelled_passages[: len(gold.labelled_passages) // 2]
    passages = [Passage(f"file-{n}", p.text, {}) for n, p in enumerate(half)]
    (run,) = predict_concept(gold, passages, ["keyword"], tmp_path, now=FIXED_NOW)
    assert run.n_gold_added == len(gold.labelled_passages) - len(half)
    assert run.n_passages == len(gold.labelled_passages)
    lines = read_lines(tmp_path / "Q787" / run.classifier_id / "predictions.jsonl")
    assert len({line["text"] for line in lines}) == len(lines)
