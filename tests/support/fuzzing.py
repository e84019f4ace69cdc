"""What schemathesis checks on every generated GraphQL operation.

Our custom scalars get strategies that mix valid and invalid values, so the
fuzzer exercises both the happy path and input refusal.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

_noise = st.text(max_size=12)

schemathesis.graphql.scalar(
    "Money",
    st.one_of(
        st.decimals(min_value=-(10**6), max_value=10**7, places=2, allow_nan=False).map(str),
        _noise,
    ).map(nodes.String),
)
schemathesis.graphql.scalar(
    "DateTime",
    st.one_of(st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()), _noise).map(
        nodes.String
    ),
)
schemathesis.graphql.scalar(
    "Date", st.one_of(st.dates().map(lambda d: d.isoformat()), _noise).map(nodes.String)
)
# A file arrives only in a multipart request; in a JSON body an Upload is just a value,
# which the resolvers must refuse as a user error, never fail on.
schemathesis.graphql.scalar("Upload", _noise.map(nodes.String))


def assert_no_server_error(response: Any) -> None:
    """No HTTP 5xx, and no GraphQL error that admits an internal fault."""
    assert response.status_code < 500, response.text
    body = response.json()
    codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
    assert "INTERNAL" not in codes, body
