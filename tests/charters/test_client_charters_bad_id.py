"""A `Client` entity whose id is no UUID has no charters: an empty page, not an internal error."""

from __future__ import annotations

from typing import Any

QUERY = """query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Client {
  charters(first: 5) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } } } }"""


async def test_a_client_id_that_is_no_uuid_has_an_empty_page(staff: Any) -> None:
    answer = (await staff(QUERY, {"reps": [{"__typename": "Client", "id": "not-a-uuid"}]})).ok()
    assert answer["_entities"] == [
        {
            "charters": {
                "totalCount": 0,
                "edges": [],
                "pageInfo": {"hasNextPage": False, "endCursor": None},
            }
        }
    ]
