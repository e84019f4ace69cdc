"""`allow()` next to a field: no login is UNAUTHENTICATED, the wrong role FORBIDDEN."""

from __future__ import annotations

import uuid

WHO = "{ whoAmI { userId roles impersonatorId } }"
SECRET = "{ managementSecret }"


async def test_anonymous_is_unauthenticated(gql):
    response = await gql(WHO)

    assert response.data is None
    assert response.errors[0]["message"] == "You must be logged in."
    assert response.error_codes == ["UNAUTHENTICATED"]


async def test_any_login_passes_allow_without_roles(gql, token_for):
    user_id = str(uuid.uuid4())

    response = await gql(WHO, token=token_for("vendor", sub=user_id))

    assert response.ok() == {
        "whoAmI": {"userId": user_id, "roles": ["vendor"], "impersonatorId": None}
    }


async def test_the_viewer_carries_the_impersonator(gql, token_for):
    client_id, staff_id = str(uuid.uuid4()), str(uuid.uuid4())

    response = await gql(WHO, token=token_for("client", sub=client_id, act={"sub": staff_id}))

    assert response.ok() == {
        "whoAmI": {"userId": client_id, "roles": ["client"], "impersonatorId": staff_id}
    }


async def test_the_wrong_role_is_forbidden(gql, token_for):
    response = await gql(SECRET, token=token_for("dispatcher", "client"))

    assert response.data is None
    assert response.errors[0]["message"] == "You are not allowed to do this."
    assert response.error_codes == ["FORBIDDEN"]


async def test_one_of_the_allowed_roles_is_enough(gql, token_for):
    assert (await gql(SECRET, token=token_for("driver", "manager"))).ok() == {
        "managementSecret": "42"
    }


async def test_anonymous_is_unauthenticated_before_roles_are_checked(gql):
    response = await gql(SECRET)

    assert response.error_codes == ["UNAUTHENTICATED"]


async def test_unknown_roles_in_a_token_grant_nothing(gql, token_for):
    response = await gql(SECRET, token=token_for("superuser"))

    assert response.error_codes == ["FORBIDDEN"]
