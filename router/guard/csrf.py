"""CSRF prevention: refuse requests a browser would send cross-site without a preflight.

A page on another origin can make a victim's browser send a GET, or a POST
whose Content-Type is one of the CORS-"simple" ones, with the victim's
cookies and without asking our CORS policy first. GraphQL over HTTP never
needs those shapes: JSON POSTs carry `application/json` (which forces a
preflight), and other clients can add a header that a simple request cannot
carry. So, as Apollo Router and Apollo Server do, an operation is executed
only if the request has a non-simple Content-Type or one of the configured
headers. A GET has no body and so no Content-Type: it needs the header.

Serving the GraphiQL page on a plain browser GET is not guarded (it runs
nothing); GraphiQL's own requests are JSON POSTs, which pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["DEFAULT_REQUIRED_HEADERS", "SIMPLE_CONTENT_TYPES", "check_csrf"]

DEFAULT_REQUIRED_HEADERS: tuple[str, ...] = (
    "x-apollo-operation-name",
    "apollo-require-preflight",
    "graphql-preflight",
)
SIMPLE_CONTENT_TYPES = frozenset(
    {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)

_MIME_CHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_ESSENCE = re.compile(rf"^\s*({_MIME_CHARS})/({_MIME_CHARS})\s*(?:;.*)?$", re.DOTALL)


def _essence(content_type: str) -> str | None:
    """`type/subtype` in lower case, or None when the value is not a MIME type.

    Browsers only send a Content-Type without a preflight when it parses to a
    simple essence, so an unparsable value is treated as preflighted.
    """
    m = _ESSENCE.match(content_type)
    return f"{m.group(1)}/{m.group(2)}".lower() if m else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lower = name.lower()
    for k, v in headers.items():  # plain dicts may keep the client's casing
        if k.lower() == lower:
            return v
    return None


def check_csrf(
    method: str,
    headers: Mapping[str, str],
    required_headers: Iterable[str] = DEFAULT_REQUIRED_HEADERS,
) -> str | None:
    """None when the request may execute an operation, else the refusal message.

    `headers` may be Starlette's case-insensitive `request.headers` or any
    mapping. `method` is informational: the rule is the same for every
    method, since what matters is whether a browser would have preflighted.
    """
    content_type = _header(headers, "content-type")
    if content_type is not None and content_type.strip():
        essence = _essence(content_type)
        if essence is None or essence not in SIMPLE_CONTENT_TYPES:
            return None
    names = tuple(required_headers)
    if any(_header(headers, h) is not None for h in names):
        return None
    return (
        f"This {method.upper()} request has been blocked as a potential Cross-Site Request "
        "Forgery (CSRF). Send a Content-Type other than text/plain, "
        "application/x-www-form-urlencoded or multipart/form-data (such as "
        "application/json), or one of these headers: " + ", ".join(names) + "."
    )
