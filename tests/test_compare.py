"""`predictions_core.analysis.compare` on hand-computed cases, then on Q218 (the bundled demo's,
plus the real one where ../shared exists) against counts made independently with `json`.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from predictions_core.analysis import compare
from predictions_core.data.catalogue import scan_catalogue
from predictions_core.data.loading import load_predictions_file
from predictions_core.data.location import DEMO_DATA_DIR
from predictions_core.errors import InvalidParameterError


def write_predictions(path: Path, passages: list[tuple[str, bool, dict]]) -> Path:
    """A predictions JSONL file: (text, positive?, metadata) per line; spans cover word 1."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for number, (text, positive, metadata) in enumerate(passages):
        end = text.index(" ") if " " in text else len(text)
        spans = [{"start_index": 0, "end_index": end, "concept_id": "Q1"}] if positive else []
        lines.append(
            json.dumps({"id": f"p{number}", "text": text, "spans": spans, "metadata": metadata})
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def classifier(tmp_path: Path, name: str, passages, layout="per_classifier"):
    loaded = load_predictions_file(write_predictions(tmp_path / f"{name}.jsonl", passages))
    assert not loaded.issues
    return compare.ComparedClassifier(
        name, loaded.table, compare.knows_negatives(layout, loaded.table)
    )


TEXTS = [f"passage{i} about something" for i in range(8)]


def labelled(positives: set[int], seen=range(1, 7), metadata=None):
    return [(TEXTS[i], i in positives, (metadata or {}).get(i, {})) for i in seen]


def test_jaccard_of_counts():
    assert compare.jaccard(2, 1, 1) == pytest.approx(0.5)
    assert compare.jaccard(0, 3, 0) == 0.0
    assert compare.jaccard(0, 0, 0) is None


def test_agreement_on_a_hand_computed_pair(tmp_path: Path):
    # A: 1 2 3 positive, 4 5 6 negative; B: 2 3 4 positive, 1 5 6 negative
    a = classifier(tmp_path, "a", labelled({1, 2, 3}))
    b = classifier(tmp_path, "b", labelled({2, 3, 4}))
    result = compare.agreement(a, b)
    assert (result.n_both, result.n_only_a, result.n_only_b) == (2, 1, 1)
    assert result.jaccard == pytest.approx(2 / 4)
    # 6 passages: 2 yes/yes, 1 yes/no, 1 no/yes, 2 no/no -> po 4/6, pe 0.5 -> kappa 1/3
    assert compare.kappa_table(a.table, b.table) == (2, 1, 1, 2)
    assert result.kappa == pytest.approx(1 / 3)
    assert result.n_compared == 6


def test_kappa_only_over_passages_both_saw_and_duplicates_count_once(tmp_path: Path):
    # A also saw passage 7 (negative) and lists passage 1 twice; B never saw 7
    a = classifier(tmp_path, "a", labelled({1, 2, 3}, seen=[1, 1, 2, 3, 4, 5, 6, 7]))
    b = classifier(tmp_path, "b", labelled({2, 3, 4}))
    result = compare.agreement(a, b)
    assert result.n_compared == 6
    assert (result.n_both, result.n_only_a, result.n_only_b) == (2, 1, 1)
    assert result.kappa == pytest.approx(1 / 3)


def test_no_kappa_when_a_file_lists_positives_only(tmp_path: Path):
    a = classifier(tmp_path, "a", labelled({1, 2, 3}))
    b = classifier(tmp_path, "b", labelled({2, 3, 4}, seen=[2, 3, 4]), layout="older")
    assert a.knows_negatives and not b.knows_negatives
    result = compare.agreement(a, b)
    assert result.kappa is None and result.n_compared == 0
    assert result.jaccard == pytest.approx(0.5)
    # a per-classifier file without a single negative does not prove it lists them
    only_positives = classifier(tmp_path, "c", labelled({2, 3}, seen=[2, 3]))
    assert not only_positives.knows_negatives
    # the pipeline's per-document files list the negatives of their documents too
    per_document = classifier(tmp_path, "d", labelled({1, 2}), layout="per_document")
    assert per_document.knows_negatives


def test_intersections_count_each_passage_in_its_exact_combination(tmp_path: Path):
    a = classifier(tmp_path, "a", labelled({1, 2, 3, 6}, seen=range(1, 7)))
    b = classifier(tmp_path, "b", labelled({2, 3, 4, 6}, seen=range(1, 7)))
    c = classifier(tmp_path, "c", labelled({3, 5}, seen=range(1, 7)))
    result = compare.intersections([a, b, c])
    assert result[0] == (("a", "b"), 2)  # passages 2 and 6, sorted first
    assert dict(result) == {
        ("a", "b"): 2,
        ("a",): 1,
        ("a", "b", "c"): 1,
        ("b",): 1,
        ("c",): 1,
    }
    assert sum(count for _, count in result) == 6  # every positive passage once


def test_summary_rows(tmp_path: Path):
    a = classifier(tmp_path, "a", labelled({1, 2, 3}))
    older = classifier(tmp_path, "b", labelled({2, 3}, seen=[2, 3]), layout="older")
    rows = {row["classifier"]: row for row in compare.summary_rows([a, older])}
    assert rows["a"]["passages"] == 6 and rows["a"]["positives"] == 3 and rows["a"]["spans"] == 3
    assert rows["a"]["share_positive"] == pytest.approx(0.5)
    assert rows["a"]["spans_per_positive"] == pytest.approx(1.0)
    assert rows["b"]["share_positive"] is None  # unknown without negatives


def test_positives_by_region_and_year(tmp_path: Path):
    metadata = {
        1: {"world_bank_region": "South Asia", "document_metadata.publication_ts": "2019-01-01"},
        2: {"world_bank_region": "South Asia", "document_metadata.publication_ts": "2021-05-01"},
        3: {"world_bank_region": "Europe & Central Asia"},
        4: {"world_bank_region": "South Asia"},  # negative for a: not counted
    }
    a = classifier(tmp_path, "a", labelled({1, 2, 3}, metadata=metadata))
    by_region = compare.positives_by([a], "region")
    assert dict(zip(by_region["value"], by_region["positives"], strict=True)) == {
        "Europe & Central Asia": 1,
        "South Asia": 2,
    }
    by_year = compare.positives_by([a], "year")
    assert dict(zip(by_year["value"], by_year["positives"], strict=True)) == {
        "2019": 1,
        "2021": 1,
        compare.MISSING_VALUE: 1,
    }
    with pytest.raises(InvalidParameterError, match="column: cannot break down by 'text'"):
        compare.positives_by([a], "text")


def test_disagreement_tables_carry_both_classifiers_spans(tmp_path: Path):
    a = classifier(tmp_path, "a", labelled({1, 2, 3}))
    b = classifier(tmp_path, "b", labelled({2, 3, 4}))
    only_a = compare.disagreement_table(a.table, b.table, "only_a").to_pylist()
    assert [row["text"] for row in only_a] == [TEXTS[1]]
    assert only_a[0]["spans_a"] and only_a[0]["spans_b"] == []
    only_b = compare.disagreement_table(a.table, b.table, "only_b").to_pylist()
    assert [row["text"] for row in only_b] == [TEXTS[4]]
    assert only_b[0]["spans_a"] == [] and only_b[0]["spans_b"]
    both = compare.disagreement_table(a.table, b.table, "both").to_pylist()
    assert [row["text"] for row in both] == [TEXTS[2], TEXTS[3]]
    assert all(row["spans_a"] and row["spans_b"] for row in both)
    with pytest.raises(InvalidParameterError, match="show: 'neither' is not one of"):
        compare.disagreement_table(a.table, b.table, "neither")


def test_disagreement_rows_carry_each_classifiers_own_passage_id(tmp_path: Path):
    """Passages are matched by text: B's file may number them otherwise than A's, and a
    judgement of B must be saved under B's id."""
    a = classifier(tmp_path, "a", labelled({1, 2, 3}))  # TEXTS[1..6] are p0..p5
    b = classifier(tmp_path, "b", labelled({2, 3, 4}, seen=range(7)))  # TEXTS[0..6]: p0..p6
    both = compare.disagreement_table(a.table, b.table, "both").to_pylist()
    assert [(row["id"], row["id_a"], row["id_b"]) for row in both] == [
        ("p1", "p1", "p2"),
        ("p2", "p2", "p3"),
    ]
    only_a = compare.disagreement_table(a.table, b.table, "only_a").to_pylist()
    assert [(row["id_a"], row["id_b"]) for row in only_a] == [("p0", None)]
    only_b = compare.disagreement_table(a.table, b.table, "only_b").to_pylist()
    assert [(row["id_a"], row["id_b"]) for row in only_b] == [(None, "p4")]


def test_concurrent_comparisons_give_the_same_answers(tmp_path: Path):
    """Each query has its own cursor (`data.sql`): threads never share a connection."""
    a = classifier(tmp_path, "a", labelled({1, 2, 3}))
    b = classifier(tmp_path, "b", labelled({2, 3, 4}))
    c = classifier(tmp_path, "c", labelled({3, 5}))

    def compare_all(_: int):
        return (
            compare.pairwise_agreement([a, b, c]),
            compare.intersections([a, b, c]),
            compare.disagreement_table(a.table, b.table, "only_a")["text"].to_pylist(),
        )

    expected = compare_all(0)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(compare_all, range(64)))
    assert all(result == expected for result in results)


