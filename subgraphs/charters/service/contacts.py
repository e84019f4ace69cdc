"""The contact-attempt log: every time dispatch tried to reach someone about a charter.

A dispatcher chasing an unconfirmed driver or vendor needs to see who was
called, how and with what result before calling again, and a manager
reviewing a failed trip needs the same trail. The log is append-only: an
attempt is a fact about the past, so it is never edited, and it may not be
dated in the future (an attempt not yet made is a reminder, not a log entry).
Who made it comes from the verified token, never from the input.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import (
    CONTACT_CHANNELS,
    CONTACT_OUTCOMES,
    CONTACT_PARTIES,
    Charter,
    CharterVehicle,
    ContactAttempt,
)
from subgraphs.charters.service import audit, events
from subgraphs.charters.service.access import DISPATCH, ensure_role
from subgraphs.charters.service.timing import now
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

#: The column's size.
NOTE_MAX = 1000
#: Who may log and read attempts: the people who make them.
CONTACT_LOGGERS = DISPATCH


@dataclass(frozen=True)
class NewAttempt:
    charter_id: uuid.UUID
    party: str
    channel: str
    outcome: str
    charter_vehicle_id: uuid.UUID | None = None
    note: str | None = None
    #: When the attempt was made; None: now.
    attempted_at: datetime | None = None


def attempt_problems(attempt: NewAttempt, at: datetime) -> list[Problem]:
    """Every problem with the input at once, named by the GraphQL input field."""
    problems = []
    if attempt.party not in CONTACT_PARTIES:
        problems.append(Problem(Code.INVALID, f"Unknown party {attempt.party!r}.", "party"))
    if attempt.channel not in CONTACT_CHANNELS:
        problems.append(Problem(Code.INVALID, f"Unknown channel {attempt.channel!r}.", "channel"))
    if attempt.outcome not in CONTACT_OUTCOMES:
        problems.append(Problem(Code.INVALID, f"Unknown outcome {attempt.outcome!r}.", "outcome"))
    if attempt.note is not None and len(attempt.note.strip()) > NOTE_MAX:
        problems.append(Problem(Code.TOO_LONG, f"At most {NOTE_MAX} characters.", "note"))
    when = attempt.attempted_at
    if when is not None:
        if when.tzinfo is None:
            problems.append(Problem(Code.INVALID, "The time needs a UTC offset.", "attemptedAt"))
        elif when > at:
            problems.append(
                Problem(
                    Code.IN_THE_FUTURE,
                    "An attempt cannot be logged in the future.",
                    "attemptedAt",
                )
            )
    return problems


async def log_attempt(
    session: AsyncSession, attempt: NewAttempt, actor: Viewer, *, at: datetime | None = None
) -> ContactAttempt:
    """Record one attempt; audited and announced to the dispatch board ("contacts")."""
    ensure_role(actor, CONTACT_LOGGERS, "log contact attempts")
    at = at or now()
    problems = attempt_problems(attempt, at)
    if problems:
        raise ServiceError(problems)
    charter = await session.scalar(select(Charter).where(Charter.id == attempt.charter_id))
    if charter is None:
        raise ServiceError.of(
            Code.NOT_FOUND, f"Charter {attempt.charter_id} does not exist.", "charterId"
        )
    if attempt.charter_vehicle_id is not None:
        owner = await session.scalar(
            select(CharterVehicle.charter_id).where(CharterVehicle.id == attempt.charter_vehicle_id)
        )
        if owner != charter.id:
            raise ServiceError.of(
                Code.NOT_FOUND,
                f"Vehicle {attempt.charter_vehicle_id} is not on {charter.reference}.",
                "charterVehicleId",
            )
    row = ContactAttempt(
        id=uuid.uuid4(),
        charter_id=charter.id,
        charter_vehicle_id=attempt.charter_vehicle_id,
        party=attempt.party,
        channel=attempt.channel,
        outcome=attempt.outcome,
        note=(attempt.note or "").strip() or None,
        attempted_by=actor.user_id,
        attempted_at=attempt.attempted_at or at,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        charter_id=charter.id,
        entity="contact_attempt",
        entity_id=row.id,
        action="contact:log",
        actor=actor,
        old=None,
        new=audit.row_snapshot(row),
    )
    await events.charter_changed(
        session,
        charter,
        ["contacts"],
        contactAttemptId=str(row.id),
        contactParty=row.party,
        contactOutcome=row.outcome,
    )
    return row
