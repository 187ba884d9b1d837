"""Short names that tell a concept's classifiers apart, for charts, pickers and headings.

Classifier names usually repeat the concept: `KeywordClassifier("greenhouse gas")`,
`CasedKeywordClassifier("greenhouse gas")`. Shown whole they are long and alike, and ids
(`grld4c4r`) say nothing. The short name drops what every classifier of the concept shares
(the argument in parentheses, the `Classifier` suffix) and keeps what differs; when two
classifiers would still read the same, the date and then the id are added.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

from predictions_core.data.models import Classifier

MAX_SHORT_NAME = 40
_CALL = re.compile(r"^\s*(?P<kind>[^()]*?)\s*\((?P<argument>.*)\)\s*$", re.DOTALL)


def short_names(classifiers: Mapping[str, Classifier]) -> dict[str, str]:
    """A short distinguishing name per classifier id (unique within `classifiers`).

    >>> from predictions_core.data.models import Classifier
    >>> short_names({
    ...     "a": Classifier(id="a", name='KeywordClassifier("gas")'),
    ...     "b": Classifier(id="b", name='CasedKeywordClassifier("gas")'),
    ... })
    {'a': 'Keyword', 'b': 'CasedKeyword'}
    """
    parts = {cid: _split(c.name or cid) for cid, c in classifiers.items()}
    arguments = {argument for _, argument in parts.values()}
    kinds = {kind for kind, _ in parts.values()}
    shared_argument = len(arguments) == 1 and len(parts) > 1
    names = {
        cid: _compose(kind, "" if shared_argument else argument, len(kinds) > 1 or not argument)
        for cid, (kind, argument) in parts.items()
    }
    names = _disambiguate(names, classifiers, lambda c: c.date_text)
    names = _disambiguate(names, classifiers, lambda c: c.id)
    return names


def _split(name: str) -> tuple[str, str]:
    """(`KeywordClassifier`, `"gas"`) from `KeywordClassifier("gas")`; plain names as is."""
    match = _CALL.match(name)
    if not match:
        return name.strip(), ""
    return match["kind"], match["argument"].strip()


def _compose(kind: str, argument: str, strip_suffix: bool) -> str:
    if strip_suffix and kind.endswith("Classifier") and len(kind) > len("Classifier"):
        kind = kind.removesuffix("Classifier")
    name = f"{kind}({argument})" if argument else kind
    return _shorten(name or "classifier")


def _shorten(name: str) -> str:
    return name if len(name) <= MAX_SHORT_NAME else name[: MAX_SHORT_NAME - 1] + "…"


def _disambiguate(names: dict[str, str], classifiers: Mapping[str, Classifier], extra) -> dict:
    """Add `extra(classifier)` to the names that are not unique yet."""
    counts = Counter(names.values())
    result = {}
    for cid, name in names.items():
        added = extra(classifiers[cid]) if counts[name] > 1 else ""
        result[cid] = f"{name} · {added}" if added else name
    return result
