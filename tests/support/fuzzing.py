"""What schemathesis checks on every generated GraphQL operation."""

from __future__ import annotations

from typing import Any


def assert_no_server_error(response: Any) -> None:
    """No HTTP 5xx, and no GraphQL error that admits an internal fault."""
    assert response.status_code < 500, response.text
    body = response.json()
    codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
    assert "INTERNAL" not in codes, body
