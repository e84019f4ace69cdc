"""Booking references: `TB-YYYYMMDD-XXXXXX`, the booking day and six random characters.

Random (the `secrets` module), not sequential, because a reference plus an
e-mail is all an anonymous customer needs to read a booking: a guessable
reference would leave only the e-mail between a stranger and the booking.
The alphabet leaves out 0/O and 1/I so a reference read over the phone
survives. Uniqueness is the database's (a UNIQUE column): a collision is
retried with a new draw inside a savepoint, so the caller's transaction
survives it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.tours.models import Booking

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RANDOM_LENGTH = 6
#: 32**6 is about a billion references a day: a retry is rare, a fifth one never needed.
ATTEMPTS = 5
_CONSTRAINT = "uq_bookings_reference"


def new_reference(day: date) -> str:
    tail = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return f"TB-{day:%Y%m%d}-{tail}"


def normalise(reference: str) -> str:
    """What a customer typed, as stored: trimmed, upper case."""
    return reference.strip().upper()


async def insert_with_reference(
    session: AsyncSession,
    booking: Booking,
    day: date,
    *,
    draw: Callable[[date], str] = new_reference,
) -> Booking:
    """Insert `booking` under a fresh reference, drawing again when one is taken."""
    for _ in range(ATTEMPTS):
        booking.reference = draw(day)
        try:
            async with session.begin_nested():
                session.add(booking)
                await session.flush()
            return booking
        except IntegrityError as error:
            if _CONSTRAINT not in str(error.orig):
                raise
            if booking in session:  # the savepoint's rollback normally detaches it already
                session.expunge(booking)
    raise RuntimeError(f"no free booking reference after {ATTEMPTS} draws")
