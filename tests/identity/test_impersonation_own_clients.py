"""A sales agent views the portal as its own clients' accounts only.

Ownership is sales' (`Client.salesAgentId`); identity keeps it from
`sales.client_changed` (`service/client_agents.py`). These tests feed that
handler the events sales emits and call `startImpersonation` over HTTP.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from subgraphs.identity.models import ClientAgent, ImpersonationLog
from subgraphs.identity.service import accounts
from subgraphs.identity.service.client_agents import apply_client_event

START = """
mutation($u: ID!) {
  startImpersonation(userId: $u, reason: "walk-through") { accessToken userErrors { code } }
}
"""


def client_changed(company: uuid.UUID, agent: uuid.UUID | None, at: str) -> dict[str, Any]:
    """`sales.client_changed` as sales emits it (the fields identity reads, and some it ignores)."""
    return {
        "id": str(uuid.uuid4()),
        "occurredAt": at,
        "payload": {
            "clientId": str(company),
            "action": "updated",
            "name": "Acme Tours",
            "status": "active",
            "salesAgentId": str(agent) if agent else None,
        },
    }


async def announce(sessions, company: uuid.UUID, agent: uuid.UUID | None, at: str) -> None:
    async with sessions() as session, session.begin():
        await apply_client_event(session, client_changed(company, agent, at))


async def client_of(make_user, sessions, company: uuid.UUID):
    user = await make_user("client")
    async with sessions() as session, session.begin():
        await accounts.set_client(session, user.id, company, actor_id=None)
    return user


async def test_an_agent_views_its_own_clients_account_but_not_anothers(
    make_user, login, gql, sessions, count_rows
):
    agent, other_agent = await make_user("sales_agent"), await make_user("sales_agent")
    own_company, other_company = uuid.uuid4(), uuid.uuid4()
    await announce(sessions, own_company, agent.id, "2026-12-01T09:00:00+00:00")
    await announce(sessions, other_company, other_agent.id, "2026-12-01T09:00:00+00:00")
    own = await client_of(make_user, sessions, own_company)
    another = await client_of(make_user, sessions, other_company)
    token = (await login(agent.email))["accessToken"]

    started = (await gql(START, {"u": str(own.id)}, token=token)).ok()["startImpersonation"]
    refused = await gql(START, {"u": str(another.id)}, token=token)

    assert started["userErrors"] == []
    assert started["accessToken"]
    assert refused.data is None
    assert refused.error_codes == ["FORBIDDEN"]
    async with sessions() as session:
        logged = (await session.scalars(select(ImpersonationLog))).all()
    assert [(e.staff_user_id, e.client_user_id) for e in logged] == [(agent.id, own.id)]


async def test_an_unannounced_company_or_an_unlinked_account_is_no_agents_own(
    make_user, login, gql, sessions, count_rows
):
    agent = await make_user("sales_agent")
    unannounced = await client_of(make_user, sessions, uuid.uuid4())
    unlinked = await make_user("client")
    token = (await login(agent.email))["accessToken"]

    for user in (unannounced, unlinked):
        response = await gql(START, {"u": str(user.id)}, token=token)
        assert response.error_codes == ["FORBIDDEN"]
    assert await count_rows(ImpersonationLog) == 0


async def test_a_reassigned_company_moves_with_its_agent_and_older_events_change_nothing(
    make_user, login, gql, sessions
):
    first, second = await make_user("sales_agent"), await make_user("sales_agent")
    company = uuid.uuid4()
    await announce(sessions, company, first.id, "2026-12-01T09:00:00+00:00")
    await announce(sessions, company, second.id, "2026-12-01T10:00:00+00:00")
    # a redelivered older event (first agent) arrives after the newer one
    await announce(sessions, company, first.id, "2026-12-01T09:00:00+00:00")
    user = await client_of(make_user, sessions, company)

    by_first = await gql(
        START, {"u": str(user.id)}, token=(await login(first.email))["accessToken"]
    )
    by_second = (
        await gql(START, {"u": str(user.id)}, token=(await login(second.email))["accessToken"])
    ).ok()["startImpersonation"]

    assert by_first.error_codes == ["FORBIDDEN"]
    assert by_second["userErrors"] == []
    async with sessions() as session:
        assert (await session.get(ClientAgent, company)).sales_agent_id == second.id


async def test_an_event_without_a_client_or_time_is_ignored(sessions, count_rows):
    async with sessions() as session, session.begin():
        await apply_client_event(session, {"payload": {"clientId": "not-a-uuid"}})
        await apply_client_event(session, {"payload": {"clientId": str(uuid.uuid4())}})

    assert await count_rows(ClientAgent) == 0
