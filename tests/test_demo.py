"""`predictions demo` and the bundled demo data in data/demo."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson
import pytest

from predictions_core.cli.main import main
from predictions_core.data.location import DEMO_DATA_DIR, REPO_ROOT
from predictions_core.data.models import Classifier, Concept, LabelledPassage
from predictions_core.demo.corpus import REGION_COUNTRIES


def demo_files(root: Path) -> dict[str, bytes]:
    """Every file a demo build writes, by relative path (not the app's caches or feedback)."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
        and ".sqlite" not in path.name
    }


def read_lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


@pytest.fixture(scope="module")
def demo() -> Path:
    assert DEMO_DATA_DIR.is_dir(), "data/demo is missing: run `uv run predictions demo`"
    return DEMO_DATA_DIR


@pytest.fixture(scope="module")
def demo_passages(demo: Path) -> list[dict]:
    return read_lines(demo / "passages.jsonl")


def classifier_folders(demo: Path) -> dict[str, list[Path]]:
    return {
        concept_dir.name: sorted(p for p in concept_dir.iterdir() if p.is_dir())
        for concept_dir in sorted(demo.glob("Q*"))
        if concept_dir.is_dir()
    }


# --------------------------------------------------------------------------- reproducible


def test_rebuilding_reproduces_the_committed_demo_byte_for_byte(demo: Path, tmp_path: Path) -> None:
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    rebuilt, committed = demo_files(tmp_path / "demo"), demo_files(demo)
    assert sorted(rebuilt) == sorted(committed), "files differ: run `uv run predictions demo`"
    changed = [name for name in rebuilt if rebuilt[name] != committed[name]]
    assert changed == [], f"demo data drifted from its generator: {changed[:5]}"


def test_the_build_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    """Set and dict order of strings changes with PYTHONHASHSEED; the files must not."""
    assert main(["demo", "--out", str(tmp_path / "here")]) == 0
    environment = {**os.environ, "PYTHONHASHSEED": "4242"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "predictions_core.cli.main",
            "demo",
            "--out",
            str(tmp_path / "there"),
        ],
        check=True,
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        timeout=120,
    )
    assert demo_files(tmp_path / "here") == demo_files(tmp_path / "there")


# --------------------------------------------------------------------------- what it holds


def test_passages_are_many_and_varied(demo_passages: list[dict]) -> None:
    assert len(demo_passages) >= 400
    assert len({row["text_block.text"] for row in demo_passages}) >= 0.9 * len(demo_passages)
    assert 40 <= len({row["document_id"] for row in demo_passages}) <= 60
    # all seven World Bank regions
    assert {row["world_bank_region"] for row in demo_passages} == set(REGION_COUNTRIES)
    assert len(REGION_COUNTRIES) == 7
    corpora = Counter(row["document_metadata.corpus_type_name"] for row in demo_passages)
    assert set(corpora) == {"Laws and Policies", "UNFCCC", "Intl. agreements", "Litigation"}
    years = {int(row["document_metadata.publication_ts"][:4]) for row in demo_passages}
    assert min(years) <= 2006 and max(years) >= 2023 and len(years) >= 15
    assert all(
        row["document_metadata.publication_ts"].endswith("T00:00:00Z") for row in demo_passages
    )
    assert {row["translated"] for row in demo_passages} == {"True", "False"}


def test_three_concepts_with_four_classifiers_each(demo: Path, demo_passages: list[dict]) -> None:
    folders = classifier_folders(demo)
    assert len(folders) >= 3
    for qid, classifiers in folders.items():
        assert len(classifiers) >= 3, qid
        concept = Concept.model_validate(orjson.loads((demo / qid / "concept.json").read_bytes()))
        assert concept.url == f"https://climatepolicyradar.wikibase.cloud/wiki/Item:{qid}"
        assert concept.description and concept.negative_labels
        kinds = set()
        for folder in classifiers:
            classifier = Classifier.model_validate(
                orjson.loads((folder / "classifier.json").read_bytes())
            )
            kinds.add(classifier.kind)
            rows = read_lines(folder / "predictions.jsonl")
            assert len(rows) == len(demo_passages)  # negatives are there too
            assert any(row["spans"] for row in rows) and any(not row["spans"] for row in rows)
            for row in rows:
                passage = LabelledPassage.model_validate(row)
                assert all(span.end_index <= len(passage.text) for span in passage.spans)
        assert kinds == {"keyword", "keyword-cased", "stemmed", "rules"}


