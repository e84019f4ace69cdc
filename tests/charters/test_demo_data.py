"""The charters demo loads through the services, covers every status, and loads once."""

from __future__ import annotations

from sqlalchemy import func, select

from db.demo import charters as demo
from subgraphs.charters.models import ChangeCase, Charter, CharterSeries, CharterVehicle


async def test_demo_covers_every_status_and_a_second_load_adds_nothing(sessions):
    async with sessions() as session, session.begin():
        added = await demo.load(session)
    async with sessions() as session, session.begin():
        again = await demo.load(session)

    async with sessions() as session:
        rows = await session.execute(
            select(Charter.status, func.count())
            .where(Charter.is_template.is_(False))
            .group_by(Charter.status)
        )
        statuses = {row[0]: row[1] for row in rows}
        templates = await session.scalar(
            select(func.count()).select_from(Charter).where(Charter.is_template.is_(True))
        )
        series = (await session.scalars(select(CharterSeries))).all()
        members = await session.scalar(
            select(func.count()).select_from(Charter).where(Charter.series_id == series[0].id)
        )
        multi = await session.scalar(
            select(func.count()).select_from(
                select(CharterVehicle.charter_id)
                .group_by(CharterVehicle.charter_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
        cases = (await session.scalars(select(ChangeCase.status))).all()

    assert added > 0
    assert again == 0
    assert set(statuses) == {
        "quote",
        "booked",
        "confirmed",
        "in_progress",
        "completed",
        "cancelled",
    }
    assert sum(statuses.values()) >= 30
    assert templates == 1
    assert [s.rrule for s in series] == ["FREQ=WEEKLY;BYDAY=MO;COUNT=6"]
    assert members == 6
    assert multi >= 5
    assert cases == ["under_review"]
