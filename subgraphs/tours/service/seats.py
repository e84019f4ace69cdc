"""A departure's seats: every change is one conditional UPDATE, so no slot is ever oversold.

Each function is a single statement that both checks and changes the count
(`... WHERE seats_booked + seats_held + n <= max_capacity RETURNING ...`):
PostgreSQL takes the row lock for the UPDATE and re-evaluates the WHERE
against the committed row once a concurrent writer finishes, so of 100
concurrent requests for 2 seats on a 15-seat slot exactly 7 match and 93
find no row, whatever the interleaving. The table's CHECK
(`seats_booked + seats_held <= max_capacity`) is the backstop.

They run inside the caller's transaction: a booking, its seats and its log
commit or roll back together. A caller that changes two slots (a booking
moved) calls them in slot-id order (`in_lock_order`) so two opposite moves
cannot deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

from sqlalchemy import ColumnElement, Table, update

from subgraphs.kit.errors import ServiceError
from subgraphs.tours.error_codes import ToursErrorCode as Code
from subgraphs.tours.models import DepartureSlot

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: Core statements on purpose: no ORM synchronisation of objects the session holds
#: (`seats_available` is computed by the database); callers that read a slot's counts
#: after a change refresh it.
_SLOT = cast("Table", DepartureSlot.__table__)


def _open(slot_id: uuid.UUID) -> ColumnElement[bool]:
    return (_SLOT.c.id == slot_id) & _SLOT.c.cancelled_at.is_(None) & _SLOT.c.available.is_(True)


async def reserve(
    session: AsyncSession, slot_id: uuid.UUID, seats: int, field: str = "slotId"
) -> int:
    """Book `seats` on an open slot; the seats left after it, or SOLD_OUT naming what is left."""
    left = await session.scalar(
        update(_SLOT)
        .where(_open(slot_id), _SLOT.c.seats_available >= seats)
        .values(seats_booked=_SLOT.c.seats_booked + seats)
        .returning(_SLOT.c.seats_available)
    )
    if left is None:
        raise await _refusal(session, slot_id, seats, field)
    return int(left)


async def release(session: AsyncSession, slot_id: uuid.UUID, seats: int) -> int:
    """Give `seats` booked seats back (a cancellation, a smaller party, a move away)."""
    left = await session.scalar(
        update(_SLOT)
        .where(_SLOT.c.id == slot_id, _SLOT.c.seats_booked >= seats)
        .values(seats_booked=_SLOT.c.seats_booked - seats)
        .returning(_SLOT.c.seats_available)
    )
    if left is None:  # more released than booked: a bug, never a user's doing
        raise RuntimeError(f"releasing {seats} seats of slot {slot_id} would go below zero")
    return int(left)


async def hold(session: AsyncSession, slot_id: uuid.UUID, seats: int) -> bool:
    """Hold `seats` for a waitlist offer; False (nothing changed) when they are not free."""
    held = await session.scalar(
        update(_SLOT)
        .where(_open(slot_id), _SLOT.c.seats_available >= seats)
        .values(seats_held=_SLOT.c.seats_held + seats)
        .returning(_SLOT.c.id)
    )
    return held is not None


async def release_hold(session: AsyncSession, slot_id: uuid.UUID, seats: int) -> None:
    """An offer expired or was declined: its seats are free again."""
    done = await session.scalar(
        update(_SLOT)
        .where(_SLOT.c.id == slot_id, _SLOT.c.seats_held >= seats)
        .values(seats_held=_SLOT.c.seats_held - seats)
        .returning(_SLOT.c.id)
    )
    if done is None:
        raise RuntimeError(f"releasing a hold of {seats} seats on slot {slot_id} that is not held")


async def book_held(session: AsyncSession, slot_id: uuid.UUID, seats: int) -> None:
    """An accepted offer: its held seats become booked ones, in one statement."""
    done = await session.scalar(
        update(_SLOT)
        .where(_SLOT.c.id == slot_id, _SLOT.c.seats_held >= seats)
        .values(seats_held=_SLOT.c.seats_held - seats, seats_booked=_SLOT.c.seats_booked + seats)
        .returning(_SLOT.c.id)
    )
    if done is None:
        raise RuntimeError(f"booking {seats} held seats on slot {slot_id} that are not held")


def in_lock_order(*slot_ids: uuid.UUID) -> list[uuid.UUID]:
    """Distinct slot ids in the one order every transaction touches them (no deadlock)."""
    return sorted(set(slot_ids), key=lambda i: i.bytes)


async def lock(session: AsyncSession, slot_ids: Iterable[uuid.UUID]) -> None:
    """Row-lock slots in lock order before a change that spans several of them."""
    for slot_id in in_lock_order(*slot_ids):
        await session.execute(
            _SLOT.select()
            .with_only_columns(_SLOT.c.id)
            .where(_SLOT.c.id == slot_id)
            .with_for_update()
        )


async def _refusal(
    session: AsyncSession, slot_id: uuid.UUID, seats: int, field: str
) -> ServiceError:
    """Why the conditional update matched nothing: a missing, closed or full slot."""
    row = (
        await session.execute(
            _SLOT.select()
            .with_only_columns(_SLOT.c.cancelled_at, _SLOT.c.available, _SLOT.c.seats_available)
            .where(_SLOT.c.id == slot_id)
        )
    ).first()
    if row is None:
        return ServiceError.of(Code.NOT_FOUND, "No such departure.", field)
    if row.cancelled_at is not None:
        return ServiceError.of(Code.SLOT_CANCELLED, "This departure is cancelled.", field)
    if not row.available:
        return ServiceError.of(Code.SLOT_CLOSED, "This departure is closed to bookings.", field)
    if row.seats_available <= 0:
        return ServiceError.of(
            Code.SOLD_OUT, "This departure is sold out; join the waitlist.", field
        )
    return ServiceError.of(
        Code.SOLD_OUT,
        f"Only {row.seats_available} seats are left on this departure; {seats} were asked for.",
        field,
    )
