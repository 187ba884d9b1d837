"""The candidate classifiers: matching rules, offsets, ids, and agreement with upstream."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predictions_core.data.models import Concept, is_valid_classifier_id
from predictions_core.errors import InvalidParameterError
from predictions_core.predict.classifiers import (
    CLASSIFIER_KINDS,
    CasedKeywordClassifier,
    KeywordClassifier,
    RulesClassifier,
    StemmedClassifier,
    build_classifier,
    label_pattern,
    resolve_kinds,
)


def concept(*labels: str, negative: tuple[str, ...] = (), qid: str = "Q218") -> Concept:
    return Concept(
        wikibase_id=qid,
        preferred_label=labels[0],
        alternative_labels=list(labels[1:]),
        negative_labels=list(negative),
    )


def matched(classifier, text: str) -> list[str]:
    return [text[start:end] for start, end in classifier.predict_spans([text])[0]]


# --------------------------------------------------------------------------- keyword


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CO2 and CO2e are not the same", ["CO2"]),
        ("(CO2), CO2-equivalent; CO2.", ["CO2", "CO2", "CO2"]),
        ("CO2e only", []),
        ("biogas and gases", []),
        ("gas_turbine or gas2 are one word each", []),
        ("CO₂-equivalent and CO₂e", ["CO₂"]),
        ("F-gas, not F-gases", ["F-gas"]),
    ],
)
def test_keyword_matches_whole_words_only(text: str, expected: list[str]) -> None:
    classifier = KeywordClassifier(concept("gas", "CO2", "CO₂", "F-gas"))
    assert matched(classifier, text) == expected


def test_longest_label_wins_where_labels_overlap() -> None:
    classifier = KeywordClassifier(concept("gas", "greenhouse gas", "greenhouse gas emissions"))
    text = "greenhouse gas emissions, greenhouse gas and gas"
    assert matched(classifier, text) == ["greenhouse gas emissions", "greenhouse gas", "gas"]


def test_a_longer_label_that_fails_its_boundary_falls_back_to_a_shorter_one() -> None:
    classifier = KeywordClassifier(concept("carbon", "carbon tax"))
    assert matched(classifier, "carbon taxes") == ["carbon"]


def test_whitespace_in_a_label_matches_line_breaks_and_runs_of_spaces() -> None:
    classifier = KeywordClassifier(concept("greenhouse gas"))
    assert matched(classifier, "greenhouse\ngas and greenhouse   gas") == [
        "greenhouse\ngas",
        "greenhouse   gas",
    ]


def test_offsets_are_code_points_after_emoji_and_accents() -> None:
    classifier = KeywordClassifier(concept("methane"))
    text = "🌍🌱 In Côte d’Ivoire, méthane is not methane 🔥 but Methane is"
    spans = classifier.predict_spans([text])[0]
    assert [text[start:end] for start, end in spans] == ["methane", "Methane"]
    assert spans[0][0] == text.index("methane")
    # an astral emoji is one code point in Python but two UTF-16 units: offsets must not drift
    assert len("🌍") == 1


def test_regex_metacharacters_in_labels_are_literal() -> None:
    classifier = KeywordClassifier(concept("REDD+", "C2H3Cl2", "a.b"))
    assert matched(classifier, "REDD+ and REDD and axb and a.b") == ["REDD+", "a.b"]


def test_cased_keyword_needs_the_exact_case() -> None:
    labels = concept("greenhouse gas", "GHG")
    text = "Greenhouse gas and GHG and ghg and greenhouse gas"
    assert matched(KeywordClassifier(labels), text) == [
        "Greenhouse gas",
        "GHG",
        "ghg",
        "greenhouse gas",
    ]
    assert matched(CasedKeywordClassifier(labels), text) == ["GHG", "greenhouse gas"]


def test_empty_and_blank_texts_give_no_spans() -> None:
    for kind in CLASSIFIER_KINDS:
        classifier = build_classifier(kind, concept("forest"))
        assert classifier.predict_spans(["", "   ", "\n"]) == [[], [], []]


# --------------------------------------------------------------------------- stemmed


def test_stemmed_matches_inflected_forms() -> None:
    classifier = StemmedClassifier(concept("forest", "logging", "forest management"))
    text = "Forests were logged; forest managed areas and forest-management plans"
    assert matched(classifier, text) == [
        "Forests",
        "logged",
        "forest managed",
        "forest-management",
    ]
    # keywords find only the bare "forest" where the label is written exactly
    assert matched(KeywordClassifier(classifier.concept), text) == ["forest", "forest"]


def test_stemmed_does_not_join_tokens_across_sentence_punctuation() -> None:
    classifier = StemmedClassifier(concept("forest management", "forest"))
    # "forest. Management" is not the label; the shorter label "forest" still matches
    assert matched(classifier, "the forest. Management of the budget") == ["forest"]


def test_stemmed_offsets_are_code_points_after_astral_characters() -> None:
    classifier = StemmedClassifier(concept("timber"))
    text = "𝔗𝔥𝔢 🌳 timbers"
    (start, end), *_ = classifier.predict_spans([text])[0]
    assert text[start:end] == "timbers"


def test_stemmed_reuses_its_stem_cache_across_calls() -> None:
    classifier = StemmedClassifier(concept("forest"))
    first = classifier.predict_spans(["forests here", "no match"])
    assert classifier.predict_spans(["forests here", "no match"]) == first == [[(0, 7)], []]


# --------------------------------------------------------------------------- rules


def test_rules_drop_matches_overlapping_a_negative_label() -> None:
    labels = concept("logging", "timber", negative=("data logging",))
    text = "Data logging of meters; illegal logging and timber"
    assert matched(KeywordClassifier(labels), text) == ["logging", "logging", "timber"]
    assert matched(RulesClassifier(labels), text) == ["logging", "timber"]


def test_rules_without_negative_labels_equal_keyword() -> None:
    labels = concept("greenhouse gas", "GHG")
    texts = ["GHG and greenhouse gases", "greenhouse gas"]
    assert RulesClassifier(labels).predict_spans(texts) == KeywordClassifier(labels).predict_spans(
        texts
    )


# --------------------------------------------------------------------------- ids and names


def test_ids_are_deterministic_valid_and_distinct_per_kind() -> None:
    labels = concept("forestry sector", "timber", "logging", negative=("data logging",))
    ids = [build_classifier(kind, labels).id for kind in CLASSIFIER_KINDS]
    assert ids == [build_classifier(kind, labels.model_copy()).id for kind in CLASSIFIER_KINDS]
    assert len(set(ids)) == len(CLASSIFIER_KINDS)
    for classifier_id in ids:
        assert re.fullmatch(r"[a-z2-7]{8}", classifier_id)
        assert is_valid_classifier_id(classifier_id)


def test_id_follows_labels_and_concept_but_not_label_order() -> None:
    base = KeywordClassifier(concept("forestry", "timber", "logging")).id
    assert KeywordClassifier(concept("forestry", "logging", "timber")).id == base
    assert KeywordClassifier(concept("forestry", "timber")).id != base
    assert KeywordClassifier(concept("forestry", "timber", "logging", qid="Q787")).id != base


def test_rules_id_follows_negative_labels() -> None:
    without = RulesClassifier(concept("logging"))
    with_negative = RulesClassifier(concept("logging", negative=("data logging",)))
    assert without.id != with_negative.id
    assert with_negative.parameters["negative_labels"] == ["data logging"]


def test_names_follow_the_upstream_style() -> None:
    assert (
        KeywordClassifier(concept("greenhouse gas")).name == 'KeywordClassifier("greenhouse gas")'
    )


def test_unknown_kind_is_a_clear_error_listing_valid_kinds() -> None:
    with pytest.raises(InvalidParameterError) as raised:
        resolve_kinds(["keyword", "bert"])
    assert "'bert'" in raised.value.message
    for kind in CLASSIFIER_KINDS:
        assert kind in raised.value.message
    assert resolve_kinds(None) == list(CLASSIFIER_KINDS)
    assert resolve_kinds(["rules", "rules", "keyword"]) == ["rules", "keyword"]


# --------------------------------------------------------------------------- properties

LABEL_WORDS = st.sampled_from(["gas", "green", "greenhouse", "CO2", "co₂", "F-gas", "a.b", "x"])
LABELS = st.lists(
    st.lists(LABEL_WORDS, min_size=1, max_size=3).map(" ".join), min_size=1, max_size=6
)
TEXT_PIECES = st.one_of(LABEL_WORDS, st.sampled_from([" ", "\n", "-", "e", "🌍", "é", ", "]))


def reference_pattern(labels: list[str]) -> re.Pattern[str]:
    """The obvious construction: one escaped alternation, longest label first."""
    normalised = sorted(
        {" ".join(label.lower().split()) for label in labels}, key=len, reverse=True
    )
    alternation = "|".join(r"\s+".join(map(re.escape, label.split(" "))) for label in normalised)
    return re.compile(r"(?<!\w)(?:" + alternation + r")(?!\w)", re.IGNORECASE)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), labels=LABELS)
def test_trie_pattern_finds_what_the_plain_alternation_finds(data, labels) -> None:
    # texts built from the labels themselves, so overlapping and nested labels meet often
    pieces = st.one_of(TEXT_PIECES, st.sampled_from(labels), st.sampled_from(labels).map(str.upper))
    text = data.draw(st.lists(pieces, max_size=20).map("".join))
    expected = [m.span() for m in reference_pattern(labels).finditer(text)]
    found = [m.span() for m in label_pattern(labels, case_sensitive=False).finditer(text)]
    assert found == expected
    normalised = {" ".join(label.lower().split()) for label in labels}
    for start, end in found:
        assert " ".join(text[start:end].lower().split()) in normalised


# --------------------------------------------------------------------------- upstream agreement


def upstream_rows(real_fixtures: Path, qid: str, classifier_id: str) -> list[dict]:
    path = real_fixtures / "vibe_layout" / qid / classifier_id / "predictions.jsonl"
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


@pytest.mark.parametrize(("qid", "classifier_id"), [("Q218", "6z4pufsm"), ("Q223", "36bhx4mu")])
def test_keyword_agrees_with_upstream_keyword_classifier(
    real_fixtures: Path, qid: str, classifier_id: str
) -> None:
    """Upstream's KeywordClassifier ran on these passages; ours runs on the same texts.

    Upstream matches labels holding capitals or non-ASCII case-sensitively and the others
    case-insensitively; ours (`keyword`) is case-insensitive throughout, so it could find
    more. On these passages both find exactly the same spans, and so the same positives.
    """
    concept_data = orjson.loads((real_fixtures / f"seed_layout/concepts/{qid}.json").read_bytes())
    rows = upstream_rows(real_fixtures, qid, classifier_id)
    ours = KeywordClassifier(Concept.model_validate(concept_data)).predict_spans(
        [row["text"] for row in rows]
    )
    older_layout = real_fixtures / f"seed_layout/predictions/{qid}/{classifier_id}.jsonl"
    older_ids = {orjson.loads(line)["id"] for line in older_layout.read_bytes().splitlines()}
    upstream_positive = {row["id"] for row in rows if row["spans"]}
    assert older_ids == upstream_positive  # the same upstream predictions in both layouts
    upstream_spans = {
        (row["id"], span["start_index"], span["end_index"]) for row in rows for span in row["spans"]
    }
    our_spans = {
        (row["id"], start, end)
        for row, spans in zip(rows, ours, strict=True)
        for start, end in spans
    }
    assert upstream_spans, "the fixture holds upstream spans to compare with"
    assert our_spans == upstream_spans
