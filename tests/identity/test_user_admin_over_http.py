"""Staff user management over HTTP: admins only, bad input as userErrors."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from subgraphs.identity.models import User, UserAudit
from tests.identity.conftest import PASSWORD

CREATE = """
mutation Create($input: CreateUserInput!) {
  createUser(input: $input) {
    user { id email name roles status }
    userErrors { field code message }
  }
}
"""

SET_ROLES = """
mutation SetRoles($id: ID!, $roles: [Role!]!) {
  setUserRoles(id: $id, roles: $roles) {
    user { id roles }
    userErrors { field code message }
  }
}
"""

DISABLE = """
mutation Disable($id: ID!) {
  disableUser(id: $id) {
    user { id status }
    userErrors { field code message }
  }
}
"""


def new_user(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "email": "new.agent@example.com",
        "name": "New Agent",
        "roles": ["SALES_AGENT"],
        "password": PASSWORD,
    }
    values.update(overrides)
    return values


@pytest.fixture
async def admin(make_user, login):
    user = await make_user("admin")
    return user, (await login(user.email))["accessToken"]


async def test_admin_creates_a_user(admin, gql, sessions):
    actor, token = admin

    payload = (await gql(CREATE, {"input": new_user()}, token=token)).ok()["createUser"]

    assert payload["userErrors"] == []
    created = payload["user"]
    assert {k: v for k, v in created.items() if k != "id"} == {
        "email": "new.agent@example.com",
        "name": "New Agent",
        "roles": ["SALES_AGENT"],
        "status": "ACTIVE",
    }
    async with sessions() as session:
        entry = await session.scalar(
            select(UserAudit).where(UserAudit.user_id == uuid.UUID(created["id"]))
        )
    assert (entry.action, entry.actor_id) == ("create", actor.id)


async def test_create_user_with_bad_input_answers_user_errors_and_writes_nothing(
    admin, gql, count_rows
):
    _actor, token = admin

    payload = (
        await gql(CREATE, {"input": new_user(email="nope", name="", password="x")}, token=token)
    ).ok()["createUser"]

    assert payload["user"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("email", "INVALID_EMAIL"),
        ("name", "REQUIRED"),
        ("password", "WEAK_PASSWORD"),
    ]
    assert await count_rows(User) == 1
    assert await count_rows(UserAudit) == 1


async def test_create_user_with_a_taken_email_is_a_user_error(admin, gql, make_user, count_rows):
    _actor, token = admin
    await make_user("client", email="taken@example.com")

    payload = (await gql(CREATE, {"input": new_user(email="TAKEN@example.com")}, token=token)).ok()[
        "createUser"
    ]

    assert payload == {
        "user": None,
        "userErrors": [
            {
                "field": "email",
                "code": "EMAIL_TAKEN",
                "message": "An account with this e-mail exists.",
            }
        ],
    }
    assert await count_rows(User) == 2


async def test_create_user_with_an_unknown_role_is_refused_by_the_schema(admin, gql, count_rows):
    _actor, token = admin

    response = await gql(CREATE, {"input": new_user(roles=["PILOT"])}, token=token)

    assert response.data is None
    assert response.error_codes == ["BAD_USER_INPUT"]
    assert await count_rows(User) == 1


async def test_admin_sets_roles(admin, gql, make_user):
    _actor, token = admin
    agent = await make_user("sales_agent")

    payload = (
        await gql(
            SET_ROLES, {"id": str(agent.id), "roles": ["MANAGER", "SALES_AGENT"]}, token=token
        )
    ).ok()["setUserRoles"]

    assert payload == {
        "user": {"id": str(agent.id), "roles": ["MANAGER", "SALES_AGENT"]},
        "userErrors": [],
    }


async def test_set_roles_to_nothing_is_a_user_error(admin, gql, make_user, sessions):
    _actor, token = admin
    agent = await make_user("sales_agent")

    payload = (await gql(SET_ROLES, {"id": str(agent.id), "roles": []}, token=token)).ok()[
        "setUserRoles"
    ]

    assert payload == {
        "user": None,
        "userErrors": [
            {"field": "roles", "code": "REQUIRED", "message": "At least one role is required."}
        ],
    }
    async with sessions() as session:
        assert (await session.get(User, agent.id)).roles == ["sales_agent"]


async def test_the_last_admin_cannot_lose_the_role_over_http(admin, gql, sessions):
    actor, token = admin

    payload = (await gql(SET_ROLES, {"id": str(actor.id), "roles": ["MANAGER"]}, token=token)).ok()[
        "setUserRoles"
    ]

    assert payload["user"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["LAST_ADMIN"]
    async with sessions() as session:
        assert (await session.get(User, actor.id)).roles == ["admin"]


async def test_admin_disables_a_user_who_then_cannot_log_in(admin, gql, make_user, login):
    _actor, token = admin
    driver = await make_user("driver")

    payload = (await gql(DISABLE, {"id": str(driver.id)}, token=token)).ok()["disableUser"]

    assert payload == {"user": {"id": str(driver.id), "status": "DISABLED"}, "userErrors": []}
    assert [e["code"] for e in (await login(driver.email))["userErrors"]] == ["ACCOUNT_DISABLED"]


async def test_disabling_an_unknown_user_is_a_user_error(admin, gql):
    _actor, token = admin
    missing = uuid.uuid4()

    payload = (await gql(DISABLE, {"id": str(missing)}, token=token)).ok()["disableUser"]

    assert payload == {
        "user": None,
        "userErrors": [
            {"field": "id", "code": "NOT_FOUND", "message": f"User {missing} was not found."}
        ],
    }


async def test_disabling_a_malformed_id_is_not_found(admin, gql):
    _actor, token = admin

    response = await gql(DISABLE, {"id": "not-a-uuid"}, token=token)

    assert response.data is None
    assert response.error_codes == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (CREATE, {"input": new_user()}),
        (SET_ROLES, {"id": str(uuid.uuid4()), "roles": ["ADMIN"]}),
        (DISABLE, {"id": str(uuid.uuid4())}),
    ],
    ids=["createUser", "setUserRoles", "disableUser"],
)
async def test_non_admin_is_forbidden(make_user, login, gql, count_rows, query, variables):
    manager = await make_user("manager")
    token = (await login(manager.email))["accessToken"]

    response = await gql(query, variables, token=token)

    assert response.data is None
    assert response.error_codes == ["FORBIDDEN"]
    assert await count_rows(User) == 1
    assert await count_rows(UserAudit) == 1


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (CREATE, {"input": new_user()}),
        (SET_ROLES, {"id": str(uuid.uuid4()), "roles": ["ADMIN"]}),
        (DISABLE, {"id": str(uuid.uuid4())}),
    ],
    ids=["createUser", "setUserRoles", "disableUser"],
)
async def test_anonymous_is_unauthenticated(gql, count_rows, query, variables):
    response = await gql(query, variables)

    assert response.data is None
    assert response.error_codes == ["UNAUTHENTICATED"]
    assert await count_rows(User) == 0
