"""Security review (issue 8), finding 12: what `createCharter` accepts.

The client must be one sales announced (charters' `known_clients`
projection), the agent is the caller unless staff who edit any charter name
an active sales agent identity announced, and the pickup lies within the
booking horizon.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from subgraphs.charters.app import create_app
from subgraphs.charters.models import KnownClient
from subgraphs.charters.service import directory
from tests.charters.ops import codes
from tests.support.charters_fixtures import CREATE_CHARTER, apply_event, event_now, future_local
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import serve

COUNT = "{ charters { totalCount } }"


def _input(vehicle_type_id: str, client_id: str, **overrides):
    return {
        "clientId": client_id,
        "tripType": "ONE_WAY",
        "passengerCount": 20,
        "pickupLocal": future_local(10),
        "pickupTimeZone": "America/Chicago",
        "stops": [{"type": "PICKUP", "address": "A"}, {"type": "DROPOFF", "address": "B"}],
        "vehicles": [{"vehicleTypeId": vehicle_type_id, "cost": "100.00"}],
        **overrides,
    }


async def _create(client, data):
    return (await client(CREATE_CHARTER, {"input": data})).ok()["createCharter"]


async def test_finding_12_a_client_that_does_not_exist_is_refused(staff, as_role, vehicle_type):
    vtype = await vehicle_type()
    agent = await as_role("sales_agent")

    by_manager = await _create(staff, _input(vtype["id"], str(uuid.uuid4())))
    by_agent = await _create(agent, _input(vtype["id"], str(uuid.uuid4())))

    assert by_manager["charter"] is None
    assert codes(by_manager) == [("clientId", "UNKNOWN_CLIENT")]
    assert codes(by_agent) == [("clientId", "UNKNOWN_CLIENT")]
    assert (await staff(COUNT)).ok()["charters"]["totalCount"] == 0


async def test_finding_12_a_client_sales_announced_can_be_quoted(
    as_role, vehicle_type, known_client, sessions
):
    vtype = await vehicle_type()
    agent = await as_role("sales_agent")
    client_id = await known_client(name="  Lakeside  U ")

    created = await _create(agent, _input(vtype["id"], client_id))

    assert created["userErrors"] == []
    async with sessions() as session:
        known = await session.get(KnownClient, uuid.UUID(client_id))
    assert known is not None
    assert known.name == "Lakeside U"


async def test_finding_12_a_sales_agent_cannot_name_another_agent(
    as_role, vehicle_type, known_client, known_agent
):
    vtype = await vehicle_type()
    client_id = await known_client()
    me = uuid.uuid4()
    agent = await as_role("sales_agent", user_id=me)
    colleague = await known_agent()

    other = await _create(agent, _input(vtype["id"], client_id, salesAgentId=colleague))
    myself = await _create(agent, _input(vtype["id"], client_id, salesAgentId=str(me)))

    assert other["charter"] is None
    assert codes(other) == [("salesAgentId", "FORBIDDEN")]
    assert myself["userErrors"] == []


async def test_finding_12_staff_cannot_name_a_user_who_is_not_a_sales_agent(
    staff, vehicle_type, known_client, known_agent
):
    vtype = await vehicle_type()
    client_id = await known_client()
    dispatcher_id = uuid.uuid4()
    await apply_event(
        directory.apply_user_event,
        event_now({"userId": str(dispatcher_id), "roles": ["dispatcher"], "active": True}),
    )
    agent_id = await known_agent()

    stranger = await _create(staff, _input(vtype["id"], client_id, salesAgentId=str(uuid.uuid4())))
    dispatcher = await _create(
        staff, _input(vtype["id"], client_id, salesAgentId=str(dispatcher_id))
    )
    agent = await _create(staff, _input(vtype["id"], client_id, salesAgentId=agent_id))

    assert codes(stranger) == [("salesAgentId", "UNKNOWN_SALES_AGENT")]
    assert codes(dispatcher) == [("salesAgentId", "UNKNOWN_SALES_AGENT")]
    assert agent["userErrors"] == []


async def test_finding_12_a_pickup_beyond_the_booking_horizon_is_refused(
    staff, vehicle_type, known_client
):
    vtype = await vehicle_type()
    client_id = await known_client()
    far = (
        (datetime.now() + timedelta(days=800))
        .replace(hour=9, minute=0)
        .isoformat(timespec="minutes")
    )

    year_9999 = await _create(staff, _input(vtype["id"], client_id, pickupLocal="9999-06-01T09:00"))
    in_800_days = await _create(staff, _input(vtype["id"], client_id, pickupLocal=far))
    in_700_days = await _create(
        staff, _input(vtype["id"], client_id, pickupLocal=future_local(700))
    )

    assert codes(year_9999) == [("pickupLocal", "BEYOND_HORIZON")]
    assert codes(in_800_days) == [("pickupLocal", "BEYOND_HORIZON")]
    assert in_700_days["userErrors"] == []


async def test_finding_12_the_booking_horizon_is_configuration(
    subgraph_settings, http_client, mint, staff, vehicle_type, known_client
):
    vtype = await vehicle_type()
    client_id = await known_client()
    short = subgraph_settings.model_copy(update={"charter_booking_horizon_days": 30})

    async with serve(create_app(short)) as server:
        manager = GraphQLClient(server.graphql_url, http_client, await mint("manager"))
        in_60_days = await _create(
            manager, _input(vtype["id"], client_id, pickupLocal=future_local(60))
        )
        in_20_days = await _create(
            manager, _input(vtype["id"], client_id, pickupLocal=future_local(20))
        )

    assert codes(in_60_days) == [("pickupLocal", "BEYOND_HORIZON")]
    assert "30 days" in in_60_days["userErrors"][0]["message"]
    assert in_20_days["userErrors"] == []
