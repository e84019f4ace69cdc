"""`userCounts`: accounts by role and status; an account with two roles counts under both."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from db.engine import in_request, record_statements
from subgraphs.identity.models import User
from subgraphs.identity.service.user_counts import UserCount, user_counts
from tests.support.graphql_client import GraphQLClient
from tests.support.roles import ROLES


async def people(sessions: Any) -> None:
    accounts = [
        (["admin"], "active"),
        (["sales_agent"], "active"),
        (["sales_agent", "sales_support"], "active"),  # counts under both roles
        (["sales_agent"], "disabled"),
        (["client"], "active"),
        (["client"], "active"),
    ]
    async with sessions() as session, session.begin():
        for roles, status in accounts:
            user_id = uuid.uuid4()
            session.add(
                User(
                    id=user_id,
                    email=f"{user_id.hex[:12]}@athena.example",
                    name="Someone",
                    roles=roles,
                    status=status,
                    password_hash="not-a-login",
                )
            )


EXPECTED = [
    UserCount("admin", "active", 1),
    UserCount("client", "active", 2),
    UserCount("sales_agent", "active", 2),
    UserCount("sales_agent", "disabled", 1),
    UserCount("sales_support", "active", 1),
]


async def test_one_row_per_role_and_status_that_has_accounts_in_one_statement(
    sessions: Any,
) -> None:
    await people(sessions)
    token = in_request.set(True)
    try:
        with record_statements() as recorder:
            async with sessions() as session:
                found = await user_counts(session)
    finally:
        in_request.reset(token)
    assert recorder.count == 1
    assert found == EXPECTED


QUERY = "{ userCounts { role status count } }"


#: The role table of the root: who gets past its gate (every other role FORBIDDEN).
READERS = {"admin", "manager"}


@pytest.mark.parametrize("role", [*ROLES, None])
async def test_user_counts_through_identity_as_every_role(
    role: str | None, sessions: Any, identity_server: Any, http_client: Any, mint: Any
) -> None:
    await people(sessions)
    token = await mint(role) if role else None
    answer = await GraphQLClient(identity_server.graphql_url, http_client, token)(QUERY)
    if role is None:
        assert answer.error_codes == ["UNAUTHENTICATED"]
    elif role not in READERS:
        assert answer.error_codes == ["FORBIDDEN"], role
    else:
        assert answer.ok()["userCounts"] == [
            {"role": c.role.upper(), "status": c.status.upper(), "count": c.count} for c in EXPECTED
        ]