def test_gold_labels_by_two_annotators_on_corpus_passages(
    demo: Path, demo_passages: list[dict]
) -> None:
    concept = Concept.model_validate(orjson.loads((demo / "Q787" / "concept.json").read_bytes()))
    gold = concept.labelled_passages
    assert 80 <= len(gold) <= 130
    texts = {f"{r['document_id']}.{r['text_block.text_block_id']}": r for r in demo_passages}
    for passage in gold:
        assert texts[passage.id]["text_block.text"] == passage.text
    labellers_per_passage = [{who for s in p.spans for who in s.labellers} for p in gold]
    assert set().union(*labellers_per_passage) == {"annotator_a", "annotator_b"}
    assert sum(1 for who in labellers_per_passage if len(who) == 1) >= 3  # they disagree
    assert sum(1 for who in labellers_per_passage if not who) >= 30  # and negatives
    # the copies in classifier folders stay small: gold labels live in Q787/concept.json only
    for folder in classifier_folders(demo)["Q787"]:
        assert "labelled_passages" not in orjson.loads((folder / "concept.json").read_bytes())


def passage_level_errors(demo: Path, folder: Path) -> tuple[int, int]:
    """(false positives, false negatives) of a Q787 classifier against the gold labels."""
    concept = Concept.model_validate(orjson.loads((demo / "Q787" / "concept.json").read_bytes()))
    gold = {passage.id: bool(passage.spans) for passage in concept.labelled_passages}
    predicted = {row["id"]: bool(row["spans"]) for row in read_lines(folder / "predictions.jsonl")}
    false_positives = sum(1 for pid, truth in gold.items() if predicted[pid] and not truth)
    false_negatives = sum(1 for pid, truth in gold.items() if truth and not predicted[pid])
    return false_positives, false_negatives


def test_classifiers_are_genuinely_imperfect_against_gold(demo: Path) -> None:
    errors = {}
    for folder in classifier_folders(demo)["Q787"]:
        kind = orjson.loads((folder / "classifier.json").read_bytes())["kind"]
        errors[kind] = passage_level_errors(demo, folder)
    for kind, (false_positives, false_negatives) in errors.items():
        assert false_positives > 0 and false_negatives > 0, kind
    # the stemmed classifier finds "logged" and "timbers"; negative labels remove "data logging"
    assert errors["stemmed"][1] < errors["keyword"][1]
    assert errors["rules"][0] < errors["keyword"][0]


def test_special_passages_for_offsets_and_escaping(demo: Path) -> None:
    for folder in [f for folders in classifier_folders(demo).values() for f in folders]:
        rows = read_lines(folder / "predictions.jsonl")
        markup = [row for row in rows if "<script>alert(1)</script>" in row["text"]]
        assert len(markup) == 1 and "onerror=alert(1)" in markup[0]["text"]
        assert markup[0]["spans"], f"{folder}: the markup passage should hold a match"
    keyword_q218 = next(
        folder
        for folder in classifier_folders(demo)["Q218"]
        if orjson.loads((folder / "classifier.json").read_bytes())["kind"] == "keyword"
    )
    rows = read_lines(keyword_q218 / "predictions.jsonl")
    (emoji_row,) = [row for row in rows if "Côte d’Ivoire 🌍" in row["text"]]
    (span,) = emoji_row["spans"]
    text = emoji_row["text"]
    assert text[span["start_index"] : span["end_index"]] == "methane"
    assert text.index("🌍") < span["start_index"]


def test_older_layout_holds_positives_only(demo: Path) -> None:
    (predictions,) = (demo / "predictions" / "Q223").glob("*.jsonl")
    rows = read_lines(predictions)
    assert rows and all(row["spans"] for row in rows)
    assert (demo / "classifiers" / "Q223" / f"{predictions.stem}.json").is_file()
    concept = orjson.loads((demo / "concepts" / "Q223.json").read_bytes())
    assert concept["wikibase_id"] == "Q223"


def test_demo_is_small_and_says_it_is_synthetic(demo: Path) -> None:
    assert sum(len(content) for content in demo_files(demo).values()) < 5_000_000
    assert "synthetic" in (demo / "README.md").read_text(encoding="utf-8").lower()


# --------------------------------------------------------------------------- safety


def test_rebuild_keeps_app_files_and_drops_stale_demo_folders(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    (out / ".cache").mkdir()
    (out / ".cache" / "table.arrow").write_bytes(b"cache")
    (out / "feedback.sqlite").write_bytes(b"judgements")
    (out / "Q999" / "oldclass").mkdir(parents=True)
    assert main(["demo", "--out", str(out)]) == 0
    assert (out / ".cache" / "table.arrow").read_bytes() == b"cache"
    assert (out / "feedback.sqlite").read_bytes() == b"judgements"
    assert not (out / "Q999").exists()


def test_demo_refuses_a_folder_of_other_data(tmp_path: Path, capsys) -> None:
    (tmp_path / "Q218").mkdir()
    (tmp_path / "Q218" / "concept.json").write_text("{}", encoding="utf-8")
    assert main(["demo", "--out", str(tmp_path)]) == 2
    assert "not the demo's" in capsys.readouterr().err
    assert (tmp_path / "Q218" / "concept.json").read_text(encoding="utf-8") == "{}"
