"""Synthetic predictions files shaped like the upstream ones, for the speed benchmarks.

One LabelledPassage JSON object per line. About 40% of passages are positives with 1-4 spans,
and every span repeats the passage text in its `text` key, as upstream writes it, so the file
is about as large per passage as a real one. Passages are assembled from a bank of
climate-policy sentences whose slot words have skewed weights: "climate" or "emissions" match
many passages, "methane" a few percent, "sulphur hexafluoride" well under one percent, so
substring and regex searches have realistic selectivity. Output is deterministic by seed.
`query_mix()` is the benchmark's set of queries over such files (same seed, same queries).

    uv run python -m benchmarks.synthetic OUT.jsonl N [--seed S]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import orjson

# Bump when the output changes, so cached benchmark files are regenerated.
GENERATOR_VERSION = 1
REGIONS = [
    "East Asia & Pacific",
    "Europe & Central Asia",
    "Latin America & Caribbean",
    "Middle East & North Africa",
    "North America",
    "South Asia",
    "Sub-Saharan Africa",
]
CORPORA = ["CCLW", "UNFCCC", "MCF", "OEP", "Reports"]
_CORPUS_WEIGHTS = [40, 30, 12, 10, 8]
_ID_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyz"
_LABELLER = 'KeywordClassifier("greenhouse gas")'
_CONCEPT_ID = "Q218"

# Slot vocabularies as (word, weight): the weights set how often a search term matches.
_SLOTS: dict[str, list[tuple[str, float]]] = {
    "actor": [
        ("the Government", 30),
        ("the Ministry of Environment", 12),
        ("the National Climate Change Council", 6),
        ("local authorities", 10),
        ("the private sector", 8),
        ("the Ministry of Water and Environment", 5),
        ("development partners", 4),
        ("the Green Climate Fund", 2),
    ],
    "verb": [
        ("reduce", 20),
        ("monitor", 10),
        ("promote", 12),
        ("strengthen", 10),
        ("phase out", 3),
        ("report on", 6),
        ("regulate", 5),
        ("finance", 5),
    ],
    "object": [
        ("greenhouse gas emissions", 14),
        ("GHG emissions", 6),
        ("carbon dioxide emissions", 6),
        ("CO₂ emissions", 3),
        ("energy efficiency in buildings", 10),
        ("renewable energy capacity", 12),
        ("deforestation and forest degradation", 8),
        ("climate change adaptation measures", 12),
        ("methane emissions from landfills", 0.3),
        ("methane leakage from gas pipelines", 0.2),
        ("nitrous oxide from fertiliser use", 0.5),
        ("water resource management", 8),
        ("coastal resilience", 5),
        ("public transport", 7),
    ],
    "sector": [
        ("energy", 20),
        ("agriculture", 12),
        ("forestry", 8),
        ("transport", 10),
        ("waste", 5),
        ("industrial processes", 4),
        ("land use", 6),
        ("health", 5),
        ("tourism", 2),
        ("mining", 1),
    ],
    "share": [(f"{n} percent", 1) for n in (5, 10, 15, 20, 25, 28, 30, 40, 45, 50, 60, 80)],
    "year": [(str(y), 1) for y in range(2025, 2061, 5)],
    "place": [
        ("rural areas", 8),
        ("urban centres", 8),
        ("the coastal zone", 4),
        ("small island states", 2),
        ("the Sahel", 0.2),
        ("mountain regions", 2),
        ("river basins", 4),
    ],
}

_TEMPLATES = [
    "{actor} will {verb} {object} in the {sector} sector by {year}.",
    "By {year}, {actor} aims to {verb} {object} by {share} relative to a business-as-usual "
    "scenario.",
    "Climate change poses significant risks to {place}, in particular for the {sector} sector.",
    "The strategy sets out how {actor} will {verb} {object} while supporting inclusive growth.",
    "Measures in the {sector} sector include efforts to {verb} {object} in {place}.",
    "{actor} shall publish an annual report on progress to {verb} {object}.",
    "Funding from {actor} is expected to cover {share} of the cost of programmes in {place}.",
    "The {sector} sector accounted for {share} of national emissions in the base year.",
    "Policies to {verb} {object} are aligned with the Nationally Determined Contribution "
    "(NDC) and the Paris Agreement.",
    "An implementation roadmap identifies short, medium and long term actions for the "
    "{sector} sector.",
    "Stakeholder consultations in {place} highlighted the need to {verb} {object}.",
    "Vulnerable groups in {place} will receive fair, equitable and inclusive access to the "
    "expected benefits.",
    "The national inventory covers carbon dioxide, nitrous oxide and fluorinated gases.",
    "The Government’s target is a {share} cut in emissions from {sector} by {year}.",
]


# Rare sentences, each inserted into a passage with its own probability: searches for them
# select well under a few percent of the rows.
_RARE_SENTENCES = [
    ("Emissions of sulphur hexafluoride from electrical switchgear are monitored.", 0.002),
    ("The plan also addresses black carbon from brick kilns.", 0.005),
    ("Peatland rewetting is identified as a priority mitigation option.", 0.01),
    ("A methane abatement programme targets rice paddies and livestock.", 0.02),
]


def _weighted(rng: random.Random, options: list[tuple[str, float]], k: int) -> list[str]:
    words = [word for word, _ in options]
    weights = [weight for _, weight in options]
    return rng.choices(words, weights=weights, k=k)


def build_sentence_bank(rng: random.Random, size: int = 4000) -> list[str]:
    """Sentences from the templates with weighted slot fills (repeats keep the weights)."""
    fills = {slot: _weighted(rng, options, size) for slot, options in _SLOTS.items()}
    bank = []
    for index in range(size):
        template = _TEMPLATES[index % len(_TEMPLATES)]
        sentence = template.format(**{slot: fills[slot][index] for slot in _SLOTS})
        bank.append(sentence[0].upper() + sentence[1:])
    return bank


def _random_id(rng: random.Random) -> str:
    return "".join(rng.choices(_ID_ALPHABET, k=8))


def _passage_text(rng: random.Random, bank: list[str]) -> str:
    """A passage of about 150-1,200 characters: whole sentences until a drawn target length."""
    target = int(rng.triangular(150, 1200, 350))
    sentences = []
    length = 0
    while length < target:
        sentence = bank[rng.randrange(len(bank))]
        sentences.append(sentence)
        length += len(sentence) + 1
    for sentence, probability in _RARE_SENTENCES:
        if rng.random() < probability:
            sentences.insert(rng.randrange(len(sentences) + 1), sentence)
    return " ".join(sentences)


def _spans(rng: random.Random, text: str, timestamp: str) -> list[dict]:
    """1-4 valid spans over `text` (code-point indices), each repeating the text as upstream."""
    spans = []
    for _ in range(rng.randint(1, 4)):
        start = rng.randrange(0, max(1, len(text) - 20))
        end = min(len(text), start + rng.randint(3, 40))
        spans.append(
            {
                "text": text,
                "start_index": start,
                "end_index": end,
                "concept_id": _CONCEPT_ID,
                "labellers": [_LABELLER],
                "timestamps": [timestamp],
                "id": _random_id(rng),
                "labelled_text": text[start:end],
            }
        )
    return spans


def _document_metadata(rng: random.Random, number: int) -> dict:
    """Metadata shared by every passage of one document (some keys missing, as in real files)."""
    corpus = rng.choices(CORPORA, weights=_CORPUS_WEIGHTS)[0]
    metadata: dict[str, object] = {
        "document_id": f"{corpus}.document.{number:07d}.n0000",
        "document_metadata.corpus_type_name": corpus,
    }
    translated = rng.random() < 0.3
    # mostly "True"/"False" strings as upstream writes them, sometimes real booleans
    metadata["translated"] = translated if rng.random() < 0.15 else str(translated)
    if rng.random() < 0.9:
        metadata["world_bank_region"] = rng.choice(REGIONS)
    elif rng.random() < 0.5:
        metadata["world_bank_region"] = ""
    if rng.random() < 0.85:
        year = rng.randint(2000, 2024)
        metadata["document_metadata.publication_ts"] = (
            f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T00:00:00Z"
        )
    return metadata


def iter_synthetic_lines(n: int, seed: int = 0):
    """Yield `n` JSON lines (bytes, newline-terminated) of synthetic predictions."""
    rng = random.Random(seed)
    bank = build_sentence_bank(rng)
    timestamp = "2025-05-08T19:56:13.253441"
    produced = 0
    document_number = 0
    while produced < n:
        document_number += 1
        shared = _document_metadata(rng, document_number)
        for block in range(min(n - produced, rng.randint(1, 99))):
            text = _passage_text(rng, bank)
            metadata = dict(shared)
            metadata["text_block.text_block_id"] = f"b{block}"
            is_positive = rng.random() < 0.4
            record = {
                "id": f"{shared['document_id']}.b{block}",
                "text": text,
                "spans": _spans(rng, text, timestamp) if is_positive else [],
                "metadata": metadata,
            }
            yield orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
            produced += 1


def write_synthetic_predictions(path: Path, n: int, seed: int = 0) -> None:
    """Write `n` synthetic predictions to `path` (JSONL), atomically, streaming to disk."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with partial.open("wb", buffering=4 * 1024 * 1024) as sink:
        chunk: list[bytes] = []
        for line in iter_synthetic_lines(n, seed):
            chunk.append(line)
            if len(chunk) >= 10_000:
                sink.write(b"".join(chunk))
                chunk.clear()
        sink.write(b"".join(chunk))
    partial.replace(path)


