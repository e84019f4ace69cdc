"""Sales learns its agents from identity's `identity.user_changed` events.

End to end with both subgraphs running: a change made through identity's
API reaches `sales.agents` through identity's outbox, Redis and sales'
consumer, with nothing else telling sales about it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from subgraphs.kit.errors import ServiceError
from subgraphs.sales.models import SalesAgent
from subgraphs.sales.service.agents import apply_user_event, ensure_sales_agent
from tests.sales.conftest import CREATE_CLIENT, client_input
from tests.support.graphql_client import GraphQLClient

USER = "user { id } userErrors { field code message }"
CREATE_USER = f"""mutation($input: CreateUserInput!) {{ createUser(input: $input) {{ {USER} }} }}"""
SET_ROLES = f"""mutation($id: ID!, $roles: [Role!]!) {{
  setUserRoles(id: $id, roles: $roles) {{ {USER} }} }}"""
DISABLE = f"""mutation($id: ID!) {{ disableUser(id: $id) {{ {USER} }} }}"""
#: How long the outbox -> Redis -> consumer path may take before the test fails.
DEADLINE_SECONDS = 10.0


async def eventually(check: Callable[[], Awaitable[Any]]) -> Any:
    """Poll `check` until it answers something true; fail with its last answer at the deadline."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + DEADLINE_SECONDS
    while True:
        answer = await check()
        if answer or loop.time() > give_up:
            return answer
        await asyncio.sleep(0.1)


@pytest.fixture
async def identity_admin(identity_server, http_client, mint) -> GraphQLClient:
    return GraphQLClient(identity_server.graphql_url, http_client, await mint("admin"))


async def create_user(admin: GraphQLClient, *roles: str) -> uuid.UUID:
    tag = uuid.uuid4().hex[:8]
    data = {
        "email": f"agent.{tag}@example.com",
        "name": f"Agent {tag}",
        "roles": list(roles),
        "password": "correct horse battery",
    }
    payload = (await admin(CREATE_USER, {"input": data})).ok()["createUser"]
    assert payload["userErrors"] == []
    return uuid.UUID(payload["user"]["id"])


def refusal(sessions: Any, user_id: uuid.UUID) -> Callable[[], Awaitable[str | None]]:
    """The code `ensure_sales_agent` refuses `user_id` with, or None if it accepts it."""

    async def check() -> str | None:
        async with sessions() as session:
            try:
                await ensure_sales_agent(session, user_id, "salesAgentId")
            except ServiceError as exc:
                return str(exc.problems[0].code)
        return None

    return check


def accepted(sessions: Any, user_id: uuid.UUID) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await refusal(sessions, user_id)() is None

    return check


async def test_an_agent_created_in_identity_becomes_known_to_sales(
    identity_admin, sales_server, sales_manager, sessions
):
    user_id = await create_user(identity_admin, "SALES_AGENT")

    assert await eventually(accepted(sessions, user_id)) is True
    async with sessions() as session:
        row = await session.get(SalesAgent, user_id)
    assert row is not None
    assert (row.is_sales_agent, row.active) == (True, True)
    assert row.email.startswith("agent.")
    assert row.name.startswith("Agent ")
    # ... and staff may now hand it a client through sales' API.
    payload = (
        await sales_manager(CREATE_CLIENT, {"input": client_input(salesAgentId=str(user_id))})
    ).ok()["createClient"]
    assert payload["userErrors"] == []
    assert payload["client"]["salesAgent"] == {"id": str(user_id)}


async def test_a_user_who_is_not_an_agent_is_known_but_refused(
    identity_admin, sales_server, sessions
):
    user_id = await create_user(identity_admin, "DISPATCHER")

    async def stored() -> SalesAgent | None:
        async with sessions() as session:
            return await session.get(SalesAgent, user_id)

    row = await eventually(stored)
    assert row is not None
    assert row.is_sales_agent is False
    assert await refusal(sessions, user_id)() == "UNKNOWN_AGENT"


async def test_removing_the_role_makes_sales_refuse_the_agent(
    identity_admin, sales_server, sessions
):
    user_id = await create_user(identity_admin, "SALES_AGENT", "DISPATCHER")
    assert await eventually(accepted(sessions, user_id)) is True

    payload = (await identity_admin(SET_ROLES, {"id": str(user_id), "roles": ["DISPATCHER"]})).ok()
    assert payload["setUserRoles"]["userErrors"] == []

    assert await eventually(refusal(sessions, user_id)) == "UNKNOWN_AGENT"


async def test_deactivating_the_user_makes_sales_refuse_the_agent(
    identity_admin, sales_server, sessions
):
    user_id = await create_user(identity_admin, "SALES_AGENT")
    assert await eventually(accepted(sessions, user_id)) is True

    payload = (await identity_admin(DISABLE, {"id": str(user_id)})).ok()
    assert payload["disableUser"]["userErrors"] == []

    assert await eventually(refusal(sessions, user_id)) == "UNKNOWN_AGENT"


def user_event(user_id: uuid.UUID, at: datetime, **payload: Any) -> dict[str, Any]:
    facts = {
        "userId": str(user_id),
        "email": "sam@example.com",
        "name": "Sam Seller",
        "roles": ["sales_agent"],
        "active": True,
        "clientId": None,
        "vendorId": None,
    }
    return {"occurredAt": at.isoformat(), "payload": facts | payload}


async def test_an_older_event_after_a_newer_one_changes_nothing(sessions):
    user_id = uuid.uuid4()
    now = datetime.now(UTC)
    newer = user_event(user_id, now, roles=["dispatcher"], name="Sam Dispatcher")
    older = user_event(user_id, now - timedelta(minutes=5))

    for event in (newer, older):
        async with sessions() as session, session.begin():
            await apply_user_event(session, event)

    async with sessions() as session:
        row = await session.get(SalesAgent, user_id)
    assert row is not None
    assert (row.name, row.is_sales_agent, row.updated_at) == ("Sam Dispatcher", False, now)
    assert await refusal(sessions, user_id)() == "UNKNOWN_AGENT"
