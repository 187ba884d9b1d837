"""Links out of the dashboard (CONTRACT §3): a passage's source document, a concept's page.

One function fills a URL template (`PREDICTIONS_DOCUMENT_URL`, `PREDICTIONS_CONCEPT_URL`):
each `{name}` becomes that value, URL-encoded whole (`/`, `?`, `&`, `"`, `<` included), so a
value can only ever be one piece of the path or query the template put it in. The result is
a link only when it is an `http`/`https` URL with a host: a value or a template that would
make anything else (`javascript:`, a relative path) gives no link, never a dangerous one.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlsplit

from predictions_core.settings import url_template_parts

WEB_SCHEMES = ("http", "https")


def fill_url_template(template: str, values: Mapping[str, object]) -> str | None:
    """`template` with every `{name}` replaced by `values[name]`, URL-encoded.

    None (no link) when the template is empty or malformed, when a named value is missing,
    blank or not a plain value (an object or a list), or when the result is not a web URL.
    A dotted name (`document_metadata.slug`) is looked up flat first, then nested.
    """
    if not template or not template.strip():
        return None
    try:
        parts = url_template_parts(template.strip())
    except ValueError:
        return None
    pieces: list[str] = []
    for literal, name in parts:
        pieces.append(literal)
        if name is None:
            continue
        value = _lookup(values, name)
        if value is None:
            return None
        pieces.append(quote(value, safe=""))
    url = "".join(pieces)
    return url if is_web_url(url) else None


def document_link(template: str, metadata: Mapping[str, object]) -> str | None:
    """The link from a passage to its source document, from the passage's metadata."""
    return fill_url_template(template, metadata)


def concept_link(template: str, wikibase_id: str) -> str | None:
    """The link from a concept to its page (`{qid}`, or `{wikibase_id}`, is the concept's id)."""
    return fill_url_template(template, {"qid": wikibase_id, "wikibase_id": wikibase_id})


def is_web_url(url: str) -> bool:
    """True for an absolute `http`/`https` URL with a host and no whitespace or control chars."""
    if not url or any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # a malformed host or port
        return False
    return parts.scheme.lower() in WEB_SCHEMES and bool(host)


def _lookup(values: Mapping[str, object], name: str) -> str | None:
    value = values.get(name)
    if value is None and "." in name:
        value = values
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
    if value is None or isinstance(value, Mapping | list | tuple):
        return None
    text = str(value).strip()
    return text or None
