"""Text with U+0000 is bad input everywhere, never an internal error.

PostgreSQL refuses NUL in text, so a search or a name carrying one used to
fail deep in a query and answer INTERNAL (found by the identity schema
fuzzing under load). The kit refuses it before any resolver runs.
"""

from __future__ import annotations

import pytest

from tests.support.graphql_client import GraphQLClient

SEARCH = "query($s: String) { users(search: $s) { edges { node { id } } } }"


@pytest.mark.parametrize(
    ("query", "variables", "refused"),
    [
        (SEARCH, {"s": "ann\u0000"}, True),
        ('{ users(search: "ann\\u0000") { edges { node { id } } } }', {}, True),
        (SEARCH, {"s": "ann"}, False),
    ],
    ids=["variable", "literal", "clean"],
)
async def test_a_nul_character_is_bad_input(
    query, variables, refused, identity_server, http_client, mint
):
    admin = GraphQLClient(identity_server.graphql_url, http_client, await mint("admin"))

    answer = await admin(query, variables)

    if refused:
        assert answer.error_codes == ["BAD_USER_INPUT"]
        assert answer.data is None
    else:
        assert answer.errors == []
        assert answer.data["users"]["edges"] == []
