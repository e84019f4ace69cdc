"""AR aging: what clients owe on open invoices, by how long it is past due.

Buckets by days past the due date on `as_of`: current (not yet due),
1-30, 31-60, 61-90, 91-120, over 120. The open amount of an invoice is its
total less what is applied to it; void and draft invoices owe nothing yet.
`age` is the arithmetic (a pure function, property-tested against a direct
sum); `ar_aging` reads the open invoices in one statement.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from subgraphs.finance.models import ClientFact, Invoice

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

BUCKETS = ("current", "1-30", "31-60", "61-90", "91-120", "over_120")
#: Upper bound (days past due) of each bucket after `current`.
LIMITS = (30, 60, 90, 120)
OPEN = ("sent", "partially_paid", "overdue")
ZERO = Decimal("0.00")


def bucket(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "current"
    for name, limit in zip(BUCKETS[1:], LIMITS, strict=False):
        if days_past_due <= limit:
            return name
    return "over_120"


@dataclass
class AgingRow:
    client_id: uuid.UUID
    client_name: str = ""
    amounts: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BUCKETS, ZERO))

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), ZERO)


def age(open_items: Iterable[tuple[uuid.UUID, date, Decimal]], as_of: date) -> list[AgingRow]:
    """(client, due date, open amount) items into one row per client, largest total first."""
    rows: dict[uuid.UUID, AgingRow] = {}
    for client_id, due_on, amount in open_items:
        if amount <= 0:
            continue
        row = rows.setdefault(client_id, AgingRow(client_id))
        row.amounts[bucket((as_of - due_on).days)] += amount
    return sorted(rows.values(), key=lambda r: (-r.total, str(r.client_id)))


async def ar_aging(session: AsyncSession, as_of: date) -> list[AgingRow]:
    items = (
        await session.execute(
            select(Invoice.client_id, Invoice.due_on, Invoice.total - Invoice.paid, ClientFact.name)
            .outerjoin(ClientFact, ClientFact.client_id == Invoice.client_id)
            .where(Invoice.status.in_(OPEN), Invoice.total > Invoice.paid)
        )
    ).all()
    names = {client_id: name for client_id, _due, _open, name in items}
    rows = age(((c, d, Decimal(o)) for c, d, o, _name in items), as_of)
    for row in rows:
        row.client_name = names.get(row.client_id) or ""
    return rows


def totals(rows: Iterable[AgingRow]) -> dict[str, Decimal]:
    out = dict.fromkeys(BUCKETS, ZERO)
    for row in rows:
        for name, amount in row.amounts.items():
            out[name] += amount
    return out
