"""The tours demo: two tours, a daily and a weekly schedule, a month of departures, a holiday
blacked out, sold-out days with a waitlist, every seat accounted for; loaded once."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.demo import tours as tours_demo
from subgraphs.kit.settings import get_settings
from subgraphs.sales.models import Client
from subgraphs.tours.models import (
    BlackoutDate,
    Booking,
    DepartureSlot,
    Schedule,
    Tour,
    WaitlistEntry,
)
from subgraphs.tours.service import pricing
from subgraphs.tours.service.config import get_config

CHICAGO = ZoneInfo("America/Chicago")


async def test_the_demo_tours_sell_seats_on_a_month_of_departures_around_a_holiday(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        first = await tours_demo.load(session, now=now)
    async with sessions() as session, session.begin():
        again = await tours_demo.load(session, now=now)

    async with sessions() as session:
        tours = {t.name: t for t in await session.scalars(select(Tour))}
        kinds = {
            (s.tour_id, s.recurrence, tuple(s.weekdays), s.start_time, s.max_capacity)
            for s in await session.scalars(select(Schedule))
        }
        slots = list(await session.scalars(select(DepartureSlot).order_by(DepartureSlot.starts_at)))
        blackout = (await session.scalars(select(BlackoutDate))).one()
        live = dict(
            (
                await session.execute(
                    select(Booking.slot_id, func.sum(Booking.seats))
                    .where(Booking.status.in_(("pending", "confirmed")))
                    .group_by(Booking.slot_id)
                )
            ).all()
        )
        statuses = Counter(await session.scalars(select(Booking.status)))
        waiting = Counter(
            (e.tour_id, e.requested_date, e.status, e.priority)
            for e in await session.scalars(select(WaitlistEntry))
        )
        house = await session.get(Client, uuid.UUID(get_settings().tours_client_id))
        config = await get_config(session)

    today = now.astimezone(CHICAGO).date()
    daily, weekly = tours[tours_demo.DAILY_TOUR], tours[tours_demo.WEEKLY_TOUR]
    daily_days = [s.date for s in slots if s.tour_id == daily.id]
    weekly_days = [s.date for s in slots if s.tour_id == weekly.id]
    sold_out = [s for s in slots if s.seats_available == 0]
    assert first > 0
    assert again == 0
    assert set(tours) == {tours_demo.DAILY_TOUR, tours_demo.WEEKLY_TOUR}
    assert kinds == {
        (daily.id, "daily", (), time(10), 14),
        (weekly.id, "weekly", (6, 7), time(8), 35),
    }
    # a month from tomorrow, every day but the holiday (longer when the holiday is further)
    last = max(today + timedelta(days=tours_demo.MONTH), blackout.start_date)
    every_day = [today + timedelta(days=n) for n in range(1, (last - today).days + 1)]
    assert daily_days == [d for d in every_day if d != blackout.start_date]
    assert weekly_days == [
        d for d in every_day if d.isoweekday() in (6, 7) and d != blackout.start_date
    ]
    assert (blackout.tour_id, blackout.blackout_type, blackout.end_date) == (
        None,
        "holiday",
        blackout.start_date,
    )
    assert (blackout.start_date, blackout.name) == tours_demo.next_holiday(
        today + timedelta(days=2)
    )
    # 10:00 in Chicago on every day, DST or not
    assert {s.starts_at.astimezone(CHICAGO).time() for s in slots if s.tour_id == daily.id} == {
        time(10)
    }
    # sold out: two daily departures and a weekend one, each with two parties waiting
    assert sorted(s.tour_id == daily.id for s in sold_out) == [False, True, True]
    for slot in sold_out:
        assert waiting[(slot.tour_id, slot.date, "active", 0)] == 1
        assert waiting[(slot.tour_id, slot.date, "active", 1)] == 1
    assert sum(waiting.values()) == 6
    # every seat accounted for: booked = the live bookings' seats, nothing held, none oversold
    assert all(s.seats_booked == live.get(s.id, 0) for s in slots)
    assert all(s.seats_held == 0 for s in slots)
    assert {s.price_per_person for s in slots if s.tour_id == daily.id} == {daily.base_price}
    assert set(statuses) == {"pending", "confirmed"}
    assert statuses["confirmed"] >= statuses["pending"] > 0
    # runs once the minimum is sold
    assert all(
        (s.confirmed_to_run_at is not None) == (s.seats_booked >= s.min_capacity > 0) for s in slots
    )
    assert house is not None
    assert house.name == tours_demo.HOUSE_CLIENT
    # the documented example on the daily tour: 2 adults + 1 child at 75.00
    priced = pricing.price(
        daily.base_price,
        2,
        1,
        child_rate_percent=config.child_rate_percent,
        tax_rate_percent=config.tax_rate_percent,
        discount=pricing.ZERO,
    )
    assert (str(priced.subtotal), str(priced.tax), str(priced.total)) == (
        "202.50",
        "20.25",
        "222.75",
    )
    assert all(s.starts_at > now for s in slots)
