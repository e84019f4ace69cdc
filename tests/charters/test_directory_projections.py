"""Charters learns clients from sales' events and sales agents from identity's.

The handlers are tested directly (upsert, name change, order guard, losing
the role); one test runs sales and charters together: a client created
through sales' API becomes quotable in charters with nothing else telling
charters about it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from subgraphs.charters.models import KnownClient, KnownSalesAgent
from subgraphs.charters.service import directory
from subgraphs.kit.errors import ServiceError
from subgraphs.sales.app import create_app as create_sales_app
from tests.charters.ops import codes
from tests.support.charters_fixtures import CREATE_CHARTER, future_local
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
#: How long sales' outbox -> Redis -> charters' consumer may take before the test fails.
DEADLINE_SECONDS = 10.0


def client_event(client_id: uuid.UUID, name: str, at: datetime) -> dict[str, Any]:
    payload = {"clientId": str(client_id), "action": "updated", "name": name, "status": "active"}
    return {"occurredAt": at.isoformat(), "payload": payload}


def user_event(user_id: uuid.UUID, at: datetime, *roles: str, active: bool = True) -> dict:
    payload = {
        "userId": str(user_id),
        "email": "sam@example.com",
        "name": "Sam Seller",
        "roles": list(roles),
        "active": active,
        "clientId": None,
        "vendorId": None,
    }
    return {"occurredAt": at.isoformat(), "payload": payload}


async def apply(sessions: Any, handler: Any, *events: dict[str, Any]) -> None:
    for event in events:  # each in its own transaction, as the consumer delivers them
        async with sessions() as session, session.begin():
            await handler(session, event)


async def client_row(sessions: Any, client_id: uuid.UUID) -> tuple[str, datetime] | None:
    async with sessions() as session:
        row = await session.get(KnownClient, client_id)
        return None if row is None else (row.name, row.registered_at)


async def agent_refusal(sessions: Any, user_id: uuid.UUID) -> str | None:
    """The code `ensure_known_sales_agent` refuses with, or None when it accepts."""
    async with sessions() as session:
        try:
            await directory.ensure_known_sales_agent(session, user_id, "salesAgentId")
        except ServiceError as exc:
            return str(exc.problems[0].code)
    return None


async def client_refusal(sessions: Any, client_id: uuid.UUID) -> str | None:
    async with sessions() as session:
        try:
            await directory.ensure_known_client(session, client_id)
        except ServiceError as exc:
            return str(exc.problems[0].code)
    return None


async def test_a_client_event_makes_the_client_known_and_keeps_its_name_current(sessions):
    client_id = uuid.uuid4()

    await apply(
        sessions, directory.apply_client_event, client_event(client_id, " Acme  Tours ", NOW)
    )
    first = await client_row(sessions, client_id)
    await apply(
        sessions,
        directory.apply_client_event,
        client_event(client_id, "Acme Travel", NOW + timedelta(minutes=1)),
    )

    assert first == ("Acme Tours", NOW)
    assert await client_row(sessions, client_id) == ("Acme Travel", NOW + timedelta(minutes=1))
    assert await client_refusal(sessions, client_id) is None
    assert await client_refusal(sessions, uuid.uuid4()) == "UNKNOWN_CLIENT"


async def test_an_older_client_event_after_a_newer_one_changes_nothing(sessions):
    client_id = uuid.uuid4()

    await apply(
        sessions,
        directory.apply_client_event,
        client_event(client_id, "Acme Travel", NOW),
        client_event(client_id, "Acme Tours", NOW - timedelta(minutes=1)),
        client_event(client_id, "Acme Travel", NOW),  # delivered twice: at least once
    )

    assert await client_row(sessions, client_id) == ("Acme Travel", NOW)


async def test_an_event_without_its_id_or_time_is_ignored(sessions):
    client_id = uuid.uuid4()
    no_time = client_event(client_id, "Acme", NOW)
    del no_time["occurredAt"]

    await apply(
        sessions,
        directory.apply_client_event,
        no_time,
        {"occurredAt": NOW.isoformat(), "payload": {"name": "Nobody"}},
    )

    assert await client_row(sessions, client_id) is None
    async with sessions() as session:
        assert await session.get(KnownClient, client_id) is None


async def test_an_active_sales_agent_is_known_and_loses_it_with_the_role(sessions):
    user_id = uuid.uuid4()
    before = await agent_refusal(sessions, user_id)

    await apply(sessions, directory.apply_user_event, user_event(user_id, NOW, "sales_agent"))
    granted = await agent_refusal(sessions, user_id)
    await apply(
        sessions,
        directory.apply_user_event,
        user_event(user_id, NOW + timedelta(minutes=1), "dispatcher"),
    )

    assert (before, granted) == ("UNKNOWN_SALES_AGENT", None)
    assert await agent_refusal(sessions, user_id) == "UNKNOWN_SALES_AGENT"


async def test_a_disabled_sales_agent_is_refused_until_enabled_again(sessions):
    user_id = uuid.uuid4()

    await apply(
        sessions,
        directory.apply_user_event,
        user_event(user_id, NOW, "sales_agent"),
        user_event(user_id, NOW + timedelta(minutes=1), "sales_agent", active=False),
    )
    disabled = await agent_refusal(sessions, user_id)
    await apply(
        sessions,
        directory.apply_user_event,
        user_event(user_id, NOW + timedelta(minutes=2), "sales_agent"),
    )

    assert disabled == "UNKNOWN_SALES_AGENT"
    assert await agent_refusal(sessions, user_id) is None


async def test_a_late_older_event_neither_revives_nor_drops_an_agent(sessions):
    demoted, promoted = uuid.uuid4(), uuid.uuid4()

    await apply(
        sessions,
        directory.apply_user_event,
        # Demoted at NOW; its promotion from a minute earlier arrives after.
        user_event(demoted, NOW, "dispatcher"),
        user_event(demoted, NOW - timedelta(minutes=1), "sales_agent"),
        # Promoted at NOW; its earlier non-agent state arrives after.
        user_event(promoted, NOW, "sales_agent"),
        user_event(promoted, NOW - timedelta(minutes=1), "dispatcher"),
    )

    assert await agent_refusal(sessions, demoted) == "UNKNOWN_SALES_AGENT"
    assert await agent_refusal(sessions, promoted) is None
    async with sessions() as session:
        row = await session.get(KnownSalesAgent, demoted)
    assert row is not None
    assert (row.active, row.last_seen_at) == (False, NOW)


@pytest.fixture
async def sales(subgraph_settings) -> AsyncIterator[LiveServer]:
    """The sales subgraph, running beside charters: the owner of clients."""
    async with serve(create_sales_app(subgraph_settings)) as server:
        yield server


CREATE_CLIENT = """mutation($input: CreateClientInput!) {
  createClient(input: $input) { client { id name } userErrors { field code message } } }"""


async def test_a_client_created_in_sales_becomes_quotable_in_charters(
    sales, staff, vehicle_type, http_client, mint, sessions
):
    sales_manager = GraphQLClient(sales.graphql_url, http_client, await mint("manager"))
    tag = uuid.uuid4().hex[:8]
    created = (
        await sales_manager(
            CREATE_CLIENT,
            {
                "input": {
                    "name": f"Lakeside {tag}",
                    "type": "SCHOOL",
                    "contacts": [{"name": "Dana", "email": f"dana.{tag}@example.com"}],
                }
            },
        )
    ).ok()["createClient"]
    assert created["userErrors"] == []
    vtype = await vehicle_type()

    def quote(client_id: str) -> dict[str, Any]:
        return {
            "clientId": client_id,
            "tripType": "ONE_WAY",
            "passengerCount": 20,
            "pickupLocal": future_local(10),
            "pickupTimeZone": "America/Chicago",
            "stops": [{"type": "PICKUP", "address": "A"}, {"type": "DROPOFF", "address": "B"}],
            "vehicles": [{"vehicleTypeId": vtype["id"], "cost": "100.00"}],
        }

    async def create_charter(client_id: str) -> dict[str, Any]:
        return (await staff(CREATE_CHARTER, {"input": quote(client_id)})).ok()["createCharter"]  # type: ignore[no-any-return]

    loop = asyncio.get_running_loop()
    give_up = loop.time() + DEADLINE_SECONDS
    answer = await create_charter(created["client"]["id"])
    while codes(answer) == [("clientId", "UNKNOWN_CLIENT")] and loop.time() < give_up:
        await asyncio.sleep(0.1)
        answer = await create_charter(created["client"]["id"])
    stranger = await create_charter(str(uuid.uuid4()))

    assert answer["userErrors"] == []
    assert answer["charter"]["status"] == "QUOTE"
    assert codes(stranger) == [("clientId", "UNKNOWN_CLIENT")]
    known = await client_row(sessions, uuid.UUID(created["client"]["id"]))
    assert known is not None
    assert known[0] == f"Lakeside {tag}"
