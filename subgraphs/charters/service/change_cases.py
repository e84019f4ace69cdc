"""Change management for booked charters (seed 002's workflow).

A change to a BOOKED-or-later charter never lands silently: it becomes a
case holding before and after snapshots and the charter version it saw.
Approval rules decide whether a person must approve; implementing applies
the after-snapshot in one transaction and refuses a stale case.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import (
    CHANGE_TYPES,
    IMPACT_LEVELS,
    PRIORITIES,
    ChangeCase,
    ChangeCaseEvent,
    Charter,
)
from subgraphs.charters.service import events, snapshots
from subgraphs.charters.service.access import APPROVERS, MANAGERS, ensure_can_edit, ensure_role
from subgraphs.charters.service.references import next_reference
from subgraphs.charters.service.snapshots import Snapshot
from subgraphs.charters.service.timing import now
from subgraphs.charters.service.validation import snapshot_problems
from subgraphs.charters.states import CHANGE_CASE, CHANGE_CONTROLLED
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.auth.viewer import Viewer


@dataclass(frozen=True)
class ApprovalPolicy:
    """Seed 002's rules; the threshold and auto-approval are configuration."""

    manager_threshold: Decimal = Decimal("500.00")
    auto_approve_minimal: bool = False


@dataclass(frozen=True)
class ChangeRequest:
    change_type: str
    title: str
    reason: str | None = None
    priority: str = "medium"
    impact_level: str = "moderate"
    #: The requester's own figure: recorded, informational only.
    proposed_price: Decimal | None = None
    #: Computed by `open_case` from the snapshots; callers leave them empty.
    current_price: Decimal | None = None
    new_price: Decimal | None = None


@dataclass(frozen=True)
class Approval:
    required: bool
    manager: bool


def approval_needed(request: ChangeRequest, policy: ApprovalPolicy) -> Approval:
    """Seed 002's rules over the system's prices: the requester's figure plays no part.

    `request.current_price` and `request.new_price` are what the charter
    costs now and what it would cost once the change is implemented, both
    computed from the snapshots (`price_of`).
    """
    difference = abs((request.new_price or Decimal(0)) - (request.current_price or Decimal(0)))
    manager = difference >= policy.manager_threshold
    if request.change_type == "cancellation":
        return Approval(True, manager)
    if manager or request.priority in ("high", "urgent"):
        return Approval(True, manager)
    if request.impact_level in ("significant", "major"):
        return Approval(True, manager)
    if request.impact_level == "minimal" and policy.auto_approve_minimal:
        return Approval(False, False)
    return Approval(True, False)


def price_of(snap: Snapshot) -> Decimal:
    """What a charter in this state costs the client.

    Today the sum of its vehicles' costs; once the pricing subgraph quotes,
    its quote of the state. A cancellation's after-state costs its fee.
    """
    if CANCELLATION_FEE in snap:
        return snapshots.as_decimal(snap.get(CANCELLATION_FEE)) or Decimal("0.00")
    return _total_cost(snap)


def request_problems(request: ChangeRequest) -> list[Problem]:
    problems = []
    if request.change_type not in CHANGE_TYPES:
        problems.append(
            Problem(Code.INVALID, f"Unknown change type {request.change_type!r}.", "changeType")
        )
    if request.priority not in PRIORITIES:
        problems.append(
            Problem(Code.INVALID, f"Unknown priority {request.priority!r}.", "priority")
        )
    if request.impact_level not in IMPACT_LEVELS:
        problems.append(
            Problem(Code.INVALID, f"Unknown impact level {request.impact_level!r}.", "impactLevel")
        )
    if not request.title.strip() or len(request.title) > 200:
        problems.append(Problem(Code.INVALID, "Title must be 1 to 200 characters.", "title"))
    return problems


