"""Issue 8, finding 10: `_entities` applies the same rule as `Query.user`.

Anonymous callers read any user's name and roles through `_entities`; now
a user is readable by itself and by staff only, whichever field asks.
"""

from __future__ import annotations

ENTITIES = """
query($reps: [_Any!]!) {
  _entities(representations: $reps) { ... on User { id name roles email } }
}
"""
#: Without `email` (always guarded): the name and roles are what leaked.
PUBLIC_FIELDS = ENTITIES.replace(" email", "")


def reps(*users) -> dict:
    return {"reps": [{"__typename": "User", "id": str(u.id)} for u in users]}


async def test_finding_10_anonymous_entities_reveal_no_user(make_user, gql):
    target = await make_user("manager", name="Margaret Manager")

    response = await gql(PUBLIC_FIELDS, reps(target))

    assert response.data == {"_entities": [None]}
    assert response.error_codes == ["UNAUTHENTICATED"]
    assert "Margaret" not in str(response.body)


async def test_finding_10_a_client_reads_no_other_user_through_entities(make_user, login, gql):
    client = await make_user("client")
    other = await make_user("sales_agent", name="Sam Agent")
    token = (await login(client.email))["accessToken"]

    response = await gql(PUBLIC_FIELDS, reps(other, client), token=token)
    own = await gql(ENTITIES, reps(client), token=token)

    assert response.data["_entities"][0] is None
    assert response.data["_entities"][1] == {
        "id": str(client.id),
        "name": client.name,
        "roles": ["CLIENT"],
    }
    assert response.error_codes == ["FORBIDDEN"]
    assert "Sam Agent" not in str(response.body)
    assert own.ok()["_entities"][0]["email"] == client.email


async def test_finding_10_a_vendor_reads_no_other_user_through_entities(make_user, login, gql):
    vendor = await make_user("vendor")
    other = await make_user("client", name="Carla Client")
    token = (await login(vendor.email))["accessToken"]

    response = await gql(PUBLIC_FIELDS, reps(other), token=token)

    assert response.data == {"_entities": [None]}
    assert response.error_codes == ["FORBIDDEN"]
    assert "Carla" not in str(response.body)


async def test_finding_10_staff_still_read_users_through_entities(make_user, login, gql):
    staff = await make_user("dispatcher")
    other = await make_user("driver", name="Dora Driver")
    token = (await login(staff.email))["accessToken"]

    response = await gql(ENTITIES, reps(other), token=token)

    assert response.ok() == {
        "_entities": [
            {"id": str(other.id), "name": "Dora Driver", "roles": ["DRIVER"], "email": other.email}
        ]
    }
