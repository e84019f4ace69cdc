"""The client portal's money: what `Client` and `Charter` show a client of its own account.

Thin views over `service/client_portal.py` and `service/autopay.py`, read
through loaders; the fields on the entities (`entities.py`) gate who reads
(`service/access.py`) before any of these is built.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from subgraphs.finance import loaders as L
from subgraphs.finance.service import client_portal
from subgraphs.finance.service.access import (
    may_manage_autopay,
    may_read_balance,
    may_read_receivables,
)
from subgraphs.finance.types.payment_methods import SavedPaymentMethod
from subgraphs.finance.types.payments import PaymentMethod, gid
from subgraphs.finance.types.plans import InstalmentKind
from subgraphs.kit.errors import BadUserInputError, ForbiddenError, UnauthenticatedError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.scalars import Money

if TYPE_CHECKING:
    from subgraphs.finance.types.entities import Charter

CharterRef = Annotated["Charter", strawberry.lazy("subgraphs.finance.types.entities")]


def _charter(charter_id: uuid.UUID) -> Any:
    from subgraphs.finance.types.entities import Charter

    return Charter(id=gid(charter_id))


@strawberry.enum(description="Which part of a charter's plan a payment pays.")
class PlanPart(Enum):
    DEPOSIT = "deposit"
    BALANCE = "balance"
    NEXT_INSTALMENT = "next_instalment"


@strawberry.type(description="The earliest instalment not yet paid across a client's charters.")
class NextPaymentDue:
    amount: Money = strawberry.field(description="What is still unpaid of the instalment.")
    due_on: date
    kind: InstalmentKind
    charter: CharterRef


@strawberry.type(description="A payment the client made, with the charters it paid.")
class RecentPayment:
    id: strawberry.ID
    amount: Money
    received_on: date
    method: PaymentMethod
    charters: list[CharterRef]


@strawberry.enum
class AutopayResult(Enum):
    SUCCEEDED = "succeeded"
    PENDING = "pending"
    DECLINED = "declined"
    FAILED = "failed"


@strawberry.type(description="One instalment autopay charged (or tried) on one day.")
class AutopayAttempt:
    result: AutopayResult
    amount: Money
    attempted_on: date = strawberry.field(description="The operator's day of the run.")
    attempted_at: datetime
    reason: str | None = strawberry.field(description="Why a charge was declined or failed.")
    payment_id: strawberry.ID | None
    charter: CharterRef

    @classmethod
    def from_row(cls, row: Any) -> AutopayAttempt:
        return cls(
            result=AutopayResult(row.status),
            amount=row.amount,
            attempted_on=row.run_on,
            attempted_at=row.attempted_at,
            reason=row.reason,
            payment_id=gid(row.payment_id) if row.payment_id else None,
            charter=_charter(row.charter_id),
        )


@strawberry.type(
    description="Whether the client's instalments are charged on their due dates, to which "
    "saved method, and how the last charge went."
)
class Autopay:
    client_id: strawberry.ID
    enabled: bool = strawberry.field(
        description="On, with a saved method (removing the method turns it off)."
    )
    saved_method_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_row(cls, client_id: uuid.UUID, row: Any) -> Autopay:
        on = bool(row is not None and row.enabled and row.saved_method_id is not None)
        return cls(
            client_id=gid(client_id),
            enabled=on,
            saved_method_id=row.saved_method_id if row is not None else None,
        )

    @strawberry.field(description="The saved method charged.")
    async def saved_method(self, info: Info) -> SavedPaymentMethod | None:
        if self.saved_method_id is None:
            return None
        rows = await info.context.loaders.get(L.SavedMethodsByClientLoader).load(
            uuid.UUID(self.client_id)
        )
        found = next((r for r in rows if r.id == self.saved_method_id), None)
        return SavedPaymentMethod.from_row(found) if found else None

    @strawberry.field(description="The latest charge autopay tried for this client.")
    async def last_result(self, info: Info) -> AutopayAttempt | None:
        row = await info.context.loaders.get(L.LastAutopayAttemptByClientLoader).load(
            uuid.UUID(self.client_id)
        )
        return AutopayAttempt.from_row(row) if row else None


# --- the entities' fields (resolvers with the entity as root) ---------------------------


async def _receivables_reader(info: Info, client_id: uuid.UUID | None) -> None:
    agent = (
        await info.context.loaders.get(L.ClientAgentLoader).load(client_id) if client_id else None
    )
    viewer = await info.context.get_viewer()
    if not viewer.is_authenticated:
        raise UnauthenticatedError()
    if not may_read_receivables(viewer, client_id, agent):
        raise ForbiddenError("You may not see this client's money.")


async def next_payment_due(root: Any, info: Info) -> NextPaymentDue | None:
    key = parse_uuid(root.id)
    await _receivables_reader(info, key)
    if key is None:
        return None
    found = await info.context.loaders.get(L.NextPaymentDueByClientLoader).load(key)
    if found is None:
        return None
    return NextPaymentDue(
        amount=found.amount,
        due_on=found.due_on,
        kind=InstalmentKind(found.kind),
        charter=_charter(found.charter_id),
    )


async def recent_payments(root: Any, info: Info, first: int = 5) -> list[RecentPayment] | None:
    key = parse_uuid(root.id)
    await _receivables_reader(info, key)
    if not 0 < first <= client_portal.MAX_RECENT:
        raise BadUserInputError(f"first is 1 to {client_portal.MAX_RECENT}.")
    if key is None:
        return []
    rows = await info.context.loaders.get(L.RecentPaymentsByClientLoader).load((key, first))
    return [
        RecentPayment(
            id=gid(r.id),
            amount=r.amount,
            received_on=r.received_on,
            method=PaymentMethod(r.method),
            charters=[_charter(c) for c in r.charter_ids],
        )
        for r in rows
    ]


async def autopay(root: Any, info: Info) -> Autopay | None:
    key = parse_uuid(root.id)
    viewer = await info.context.get_viewer()
    if not viewer.is_authenticated:
        raise UnauthenticatedError()
    if not may_manage_autopay(viewer, key):
        raise ForbiddenError("You may not see this client's autopay.")
    if key is None:
        return None
    row = await info.context.loaders.get(L.AutopayByClientLoader).load(key)
    return Autopay.from_row(key, row)


async def _paid_in_full(root: Any, info: Info) -> client_portal.PaidInFull:
    key = parse_uuid(root.id)
    found = await info.context.loaders.get(L.BalanceByCharterLoader).load(key) if key else None
    viewer = await info.context.get_viewer()
    if not viewer.is_authenticated:
        raise UnauthenticatedError()
    if not may_read_balance(
        viewer, found.client_id if found else None, found.sales_agent_id if found else None
    ):
        raise ForbiddenError("You may not see this charter's money.")
    if key is None or found is None:
        return client_portal.PaidInFull(False, None)
    rows = await info.context.loaders.get(L.ApplicationsByCharterLoader).load(key)
    return client_portal.paid_in_full(found.owed, found.paid, rows)


async def paid_in_full(root: Any, info: Info) -> bool | None:
    return (await _paid_in_full(root, info)).paid


async def paid_in_full_at(root: Any, info: Info) -> datetime | None:
    return (await _paid_in_full(root, info)).at
