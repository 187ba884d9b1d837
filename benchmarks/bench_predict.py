"""How fast are the classifiers of `predictions predict` on 100k passages?

    uv run python benchmarks/bench_predict.py [--n 100000]

Passages: the real CCLW passages of `../shared/fixtures/real` repeated to `--n` (the synthetic
demo corpus when the fixtures are absent). Concept: the real Q218 "greenhouse gas" (~100
labels; the demo Q218 otherwise). Baseline, in the same run: the same labels as one plain
longest-first alternation (`(?<!\\w)(?:label|label|...)(?!\\w)`) — what the trie-factored
pattern of `predictions_core.predict.classifiers` replaces. Then the whole command path: reading a
JSONL passages file and `predict_concept` writing all four classifiers' files.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import orjson

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from predictions_core.data.models import Concept  # noqa: E402
from predictions_core.predict.classifiers import CLASSIFIER_KINDS, build_classifier  # noqa: E402
from predictions_core.predict.passages import read_passages  # noqa: E402
from predictions_core.predict.runner import predict_concept  # noqa: E402

FIXTURES = REPO_ROOT.parent / "shared" / "fixtures" / "real"


def load_inputs(n_passages: int) -> tuple[Concept, list[dict], str]:
    """The concept, `n_passages` passage rows, and a note of where they came from."""
    passages_path = FIXTURES / "passages" / "cclw_passages.jsonl"
    concept_path = FIXTURES / "seed_layout" / "concepts" / "Q218.json"
    if passages_path.is_file() and concept_path.is_file():
        rows = [orjson.loads(line) for line in passages_path.read_bytes().splitlines()]
        concept = Concept.model_validate(orjson.loads(concept_path.read_bytes()))
        source = "real CCLW passages, real Q218"
    else:
        from predictions_core.demo.build import demo_concepts
        from predictions_core.demo.corpus import build_corpus

        rows = [passage.row for passage in build_corpus()]
        concept = demo_concepts()[0]
        source = "synthetic demo passages, demo Q218"
    repeated = []
    for number in range(n_passages):
        row = dict(rows[number % len(rows)])
        row["text_block.text_block_id"] = f"{row.get('text_block.text_block_id')}-{number}"
        repeated.append(row)
    return concept, repeated, source


def baseline_pattern(concept: Concept) -> re.Pattern[str]:
    """The plain alternation: every label escaped, longest first, case-insensitive."""
    labels = sorted({label.lower() for label in concept.all_labels}, key=len, reverse=True)
    alternation = "|".join(re.escape(label) for label in labels)
    return re.compile(r"(?<!\w)(?:" + alternation + r")(?!\w)", re.IGNORECASE)


def timed(function, *args):
    """(result, seconds) of one call."""
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="number of passages")
    n_passages = parser.parse_args().n
    concept, rows, source = load_inputs(n_passages)
    texts = [row["text_block.text"] for row in rows]
    mean_length = sum(map(len, texts)) / len(texts)
    print(f"{n_passages} passages ({source}), mean {mean_length:.0f} characters")
    print(f"concept {concept.wikibase_id}: {len(concept.all_labels)} labels\n")
    print(f"{'classifier':<28} {'seconds':>8} {'passages/s':>12} {'positives':>10}")

    pattern = baseline_pattern(concept)
    found, seconds = timed(lambda: [pattern.findall(text) for text in texts])
    print(
        f"{'baseline (plain alternation)':<28} {seconds:>8.2f} {n_passages / seconds:>12,.0f} "
        f"{sum(1 for spans in found if spans):>10}"
    )
    for kind in CLASSIFIER_KINDS:
        classifier = build_classifier(kind, concept)
        spans, seconds = timed(classifier.predict_spans, texts)
        print(
            f"{kind:<28} {seconds:>8.2f} {n_passages / seconds:>12,.0f} "
            f"{sum(1 for s in spans if s):>10}"
        )

    with tempfile.TemporaryDirectory() as temp:
        passages_path = Path(temp) / "passages.jsonl"
        passages_path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
        passages_file, read_seconds = timed(read_passages, passages_path)
        runs, predict_seconds = timed(
            predict_concept, concept, passages_file.passages, None, Path(temp) / "out"
        )
        size = sum(path.stat().st_size for run in runs for path in run.written if path.exists())
    print(f"\nread JSONL passages: {read_seconds:.2f} s")
    print(
        f"predict_concept, 4 classifiers, files written ({size / 1e6:.0f} MB): "
        f"{predict_seconds:.2f} s"
    )


if __name__ == "__main__":
    main()
