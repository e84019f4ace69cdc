"""The tours audit log: every catalogue and waitlist change leaves one row naming its actor.

Service level on real PostgreSQL (plain values and a session), plus the staff
query through the live subgraph and its role table. An edit that changes
nothing (the same values, 80 for 80.00 included) leaves no row.
"""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.tours.models import TourAudit, WaitlistEntry
from subgraphs.tours.service import (
    blackouts,
    config,
    schedules,
    seats,
    slots,
    tours,
    waitlist,
)
from subgraphs.tours.service.changes import Actor
from subgraphs.tours.service.waitlist import NewEntry, OfferParty
from tests.support.graphql_client import GraphQLClient
from tests.tours.booking_data import ANONYMOUS, NOW, STAFF, customer, make_slot, make_tour
from tests.tours.test_security_review_roles import EXPECTED, ROLES

MANAGER = Actor(viewer=Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.MANAGER})))


async def trail(session: AsyncSession) -> list[TourAudit]:
    return list(await session.scalars(select(TourAudit).order_by(TourAudit.at, TourAudit.id)))


def summary(rows: list[TourAudit]) -> list[tuple[str, str, uuid.UUID | None, uuid.UUID | None]]:
    return [(r.entity, r.action, r.entity_id, r.actor_id) for r in rows]


async def test_tours_schedules_and_generation_are_audited_once_per_change(
    session: AsyncSession,
) -> None:
    who = MANAGER.user_id
    tour = await tours.create_tour(
        session,
        tours.TourData(name="Harbour", duration_minutes=90, base_price=Decimal("75.00")),
        actor=MANAGER,
    )
    await tours.update_tour(
        session, tour.id, tours.TourData(base_price=Decimal("80.00")), actor=MANAGER
    )
    await tours.update_tour(
        session, tour.id, tours.TourData(base_price=Decimal("80")), actor=MANAGER
    )
    schedule = await schedules.create_schedule(
        session,
        tour.id,
        schedules.ScheduleData(
            name="Mornings",
            start_time=time(9),
            recurrence="daily",
            max_capacity=10,
            valid_from=date(2026, 6, 10),
        ),
        MANAGER,
    )
    for _ in range(2):  # the second edit and the second generation change nothing
        await schedules.update_schedule(
            session,
            schedule.id,
            schedules.ScheduleData(max_capacity=12),
            clear=set(),
            actor=MANAGER,
        )
        await schedules.generate_departures(
            session, schedule.id, date(2026, 6, 10), date(2026, 6, 12), NOW, actor=MANAGER
        )

    rows = await trail(session)

    assert summary(rows) == [
        ("tour", "create", tour.id, who),
        ("tour", "update", tour.id, who),
        ("schedule", "create", schedule.id, who),
        ("schedule", "update", schedule.id, who),
        ("schedule", "generate", schedule.id, who),
    ]
    assert all(r.tour_id == tour.id for r in rows)
    assert rows[0].before is None
    assert rows[0].after is not None
    assert rows[0].after["name"] == "Harbour"
    assert rows[0].after["base_price"] == "75.00"
    assert (rows[1].before, rows[1].after) == ({"base_price": "75.00"}, {"base_price": "80.00"})
    assert rows[2].after is not None
    assert rows[2].after["start_time"] == "09:00:00"
    assert (rows[3].before, rows[3].after) == ({"max_capacity": 10}, {"max_capacity": 12})
    assert rows[4].after == {"from": "2026-06-10", "to": "2026-06-12", "created": 3, "skipped": 0}


async def test_departures_blackouts_and_the_rules_are_audited_with_their_actor(
    session: AsyncSession,
) -> None:
    who = MANAGER.user_id
    tour = await make_tour(session)
    slot = await make_slot(session, tour, capacity=15)
    change = slots.SlotChange(max_capacity=20, price_per_person=Decimal("70.00"))
    await slots.update_slot(session, slot.id, change, NOW, actor=MANAGER)
    await slots.update_slot(session, slot.id, change, NOW, actor=MANAGER)
    await seats.reserve(session, slot.id, 3)  # a booking's seats: not the departure's trail
    await slots.cancel_departure(session, slot.id, "Guide ill", MANAGER, now=NOW)
    blackout = await blackouts.create_blackout(
        session,
        blackouts.BlackoutData(
            name="Holiday",
            blackout_type="holiday",
            start_date=date(2026, 7, 4),
            end_date=date(2026, 7, 4),
        ),
        MANAGER,
    )
    for _ in range(2):
        await blackouts.update_blackout(
            session, blackout.id, blackouts.BlackoutData(name="Independence Day"), actor=MANAGER
        )
    await config.update_config(session, config.ConfigChange(cutoff_hours=48), MANAGER)
    # the default rate, given without its decimals: no change
    await config.update_config(
        session, config.ConfigChange(child_rate_percent=Decimal("70")), MANAGER
    )

    rows = await trail(session)

    assert summary(rows) == [
        ("departure", "update", slot.id, who),
        ("departure", "cancel", slot.id, who),
        ("blackout", "create", blackout.id, who),
        ("blackout", "update", blackout.id, who),
        ("config", "update", None, who),
    ]
    assert [r.tour_id for r in rows] == [tour.id, tour.id, None, None, None]
    assert (rows[0].before, rows[0].after) == (
        {"max_capacity": 15, "price_per_person": "75.00"},
        {"max_capacity": 20, "price_per_person": "70.00"},
    )
    assert rows[1].after is not None
    assert rows[1].after["cancellation_reason"] == "Guide ill"
    assert rows[1].after["bookings_cancelled"] == 0
    assert "seats_booked" not in rows[1].after
    assert (rows[3].before, rows[3].after) == ({"name": "Holiday"}, {"name": "Independence Day"})
    assert (rows[4].before, rows[4].after) == ({"cutoff_hours": 24}, {"cutoff_hours": 48})


