"""Operating a departure: when it is confirmed to run, and what charters is told.

A departure runs once enough seats are sold: the first time its seats
booked reach its minimum (`min_capacity`; a departure without a minimum
needs one passenger) it is stamped `confirmed_to_run_at`, and that stamp
stays even if a later cancellation takes it below the minimum again: the
operator has committed a bus by then. From that moment every change of its
seats is announced (`tours.departure_changed`) so that charters creates the
shuttle charter once and keeps its passenger count equal to the seats sold;
an unconfirmed departure's seat changes concern nobody outside tours.

Departures that have not reached their minimum by the booking cutoff are
cancelled by the `tours.departure_cutoff` job (`cutoff_job`), through the
catalogue's own `slots.cancel_departure`, so that customers are refunded and
told exactly as when staff cancel one.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from subgraphs.tours.models import DepartureSlot, Tour
from subgraphs.tours.service import events

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.context import Services

log = logging.getLogger(__name__)

#: How many under-sold departures one cutoff run cancels per transaction.
CUTOFF_BATCH = 50


def seats_needed(slot: DepartureSlot) -> int:
    """Seats that confirm a departure: its minimum, and at least one passenger."""
    return max(slot.min_capacity, 1)


async def seats_changed(
    session: AsyncSession, slot_id: uuid.UUID, *, now: datetime | None = None
) -> None:
    """After any change of a departure's seats, in the same transaction as the change.

    Confirms the departure the first time its seats reach the minimum (one
    conditional UPDATE, so two concurrent bookings stamp it once) and then
    announces it; a confirmed departure announces every later change too.
    A cancelled departure is announced by its cancellation, not here.
    """
    now = now or datetime.now(UTC)
    slot = await session.get(DepartureSlot, slot_id, populate_existing=True)
    if slot is None or slot.cancelled_at is not None:
        return
    if slot.confirmed_to_run_at is None:
        if slot.seats_booked < seats_needed(slot):
            return
        await session.execute(
            update(DepartureSlot)
            .where(DepartureSlot.id == slot_id, DepartureSlot.confirmed_to_run_at.is_(None))
            .values(confirmed_to_run_at=now)
            .execution_options(synchronize_session=False)
        )
        await session.refresh(slot)
    tour = await session.get(Tour, slot.tour_id)
    if tour is None:  # a foreign key holds it; never a caller's doing
        raise RuntimeError(f"departure {slot_id} without its tour")
    await events.departure_changed(session, slot, tour)


async def under_sold_at_cutoff(
    session: AsyncSession, now: datetime, cutoff_hours: int, *, limit: int = CUTOFF_BATCH
) -> list[uuid.UUID]:
    """Departures whose booking closes by `now` without their minimum sold, locked for this run.

    `SKIP LOCKED`: a second replica running the job at the same moment takes
    the others, and neither waits for the other's transaction.
    """
    rows = await session.scalars(
        select(DepartureSlot.id)
        .where(
            DepartureSlot.cancelled_at.is_(None),
            DepartureSlot.confirmed_to_run_at.is_(None),
            DepartureSlot.min_capacity > 0,
            DepartureSlot.seats_booked < DepartureSlot.min_capacity,
            DepartureSlot.starts_at > now,
            DepartureSlot.starts_at <= now + timedelta(hours=cutoff_hours),
        )
        .order_by(DepartureSlot.starts_at, DepartureSlot.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows)


def cutoff_reason(slot: DepartureSlot) -> str:
    return f"Fewer than {slot.min_capacity} seats sold by the booking cutoff"


async def cancel_under_sold(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """Cancel one batch of departures that did not sell their minimum by the cutoff.

    Each is cancelled through the catalogue (bookings cancelled with a full
    refund, customers told, waitlist offers released, charters told), by the
    system. The rows stay locked from the selection to the cancellation, and
    a departure cancelled or confirmed meanwhile no longer matches, so a
    second run, or a second replica, cancels nothing twice.
    """
    from subgraphs.tours.service import changes, config, slots

    rules = await config.get_config(session)
    cancelled: list[uuid.UUID] = []
    for slot_id in await under_sold_at_cutoff(session, now, rules.cutoff_hours):
        slot = await session.get(DepartureSlot, slot_id, populate_existing=True)
        if slot is None:
            continue
        await slots.cancel_departure(session, slot_id, cutoff_reason(slot), changes.SYSTEM, now=now)
        cancelled.append(slot_id)
    return cancelled


async def cutoff_job(services: Services, due: datetime) -> dict[str, Any]:
    """`tours.departure_cutoff`: the clock decides what is due, not `due` (a late run still works).

    Batches commit one by one, so a failure part-way keeps what was done and
    the retry continues from there.
    """
    now = datetime.now(UTC)
    total = 0
    while True:
        async with services.sessions() as session, session.begin():
            done = await cancel_under_sold(session, now)
        total += len(done)
        if len(done) < CUTOFF_BATCH:
            break
    if total:
        log.info("departure cutoff cancelled %d under-sold departures", total)
    return {"cancelled": total}
