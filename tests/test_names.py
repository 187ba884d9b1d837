"""Short distinguishing names of a concept's classifiers (charts, pickers, headings)."""

from predictions_core.data.models import Classifier
from predictions_core.data.names import MAX_SHORT_NAME, short_names


def _names(*pairs: tuple[str, str], dates: dict[str, str] | None = None) -> dict[str, str]:
    dates = dates or {}
    return short_names(
        {cid: Classifier(id=cid, name=name, date=dates.get(cid)) for cid, name in pairs}
    )


def test_the_shared_argument_and_the_classifier_suffix_are_dropped():
    names = _names(
        ("a", 'KeywordClassifier("greenhouse gas")'),
        ("b", 'RulesBasedClassifier("greenhouse gas")'),
    )
    assert names == {"a": "Keyword", "b": "RulesBased"}


def test_arguments_that_differ_are_kept():
    names = _names(("a", 'KeywordClassifier("gas")'), ("b", 'KeywordClassifier("CO2")'))
    assert names == {"a": 'KeywordClassifier("gas")', "b": 'KeywordClassifier("CO2")'}


def test_a_lone_classifier_keeps_its_whole_name():
    assert _names(("a", 'BertBasedClassifier("Q218")')) == {"a": 'BertBasedClassifier("Q218")'}


def test_same_names_are_told_apart_by_date_then_id():
    by_date = _names(
        ("a", "Keyword"), ("b", "Keyword"), dates={"a": "2025-01-01", "b": "2026-02-02"}
    )
    assert by_date == {"a": "Keyword · 2025-01-01", "b": "Keyword · 2026-02-02"}
    by_id = _names(("a1", "Keyword"), ("b2", "Keyword"))
    assert by_id == {"a1": "Keyword · a1", "b2": "Keyword · b2"}
    assert len(set(by_id.values())) == 2


def test_a_missing_name_falls_back_to_the_id_and_long_names_are_cut():
    names = _names(("abc123", ""), ("x", "N" * 100))
    assert names["abc123"] == "abc123"
    assert len(names["x"]) == MAX_SHORT_NAME and names["x"].endswith("…")
