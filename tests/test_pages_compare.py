"""The Compare page under AppTest: the comparison against `predictions_core.analysis.compare`.

The data is a copy of the bundled demo data (Q218 has four classifiers); the disagreement
browser is also checked on a real classifier paired with a thinned copy of itself.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from predictions_core.analysis import compare
from predictions_core.analysis.evaluation import evaluate_concept
from predictions_core.data.catalogue import scan_catalogue
from predictions_core.data.store import PredictionStore
from predictions_core.query.engine import query_predictions
from predictions_core.query.filters import Filters
from tests.page_support import (
    dataframe_with,
    first_classifier,
    messages,
    open_page,
    shown_counts,
    table_of,
)

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")
COMPARE = "pages/compare.py"


def compared(data_dir: Path, qid: str, ids: list[str]) -> list[compare.ComparedClassifier]:
    """The classifiers as `compare` takes them, read without the app."""
    entry = scan_catalogue(data_dir).concept(qid)
    items = []
    for classifier_id in ids:
        table = table_of(data_dir, qid, classifier_id)
        knows = compare.knows_negatives(entry.classifiers[classifier_id].layout, table)
        items.append(compare.ComparedClassifier(classifier_id, table, knows))
    return items


def test_compare_page_summary_charts_and_disagreements(use_data, demo_copy: Path):
    use_data(demo_copy)
    at = open_page(COMPARE, {"concept": "Q218"})
    ids = at.multiselect(key="compare_classifiers").value
    assert len(ids) >= 2 and at.query_params["classifier"] == ids
    names = scan_catalogue(demo_copy).concept("Q218").short_names
    summary = dataframe_with(at, "Positives")
    assert list(summary["Classifier"]) == [names[cid] for cid in ids]  # names, ids beside
    assert list(summary["Id"]) == ids
    assert at.selectbox(key="compare_pair_a").options == [names[cid] for cid in ids]
    assert "Gold F1" not in summary.columns and not at.get("page_link")  # Q218: no gold
    items = compared(demo_copy, "Q218", ids)
    rows = compare.summary_rows(items)
    assert list(summary["Positives"]) == [row["positives"] for row in rows]
    assert len(at.get("vega_lite_chart")) >= 3  # heat map(s), overlap, breakdowns
    pair = compare.agreement(items[0], items[1])
    options = at.segmented_control(key="compare_show").options
    assert options == [
        f"Only A ({pair.n_only_a:,})",
        f"Only B ({pair.n_only_b:,})",
        f"Both ({pair.n_both:,})",
    ]
    at.segmented_control(key="compare_show").set_value("both").run()
    assert at.query_params["show"] == "both"
    both = compare.disagreement_table(items[0].table, items[1].table, "both")
    assert shown_counts(at)[0] == both.num_rows > 0
    legend = next(html.value for html in at.get("html") if "pc-legend" in html.value)
    assert "pc-a" in legend and "pc-b" in legend
    reopened = open_page(COMPARE, dict(at.query_params))
    assert shown_counts(reopened) == shown_counts(at)
    assert reopened.multiselect(key="compare_classifiers").value == ids


def test_compare_with_an_unknown_classifier_in_the_url(use_data, demo_copy: Path):
    use_data(demo_copy)
    ids = list(scan_catalogue(demo_copy).concept("Q218").classifiers)
    at = open_page(COMPARE, {"concept": "Q218", "classifier": [ids[0], "nope", ids[1]]})
    assert "**classifier**" in messages(at) and "nope" in messages(at)
    assert at.multiselect(key="compare_classifiers").value == [ids[0], ids[1]]
    assert at.query_params["classifier"] == [ids[0], ids[1]]


def test_compare_needs_two_classifiers(use_data, demo_copy: Path):
    use_data(demo_copy)
    assert len(scan_catalogue(demo_copy).concept("Q223").classifiers) == 1
    at = open_page(COMPARE, {"concept": "Q223"})
    assert any("needs two or more" in info.value for info in at.info)
    assert not at.get("vega_lite_chart")


@pytest.fixture(params=["demo", "real"])
def thinned_pair(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    """Q218 with one classifier, and a copy of it ("thinned") without every third positive.

    Returns (data dir, the classifier's id); from the demo data or the real fixtures.
    """
    if request.param == "demo":
        source = request.getfixturevalue("demo_copy") / "Q218"
    else:
        source = request.getfixturevalue("real_fixtures") / "vibe_layout" / "Q218"
    classifier_id = first_classifier(source.parent, "Q218")
    data = tmp_path / "pair"
    shutil.copytree(source, data / "Q218")
    for folder in (data / "Q218").iterdir():
        if folder.is_dir() and folder.name != classifier_id:
            shutil.rmtree(folder)
    lines, positives = [], 0
    predictions = data / "Q218" / classifier_id / "predictions.jsonl"
    for line in predictions.read_text(encoding="utf-8").splitlines():
        passage = json.loads(line)
        if passage["spans"]:
            positives += 1
            passage["spans"] = [] if positives % 3 == 0 else passage["spans"]
        lines.append(json.dumps(passage))
    (data / "Q218" / "thinned").mkdir()
    (data / "Q218" / "thinned" / "predictions.jsonl").write_text("\n".join(lines) + "\n")
    return data, classifier_id


def test_compare_disagreements_of_a_classifier_and_its_thinned_copy(use_data, thinned_pair):
    data, classifier_id = thinned_pair
    use_data(data)
    at = open_page(COMPARE, {"concept": "Q218", "search": "emissions"})
    assert at.multiselect(key="compare_classifiers").value == [classifier_id, "thinned"]
    full, thinned = compared(data, "Q218", [classifier_id, "thinned"])
    only_full = compare.disagreement_table(full.table, thinned.table, "only_a")
    expected = query_predictions(only_full, Filters(search="emissions"))
    assert shown_counts(at) == (expected.filtered_count, only_full.num_rows)
    assert 0 < expected.filtered_count < only_full.num_rows  # the search narrows the view
    assert at.text_input(key="compare_search").value == "emissions"
    assert "Cohen" in " ".join(m.value for m in at.markdown)
    assert not any("kappa needs" in c.value for c in at.caption)  # both files list negatives


def test_compare_charts_show_names_not_ids(use_data, demo_copy: Path):
    use_data(demo_copy)
    concept = scan_catalogue(demo_copy).concept("Q218")
    at = open_page(COMPARE, {"concept": "Q218"})
    ids = at.multiselect(key="compare_classifiers").value
    specs = " ".join(chart.proto.spec for chart in at.get("vega_lite_chart"))
    assert specs and not any(cid in specs for cid in ids)  # e.g. the axes' sort orders
    assert all(f'"{concept.short_name(cid)}"' in specs for cid in ids)


def test_compare_url_with_one_classifier_asks_for_a_second(use_data, demo_copy: Path):
    use_data(demo_copy)
    concept = scan_catalogue(demo_copy).concept("Q218")
    ids = list(concept.classifiers)
    at = open_page(COMPARE, {"concept": "Q218", "classifier": ids[0]})
    info = " ".join(box.value for box in at.info)
    assert "one classifier" in info and concept.short_name(ids[0]) in info
    assert not at.get("vega_lite_chart")  # nothing compared behind the user's back
    assert at.query_params["classifier"] in (ids[0], [ids[0]])  # the link's one, kept
    button = at.button(key="compare_all_classifiers")
    assert button.label == f"Compare with all {len(ids)} classifiers"
    button.click().run()
    assert not at.exception
    assert at.multiselect(key="compare_classifiers").value == ids
    assert at.query_params["classifier"] == ids
    assert list(dataframe_with(at, "Positives")["Id"]) == ids


def test_compare_with_gold_labels_shows_scores_and_links_to_evaluate(
    use_data, demo_copy: Path, settings_for
):
    use_data(demo_copy)
    concept = scan_catalogue(demo_copy).concept("Q787")
    assert concept.gold_passages
    at = open_page(COMPARE, {"concept": "Q787"})
    summary = dataframe_with(at, "Gold F1")
    expected = evaluate_concept(PredictionStore(settings_for(demo_copy)), "Q787")
    scores = {item.id: item for item in expected.classifiers}
    for _, row in summary.iterrows():
        passage = scores[row["Id"]].passage  # what Evaluate shows for the concept's gold
        assert row["Gold P"] == pytest.approx(passage.precision)
        assert row["Gold R"] == pytest.approx(passage.recall)
        assert row["Gold F1"] == pytest.approx(passage.f1)
        assert row["Gold covered"] == scores[row["Id"]].n_covered
    (link,) = at.get("page_link")
    assert link.proto.page == "evaluate" and link.proto.query_string == "concept=Q787"
