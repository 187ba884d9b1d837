"""The `search` parameter: the SQL that selects matching rows, and where it matches in a text.

Rows: substring or RE2 regex, with cheap prefilters. RE2 is linear in the text, but not
equally fast on every pattern: a case-insensitive phrase or a pattern with `\\b` runs several
times slower than a plain word. When a pattern can only match where some literal word occurs,
a search for that word runs first and the full pattern only on the rows that pass it. The
prefilter is always case-insensitive, so it can only let more rows through, never fewer.

Hits: `search_hits` finds the offsets of the matches in the texts shown, with the same engine
(RE2 in DuckDB for a regex), so every row the filter selects gets its marks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import duckdb

from predictions_core.data.sql import fetch_rows

if TYPE_CHECKING:  # filters imports this module for its SQL
    from predictions_core.query.filters import SearchPattern

Range = tuple[int, int]

_RE2_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
# escapes whose arguments look like literal text (\x41, \p{Greek}, \Q...\E, \1): a pattern
# using them gets no prefilter rather than a wrong one
_ESCAPES_WITH_ARGUMENTS = re.compile(r"\\[xpPQC0-9]")
MIN_PREFILTER_LENGTH = 3


def re2_literal(text: str) -> str:
    """`text` as an RE2 pattern that matches exactly that text (punctuation escaped)."""
    return "".join("\\" + char if char in _RE2_PUNCTUATION else char for char in text)


def re2_caseless_literal(text: str) -> str:
    """`text` as a case-sensitive RE2 pattern that matches it in any letter case.

    `[Ss][Aa][Hh][Ee][Ll]` rather than RE2's `i` flag: the flag folds by Unicode (`s` also
    matches `ſ`, `k` the Kelvin sign), which makes the scan up to 6x slower on a million
    texts, for matches nobody searches for.
    """
    pieces = []
    for char in text:
        variants = {v for v in (char, char.lower(), char.upper()) if len(v) == 1}
        if variants & {"σ", "ς", "Σ"}:
            variants |= {"σ", "ς", "Σ"}  # lower() writes ς at a word's end
        if len(variants) > 1:
            pieces.append("[" + "".join(sorted(variants)) + "]")
        else:
            pieces.append(re2_literal(char))
    return "".join(pieces)


def search_clauses(pattern: str, is_regex: bool, case_insensitive: bool) -> tuple[list[str], list]:
    """`(clauses, parameters)` that together select the rows matching the search."""
    clauses: list[str] = []
    params: list[object] = []
    if is_regex:
        prefilters = required_literals(pattern)
    else:
        prefilters = [word] if (word := _longest_word(pattern)) is not None else None
    if prefilters and prefilters != [pattern]:
        # one fast literal scan per branch: RE2 is slow on alternations of words
        any_literal = " OR ".join("regexp_matches(text, ?, 'c')" for _ in prefilters)
        clauses.append(f"({any_literal})")
        params += [re2_caseless_literal(literal) for literal in prefilters]
    if is_regex:
        clauses.append("regexp_matches(text, ?, ?)")
        params += [pattern, "i" if case_insensitive else "c"]
    else:
        # RE2 on the literal: several times cheaper than contains(lower(text), ...), which
        # first copies every text to lower case
        clauses.append("regexp_matches(text, ?, 'c')")
        params.append(re2_caseless_literal(pattern))
    return clauses, params


def _longest_word(text: str) -> str | None:
    longest = max(re.findall(r"\w+", text), key=len, default="")
    return longest if len(longest) >= MIN_PREFILTER_LENGTH else None


def required_literals(pattern: str) -> list[str] | None:
    """One required literal per top-level branch of `pattern`, or None if a branch has none.

    Every match contains at least one of them: a prefilter that ORs them loses nothing.
    """
    if _ESCAPES_WITH_ARGUMENTS.search(pattern):
        return None
    literals = [required_literal(branch) for branch in top_level_branches(pattern)]
    return None if None in literals else literals  # type: ignore[return-value]


def top_level_branches(pattern: str) -> list[str]:
    """`pattern` split at the `|` that are outside groups and character classes."""
    branches, start, depth, index = [], 0, 0, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            index = _end_of_class(pattern, index + 1)
            continue
        if char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            branches.append(pattern[start:index])
            start = index + 1
        index += 1
    branches.append(pattern[start:])
    return branches


def required_literal(pattern: str) -> str | None:
    """The longest literal every match of the RE2 `pattern` must contain, or None.

    Conservative: only text outside groups and classes counts, a top-level `|` means
    nothing is required, and quantified characters are dropped.
    """
    if _ESCAPES_WITH_ARGUMENTS.search(pattern):
        return None
    runs: list[str] = []
    current: list[str] = []
    depth, index = 0, 0
    while index < len(pattern):
        char = pattern[index]
        index += 1
        literal: str | None = None
        if char == "\\" and index < len(pattern):
            escaped = pattern[index]
            index += 1
            literal = escaped if escaped in _RE2_PUNCTUATION else None
        elif char == "[":
            index = _end_of_class(pattern, index)
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            return None
        elif char in "?*{":
            if current:
                current.pop()  # the quantified character may be absent
            if char == "{":
                index = pattern.find("}", index) + 1 or len(pattern)
        elif char not in ".^$|+":
            literal = char
        if literal is not None and depth == 0:
            current.append(literal)
        else:
            runs.append("".join(current))
            current = []
    runs.append("".join(current))
    longest = max(runs, key=len)
    return longest if len(longest) >= MIN_PREFILTER_LENGTH else None


def _end_of_class(pattern: str, index: int) -> int:
    """The index just past the `]` closing a character class that opened before `index`."""
    if index < len(pattern) and pattern[index] == "^":
        index += 1
    if index < len(pattern) and pattern[index] == "]":
        index += 1  # a leading ] is a literal inside the class
    while index < len(pattern) and pattern[index] != "]":
        index += 2 if pattern[index] == "\\" else 1
    return index + 1


@lru_cache(maxsize=512)
def check_re2_pattern(pattern: str) -> None:
    """Raise `ValueError` saying, in the user's words, why RE2 cannot compile `pattern`."""
    try:
        fetch_rows("SELECT regexp_matches('', $1)", [pattern])
    except duckdb.InvalidInputException as error:
        raise ValueError(explain_re2_error(str(error))) from None


