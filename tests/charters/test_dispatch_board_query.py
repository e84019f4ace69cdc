"""The dispatch board as a query (issue 13 section 1), and task changes on the live board.

`Query.dispatchBoard(from, to)`: sold charters departing in the window, each
with its open tasks, per-vehicle dispatch status and confirmations, its
place in its series and the latest position of each vehicle, in a constant
number of SQL statements. The subscription side (`Subscription.dispatchBoard`)
is tested in test_dispatch_board.py; here only that a task change reaches it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import update

from db.engine import record_statements
from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.models import (
    Charter,
    CharterSeries,
    Confirmation,
    LatestPosition,
)
from subgraphs.charters.service import charters, directory, fleet, snapshots, tasks
from tests.charters.dispatch_ops import COMPLETE, booked, by_kind, tasks_of
from tests.charters.ops import CANCEL
from tests.charters.test_dispatch_board import (
    board_socket,
    drained,
    eventually,
    replica,
    stream,
)
from tests.support.charters_fixtures import client_event

MANAGER = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.MANAGER}))

BOARD = """query($from: DateTime, $to: DateTime) {
  dispatchBoard(from: $from, to: $to, first: 100) { totalCount edges { node {
    id reference status pickupAt seriesPosition { index count }
    openTasks { id kind status dueAt overdueSince charterVehicle { id } }
    vehicles { id dispatchStatus vendorAssignmentStatus
      driverConfirmation { id method } vendorConfirmation { id method }
      latestPosition { latitude longitude speedKph heading accuracyM recordedAt } }
  } } } }"""


def _nodes(data):
    return [e["node"] for e in data["dispatchBoard"]["edges"]]


async def _seed(sessions, count: int, *, days: float = 1.0) -> list[uuid.UUID]:
    """`count` booked charters departing within the default window, 1-2 vehicles each,
    each vehicle with a confirmation and a position (so every loader has rows)."""
    ids = []
    async with sessions() as session, session.begin():
        vtype = await fleet.create_vehicle_type(
            session, name=f"T{uuid.uuid4().hex[:8]}", capacity=20, description=None
        )
        client_id = uuid.uuid4()
        await directory.apply_client_event(session, client_event(client_id, "Acme"))
        for i in range(count):
            charter = await charters.create(
                session,
                charters.NewCharter(
                    client_id=client_id,
                    trip_type="one_way",
                    passenger_count=10,
                    pickup_local=(datetime.now(UTC) + timedelta(days=days, minutes=i)).replace(
                        tzinfo=None, second=0, microsecond=0
                    ),
                    pickup_time_zone="UTC",
                    stops=[
                        {"id": None, "stop_type": "pickup", "address": f"A{i}"},
                        {"id": None, "stop_type": "dropoff", "address": f"B{i}"},
                    ],
                    vehicles=[
                        {
                            "id": None,
                            "vehicle_type_id": str(vtype.id),
                            "capacity": 20,
                            "cost": "100.00",
                        }
                        for _ in range(1 + i % 2)
                    ],
                ),
                MANAGER,
            )
            ids.append(charter.id)
    for charter_id in ids:
        async with sessions() as session, session.begin():
            charter = await charters.transition(session, charter_id, "booked", MANAGER)
            vehicles = await snapshots.load(session, charter)
            for v in vehicles["vehicles"]:
                vid = uuid.UUID(str(v["id"]))
                session.add(
                    Confirmation(
                        id=uuid.uuid4(),
                        charter_id=charter_id,
                        charter_vehicle_id=vid,
                        party="vendor",
                        party_id=uuid.uuid4(),
                        method="phone",
                        confirmed_at=datetime.now(UTC),
                    )
                )
                session.add(
                    LatestPosition(
                        charter_vehicle_id=vid,
                        charter_id=charter_id,
                        latitude=Decimal("32.7767"),
                        longitude=Decimal("-96.797"),
                        recorded_at=datetime.now(UTC),
                    )
                )
    return ids


async def _count(client, query, variables=None):
    (await client(query, variables)).ok()  # warm up: the first request fetches signing keys
    with record_statements() as recorder:
        data = (await client(query, variables)).ok()
    return len(recorder.statements), data


async def test_the_board_shows_sold_charters_in_its_window_with_what_dispatch_needs(
    staff, as_role, bookable_charter, sessions
):
    first = await booked(staff, bookable_charter, days=1)
    second = await booked(staff, bookable_charter, days=1, vehicles=2)
    later = await booked(staff, bookable_charter, days=5)
    quote = await bookable_charter(days=1)
    cancelled = await booked(staff, bookable_charter, days=1)
    (await staff(CANCEL, {"id": cancelled["id"], "reason": "Client called off"})).ok()
    vehicle_id = first["vehicles"][0]["id"]
    dispatcher = await as_role("dispatcher")
    docs = by_kind((await tasks_of(staff, first["id"]))["tasks"])["DOCUMENTS_READY"]
    (await dispatcher(COMPLETE, {"id": docs["id"]})).ok()
    seen = datetime.now(UTC) - timedelta(seconds=30)
    async with sessions() as session, session.begin():
        session.add(
            LatestPosition(
                charter_vehicle_id=uuid.UUID(vehicle_id),
                charter_id=uuid.UUID(first["id"]),
                latitude=Decimal("32.776700"),
                longitude=Decimal("-96.797000"),
                speed_kph=Decimal("54.5"),
                heading=Decimal("270"),
                accuracy_m=Decimal("8"),
                recorded_at=seen,
            )
        )
        # Two instances of a series ("day 2 of 2" for the second one departing).
        series = CharterSeries(
            id=uuid.uuid4(),
            name="School run",
            client_id=uuid.uuid4(),
            template_id=uuid.UUID(later["id"]),
            rrule="FREQ=DAILY",
            starts_local=datetime(2026, 1, 1, 8),
            time_zone="America/Chicago",
        )
        session.add(series)
        await session.flush()
        for day, charter_id in ((1, first["id"]), (2, second["id"])):
            await session.execute(
                update(Charter)
                .where(Charter.id == uuid.UUID(charter_id))
                .values(series_id=series.id, occurrence_date=date(2030, 1, day))
            )

    board = _nodes((await dispatcher(BOARD)).ok())
    by_id = {c["id"]: c for c in board}
    mine = by_id[first["id"]]

    assert set(by_id) == {first["id"], second["id"]}
    assert [c["status"] for c in board] == ["BOOKED", "BOOKED"]
    assert [c["pickupAt"] for c in board] == sorted(c["pickupAt"] for c in board)
    assert later["id"] not in by_id
    assert quote["id"] not in by_id
    assert cancelled["id"] not in by_id
    # Completed tasks drop off; every other task of the plan is open.
    assert docs["id"] not in [t["id"] for t in mine["openTasks"]]
    assert len(mine["openTasks"]) == len(tasks.PLAN) - 1
    assert len(by_id[second["id"]]["openTasks"]) == 2 * 5 + 2
    assert [t["dueAt"] for t in mine["openTasks"]] == sorted(t["dueAt"] for t in mine["openTasks"])
    assert mine["seriesPosition"] == {"index": 1, "count": 2}
    assert by_id[second["id"]]["seriesPosition"] == {"index": 2, "count": 2}
    assert mine["vehicles"] == [
        {
            "id": vehicle_id,
            "dispatchStatus": "NOT_READY",
            "vendorAssignmentStatus": None,
            "driverConfirmation": None,
            "vendorConfirmation": None,
            "latestPosition": {
                "latitude": "32.776700",
                "longitude": "-96.797000",
                "speedKph": "54.50",
                "heading": "270.00",
                "accuracyM": "8.00",
                "recordedAt": mine["vehicles"][0]["latestPosition"]["recordedAt"],
            },
        }
    ]
    assert datetime.fromisoformat(mine["vehicles"][0]["latestPosition"]["recordedAt"]) == seen
    assert [v["latestPosition"] for v in by_id[second["id"]]["vehicles"]] == [None, None]


async def test_the_window_is_given_or_the_next_two_days_and_checked(
    staff, as_role, bookable_charter
):
    soon = await booked(staff, bookable_charter, days=1)
    later = await booked(staff, bookable_charter, days=5)
    dispatcher = await as_role("dispatcher")
    now = datetime.now(UTC)

    default = _nodes((await dispatcher(BOARD)).ok())
    wide = _nodes(
        (
            await dispatcher(
                BOARD, {"from": now.isoformat(), "to": (now + timedelta(days=7)).isoformat()}
            )
        ).ok()
    )
    backwards = await dispatcher(
        BOARD, {"from": now.isoformat(), "to": (now - timedelta(hours=1)).isoformat()}
    )
    too_wide = await dispatcher(
        BOARD, {"from": now.isoformat(), "to": (now + timedelta(days=32)).isoformat()}
    )

    assert [c["id"] for c in default] == [soon["id"]]
    assert [c["id"] for c in wide] == [soon["id"], later["id"]]
    assert backwards.error_codes == ["BAD_USER_INPUT"]
    assert too_wide.error_codes == ["BAD_USER_INPUT"]


async def test_the_board_is_for_dispatch(as_role):
    answers = {}
    for role in ("admin", "manager", "dispatcher", "sales_agent", "accounting", "client", "driver"):
        client = await as_role(role)
        answers[role] = (await client(BOARD)).error_codes

    assert answers == {
        "admin": [],
        "manager": [],
        "dispatcher": [],
        "sales_agent": ["FORBIDDEN"],
        "accounting": ["FORBIDDEN"],
        "client": ["FORBIDDEN"],
        "driver": ["FORBIDDEN"],
    }


async def test_the_board_is_constant_in_sql_statements(staff, sessions):
    await _seed(sessions, 2)
    few, few_data = await _count(staff, BOARD)
    await _seed(sessions, 18, days=1.2)
    many, many_data = await _count(staff, BOARD)

    few_nodes, many_nodes = _nodes(few_data), _nodes(many_data)
    assert len(few_nodes) == 2
    assert len(many_nodes) == 20
    vehicles = [v for c in many_nodes for v in c["vehicles"]]
    assert len(vehicles) == 30
    assert all(v["latestPosition"] is not None for v in vehicles)
    assert all(len(c["openTasks"]) == 5 * len(c["vehicles"]) + 2 for c in many_nodes)
    assert few == many
    # count, page, tasks, vehicles (by charter, by id), confirmations, vendors' assignments,
    # positions: one statement each (staff's audience needs no charter read).
    assert many == 8


async def test_a_task_change_reaches_the_live_board(
    subgraph_settings, staff, as_role, bookable_charter, mint, sessions
):
    charter = await booked(staff, bookable_charter, days=30)
    route = by_kind((await tasks_of(staff, charter["id"]))["tasks"])["ROUTE_VERIFIED"]
    dispatcher = await as_role("dispatcher")
    await drained(sessions)
    middle = datetime.now(UTC) + timedelta(days=30)
    query = """subscription($from: DateTime!, $to: DateTime!) {
      dispatchBoard(from: $from, to: $to) { changes charter { id openTasks { id } } } }"""

    token = await mint("dispatcher")
    async with replica(subgraph_settings) as (server, app), board_socket(server, token) as board:
        await board.send(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {
                    "query": query,
                    "variables": {
                        "from": (middle - timedelta(days=1)).isoformat(),
                        "to": (middle + timedelta(days=1)).isoformat(),
                    },
                },
            }
        )
        await eventually(lambda: stream(app).subscriber_count == 1)
        done = (await dispatcher(COMPLETE, {"id": route["id"]})).ok()["completeTask"]
        event = await board.event()

    assert done["userErrors"] == []
    assert event["changes"] == ["tasks"]
    assert event["charter"]["id"] == charter["id"]
    assert route["id"] not in [t["id"] for t in event["charter"]["openTasks"]]
    assert len(event["charter"]["openTasks"]) == len(tasks.PLAN) - 1