# The benchmark's query mix: search terms this data is built to answer with known selectivity.
MIX_SEED = 20240
MIX_SIZE = 120
COMMON_SEARCHES = ["climate", "emissions", "renewable energy", "Paris Agreement"]
RARE_SEARCHES = ["sulphur hexafluoride", "black carbon", "peatland", "Sahel", "methane"]
REGEX_SEARCHES = [
    "/(green ?house|GHG)/i",
    r"/\bmethane\b/",
    "/CO₂|carbon dioxide/",
    r"/\b20[3-5]0\b/",
    "/black carbon|peatland/i",
]


def query_mix(n_queries: int = MIX_SIZE, seed: int = MIX_SEED) -> list[dict[str, object]]:
    """A deterministic mix of URL-style query parameters (the `Filters` a user would send).

    Every search term and sort appears at least once; the rest is drawn at random.
    """
    rng = random.Random(seed)
    sorts = ["default", "length_asc", "length_desc", "random", "document"]
    fixed = [*COMMON_SEARCHES, *RARE_SEARCHES, *REGEX_SEARCHES]
    mix = []
    for index in range(n_queries):
        params: dict[str, object] = {}
        if index < len(fixed):
            params["search"] = fixed[index]
        else:
            kind = rng.random()
            if kind < 0.25:
                params["search"] = rng.choice(COMMON_SEARCHES)
            elif kind < 0.45:
                params["search"] = rng.choice(RARE_SEARCHES)
            elif kind < 0.70:
                params["search"] = rng.choice(REGEX_SEARCHES)
        params.update(_metadata_filters(rng))
        params["sort"] = sorts[index % len(sorts)] if index < len(sorts) else rng.choice(sorts)
        if params["sort"] == "random":
            params["seed"] = str(rng.randrange(1000))
        params["page"] = str(rng.choice([1, 1, 1, 2, 3, 5, 10, 25, 50, rng.randint(1, 50)]))
        params["page_size"] = str(rng.choice([50, 50, 200]))
        mix.append(params)
    return mix


