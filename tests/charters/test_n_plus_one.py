"""Nested charter queries issue a constant number of SQL statements."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from db.engine import record_statements
from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.service import charters, directory, fleet
from tests.support.charters_fixtures import client_event

MANAGER = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.MANAGER}))

NESTED = """{ charters(first: 50) { edges { node {
  stops { address } vehicles { vehicleType { name } } } } } }"""

CLIENT_CHARTERS = """query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Client { charters { edges { node { reference vehicles { capacity } } } } } } }"""


async def _seed(sessions, count: int, client_ids: list[uuid.UUID] | None = None) -> None:
    """`count` charters with 2-4 stops and 1-3 vehicles of varied types."""
    async with sessions() as session, session.begin():
        types = [
            await fleet.create_vehicle_type(
                session, name=f"T{uuid.uuid4().hex[:8]}", capacity=20 + i, description=None
            )
            for i in range(3)
        ]
        clients = client_ids or [uuid.uuid4()]
        for client_id in clients:
            await directory.apply_client_event(session, client_event(client_id, "Acme"))
        for i in range(count):
            await charters.create(
                session,
                charters.NewCharter(
                    client_id=clients[i % len(clients)],
                    trip_type="one_way",
                    passenger_count=10,
                    pickup_local=(datetime.now() + timedelta(days=5 + i)).replace(
                        hour=8, minute=0, second=0, microsecond=0
                    ),
                    pickup_time_zone="America/New_York",
                    stops=[
                        {"id": None, "stop_type": "pickup", "address": f"S{i}-{j}"}
                        for j in range(2 + i % 3)
                    ],
                    vehicles=[
                        {
                            "id": None,
                            "vehicle_type_id": str(types[(i + j) % 3].id),
                            "capacity": 20,
                            "cost": "100.00",
                        }
                        for j in range(1 + i % 3)
                    ],
                ),
                MANAGER,
            )


async def _count(client, query, variables=None):
    # Warm up once: the first request also fetches the token-signing keys.
    (await client(query, variables)).ok()
    with record_statements() as recorder:
        data = (await client(query, variables)).ok()
    return len(recorder.statements), data


async def test_the_nested_charters_query_is_constant_in_sql_statements(staff, sessions):
    await _seed(sessions, 5)
    few, few_data = await _count(staff, NESTED)
    await _seed(sessions, 25)
    many, many_data = await _count(staff, NESTED)

    assert len(few_data["charters"]["edges"]) == 5
    assert len(many_data["charters"]["edges"]) == 30
    assert sum(len(e["node"]["vehicles"]) for e in many_data["charters"]["edges"]) > 30
    assert few == many
    assert many <= 6


async def test_client_charters_through_entities_is_constant_in_sql_statements(staff, sessions):
    clients = [uuid.uuid4() for _ in range(10)]
    await _seed(sessions, 30, clients)

    def reps(ids):
        return {"reps": [{"__typename": "Client", "id": str(c)} for c in ids]}

    one, one_data = await _count(staff, CLIENT_CHARTERS, reps(clients[:1]))
    ten, ten_data = await _count(staff, CLIENT_CHARTERS, reps(clients))

    assert len(one_data["_entities"]) == 1
    assert len(ten_data["_entities"]) == 10
    assert all(len(e["charters"]["edges"]) == 3 for e in ten_data["_entities"])
    assert one == ten
    assert ten <= 6


HISTORIES = """{ charters(first: 50) { edges { node {
  auditLog(first: 3) { totalCount edges { node { action } } }
  changeCases(first: 3) { totalCount edges { node { caseNumber history { toStatus } } } }
  quoteRevisions(first: 3) { revision } } } } }"""


async def test_nested_connections_are_constant_in_sql_statements(staff, sessions):
    await _seed(sessions, 5)
    few, few_data = await _count(staff, HISTORIES)
    await _seed(sessions, 25)
    many, many_data = await _count(staff, HISTORIES)

    logs = [e["node"]["auditLog"] for e in many_data["charters"]["edges"]]
    assert len(few_data["charters"]["edges"]) == 5
    assert len(logs) == 30
    assert all(len(log["edges"]) == 3 and log["totalCount"] > 3 for log in logs)
    assert few == many
