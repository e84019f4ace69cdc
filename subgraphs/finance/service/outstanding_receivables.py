"""Outstanding receivables by client: what each client's booked charters owe and what is late.

Built from the same classified charters as the payment-status report, so a
client's row is exactly the sum of its charters' rows: owed (accepted
prices), paid (live applications to those charters, refunds negative),
outstanding (owed less paid; a credit shows negative) and its overdue part
(instalments due before today still uncovered). A client appears when
anything is outstanding or overdue.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from subgraphs.finance.service import charter_payment_status
from subgraphs.finance.service.charter_money import ZERO
from subgraphs.finance.service.charter_payment_status import StatusRow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass
class ClientReceivables:
    client_id: uuid.UUID | None
    client_name: str = ""
    charters: int = 0
    owed: Decimal = ZERO
    paid: Decimal = ZERO
    overdue: Decimal = ZERO

    @property
    def outstanding(self) -> Decimal:
        return self.owed - self.paid


def by_client(rows: Iterable[StatusRow]) -> list[ClientReceivables]:
    """One row per client, largest outstanding first; clients with nothing open are left out."""
    found: dict[uuid.UUID | None, ClientReceivables] = {}
    for row in rows:
        charter = row.charter
        mine = found.setdefault(
            charter.client_id, ClientReceivables(charter.client_id, charter.client_name)
        )
        mine.charters += 1
        mine.owed += charter.owed
        mine.paid += charter.paid
        mine.overdue += row.overdue
    open_ = [c for c in found.values() if c.outstanding != 0 or c.overdue != 0]
    return sorted(open_, key=lambda c: (-c.outstanding, c.client_name, str(c.client_id)))


def totals(rows: Iterable[ClientReceivables]) -> ClientReceivables:
    out = ClientReceivables(None, "TOTAL")
    for row in rows:
        out.charters += row.charters
        out.owed += row.owed
        out.paid += row.paid
        out.overdue += row.overdue
    return out


async def outstanding_receivables(session: AsyncSession, today: date) -> list[ClientReceivables]:
    return by_client(await charter_payment_status.payment_status(session, today))