async def open_case(
    session: AsyncSession,
    charter: Charter,
    before: Snapshot,
    after: Snapshot,
    request: ChangeRequest,
    actor: Viewer,
    policy: ApprovalPolicy,
) -> ChangeCase:
    problems = request_problems(request)
    if problems:
        raise ServiceError(problems)
    # The system prices both states: what the implemented change would cost
    # decides who approves, never the requester's figure (finding 3).
    request = replace(request, current_price=price_of(before), new_price=price_of(after))
    approval = approval_needed(request, policy)
    case = ChangeCase(
        id=uuid.uuid4(),
        case_number=await next_reference(session, "CHG", now().year),
        charter_id=charter.id,
        change_type=request.change_type,
        status="pending" if approval.required else "approved",
        priority=request.priority,
        impact_level=request.impact_level,
        title=request.title.strip(),
        reason=request.reason,
        requested_by=actor.user_id,
        before=before,
        after=after,
        charter_version=charter.version,
        current_price=request.current_price,
        proposed_price=request.proposed_price,
        new_price=request.new_price,
        requires_approval=approval.required,
        requires_manager=approval.manager,
    )
    session.add(case)
    session.add(
        ChangeCaseEvent(
            change_case_id=case.id,
            from_status=None,
            to_status=case.status,
            actor_id=actor.user_id,
            impersonator_id=actor.impersonator_id,
            notes="opened" if approval.required else "opened and auto-approved",
        )
    )
    await session.flush()
    return case


async def get_case(session: AsyncSession, case_id: uuid.UUID, *, lock: bool = False) -> ChangeCase:
    stmt = select(ChangeCase).where(ChangeCase.id == case_id)
    if lock:
        stmt = stmt.with_for_update()
    case = await session.scalar(stmt)
    if case is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Change case {case_id} does not exist.", "id")
    return case


def _record(
    case: ChangeCase, session: AsyncSession, old: str, actor: Viewer, notes: str | None
) -> None:
    session.add(
        ChangeCaseEvent(
            change_case_id=case.id,
            from_status=old,
            to_status=case.status,
            actor_id=actor.user_id,
            impersonator_id=actor.impersonator_id,
            notes=notes,
        )
    )


async def move(
    session: AsyncSession,
    case_id: uuid.UUID,
    target: str,
    actor: Viewer,
    notes: str | None = None,
) -> ChangeCase:
    """Move a case along `states.CHANGE_CASE`; deciding needs the right role."""
    case = await get_case(session, case_id, lock=True)
    if target == "implemented":
        return await implement(session, case_id, actor)
    CHANGE_CASE.check(case.status, target)
    if target in ("approved", "rejected"):
        roles = MANAGERS if case.requires_manager else APPROVERS
        ensure_role(
            actor,
            roles,
            "decide this change case"
            + (" (manager approval required)" if case.requires_manager else ""),
        )
        if target == "approved" and case.requested_by == actor.user_id:
            # Four eyes: nobody approves their own request, managers and admins included.
            raise ServiceError.of(
                Code.FORBIDDEN, f"You requested {case.case_number}: another approver decides it."
            )
        case.decided_by = actor.user_id
        case.decided_at = now()
        case.decision_notes = notes
    else:
        charter = await session.get(Charter, case.charter_id)
        if charter is not None:
            ensure_can_edit(actor, charter)
    old = case.status
    case.status = target
    _record(case, session, old, actor, notes)
    return case


async def implement(session: AsyncSession, case_id: uuid.UUID, actor: Viewer) -> ChangeCase:
    """Apply the after-snapshot in this transaction, unless the charter moved on."""
    case = await get_case(session, case_id, lock=True)
    CHANGE_CASE.check(case.status, "implemented")
    charter = await session.scalar(
        select(Charter).where(Charter.id == case.charter_id).with_for_update()
    )
    if charter is None:
        raise ServiceError.of(Code.NOT_FOUND, "The charter of this case no longer exists.", "id")
    if charter.version != case.charter_version:
        raise ServiceError.of(
            Code.STALE_CHANGE_CASE,
            f"{charter.reference} changed after {case.case_number} was opened; open a new case.",
            "id",
        )
    ensure_can_edit(actor, charter)
    old = case.status
    case.status = "implemented"
    case.implemented_by = actor.user_id
    case.implemented_at = now()
    _record(case, session, old, actor, None)
    if case.change_type == "cancellation":
        # Imported here: charters imports this module.
        from subgraphs.charters.service.charters import cancel

        await cancel(
            session,
            charter.id,
            reason=case.reason or case.title,
            fee=snapshots.as_decimal(case.after.get(CANCELLATION_FEE)),
            actor=actor,
        )
        return case
    await snapshots.apply(session, charter, case.after, actor)
    await events.charter_changed(
        session,
        charter,
        [k for k in case.after if case.after[k] != case.before.get(k)],
        changeCase=case.case_number,
    )
    return case


