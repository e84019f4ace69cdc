"""Dispatch's contact-attempt log (see service/contacts.py for the rules)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from subgraphs.charters.mutations.inputs import parse_id
from subgraphs.charters.service import contacts
from subgraphs.charters.types import (
    ContactAttempt,
    ContactChannel,
    ContactOutcome,
    ContactParty,
)
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow


@strawberry.input
class LogContactAttemptInput:
    charter_id: strawberry.ID
    party: ContactParty
    channel: ContactChannel
    outcome: ContactOutcome
    charter_vehicle_id: strawberry.ID | None = strawberry.field(
        default=None, description="The vehicle the attempt was about, if one."
    )
    note: str | None = strawberry.field(default=None, description="At most 1000 characters.")
    attempted_at: datetime | None = strawberry.field(
        default=None, description="When the attempt was made (default now; not in the future)."
    )


@strawberry.type
class ContactAttemptPayload:
    contact_attempt: ContactAttempt | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ContactMutations:
    @strawberry.mutation(
        extensions=[allow(*contacts.CONTACT_LOGGERS)],
        description=(
            "Log an attempt to reach a charter's driver, vendor or client; the caller is "
            "who made it. Audited; announced on `dispatchBoard` (change `contacts`)."
        ),
    )
    async def log_contact_attempt(
        self, info: Info, input: LogContactAttemptInput
    ) -> ContactAttemptPayload:
        viewer = await info.context.get_viewer()

        async def work(session: AsyncSession) -> Any:
            attempt = contacts.NewAttempt(
                charter_id=parse_id(input.charter_id, "charterId"),
                charter_vehicle_id=parse_id(input.charter_vehicle_id, "charterVehicleId"),
                party=input.party.value,
                channel=input.channel.value,
                outcome=input.outcome.value,
                note=input.note,
                attempted_at=input.attempted_at,
            )
            return await contacts.log_attempt(session, attempt, viewer)

        row, errors = await transact(info, work)
        return ContactAttemptPayload(
            contact_attempt=ContactAttempt.from_row(row) if row else None, user_errors=errors
        )
