"""`_entities` with a malformed representation: bad input at that index, never an internal error.

The router sends well-formed representations; a fuzzer or a caller holding
the router's credential may not (found by the identity schema fuzzing).
"""

from __future__ import annotations

import uuid

import pytest

from tests.support.graphql_client import GraphQLClient

QUERY = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Client { id portalUsers { id } } ... on User { id } } }"""


@pytest.mark.parametrize(
    "rep",
    [
        {"__typename": "Client"},
        {"__typename": "Client", "id": None},
        {"__typename": "Client", "id": {"nested": 1}},
        {"__typename": "Client", "id": "x", "unexpected": 1},
        {"__typename": "Nope", "id": "x"},
        {"id": "x"},
        {"__typename": "User"},
    ],
)
async def test_a_malformed_representation_is_bad_input_and_the_others_resolve(
    rep, identity_server, http_client, mint
):
    admin = GraphQLClient(identity_server.graphql_url, http_client, await mint("admin"))
    good = {"__typename": "Client", "id": str(uuid.uuid4())}

    answer = await admin(QUERY, {"r": [good, rep]})

    assert answer.data["_entities"][0] == {"id": good["id"], "portalUsers": []}
    assert answer.data["_entities"][1] is None
    assert answer.error_codes == ["BAD_USER_INPUT"]
    assert answer.errors[0]["path"] == ["_entities", 1]