# RE2's reasons ("missing ): (") start with a fixed phrase; the rest quotes the pattern
_RE2_REASONS: dict[str, str] = {
    "missing )": "a “(” is never closed",
    "missing ]": "a “[” is never closed",
    "unexpected )": "a “)” has no “(” before it",
    "bad repetition operator": "“{0}” repeats a repetition: write “*”, “+” or “?” once",
    "no argument for repetition operator": "“{0}” has nothing before it to repeat",
    "missing argument to repetition operator": "“{0}” has nothing before it to repeat",
    "invalid repetition size": "“{0}” is not a count this search allows (at most 1000, the "
    "smaller number first)",
    "trailing \\": "the pattern ends with a lone “\\” (write “\\\\” for a backslash)",
    "invalid character class range": "“{0}” is not a valid range or character class",
    "invalid character class": "“{0}” is not a valid character class",
    "invalid named capture group": "“{0}” is not a valid named group (write “(?P<name>…)”)",
    "invalid perl operator": "“{0}” is not supported here: no look-aheads or look-behinds "
    "(“(?=”, “(?!”, “(?<=”, “(?<!”); a named group is written “(?P<name>…)”",
    "invalid UTF-8": "the pattern holds a character that is not valid text",
    "pattern too large": "the pattern is too large (simplify it or repeat less)",
}


def explain_re2_error(engine_text: str) -> str:
    """Why a pattern is not a regular expression, in the user's words (never RE2's text)."""
    reason = engine_text.split("\n")[0].removeprefix("Invalid Input Error: ")
    phrase, _, quoted = reason.partition(": ")
    if phrase == "invalid escape sequence":
        if quoted[1:2].isdigit():
            return f"back-references such as “{quoted}” are not supported"
        return f"“{quoted}” is not an escape this search knows (write “\\\\” for a backslash)"
    template = _RE2_REASONS.get(phrase)
    if template is not None:
        return template.format(quoted)
    return "this is not a regular expression the search can use (RE2 syntax)"


def substring_hits(text: str, needle: str) -> list[Range]:
    """Case-insensitive occurrences of `needle` in `text` (non-overlapping, left to right)."""
    if not needle:
        return []
    # re on the escaped literal gives offsets in the original text, which text.lower() does
    # not when lowering changes a character's length (e.g. "İ")
    return [m.span() for m in re.finditer(re.escape(needle), text, re.IGNORECASE)]


def regex_hits(texts: Sequence[str], pattern: str, case_insensitive: bool) -> list[list[Range]]:
    """Matches of an RE2 pattern in each text, as the filter (DuckDB) finds them.

    RE2 runs in linear time whatever the pattern, so a hostile `search` in a URL cannot stall
    the server as Python's backtracking `re` could. Positions come from interleaving
    `regexp_split_to_array` (the text between matches) with `regexp_extract_all` (the
    matches); a text where the two do not add up (patterns that match the empty string) gets
    no marks rather than wrong ones. A pattern RE2 rejects gives no marks at all (the filter
    refuses such a pattern before any text is shown); any other error is raised.
    """
    try:
        check_re2_pattern(pattern)
    except ValueError:
        return [[] for _ in texts]
    if not texts:
        return []
    rows = fetch_rows(
        "SELECT regexp_split_to_array(t, $p, $o), regexp_extract_all(t, $p, 0, $o) "
        "FROM unnest($texts) WITH ORDINALITY AS u(t, n) ORDER BY n",
        {"p": pattern, "o": "i" if case_insensitive else "c", "texts": list(texts)},
    )
    return [
        _positions(text, pieces, matches)
        for text, (pieces, matches) in zip(texts, rows, strict=True)
    ]


def _positions(text: str, pieces: list[str], matches: list[str]) -> list[Range]:
    """Match offsets from the pieces between matches and the matches, or [] if they disagree."""
    matches = [m for m in matches if m]
    if len(pieces) != len(matches) + 1:
        return []
    hits: list[Range] = []
    position = 0
    for piece, match in zip(pieces[:-1], matches, strict=True):
        position += len(piece)
        hits.append((position, position + len(match)))
        position += len(match)
    if position + len(pieces[-1]) != len(text):
        return []
    return hits


def search_hits(texts: Sequence[str], pattern: SearchPattern | None) -> list[list[Range]]:
    """Where `pattern` (a parsed `search` value) matches in each text."""
    if pattern is None:
        return [[] for _ in texts]
    if pattern.is_regex:
        return regex_hits(texts, pattern.pattern, pattern.case_insensitive)
    return [substring_hits(text, pattern.pattern) for text in texts]
