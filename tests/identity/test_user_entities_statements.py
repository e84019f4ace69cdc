"""User's reference resolver is batched: `_entities` costs the same SQL for 1 or 20 users."""

from __future__ import annotations

import uuid

import pytest

from db.engine import record_statements

ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on User { id name status } }
}
"""


@pytest.fixture
async def staff_gql(make_user, login, gql):
    """Users are readable by staff (and themselves) only, through `_entities` too."""
    staff = await make_user("dispatcher")
    return gql.as_user((await login(staff.email))["accessToken"])


async def entities(gql, ids):
    representations = [{"__typename": "User", "id": str(i)} for i in ids]
    with record_statements() as recorder:
        data = (await gql(ENTITIES, {"representations": representations})).ok()
    # The keyring's 5-second cache may reload signing keys on any request; count users.
    return data["_entities"], sum("identity.users" in s for s in recorder.statements)


async def test_entities_resolve_users_in_the_order_asked(make_user, staff_gql):
    gql = staff_gql
    users = [await make_user("client", name=f"Client {i}") for i in range(3)]
    missing = uuid.uuid4()

    found, _count = await entities(gql, [users[2].id, missing, users[0].id])

    assert found == [
        {"id": str(users[2].id), "name": "Client 2", "status": "ACTIVE"},
        None,
        {"id": str(users[0].id), "name": "Client 0", "status": "ACTIVE"},
    ]


async def test_statement_count_does_not_grow_with_the_number_of_users(make_user, staff_gql):
    gql = staff_gql
    users = [await make_user("client", name=f"Client {i}") for i in range(20)]

    one, one_count = await entities(gql, [users[0].id])
    twenty, twenty_count = await entities(gql, [u.id for u in users])

    assert [u["id"] for u in one] == [str(users[0].id)]
    assert [u["id"] for u in twenty] == [str(u.id) for u in users]
    assert one_count == twenty_count == 1
