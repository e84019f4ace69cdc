"""Editing the payment configuration (seed 001 §7): checked field by field, audited whole.

The configuration is one row (`PaymentConfig`); an edit names only what it
changes. Every problem is reported against its GraphQL input field and
nothing is written unless all of the edit is valid. The row is locked
while it changes, so two editors' audits each see the state the other
left, and each edit writes one `ConfigAudit` row (before, after, actor,
impersonator). New plans use the new figures; plans already made keep
theirs (re-planning is `plans.plan`'s job when a price changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from subgraphs.finance.error_codes import FinanceErrorCode as Code
from subgraphs.finance.models import ConfigAudit, PaymentConfig
from subgraphs.finance.service import plans
from subgraphs.kit.auditing import plain
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

CENT = Decimal("0.01")
#: Sales' client types (`subgraphs/sales/models.py` CLIENT_TYPES): finance may not import
#: sales, so the list is repeated here and a test holds the two equal.
CLIENT_TYPES = ("corporate", "personal", "government", "school", "nonprofit")
MAX_DAYS = 365
MAX_PO_LIMIT = Decimal("10000000.00")
#: The audited fields, in the order the audit shows them.
FIELDS = (
    "deposit_percent",
    "deposit_days_before",
    "balance_days_before",
    "autopay_allowed",
    "card_on_file_required",
    "po_client_types",
    "po_credit_limit",
)


@dataclass(frozen=True)
class ConfigChange:
    """What an editor changes; None leaves a field as it is."""

    deposit_percent: Decimal | None = None
    deposit_days_before: int | None = None
    balance_days_before: int | None = None
    autopay_allowed: bool | None = None
    card_on_file_required: bool | None = None
    po_client_types: tuple[str, ...] | None = None
    po_credit_limit: Decimal | None = None


def problems_of(change: ConfigChange) -> list[Problem]:
    problems = []
    percent = change.deposit_percent
    if percent is not None:
        if percent != percent.quantize(CENT):
            problems.append(
                Problem(Code.INVALID, "A percentage has at most two decimals.", "depositPercent")
            )
        elif not Decimal(0) <= percent <= 100:
            problems.append(
                Problem(Code.OUT_OF_RANGE, "A percentage from 0 to 100.", "depositPercent")
            )
    for name, value in (
        ("depositDaysBefore", change.deposit_days_before),
        ("balanceDaysBefore", change.balance_days_before),
    ):
        if value is not None and not 0 <= value <= MAX_DAYS:
            problems.append(Problem(Code.OUT_OF_RANGE, f"From 0 to {MAX_DAYS} days.", name))
    limit = change.po_credit_limit
    if limit is not None:
        if limit != limit.quantize(CENT):
            problems.append(
                Problem(Code.INVALID, "Amounts have at most two decimals.", "poCreditLimit")
            )
        elif not Decimal(0) <= limit <= MAX_PO_LIMIT:
            problems.append(
                Problem(Code.OUT_OF_RANGE, f"From 0 to {MAX_PO_LIMIT}.", "poCreditLimit")
            )
    if change.po_client_types is not None:
        unknown = sorted(set(change.po_client_types) - set(CLIENT_TYPES))
        if unknown:
            problems.append(
                Problem(
                    Code.INVALID,
                    f"Unknown client types {', '.join(unknown)}; one of {', '.join(CLIENT_TYPES)}.",
                    "poClientTypes",
                )
            )
    return problems


def snapshot(row: PaymentConfig) -> dict[str, Any]:
    return {name: plain(getattr(row, name)) for name in FIELDS}


async def current(session: AsyncSession) -> PaymentConfig:
    return await plans.config(session)


async def update(session: AsyncSession, change: ConfigChange, actor: Viewer) -> PaymentConfig:
    problems = problems_of(change)
    if problems:
        raise ServiceError(problems)
    row = await plans.config(session)  # an emptied table gets the defaults back
    await session.refresh(row, with_for_update=True)
    before = snapshot(row)
    for name in FIELDS:
        value = getattr(change, name)
        if value is None:
            continue
        if name == "po_client_types":
            # One entry per type, in sales' order, so equal lists audit as unchanged.
            value = [t for t in CLIENT_TYPES if t in set(value)]
        elif isinstance(value, Decimal):
            value = value.quantize(CENT)  # as NUMERIC(…, 2) stores it, so the audit says so too
        setattr(row, name, value)
    after = snapshot(row)
    if after == before:
        return row
    row.updated_by = actor.user_id
    row.updated_at = datetime.now(UTC)
    session.add(
        ConfigAudit(
            actor_id=actor.user_id,
            impersonator_id=actor.impersonator_id,
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
        )
    )
    await session.flush()
    return row
