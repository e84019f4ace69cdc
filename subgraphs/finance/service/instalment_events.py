"""`finance.installment_changed`: what each plan instalment of a charter still wants, announced.

Notifications reminds clients of deposits and balances falling due; it
keeps its own copy of the instalments from these events, never reading our
tables. Whatever changes what an instalment still wants (a plan made or
re-planned, a payment applied or taken back, a refund) announces every
instalment of that charter as it stands, in the changing transaction, with
what the charter's payments leave uncovered of it (`charter_money.cover`,
the rule `Charter.balance` follows). Instalments a re-plan replaced are
announced once more as removed, with nothing outstanding, so no reminder
is sent for them.

`occurredAt` is the moment of announcing, taken under the locks of the
change (the charter's facts row or the plan's row), so of two changes of
one charter the later one carries the later time: consumers keep the
newest by it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from subgraphs.finance.models import CharterFact, Instalment, outbox
from subgraphs.finance.service import charter_money
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

TOPIC = "finance.installment_changed"


async def announce(
    session: AsyncSession, charter_id: uuid.UUID, removed: Iterable[uuid.UUID] = ()
) -> int:
    """Announce the charter's instalments (and the `removed` ones); returns how many events."""
    await session.flush()
    found = await charter_money.load(session, CharterFact.charter_id == charter_id)
    ids = list(
        await session.scalars(
            select(Instalment.id)
            .where(Instalment.charter_id == charter_id)
            .order_by(Instalment.sequence)
        )
    )
    at = datetime.now(UTC).isoformat()
    count = 0
    if found:
        charter = found[0]
        coverage = charter_money.cover(charter, datetime.now(UTC).date())
        client = str(charter.client_id) if charter.client_id else None
        for instalment_id, due, missing in zip(
            ids, charter.instalments, coverage.missing, strict=True
        ):
            await emit(
                session,
                outbox,
                TOPIC,
                {
                    "installmentId": str(instalment_id),
                    "charterId": str(charter_id),
                    "clientId": client,
                    "kind": due.kind,
                    "sequence": due.sequence,
                    "amount": str(due.amount),
                    "outstanding": str(missing),
                    "dueOn": due.due_on.isoformat(),
                    "removed": False,
                    "occurredAt": at,
                },
            )
            count += 1
    for gone in removed:
        await emit(
            session,
            outbox,
            TOPIC,
            {
                "installmentId": str(gone),
                "charterId": str(charter_id),
                "outstanding": "0.00",
                "removed": True,
                "occurredAt": at,
            },
        )
        count += 1
    return count
