"""The dispatch demo: today's trip for the demo driver, tasks in every state, a recovery case."""

from __future__ import annotations

from sqlalchemy import func, select

from db.demo.__main__ import load_all
from subgraphs.charters.models import (
    CharterVehicle,
    ChecklistItem,
    DispatchTask,
    Driver,
    LatestPosition,
    RecoveryCase,
)


async def test_the_dispatch_demo_gives_the_driver_a_started_trip_and_the_board_its_states(
    sessions,
):
    first = await load_all()
    again = await load_all()

    async with sessions() as session:
        items = await session.scalar(select(func.count()).select_from(ChecklistItem))
        statuses = set(await session.scalars(select(DispatchTask.status)))
        overdue = await session.scalar(
            select(func.count())
            .select_from(DispatchTask)
            .where(DispatchTask.overdue_since.is_not(None))
        )
        cases = list(await session.scalars(select(RecoveryCase)))
        started = (
            await session.execute(
                select(CharterVehicle, Driver.user_id)
                .join(Driver, Driver.id == CharterVehicle.driver_id)
                .where(CharterVehicle.trip_started_at.is_not(None))
            )
        ).all()
        latest = await session.scalar(select(func.count()).select_from(LatestPosition))

    assert first["dispatch"] > 0
    assert again["dispatch"] == 0
    assert items == 5
    assert statuses == {"pending", "in_progress", "completed", "skipped"}
    assert overdue > 0
    assert [(c.status, c.reason) for c in cases] == [("vendor_search", "vehicle_breakdown")]
    [(trip, _driver_user)] = started
    assert trip.trip_completed_at is None
    assert latest == 1
