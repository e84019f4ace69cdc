"""The booking rules (`ToursConfig`, one row): read by every booking, edited by admins.

The migration does not seed the row and tests empty every table, so it is
read with get-or-create. The create is `INSERT ... ON CONFLICT DO NOTHING`:
a hundred concurrent first bookings all get the same defaults instead of
all but one failing on the primary key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.kit.auditing import plain
from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.tours.error_codes import ToursErrorCode as Code
from subgraphs.tours.models import ToursConfig
from subgraphs.tours.service import audit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.tours.service.changes import Actor

CENT = Decimal("0.01")
#: Sanity limits of an edit (the table's CHECKs are the backstop).
MAX_CUTOFF_HOURS = 24 * 30
MAX_DAYS_AHEAD = 730
MAX_PARTY = 500
MAX_OFFER_HOLD_HOURS = 24 * 14

FIELDS = (
    "child_rate_percent",
    "tax_rate_percent",
    "cutoff_hours",
    "max_days_ahead",
    "party_min",
    "party_max",
    "offer_hold_hours",
)


async def get_config(session: AsyncSession, *, lock: bool = False) -> ToursConfig:
    """The one row, created with the model's defaults when missing."""
    stmt = select(ToursConfig).where(ToursConfig.id == 1)
    if lock:
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt)
    if row is None:
        await session.execute(insert(ToursConfig).values(id=1).on_conflict_do_nothing())
        row = await session.scalar(stmt)
    if row is None:  # pragma: no cover - the insert above or a concurrent one made it
        raise RuntimeError("tours_config row missing after insert")
    return row


@dataclass(frozen=True)
class ConfigChange:
    """What an admin changes; None leaves a rule as it is."""

    child_rate_percent: Decimal | None = None
    tax_rate_percent: Decimal | None = None
    cutoff_hours: int | None = None
    max_days_ahead: int | None = None
    party_min: int | None = None
    party_max: int | None = None
    offer_hold_hours: int | None = None


def _percent(value: Decimal | None, field: str) -> list[Problem]:
    if value is None:
        return []
    if value != value.quantize(CENT):
        return [Problem(Code.INVALID, "A percentage has at most two decimals.", field)]
    if not Decimal(0) <= value <= 100:
        return [Problem(Code.OUT_OF_RANGE, "A percentage from 0 to 100.", field)]
    return []


def _whole(value: int | None, least: int, most: int, field: str) -> list[Problem]:
    if value is None or least <= value <= most:
        return []
    return [Problem(Code.OUT_OF_RANGE, f"From {least} to {most}.", field)]


def problems_of(change: ConfigChange, current: ToursConfig) -> list[Problem]:
    problems = [
        *_percent(change.child_rate_percent, "childRatePercent"),
        *_percent(change.tax_rate_percent, "taxRatePercent"),
        *_whole(change.cutoff_hours, 0, MAX_CUTOFF_HOURS, "cutoffHours"),
        *_whole(change.max_days_ahead, 1, MAX_DAYS_AHEAD, "maxDaysAhead"),
        *_whole(change.party_min, 1, MAX_PARTY, "partyMin"),
        *_whole(change.party_max, 1, MAX_PARTY, "partyMax"),
        *_whole(change.offer_hold_hours, 1, MAX_OFFER_HOLD_HOURS, "offerHoldHours"),
    ]
    if not problems:
        party_min = current.party_min if change.party_min is None else change.party_min
        party_max = current.party_max if change.party_max is None else change.party_max
        if party_min > party_max:
            problems.append(
                Problem(
                    Code.OUT_OF_RANGE,
                    f"The largest party ({party_max}) is smaller than the smallest ({party_min}).",
                    "partyMax",
                )
            )
    return problems


def snapshot(row: ToursConfig) -> dict[str, Any]:
    return {name: plain(getattr(row, name)) for name in FIELDS}


async def update_config(session: AsyncSession, change: ConfigChange, actor: Actor) -> ToursConfig:
    """Change the rules under the row's lock; bookings made later follow them, made ones keep theirs."""
    row = await get_config(session, lock=True)
    problems = problems_of(change, row)
    if problems:
        raise ServiceError(problems)
    before = snapshot(row)
    for name in FIELDS:
        value = getattr(change, name)
        if value is not None:
            setattr(row, name, value)
    row.updated_by = actor.user_id
    row.updated_at = datetime.now(UTC)
    await session.flush()
    await session.refresh(row)  # numbers as stored: 70 and 70.00 are no change
    audit.record(
        session,
        entity=audit.CONFIG,
        entity_id=None,
        tour_id=None,
        action="update",
        actor=actor.viewer,
        before=before,
        after=snapshot(row),
    )
    return row