# --- Q218: the demo data, and the real fixtures --------------------------------------------


def reference_sets(path: Path) -> tuple[set[str], set[str]]:
    """(texts with spans, all texts) of a predictions file, read independently with json."""
    positives, seen = set(), set()
    for line in path.read_text(encoding="utf-8").splitlines():
        passage = json.loads(line)
        seen.add(passage["text"])
        if passage["spans"]:
            positives.add(passage["text"])
    return positives, seen


def reference_kappa(pos_a: set[str], seen_a: set[str], pos_b: set[str], seen_b: set[str]):
    common = seen_a & seen_b
    n = len(common)
    yes_yes = len(common & pos_a & pos_b)
    no_no = len(common - pos_a - pos_b)
    p_a, p_b = len(common & pos_a) / n, len(common & pos_b) / n
    expected = p_a * p_b + (1 - p_a) * (1 - p_b)
    return ((yes_yes + no_no) / n - expected) / (1 - expected)


def _q218_source(request: pytest.FixtureRequest) -> Path:
    if request.param == "demo":
        if not (DEMO_DATA_DIR / "Q218").is_dir():
            pytest.skip("data/demo has not been generated yet (`uv run predictions demo`)")
        return DEMO_DATA_DIR / "Q218"
    return request.getfixturevalue("real_fixtures") / "vibe_layout" / "Q218"


