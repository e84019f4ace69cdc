"""Cancelling a sold charter from dispatch, and what every cancellation winds down.

Seed 001 section 8 asks for "cancel with workflow" on the dispatch board: a
booked or confirmed trip that will not run is cancelled by dispatch with a
reason and a fee, and everything committed to it is let go in the same
transaction:

- its vehicles and drivers: `holds_resources` turns false, so the exclusion
  constraints no longer count the trip and the bus and driver can be booked
  for the same hours; the ids stay on the rows, so the history still says
  who would have driven;
- its open readiness tasks: skipped with the reason "charter cancelled"
  (nobody should chase a vendor for a trip that will not run);
- its vendors: the `charters.charter_changed` event with status cancelled is
  the notice. Vendors' projection moves every live assignment of the charter
  to cancelled and queues an e-mail to each vendor
  (`vendors.assignment_cancelled`), in its own transaction, once.

The fee follows the change-case rules (`change_cases.price_of`): a
cancellation's after-state costs its fee, so the fee is what the client
still pays, between nothing and what the charter costs now; never more. Who
decides it is the person cancelling (seed 002: staff decide fees).

`wind_down` is also called by every other cancellation (`charters.cancel`:
a quote, a change case's cancellation, a series deactivated), so all of them
release the same things.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from subgraphs.charters import states
from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import Charter, CharterVehicle, DispatchTask
from subgraphs.charters.service import audit, events, recovery, snapshots
from subgraphs.charters.service.access import DISPATCH, ensure_role
from subgraphs.charters.service.change_cases import price_of
from subgraphs.charters.service.tasks import OPEN
from subgraphs.charters.service.timing import now
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

#: The skip reason every open task of a cancelled charter gets.
SKIP_REASON = "charter cancelled"
#: Sold and not yet under way: what dispatch cancels (a quote is sales' to drop).
DISPATCH_CANCELLABLE = frozenset({"booked", "confirmed"})
#: Who cancels from the dispatch board.
DISPATCH_CANCELLERS = DISPATCH
REASON_MAX = 1000


@dataclass(frozen=True)
class WoundDown:
    released_vehicle_ids: list[uuid.UUID]
    skipped_task_ids: list[uuid.UUID]
    resolved_recovery_ids: list[uuid.UUID]


async def wind_down(session: AsyncSession, charter: Charter) -> WoundDown:
    """Release the charter's vehicles and drivers, skip its open tasks, resolve its recoveries.

    Idempotent: a second call finds nothing held and nothing open.
    """
    released = list(
        await session.scalars(
            update(CharterVehicle)
            .where(CharterVehicle.charter_id == charter.id, CharterVehicle.holds_resources)
            .values(holds_resources=False)
            .returning(CharterVehicle.id)
        )
    )
    skipped = list(
        await session.scalars(
            update(DispatchTask)
            .where(DispatchTask.charter_id == charter.id, DispatchTask.status.in_(OPEN))
            .values(status="skipped", skip_reason=SKIP_REASON, overdue_since=None)
            .returning(DispatchTask.id)
        )
    )
    closed = await recovery.close_for_cancelled(session, charter, now())
    return WoundDown(sorted(released), sorted(skipped), sorted(closed))


async def cancel_from_dispatch(
    session: AsyncSession,
    charter_id: uuid.UUID,
    *,
    reason: str,
    fee: Decimal,
    actor: Viewer,
    at: datetime | None = None,
) -> Charter:
    """Cancel a booked or confirmed charter with its reason and fee; audited and announced."""
    ensure_role(actor, DISPATCH_CANCELLERS, "cancel charters from dispatch")
    problems = []
    reason = (reason or "").strip()
    if not reason:
        problems.append(Problem(Code.REQUIRED, "Say why the charter is cancelled.", "reason"))
    elif len(reason) > REASON_MAX:
        problems.append(Problem(Code.TOO_LONG, f"At most {REASON_MAX} characters.", "reason"))
    if fee < 0:
        problems.append(Problem(Code.OUT_OF_RANGE, "The fee cannot be negative.", "fee"))
    if problems:
        raise ServiceError(problems)
    charter = await session.scalar(
        select(Charter).where(Charter.id == charter_id).with_for_update()
    )
    if charter is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Charter {charter_id} does not exist.", "charterId")
    if charter.status not in DISPATCH_CANCELLABLE:
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            f"{charter.reference} is {charter.status}: dispatch cancels booked or "
            "confirmed charters only.",
            "charterId",
        )
    states.CHARTER.check(charter.status, "cancelled")
    price = price_of(await snapshots.load(session, charter))
    if fee > price:
        raise ServiceError.of(
            Code.OUT_OF_RANGE,
            f"The fee cannot exceed what {charter.reference} costs ({price}).",
            "fee",
        )
    at = at or now()
    old = audit.row_snapshot(charter)
    charter.status = "cancelled"
    charter.cancelled_at = at
    charter.cancelled_by = actor.user_id
    charter.cancellation_reason = reason
    charter.cancellation_fee = fee.quantize(Decimal("0.01"))
    charter.version += 1
    done = await wind_down(session, charter)
    await session.flush()
    audit.record(
        session,
        charter_id=charter.id,
        entity="charter",
        entity_id=charter.id,
        action="cancel:dispatch",
        actor=actor,
        old={**old, "released_vehicle_ids": None, "skipped_task_ids": None},
        new={
            **audit.row_snapshot(charter),
            "released_vehicle_ids": [str(v) for v in done.released_vehicle_ids] or None,
            "skipped_task_ids": [str(t) for t in done.skipped_task_ids] or None,
        },
    )
    await events.charter_changed(
        session,
        charter,
        ["status", "tasks"] if done.skipped_task_ids else ["status"],
        previousStatus=old["status"],
        cancelledFrom="dispatch",
    )
    return charter