def _metadata_filters(rng: random.Random) -> dict[str, object]:
    params: dict[str, object] = {}
    if rng.random() < 0.3:
        params["region"] = rng.sample(REGIONS, rng.randint(1, 2))
    if rng.random() < 0.25:
        params["corpus"] = rng.sample(CORPORA, rng.randint(1, 2))
    if rng.random() < 0.2:
        params["translated"] = rng.choice(["true", "false"])
    if rng.random() < 0.25:
        low = rng.randint(2000, 2020)
        params["year_min"], params["year_max"] = str(low), str(rng.randint(low, 2024))
    if rng.random() < 0.3:
        params["has_spans"] = rng.choice(["true", "false"])
    return params


def query_kind(params: dict[str, object]) -> str:
    """What dominates a query's cost: a regex, a substring, or only column filters."""
    search = params.get("search")
    if not search:
        return "filters and sort only"
    text = str(search)
    is_regex = text.startswith("/") and (text.endswith("/") or text.endswith("/i"))
    return "regex" if is_regex and len(text) >= 2 else "substring"


def main(argv: list[str] | None = None) -> int:
    """CLI: write a synthetic predictions file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the JSONL file to write")
    parser.add_argument("n", type=int, help="number of passages")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error("n must be >= 0")
    write_synthetic_predictions(args.out, args.n, args.seed)
    print(f"wrote {args.n:,} passages to {args.out} ({args.out.stat().st_size / 1e6:,.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