@pytest.fixture(params=["demo", "real"])
def thinned_pair(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    """Q218 with one classifier and a second one that drops every third positive."""
    source = _q218_source(request)
    data = tmp_path / "data"
    shutil.copytree(source, data / "Q218")
    classifier_dirs = sorted(p for p in (data / "Q218").iterdir() if p.is_dir())
    for extra in classifier_dirs[1:]:
        shutil.rmtree(extra)
    original = classifier_dirs[0].name
    thinned, positives_seen = [], 0
    for line in (classifier_dirs[0] / "predictions.jsonl").read_text().splitlines():
        passage = json.loads(line)
        if passage["spans"]:
            positives_seen += 1
            if positives_seen % 3 == 0:
                passage["spans"] = []
        thinned.append(json.dumps(passage, ensure_ascii=False))
    (data / "Q218" / "thinned").mkdir()
    (data / "Q218" / "thinned" / "predictions.jsonl").write_text("\n".join(thinned) + "\n")
    return data, original


def compared(data: Path, qid: str) -> list[compare.ComparedClassifier]:
    entry = scan_catalogue(data).concept(qid)
    items = []
    for classifier_entry in entry.classifiers.values():
        table = load_predictions_file(classifier_entry.predictions_path).table
        knows = compare.knows_negatives(classifier_entry.layout, table)
        items.append(compare.ComparedClassifier(classifier_entry.id, table, knows))
    return items


def test_agreement_matches_an_independent_count(thinned_pair):
    data, original = thinned_pair
    by_id = {item.id: item for item in compared(data, "Q218")}
    full, thinned = by_id[original], by_id["thinned"]
    pos_a, seen_a = reference_sets(data / "Q218" / original / "predictions.jsonl")
    pos_b, seen_b = reference_sets(data / "Q218" / "thinned" / "predictions.jsonl")
    result = compare.agreement(full, thinned)
    assert result.n_both == len(pos_a & pos_b)
    assert result.n_only_a == len(pos_a - pos_b) > 0
    assert result.n_only_b == len(pos_b - pos_a) == 0
    assert result.jaccard == pytest.approx(len(pos_a & pos_b) / len(pos_a | pos_b))
    assert result.n_compared == len(seen_a & seen_b)
    assert result.kappa == pytest.approx(reference_kappa(pos_a, seen_a, pos_b, seen_b))
    assert 0 < result.kappa < 1
    only_a = compare.disagreement_table(full.table, thinned.table, "only_a")
    assert set(only_a["text"].to_pylist()) == pos_a - pos_b


def test_demo_intersections_of_four_classifiers_match_an_independent_count(demo_copy: Path):
    items = compared(demo_copy, "Q218")
    assert len(items) == 4
    flagged_by: dict[str, set[str]] = {}
    for item in items:
        positives, _ = reference_sets(demo_copy / "Q218" / item.id / "predictions.jsonl")
        for text in positives:
            flagged_by.setdefault(text, set()).add(item.id)
    expected: dict[frozenset[str], int] = {}
    for members in flagged_by.values():
        expected[frozenset(members)] = expected.get(frozenset(members), 0) + 1
    result = compare.intersections(items)
    assert {frozenset(members): count for members, count in result} == expected
    assert [count for _, count in result] == sorted((count for _, count in result), reverse=True)


def test_real_fixtures_two_layouts_of_one_classifier_agree(real_fixtures: Path):
    """The older layout's positives are the per-classifier file's positives: Jaccard 1, no kappa."""
    older = load_predictions_file(real_fixtures / "seed_layout/predictions/Q218/6z4pufsm.jsonl")
    newer = load_predictions_file(real_fixtures / "vibe_layout/Q218/6z4pufsm/predictions.jsonl")
    a = compare.ComparedClassifier(
        "older", older.table, compare.knows_negatives("older", older.table)
    )
    b = compare.ComparedClassifier(
        "newer", newer.table, compare.knows_negatives("per_classifier", newer.table)
    )
    assert b.knows_negatives and not a.knows_negatives
    result = compare.agreement(a, b)
    pos_older, _ = reference_sets(real_fixtures / "seed_layout/predictions/Q218/6z4pufsm.jsonl")
    assert result.n_both == len(pos_older) and result.jaccard == pytest.approx(1.0)
    assert result.kappa is None
    assert compare.intersections([a, b]) == [(("older", "newer"), len(pos_older))]


# ---------------------------------------------------------------------- the Compare charts

LIGHT_BACKGROUND, DARK_BACKGROUND = "#ffffff", "#0e1117"  # Streamlit's two themes
NAMED = {"white": "#ffffff", "black": "#000000"}


def luminance(colour: str) -> float:
    """WCAG relative luminance of a `#rrggbb`, `#rgb` or named colour."""
    colour = NAMED.get(colour, colour).lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    channels = [int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def fixed_colours(spec) -> list[str]:
    """Every colour value written into a Vega-Lite spec (marks, encodings, conditions)."""
    found = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key in ("color", "fill", "stroke"):
                if isinstance(value, str):
                    found.append(value)
                elif isinstance(value, dict):
                    found += [value["value"]] if isinstance(value.get("value"), str) else []
                    conditions = value.get("condition", [])
                    for condition in conditions if isinstance(conditions, list) else [conditions]:
                        found += [condition["value"]] if "value" in condition else []
            elif key != "datasets":
                found += fixed_colours(value)
    elif isinstance(spec, list):
        for item in spec:
            found += fixed_colours(item)
    return found


def views(spec: dict) -> list[dict]:
    """The single views of a (layered, concatenated) spec."""
    if "layer" in spec or "vconcat" in spec:
        return [
            view for part in spec.get("layer", []) + spec.get("vconcat", []) for view in views(part)
        ]
    return [spec]


def mark_type(view: dict) -> str:
    return view["mark"] if isinstance(view["mark"], str) else view["mark"]["type"]


def dataset_rows(spec: dict) -> list[dict]:
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


NAMES = {"grld4c4r": "Keyword", "7nizv2jb": "CasedKeyword", "b4tp3uew": "StemmedKeyword"}


def hand_agreements(ids: list[str]) -> list[compare.Agreement]:
    return [
        compare.Agreement(
            a, b, n_both=9, n_only_a=1, n_only_b=2, jaccard=0.75, kappa=None, n_compared=0
        )
        for i, a in enumerate(ids)
        for b in ids[i + 1 :]
    ]


@pytest.mark.parametrize("n", [2, 3, 6])
def test_heatmap_cells_keep_a_readable_size_for_any_number_of_classifiers(n: int):
    from streamlit.elements.vega_charts import _prepare_vega_lite_spec

    from predictions_core.ui import compare_charts

    ids = [f"id{i:06d}" for i in range(n)]
    names = {cid: f"Classifier number {i}" for i, cid in enumerate(ids)}
    frame = compare_charts.agreement_frame(ids, hand_agreements(ids), names)
    spec = compare_charts.heatmap(frame, "jaccard", list(names.values())).to_dict()
    # a fixed step per cell, whatever n; and natural ("pad") sizing, which Streamlit keeps:
    # its default "fit" squeezed labels and cells into the width, leaving a sliver of cells
    assert spec["width"] == spec["height"] == {"step": compare_charts.CELL_PX}
    assert compare_charts.CELL_PX >= 48  # "-0.25" at 13 px fits with a margin
    assert _prepare_vega_lite_spec(spec, use_container_width=False)["autosize"]["type"] == "pad"
    for view in views(spec):
        for channel in ("x", "y"):
            axis = view["encoding"][channel]["axis"]
            assert axis["labelOverlap"] is False and axis["labelLimit"] >= 150
        assert view["encoding"]["x"]["field"] == "name_a"
    texts = [view for view in views(spec) if mark_type(view) == "text"]
    assert texts and all(view["mark"]["fontSize"] >= 12 for view in texts)
    assert {row["name_a"] for row in dataset_rows(spec)} == set(names.values())


def test_heatmap_na_label_reads_on_both_themes():
    from predictions_core.ui import compare_charts

    ids = ["a", "b"]
    frame = compare_charts.agreement_frame(ids, hand_agreements(ids))
    spec = compare_charts.heatmap(frame, "kappa", ids).to_dict()
    (text,) = [view for view in views(spec) if mark_type(view) == "text"]
    conditions = text["encoding"]["color"]["condition"]
    na = next(c["value"] for c in conditions if c["test"].startswith("!isValid"))
    assert contrast(na, LIGHT_BACKGROUND) >= 3 and contrast(na, DARK_BACKGROUND) >= 3


def test_upset_chart_reads_on_light_and_dark_themes_with_names():
    from predictions_core.ui import compare_charts

    ids = list(NAMES)
    intersections = [(tuple(ids), 120), ((ids[0],), 3), ((ids[1], ids[2]), 1)]
    spec = compare_charts.upset(intersections, ids, NAMES).to_dict()
    # Vega draws text black unless told otherwise: unreadable on the dark theme
    texts = [view for view in views(spec) if mark_type(view) == "text"]
    assert texts and all("color" in view["mark"] or "color" in view["encoding"] for view in texts)
    colours = fixed_colours(spec)
    assert colours
    for colour in colours:
        assert contrast(colour, LIGHT_BACKGROUND) >= 3, colour
        assert contrast(colour, DARK_BACKGROUND) >= 3, colour
    rows = dataset_rows(spec)
    assert {row["classifier"] for row in rows if "classifier" in row} == set(NAMES.values())
    combinations = {row["combination"] for row in rows}
    assert "Keyword + CasedKeyword + StemmedKeyword" in combinations
    assert not any(cid in text for cid in ids for text in combinations)


def test_identical_lines_of_the_year_chart_stay_apart():
    from predictions_core.ui import compare_charts

    frame = pd.DataFrame(
        {
            "classifier": ["grld4c4r"] * 3 + ["7nizv2jb"] * 3,
            "value": ["2019", "2020", "(none)"] * 2,
            "positives": [3, 5, 1] * 2,  # the same counts: one line would hide the other
        }
    )
    spec = compare_charts.breakdown_chart(frame, "year", NAMES).to_dict()
    layers = views(spec)
    line = next(view for view in layers if mark_type(view) == "line")
    point = next(view for view in layers if mark_type(view) == "point")
    assert line["encoding"]["strokeDash"]["field"] == "name"  # a dash pattern each
    assert point["encoding"]["shape"]["field"] == "name"  # a marker shape each
    assert point["mark"]["filled"] is False  # hollow: the marker underneath shows through
    assert line["encoding"]["color"]["field"] == "name"
    assert {row["name"] for row in dataset_rows(spec)} == {"Keyword", "CasedKeyword"}
