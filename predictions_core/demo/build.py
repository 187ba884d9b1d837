"""The bundled demo data (`data/demo`), built from the synthetic corpus (`predictions demo`).

Everything is fixed (the corpus seed, the prediction time, the annotation time), so a rebuild
gives byte-identical files and git stays clean. The demo holds:

- `passages.jsonl`: the synthetic passages, as input for `predictions predict`;
- Q218, Q1829 and Q787 in the per-classifier layout, each with all four classifier kinds;
- gold labels by two synthetic annotators in `Q787/concept.json`;
- Q223 in the older layout (`predictions/`, `classifiers/`, `concepts/`; positives only).
"""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

import orjson

from predictions_core.data.files import atomic_writer, write_json
from predictions_core.data.models import Concept, LabelledPassage, Span, is_valid_qid
from predictions_core.demo.corpus import ANNOTATORS, SEED, DemoPassage, build_corpus
from predictions_core.errors import PredictionsError
from predictions_core.predict.classifiers import KeywordClassifier
from predictions_core.predict.passages import Passage, read_passages
from predictions_core.predict.runner import (
    PredictionRun,
    classifier_metadata,
    concept_payload,
    predict_concept,
    prediction_line,
    span_fields,
)

DEMO_NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
GOLD_TIMESTAMP = "2024-11-20T10:00:00"
GOLD_CONCEPT_ID = "Q787"
WIKIBASE_ITEM_URL = "https://climatepolicyradar.wikibase.cloud/wiki/Item:"
README_TITLE = "# Demo data (synthetic)"
PASSAGES_FILE = "passages.jsonl"
OLDER_LAYOUT_FOLDERS = ("predictions", "classifiers", "concepts")
# topics whose passages all go into the gold set: the ones that make classifiers err
GOLD_TOPICS = {"forestry_implicit", "logging_trap", "forest_conservation", "special"}
N_GOLD_FORESTRY = 30
N_GOLD_OTHER = 40

CONCEPTS: list[dict] = [
    {
        "wikibase_id": "Q218",
        "preferred_label": "greenhouse gas",
        "alternative_labels": [
            "greenhouse gases",
            "GHG",
            "GHGs",
            "carbon dioxide",
            "CO2",
            "CO₂",
            "carbon dioxide equivalent",
            "CO2e",
            "methane",
            "CH4",
            "nitrous oxide",
            "N2O",
            "fluorinated gases",
            "HFCs",
            "black carbon",
        ],
        "negative_labels": ["Greenhouse Gas Protocol", "GHG Protocol"],
        "description": "Gases in the atmosphere that trap heat radiating from Earth's surface.",
        "definition": "Atmospheric gases, natural and human-made, that absorb and emit infrared "
        "radiation and so warm the climate, such as carbon dioxide, methane and nitrous oxide.",
    },
    {
        "wikibase_id": "Q1829",
        "preferred_label": "renewable energy",
        "alternative_labels": [
            "renewables",
            "renewable energy sources",
            "renewable power",
            "solar power",
            "solar energy",
            "solar PV",
            "wind power",
            "wind farms",
            "geothermal energy",
            "hydropower",
            "small hydro",
            "clean energy",
            "RE",
        ],
        "negative_labels": ["non-renewable energy"],
        "description": "Energy from sources that are naturally replenished, such as sun and wind.",
        "definition": "Energy from sources replenished on a human timescale: solar, wind, "
        "hydro, geothermal and sustainable bioenergy.",
    },
    {
        "wikibase_id": "Q787",
        "preferred_label": "forestry sector",
        "alternative_labels": [
            "forestry",
            "forest management",
            "sustainable forest management",
            "forest industry",
            "forest fire prevention",
            "logging",
            "timber",
            "lumber",
            "silviculture",
            "wood industry",
        ],
        "negative_labels": ["data logging", "event logging"],
        "description": "Activities that relate to the production of goods and services from "
        "forests.",
        "definition": None,
    },
]
OLDER_LAYOUT_CONCEPT = {
    "wikibase_id": "Q223",
    "preferred_label": "carbon dioxide",
    "alternative_labels": ["CO2", "CO₂", "carbon dioxide equivalent", "CO2e"],
    "negative_labels": [],
    "description": "A long-lived gas, chiefly emitted from burning fossil fuels.",
    "subconcept_of": ["Q218"],
}

README_TEXT = f"""{README_TITLE}

Everything in this folder is **synthetic**: invented passages composed from template sentences
(`predictions_core/demo/corpus.py`), with invented document ids and metadata. It is not taken
from any real document. It exists so the dashboard shows something on a fresh clone.

- `{PASSAGES_FILE}`: the passages, in the input format of `predictions predict`.
- `Q218/`, `Q1829/`, `Q787/`: the per-classifier layout, four classifiers each
  (keyword, keyword-cased, stemmed, rules), positives and negatives.
- `Q787/concept.json` holds gold labels (`labelled_passages`) by two synthetic annotators,
  `annotator_a` and `annotator_b`, who disagree on a few passages.
- `predictions/Q223/`, `classifiers/Q223/`, `concepts/Q223.json`: the older layout
  (positives only).

Rebuild it (identical bytes on every run; `tests/test_demo.py` checks that):

```bash
uv run predictions demo
```
"""