#: Key of a cancellation case's `after` holding the fee to charge, if any.
CANCELLATION_FEE = "cancellation_fee"


def _total_cost(snap: Snapshot) -> Decimal:
    return sum((Decimal(str(v["cost"])) for v in snap["vehicles"]), Decimal("0.00"))


async def request_change(
    session: AsyncSession,
    charter_id: uuid.UUID,
    changes: dict[str, object],
    request: ChangeRequest,
    actor: Viewer,
    policy: ApprovalPolicy,
    *,
    cancellation_fee: Decimal | None = None,
    horizon_days: int | None = None,
) -> ChangeCase:
    """File a case against a BOOKED-or-later charter (a quote is edited directly).

    `changes` holds snapshot keys to replace; `stops` and `vehicles`, when
    given, are full replacement lists. A cancellation carries no changes,
    only its reason and optional fee. An auto-approved case is implemented
    in the same transaction.
    """
    # Imported here: charters imports this module.
    from subgraphs.charters.service import charters

    problems = request_problems(request)
    if problems:
        raise ServiceError(problems)
    charter = await charters.get(session, charter_id, lock=True)
    ensure_can_edit(actor, charter)
    if charter.status == "quote":
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            f"{charter.reference} is still a quote: edit it directly, no change case is needed.",
            "charterId",
        )
    if charter.status not in CHANGE_CONTROLLED:
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            f"A {charter.status} charter can no longer be changed.",
            "charterId",
        )
    before = await snapshots.load(session, charter)
    after = {
        **before,
        "stops": [dict(s) for s in before["stops"]],
        "vehicles": [dict(v) for v in before["vehicles"]],
    }
    if request.change_type == "cancellation":
        if changes:
            raise ServiceError.of(
                Code.INVALID, "A cancellation carries no other changes.", "input.changes"
            )
        if not (request.reason or "").strip():
            raise ServiceError.of(Code.REQUIRED, "A cancellation needs a reason.", "input.reason")
        if cancellation_fee is not None and cancellation_fee < 0:
            raise ServiceError.of(
                Code.OUT_OF_RANGE, "The fee cannot be negative.", "input.cancellationFee"
            )
        after[CANCELLATION_FEE] = str(cancellation_fee) if cancellation_fee is not None else None
    else:
        if cancellation_fee is not None:
            raise ServiceError.of(
                Code.INVALID,
                "Only a cancellation carries a cancellation fee.",
                "input.cancellationFee",
            )
        after.update(changes)
        problems = snapshot_problems(after)
        if problems:
            raise ServiceError(problems)
        await charters.check_vehicle_types(session, after)
        if (
            after["pickup_local"] != before["pickup_local"]
            or after["pickup_time_zone"] != before["pickup_time_zone"]
        ):
            charters.check_pickup_future(
                snapshots.as_datetime(after["pickup_local"]),  # type: ignore[arg-type]
                after["pickup_time_zone"],
                horizon_days or charters.DEFAULT_HORIZON_DAYS,
            )
        if after == before:
            raise ServiceError.of(Code.INVALID, "The request changes nothing.", "input.changes")
    case = await open_case(session, charter, before, after, request, actor, policy)
    if case.status == "approved":
        await implement(session, case.id, actor)
    return case
