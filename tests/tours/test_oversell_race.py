"""Capacity never oversells under concurrency (issue 15 §2), on real PostgreSQL.

Each booking runs in its own session and transaction, all started together
with asyncio.gather; the engine's pool lets about twenty run at the very
same moment, and they all contend for the one departure row.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.kit.errors import ServiceError
from subgraphs.tours.models import Booking, DepartureSlot
from subgraphs.tours.service import bookings, config
from subgraphs.tours.service.bookings import Modification
from tests.tours.booking_data import ANONYMOUS, NOW, make_slot, make_tour, new_booking


async def _setup(sessions: async_sessionmaker[AsyncSession], *capacities: int) -> list[uuid.UUID]:
    async with sessions() as session, session.begin():
        await config.get_config(session)
        tour = await make_tour(session)
        slots = [
            await make_slot(session, tour, days_ahead=10 + i, capacity=c)
            for i, c in enumerate(capacities)
        ]
    return [s.id for s in slots]


async def test_100_concurrent_bookings_of_2_seats_on_15_seats_book_exactly_7(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    [slot_id] = await _setup(sessions, 15)

    async def book(n: int) -> str:
        try:
            async with sessions() as session, session.begin():
                slot = await session.get_one(DepartureSlot, slot_id)
                data = new_booking(slot, adults=2, customer_email=f"c{n}@example.com")
                await bookings.create_booking(session, data, ANONYMOUS, now=NOW)
        except ServiceError as refused:
            return ",".join(p.code for p in refused.problems)
        return "BOOKED"

    outcomes = Counter(await asyncio.gather(*(book(n) for n in range(100))))

    assert outcomes == {"BOOKED": 7, "SOLD_OUT": 93}
    async with sessions() as session:
        slot = await session.get_one(DepartureSlot, slot_id)
        assert (slot.seats_booked, slot.seats_held, slot.seats_available) == (14, 0, 1)
        booked = await session.scalar(
            select(func.sum(Booking.seats)).where(Booking.slot_id == slot_id)
        )
        assert booked == 14


async def test_opposite_concurrent_moves_between_two_departures_neither_deadlock_nor_lose_seats(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    a, b = await _setup(sessions, 20, 20)
    made: dict[uuid.UUID, list[uuid.UUID]] = {a: [], b: []}
    async with sessions() as session, session.begin():
        for slot_id in (a, b):
            slot = await session.get_one(DepartureSlot, slot_id)
            for n in range(8):
                booking = await bookings.create_booking(
                    session,
                    new_booking(slot, adults=2, customer_email=f"m{n}@example.com"),
                    ANONYMOUS,
                    now=NOW,
                )
                made[slot_id].append(booking.id)

    async def move(booking_id: uuid.UUID, to: uuid.UUID) -> str:
        try:
            async with sessions() as session, session.begin():
                await bookings.modify_booking(
                    session, booking_id, Modification(slot_id=to), ANONYMOUS, now=NOW
                )
        except ServiceError as refused:
            return ",".join(p.code for p in refused.problems)
        return "MOVED"

    # 16 of 20 seats taken on each side; all 16 bookings swap sides at once
    moves = [move(i, b) for i in made[a]] + [move(i, a) for i in made[b]]
    outcomes = Counter(await asyncio.gather(*moves))

    assert outcomes["MOVED"] >= 1  # the first move in lock order finds 4 free seats
    assert set(outcomes) <= {"MOVED", "SOLD_OUT"}
    async with sessions() as session:
        for slot_id in (a, b):
            slot = await session.get_one(DepartureSlot, slot_id)
            booked = await session.scalar(
                select(func.coalesce(func.sum(Booking.seats), 0)).where(
                    Booking.slot_id == slot_id, Booking.status.in_(bookings.HOLDING_SEATS)
                )
            )
            assert slot.seats_booked == booked
            assert slot.seats_booked + slot.seats_available == 20
        total = await session.scalar(select(func.sum(DepartureSlot.seats_booked)))
        assert total == 32