def demo_concepts() -> list[Concept]:
    """The concepts of the per-classifier layout (without gold labels)."""
    return [Concept.model_validate({**data, "url": _url(data)}) for data in CONCEPTS]


def _url(data: dict) -> str:
    return WIKIBASE_ITEM_URL + data["wikibase_id"]


def gold_passages(corpus: list[DemoPassage], passages_by_id: dict[str, Passage]) -> list:
    """~100 Q787 gold LabelledPassages: every tricky passage, plus a sample of the others."""
    rng = random.Random(SEED + 1)
    tricky = [p for p in corpus if p.topic in GOLD_TOPICS]
    forestry = rng.sample([p for p in corpus if p.topic == "forestry"], N_GOLD_FORESTRY)
    others = [p for p in corpus if p.topic not in GOLD_TOPICS and p.topic != "forestry"]
    chosen_ids = {p.id for p in tricky + forestry + rng.sample(others, N_GOLD_OTHER)}
    labelled = []
    for demo_passage in corpus:
        if demo_passage.id not in chosen_ids:
            continue
        passage = passages_by_id[demo_passage.id]
        spans = [
            Span(
                start_index=start,
                end_index=end,
                concept_id=GOLD_CONCEPT_ID,
                labellers=[annotator],
                timestamps=[GOLD_TIMESTAMP],
            )
            for annotator in ANNOTATORS
            for start, end, who in demo_passage.forestry_spans
            if annotator in who
        ]
        labelled.append(
            LabelledPassage(
                id=passage.id, text=passage.text, spans=spans, metadata=passage.metadata
            )
        )
    return labelled


def build_demo(out_dir: Path) -> list[PredictionRun]:
    """Write the whole demo into `out_dir` (see module docstring); returns the runs."""
    _clear_previous_demo(out_dir)
    corpus = build_corpus()
    passages_path = out_dir / PASSAGES_FILE
    with atomic_writer(passages_path) as sink:
        for demo_passage in corpus:
            sink.write(orjson.dumps(demo_passage.row, option=orjson.OPT_APPEND_NEWLINE))
    passages = read_passages(passages_path).passages
    passages_by_id = {passage.id: passage for passage in passages}
    runs: list[PredictionRun] = []
    for concept in demo_concepts():
        if concept.wikibase_id == GOLD_CONCEPT_ID:
            concept.labelled_passages = gold_passages(corpus, passages_by_id)
        runs += predict_concept(concept, passages, None, out_dir, now=DEMO_NOW)
    _write_older_layout(out_dir, passages)
    (out_dir / "README.md").write_text(README_TEXT, encoding="utf-8")
    return runs


def _write_older_layout(out_dir: Path, passages: list[Passage]) -> None:
    concept = Concept.model_validate({**OLDER_LAYOUT_CONCEPT, "url": _url(OLDER_LAYOUT_CONCEPT)})
    classifier = KeywordClassifier(concept)
    qid = concept.wikibase_id
    fields = span_fields(classifier, DEMO_NOW)
    spans_per_passage = classifier.predict_spans([passage.text for passage in passages])
    with atomic_writer(out_dir / "predictions" / qid / f"{classifier.id}.jsonl") as sink:
        for passage, spans in zip(passages, spans_per_passage, strict=True):
            if spans:
                sink.write(prediction_line(passage, spans, fields))
    older_metadata = classifier_metadata(classifier, DEMO_NOW)
    write_json(out_dir / "classifiers" / qid / f"{classifier.id}.json", older_metadata)
    write_json(out_dir / "concepts" / f"{qid}.json", concept_payload(concept, with_gold=False))


def _clear_previous_demo(out_dir: Path) -> None:
    """Remove what an earlier demo build wrote; refuse to touch a folder of other data."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise PredictionsError(f"{out_dir} is a file, not a folder for the demo data")
    visible = [entry for entry in out_dir.iterdir() if not entry.name.startswith(".")]
    readme = out_dir / "README.md"
    is_demo = readme.is_file() and readme.read_text(encoding="utf-8").startswith(README_TITLE)
    if visible and not is_demo:
        raise PredictionsError(
            f"{out_dir} holds data that is not the demo's: choose an empty or new folder"
        )
    for entry in visible:
        owned = entry.name in (*OLDER_LAYOUT_FOLDERS, PASSAGES_FILE, "README.md")
        if entry.is_dir() and (is_valid_qid(entry.name) or owned):
            shutil.rmtree(entry)
        elif entry.is_file() and owned:
            entry.unlink()
