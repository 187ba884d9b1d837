"""Candidate concept classifiers that need no network: keyword, cased keyword, stemmed, rules.

Every classifier turns a list of texts into a list of `(start, end)` spans per text, in Python
`str` positions (code points), so `text[start:end]` is the matched label.

Matching rules shared by the keyword kinds:
- a label matches only where it is not preceded or followed by a word character. Lookarounds
  are used rather than `\\b`, so labels that start or end with a non-word character ("CO₂",
  "F-gas", "+5") behave the same as plain words;
- a run of whitespace in a label matches any run of whitespace in the text (PDF-extracted
  text breaks lines in the middle of multi-word labels);
- where labels overlap, the longest one starting at a position wins (as upstream).

Speed: the labels of a classifier are compiled into ONE regular expression whose alternation
is factored as a trie (`greenhouse gas(?:es)?` instead of `greenhouse gases|greenhouse gas`).
Python's `re` tries alternatives one by one at every position, so the factored form is several
times faster on concepts with ~100 labels (see `benchmarks/bench_predict.py`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence

import orjson
import snowballstemmer

from predictions_core.data.models import Concept
from predictions_core.data.spans import overlaps_any
from predictions_core.errors import InvalidParameterError

SpanOffsets = tuple[int, int]
_WHITESPACE = " "
_WORD_TOKEN = re.compile(r"\w+")
# what may separate two tokens of a multi-word label in the stemmed classifier: whitespace and
# hyphens, not sentence punctuation (so "forest. Management" is not "forest management")
_TOKEN_GAP = re.compile(r"[\s\-\u2010\u2011\u2012\u2013]*")


def label_pattern(labels: Iterable[str], *, case_sensitive: bool) -> re.Pattern[str] | None:
    """One compiled regex matching any of `labels` on word boundaries; None when no labels."""
    normalised = {_normalise_label(label, case_sensitive) for label in labels}
    normalised.discard("")
    if not normalised:
        return None
    trie: dict = {}
    for label in normalised:
        node = trie
        for char in label:
            node = node.setdefault(char, {})
        node[""] = {}
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.compile(r"(?<!\w)(?:" + _trie_regex(trie) + r")(?!\w)", flags)


def _normalise_label(label: str, case_sensitive: bool) -> str:
    collapsed = _WHITESPACE.join(label.split())
    if case_sensitive:
        return collapsed
    # lowercase char by char: a few characters ("İ") lowercase to two, which would change
    # what the pattern matches; those stay as they are (IGNORECASE handles them)
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in collapsed)


def _trie_regex(node: dict) -> str:
    branches = [
        (r"\s+" if char == _WHITESPACE else re.escape(char)) + _trie_regex(child)
        for char, child in sorted(node.items())
        if char != ""
    ]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:
        # a label ends here but longer ones continue: the greedy `?` tries the longer first
        # and backtracks to this shorter label when the longer one does not match
        body = "(?:" + body + ")?"
    return body


def find_spans(pattern: re.Pattern[str] | None, texts: Sequence[str]) -> list[list[SpanOffsets]]:
    """The non-overlapping matches of `pattern` in each text."""
    if pattern is None:
        return [[] for _ in texts]
    return [[match.span() for match in pattern.finditer(text)] for text in texts]


class ConceptClassifier:
    """Base of the classifiers: a concept, a kind, parameters, and a deterministic id."""

    kind: str = ""
    class_name: str = ""

    def __init__(self, concept: Concept):
        self.concept = concept

    @property
    def labels(self) -> list[str]:
        """The concept's preferred and alternative labels."""
        return self.concept.all_labels

    @property
    def parameters(self) -> dict:
        """What, beside the concept's labels, decides this classifier's output."""
        return {}

    @property
    def id(self) -> str:
        """8 lowercase base32 characters of a hash of kind, parameters, concept and labels.

        The same classifier of the same concept always gets the same id, so re-running
        `predictions predict` replaces its folder instead of adding a new one.
        """
        payload = orjson.dumps(
            {
                "kind": self.kind,
                "parameters": self.parameters,
                "concept_id": self.concept.wikibase_id,
                "labels": sorted(self.labels),
            },
            option=orjson.OPT_SORT_KEYS,
        )
        digest = hashlib.sha256(payload).digest()
        return base64.b32encode(digest).decode("ascii").lower()[:8]

    @property
    def name(self) -> str:
        """A human name in the upstream style, e.g. `KeywordClassifier("greenhouse gas")`."""
        return f'{self.class_name}("{self.concept.preferred_label}")'

    def predict_spans(self, texts: Sequence[str]) -> list[list[SpanOffsets]]:
        """For each text, the `(start, end)` code-point offsets of the concept's mentions."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{self.name} [{self.kind} {self.id}]"


class KeywordClassifier(ConceptClassifier):
    """Preferred and alternative labels, case-insensitive, on word boundaries."""

    kind = "keyword"
    class_name = "KeywordClassifier"
    case_sensitive = False

    def __init__(self, concept: Concept):
        super().__init__(concept)
        self.pattern = label_pattern(self.labels, case_sensitive=self.case_sensitive)

    @property
    def parameters(self) -> dict:
        return {"case_sensitive": self.case_sensitive}

    def predict_spans(self, texts: Sequence[str]) -> list[list[SpanOffsets]]:
        return find_spans(self.pattern, texts)


class CasedKeywordClassifier(KeywordClassifier):
    """Labels exactly as written (for acronyms: "GHG" but not "ghg")."""

    kind = "keyword-cased"
    class_name = "CasedKeywordClassifier"
    case_sensitive = True


class RulesClassifier(KeywordClassifier):
    """Keywords, minus the matches that overlap a match of one of the concept's negative labels.

    As upstream: with the negative label "data logging", "logging" in "data logging" is not
    a mention of the forestry sector.
    """

    kind = "rules"
    class_name = "RulesBasedClassifier"

    def __init__(self, concept: Concept):
        super().__init__(concept)
        self.negative_pattern = label_pattern(concept.negative_labels, case_sensitive=False)

    @property
    def parameters(self) -> dict:
        negatives = sorted({label.strip() for label in self.concept.negative_labels} - {""})
        return {"case_sensitive": False, "negative_labels": negatives}

    def predict_spans(self, texts: Sequence[str]) -> list[list[SpanOffsets]]:
        positives = find_spans(self.pattern, texts)
        if self.negative_pattern is None:
            return positives
        results = []
        for text, spans in zip(texts, positives, strict=True):
            if spans:
                negatives = [m.span() for m in self.negative_pattern.finditer(text)]
                spans = [span for span in spans if not overlaps_any(span, negatives)]
            results.append(spans)
        return results


class StemmedClassifier(ConceptClassifier):
    """Labels and text reduced to Snowball (English) stems: "forests" matches "forest".

    Text is split into `\\w+` tokens; a label matches a run of consecutive tokens with the
    same stems, separated only by whitespace or hyphens. The span runs from the start of the
    first token to the end of the last. Longest label first, as for keywords.
    """

    kind = "stemmed"
    class_name = "StemmedKeywordClassifier"

    def __init__(self, concept: Concept):
        super().__init__(concept)
        self._stemmer = snowballstemmer.stemmer("english")
        self._stem_of: dict[str, str] = {}
        # words (as written) whose stem starts a label: a passage without one cannot match
        self._trigger_words: set[str] = set()
        self._sequences_by_first_stem: dict[str, list[tuple[str, ...]]] = {}
        self._sequences_by_first_stem = self._index_label_stems()

    @property
    def parameters(self) -> dict:
        return {"stemmer": "snowball-english", "case_sensitive": False}

    def _stem_words(self, words: set[str]) -> None:
        unseen = [word for word in words if word not in self._stem_of]
        if not unseen:
            return
        stems = self._stemmer.stemWords([word.lower() for word in unseen])
        self._stem_of.update(zip(unseen, stems, strict=True))
        first_stems = self._sequences_by_first_stem
        self._trigger_words.update(
            w for w, s in zip(unseen, stems, strict=True) if s in first_stems
        )

    def _index_label_stems(self) -> dict[str, list[tuple[str, ...]]]:
        label_tokens = [_WORD_TOKEN.findall(label) for label in self.labels]
        self._stem_words({token for tokens in label_tokens for token in tokens})
        index: dict[str, set[tuple[str, ...]]] = {}
        for tokens in label_tokens:
            if tokens:
                stems = tuple(self._stem_of[token] for token in tokens)
                index.setdefault(stems[0], set()).add(stems)
        # label words were stemmed before the index existed: they may be triggers too
        self._trigger_words.update(w for w, s in self._stem_of.items() if s in index)
        return {
            first: sorted(sequences, key=lambda s: (-len(s), s))
            for first, sequences in index.items()
        }

    def predict_spans(self, texts: Sequence[str]) -> list[list[SpanOffsets]]:
        words_per_text = [_WORD_TOKEN.findall(text) for text in texts]
        self._stem_words(set().union(*words_per_text))
        triggers = self._trigger_words
        results: list[list[SpanOffsets]] = []
        for text, words in zip(texts, words_per_text, strict=True):
            # a set test in C rules out most passages before any per-token Python work
            if triggers.isdisjoint(words):
                results.append([])
            else:
                results.append(self._match_stems(text, [self._stem_of[w] for w in words]))
        return results

    def _match_stems(self, text: str, stems: list[str]) -> list[SpanOffsets]:
        spans: list[SpanOffsets] = []
        offsets: list[SpanOffsets] | None = None  # found only once some label's stems match
        position = 0
        while position < len(stems):
            length = 0
            for sequence in self._sequences_by_first_stem.get(stems[position], ()):
                end = position + len(sequence)
                if tuple(stems[position:end]) != sequence:
                    continue
                if offsets is None:
                    offsets = [match.span() for match in _WORD_TOKEN.finditer(text)]
                if _joined_by_gaps(text, offsets, position, end):
                    length = len(sequence)
                    break
            if length and offsets is not None:
                spans.append((offsets[position][0], offsets[position + length - 1][1]))
            position += length or 1
        return spans


def _joined_by_gaps(text: str, offsets: list[SpanOffsets], first: int, end: int) -> bool:
    """True when tokens first..end-1 are separated only by whitespace or hyphens."""
    return all(
        _TOKEN_GAP.fullmatch(text, offsets[i][1], offsets[i + 1][0]) for i in range(first, end - 1)
    )


CLASSIFIER_TYPES: dict[str, type[ConceptClassifier]] = {
    cls.kind: cls
    for cls in (KeywordClassifier, CasedKeywordClassifier, StemmedClassifier, RulesClassifier)
}
CLASSIFIER_KINDS: tuple[str, ...] = tuple(CLASSIFIER_TYPES)


def resolve_kinds(kinds: Sequence[str] | None) -> list[str]:
    """The classifier kinds asked for, deduplicated in order; all kinds when none are given."""
    if not kinds:
        return list(CLASSIFIER_KINDS)
    unknown = [kind for kind in kinds if kind not in CLASSIFIER_TYPES]
    if unknown:
        raise InvalidParameterError(
            "--classifier",
            f"unknown kind {', '.join(map(repr, unknown))}; valid kinds: "
            + ", ".join(CLASSIFIER_KINDS),
        )
    return list(dict.fromkeys(kinds))


def build_classifier(kind: str, concept: Concept) -> ConceptClassifier:
    """A classifier of `kind` (one of `CLASSIFIER_KINDS`) for `concept`."""
    return CLASSIFIER_TYPES[resolve_kinds([kind])[0]](concept)