async def test_every_waitlist_step_is_audited_people_by_name_the_system_as_none(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    owner = customer()
    async with sessions() as session, session.begin():
        tour = await make_tour(session)
        slot = await make_slot(session, tour, capacity=5)
        await seats.reserve(session, slot.id, 5)

    async def join(name: str, party: int, actor: Actor) -> WaitlistEntry:
        # one transaction each: the line's order is the entries' creation time
        async with sessions() as session, session.begin():
            wants = NewEntry(tour.id, slot.date, party, name, f"{name.lower()}@example.com")
            return await waitlist.join(session, wants, actor, NOW)

    a = await join("Ana", 2, owner)
    b = await join("Ben", 2, ANONYMOUS)
    c = await join("Cy", 1, ANONYMOUS)
    async with sessions() as session, session.begin():
        for _ in range(2):  # the second sets what is already set
            await waitlist.set_priority(session, b.id, 5, actor=STAFF)
        await seats.release(session, slot.id, 2)
        await waitlist.offer_freed_seats(session, slot.id, NOW)  # Ben, first by priority
    later = NOW + timedelta(hours=25)
    assert await waitlist.expire_offers(sessions, later) == 1  # Ben's lapses; Ana is offered
    async with sessions() as session, session.begin():
        await waitlist.accept(session, a.id, OfferParty(adults=2), owner, later)
        await seats.release(session, slot.id, 1)
        await waitlist.offer_freed_seats(session, slot.id, later)  # Cy
        await slots.cancel_departure(session, slot.id, "Storm", MANAGER, now=later)
        await waitlist.cancel(session, c.id, STAFF.viewer, later)
    async with sessions() as session:
        rows = [r for r in await trail(session) if r.entity == "waitlist_entry"]

    assert [(r.action, r.entity_id, r.actor_id) for r in rows] == [
        ("join", a.id, owner.user_id),
        ("join", b.id, None),
        ("join", c.id, None),
        ("priority", b.id, STAFF.user_id),
        ("offer", b.id, None),
        ("expire", b.id, None),
        ("offer", a.id, None),
        ("convert", a.id, owner.user_id),
        ("offer", c.id, None),
        ("offer_withdrawn", c.id, None),
        ("cancel", c.id, STAFF.user_id),
    ]
    assert all(r.tour_id == tour.id for r in rows)
    joined, priority, offered, expired = rows[0], rows[3], rows[4], rows[5]
    assert joined.before is None
    assert joined.after is not None
    assert (joined.after["customer_email"], joined.after["status"]) == ("ana@example.com", "active")
    assert (priority.before, priority.after) == ({"priority": 0}, {"priority": 5})
    assert offered.before is not None
    assert offered.after is not None
    assert (offered.before["status"], offered.after["status"]) == ("active", "notified")
    assert offered.after["offer_slot_id"] == str(slot.id)
    assert expired.after is not None
    assert expired.after["status"] == "expired"
    assert rows[7].after is not None
    assert rows[7].after["status"] == "converted"
    assert rows[7].after["booking_id"] is not None


# --- the query -----------------------------------------------------------------------------

READERS = EXPECTED["tourAuditLog"]
LOG = """
query($t: ID, $e: String, $id: ID, $n: Int) {
  tourAuditLog(tourId: $t, entity: $e, entityId: $id, first: $n) {
    entity action entityId actorId before after at
  }
}
"""


async def test_staff_read_a_tours_log_newest_first_and_others_are_refused(
    tours_as: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        tour = await make_tour(session)
        other = await make_tour(session, name="Elsewhere")
        slot = await make_slot(session, tour)
        await slots.update_slot(
            session, slot.id, slots.SlotChange(max_capacity=16), NOW, actor=MANAGER
        )
        await slots.update_slot(session, slot.id, slots.SlotChange(available=False), NOW)
        await tours.update_tour(session, other.id, tours.TourData(name="Far"), actor=MANAGER)
    asked = {"t": str(tour.id), "e": "departure", "id": str(slot.id)}

    manager = await tours_as("manager")
    log = (await manager(LOG, asked)).ok()["tourAuditLog"]
    latest = (await manager(LOG, {**asked, "n": 1})).ok()["tourAuditLog"]
    wrong = await manager(LOG, {"e": "booking"})
    answers = {}
    for role in (*ROLES, None):
        caller: GraphQLClient = await tours_as(*([role] if role else []))
        answers[role or "anonymous"] = (await caller(LOG, {"n": 1})).error_codes

    assert [(e["action"], e["actorId"], e["before"], e["after"]) for e in log] == [
        ("update", None, {"available": True}, {"available": False}),
        ("update", str(MANAGER.user_id), {"max_capacity": 15}, {"max_capacity": 16}),
    ]
    assert {e["entityId"] for e in log} == {str(slot.id)}
    assert latest == log[:1]
    assert wrong.error_codes == ["BAD_USER_INPUT"]
    for role, codes in answers.items():
        if role in READERS:
            assert codes == [], (role, codes)
        else:
            assert codes == ["UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"], role
