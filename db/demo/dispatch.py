"""Dispatch demo data: today's trip for the demo driver, tomorrow's board, a recovery case.

Loaded through charters' services (a manager, a dispatcher and the demo
driver acting), so tasks, confirmations and audit entries are what real use
makes:

- the pre-trip checklist's items;
- today's trip for `driver@demo.athena`: a confirmed charter picking up within
  the next two hours, its coach and driver assigned, confirmed by the driver
  and started, with a few positions along its way;
- the readiness tasks of the coming days in every state: one worked by hand,
  one skipped with a reason, one in progress, the past-due ones flagged;
- one vehicle in recovery (a breakdown, the vendor search started).

Two things are done directly and said so below: the positions are written
to their tables (the app's writer batches what phones post, with Redis; the
demo has none), and the new charter's trip starts at load time, so the
driver's "today" is the day the demo was loaded. Runs once: it skips
everything when the checklist has items.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from db.demo.charters import DEMO_CLIENTS, PLACES, _cost, _identity_users, _miles
from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.models import (
    Charter,
    CharterVehicle,
    ChecklistItem,
    DispatchTask,
    Driver,
    LatestPosition,
    Vehicle,
    VehiclePosition,
    VehicleType,
)
from subgraphs.charters.service import charters as charter_service
from subgraphs.charters.service import (
    checklist,
    driver_trips,
    recovery,
    tasks,
    vehicles,
)
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

CHECKLIST = (
    "Walk-around: tyres, lights, mirrors",
    "Fuel and fluids checked",
    "First-aid kit and fire extinguisher on board",
    "Wheelchair lift tested",
    "Interior clean, no lost property",
)
#: Where today's trip has been so far: O'Hare towards Navy Pier.
ROUTE = ((41.9742, -87.9073), (41.9612, -87.8420), (41.9320, -87.7600), (41.9105, -87.6900))


async def load(session: AsyncSession) -> int:
    if await session.scalar(select(func.count()).select_from(ChecklistItem)):
        return 0
    people = await _identity_users(
        session, ["manager@demo.athena", "dispatcher@demo.athena", "driver@demo.athena"]
    )
    manager = Viewer(user_id=people["manager@demo.athena"], roles=frozenset({Role.MANAGER}))
    dispatcher = Viewer(
        user_id=people["dispatcher@demo.athena"], roles=frozenset({Role.DISPATCHER})
    )
    driver_user = Viewer(user_id=people["driver@demo.athena"], roles=frozenset({Role.DRIVER}))
    now = datetime.now(UTC)
    made = len(
        await checklist.set_items(
            session, [checklist.ItemSpec(label=label) for label in CHECKLIST], manager
        )
    )
    made += await _todays_trip(session, manager, dispatcher, driver_user, now)
    made += await _task_states(session, dispatcher, now)
    made += await _recovery_case(session, dispatcher, now)
    return made


async def _todays_trip(
    session: AsyncSession, manager: Viewer, dispatcher: Viewer, driver_user: Viewer, now: datetime
) -> int:
    """A confirmed charter leaving within two hours, driven and started by the demo driver."""
    agent = await session.scalar(
        select(Charter.sales_agent_id).where(Charter.sales_agent_id.is_not(None)).limit(1)
    )
    coach = await session.scalar(select(VehicleType).where(VehicleType.name == "Executive Coach"))
    if coach is None:
        return 0
    zone = "America/Chicago"
    pickup = (
        (now + timedelta(minutes=90))
        .astimezone(ZoneInfo(zone))
        .replace(second=0, microsecond=0, tzinfo=None)
    )
    places = PLACES[zone]
    stops: list[dict[str, object]] = [
        {
            "stop_type": kind,
            "address": places[n][0],
            "latitude": places[n][1],
            "longitude": places[n][2],
            "id": None,
        }
        for kind, n in (("pickup", 0), ("dropoff", 1))
    ]
    charter = await charter_service.create(
        session,
        charter_service.NewCharter(
            client_id=DEMO_CLIENTS["Northwind Corporate Travel"],
            sales_agent_id=agent,
            trip_type="one_way",
            passenger_count=38,
            pickup_local=pickup,
            pickup_time_zone=zone,
            stops=stops,
            vehicles=[
                {
                    "vehicle_type_id": str(coach.id),
                    "cost": _cost(coach.name, _miles(stops)),
                    "capacity": 56,
                    "id": None,
                }
            ],
        ),
        manager,
    )
    for target in ("booked", "confirmed"):
        await charter_service.transition(session, charter.id, target, manager)
    row = await session.scalar(
        select(CharterVehicle).where(CharterVehicle.charter_id == charter.id)
    )
    driver_id = await session.scalar(select(Driver.id).where(Driver.user_id == driver_user.user_id))
    if row is None or driver_id is None:
        return 1
    # Plain values: a refused assignment rolls its savepoint back and expires loaded rows.
    row_id, charter_id = row.id, charter.id
    coaches = list(
        await session.scalars(
            select(Vehicle.id).where(Vehicle.vehicle_type_id == coach.id).order_by(Vehicle.plate)
        )
    )
    for vehicle_id in coaches:
        with contextlib.suppress(ServiceError):  # that coach is busy then: try the next
            async with session.begin_nested():
                await vehicles.assign(
                    session, row_id, vehicle_id=vehicle_id, driver_id=driver_id, actor=dispatcher
                )
            break
    await driver_trips.confirm(session, row_id, driver_user, at=now)
    await driver_trips.start(session, row_id, driver_user, at=now)
    # Written directly: the app's position writer batches with Redis, which the demo has not.
    fixes = [
        {
            "charter_vehicle_id": row_id,
            "charter_id": charter_id,
            "driver_id": driver_id,
            "latitude": Decimal(str(lat)),
            "longitude": Decimal(str(lon)),
            "speed_kph": Decimal("62.00"),
            "heading": Decimal("95.00"),
            "accuracy_m": Decimal("8.00"),
            "recorded_at": now - timedelta(minutes=3 * (len(ROUTE) - n)),
        }
        for n, (lat, lon) in enumerate(ROUTE)
    ]
    await session.execute(insert(VehiclePosition), fixes)
    latest = {k: v for k, v in fixes[-1].items() if k != "driver_id"}
    await session.execute(insert(LatestPosition).values(**latest))
    return 1 + len(fixes)


async def _task_states(session: AsyncSession, dispatcher: Viewer, now: datetime) -> int:
    """Tomorrow's board: open tasks of the next days, a few worked by hand."""
    open_ = list(
        await session.scalars(
            select(DispatchTask)
            .join(Charter, Charter.id == DispatchTask.charter_id)
            .where(
                DispatchTask.status == "pending",
                Charter.pickup_at.between(now, now + timedelta(days=3)),
            )
            .order_by(Charter.pickup_at, DispatchTask.kind)
        )
    )
    worked = 0
    for task, (target, reason) in zip(
        open_,
        (
            ("completed", None),
            ("skipped", "The client brings its own route plan."),
            ("in_progress", None),
        ),
        strict=False,
    ):
        await tasks.move(session, task.id, target, dispatcher, at=now, reason=reason)
        worked += 1
    flagged = await tasks.flag_overdue(session, now)
    return worked + sum(len(ids) for ids in flagged.values())


async def _recovery_case(session: AsyncSession, dispatcher: Viewer, now: datetime) -> int:
    """A coach of the next charter out (not today's) broke down: the vendor search is on."""
    vehicle_id = await session.scalar(
        select(CharterVehicle.id)
        .join(Charter, Charter.id == CharterVehicle.charter_id)
        .where(
            Charter.status.in_(("booked", "confirmed")),
            Charter.pickup_at.between(now + timedelta(hours=6), now + timedelta(days=21)),
            CharterVehicle.recovery_status == "not_needed",
        )
        .order_by(Charter.pickup_at)
        .limit(1)
    )
    if vehicle_id is None:
        return 0
    await recovery.open_recovery(
        session,
        vehicle_id,
        "vehicle_breakdown",
        dispatcher,
        note="Coach lost its air conditioning on the way back from the depot.",
        search_vendors=True,
        at=now,
    )
    return 1
