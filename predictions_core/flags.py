"""True/false words: the one list every setting, URL parameter and metadata value is read with.

A word outside the list is an error for settings and parameters (a typo must not silently
become False); in data (a passage's `translated` metadata) it is simply unknown.
"""

from __future__ import annotations

from predictions_core.errors import InvalidParameterError

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


def bool_or_none(value: object) -> bool | None:
    """`True`/`False` for a bool or a word of the lists (any case, spaces ignored), else None."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower() if value is not None else ""
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def parse_bool(value: object, name: str) -> bool:
    """`bool_or_none`, but anything else raises `InvalidParameterError` naming `name`."""
    parsed = bool_or_none(value)
    if parsed is None:
        raise InvalidParameterError(
            name, f"expected true or false ({'/'.join(TRUE_WORDS + FALSE_WORDS)}), got {value!r}"
        )
    return parsed


def sql_bool_case(expression: str) -> str:
    """A DuckDB expression: TRUE/FALSE for the words of the lists, NULL for anything else."""
    true_list = ", ".join(f"'{word}'" for word in TRUE_WORDS)
    false_list = ", ".join(f"'{word}'" for word in FALSE_WORDS)
    word = f"lower(trim(CAST({expression} AS VARCHAR)))"
    return (
        f"CASE WHEN {word} IN ({true_list}) THEN true WHEN {word} IN ({false_list}) THEN false END"
    )
