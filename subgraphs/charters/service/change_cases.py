"""Change management for booked charters (seed 002's workflow).

A change to a BOOKED-or-later charter never lands silently: it becomes a
case holding before and after snapshots and the charter version it saw.
Approval rules decide whether a person must approve; implementing applies
the after-snapshot in one transaction and refuses a stale case.

Seed 002's workflow (issue 9): a pending case goes through review before
it is approved, unless a configured auto-approval rule (`AutoApprovalRule`)
applies when it is opened; approving, rejecting, implementing and
cancelling each need a note or reason (`NOTE_REQUIRED`); a rejected case may
still be cancelled. Seed 002's change types each change one thing
(`TypedChange`): the pickup stop's place, the final drop-off's place, the
amenities asked for, or vehicles' prices.

Amenities do not exist in charters yet (pricing will own them): an amenity
case records the amenities added or removed in its after-snapshot under
`amenities`, the full list the client asks for once it is implemented; the
charter's current list is the after-snapshot of its last implemented
amenity case (`requested_amenities`). Implementing one bumps the charter's
version and announces the change, and changes no other field.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
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
from subgraphs.charters.service import events, snapshots, tasks
from subgraphs.charters.service.access import APPROVERS, MANAGERS, ensure_can_edit, ensure_role
from subgraphs.charters.service.references import next_reference
from subgraphs.charters.service.snapshots import Snapshot
from subgraphs.charters.service.timing import now
from subgraphs.charters.service.validation import snapshot_problems
from subgraphs.charters.states import CHANGE_CASE, CHANGE_CONTROLLED
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer


#: Moves that need a note or reason (seed 002), and what to call it in the message.
NOTE_REQUIRED: Mapping[str, str] = {
    "approved": "approval notes",
    "rejected": "a rejection reason",
    "implemented": "implementation notes",
    "cancelled": "a cancellation reason",
}
#: Change types that always need a person's approval (seed 002: cancellations,
#: and anything that affects pricing).
ALWAYS_REVIEWED = frozenset({"cancellation", "pricing_adjustment"})
AMENITY_TYPES = frozenset({"amenity_addition", "amenity_removal"})
MAX_AMENITIES = 30
MAX_AMENITY_LENGTH = 50


@dataclass(frozen=True)
class AutoApprovalRule:
    """When a case may skip review: every condition holds (seed 002's minimal impact).

    Never for cancellations or pricing adjustments, never when the price the
    system computes moves, never for high or urgent cases.
    """

    name: str = "minimal impact"
    impact_levels: frozenset[str] = frozenset({"minimal"})
    priorities: frozenset[str] = frozenset({"low", "medium"})

    def applies(self, request: ChangeRequest) -> bool:
        return (
            request.change_type not in ALWAYS_REVIEWED
            and request.impact_level in self.impact_levels
            and request.priority in self.priorities
            and (request.new_price or Decimal(0)) == (request.current_price or Decimal(0))
        )


#: The one auto-approval rule there is; `change_auto_approve_minimal` switches it on.
MINIMAL_IMPACT = AutoApprovalRule()


@dataclass(frozen=True)
class ApprovalPolicy:
    """Seed 002's rules; the threshold and auto-approval are configuration."""

    manager_threshold: Decimal = Decimal("500.00")
    auto_approve_minimal: bool = False

    @property
    def auto_approval_rules(self) -> tuple[AutoApprovalRule, ...]:
        """The configured rules under which a case skips review (none by default)."""
        return (MINIMAL_IMPACT,) if self.auto_approve_minimal else ()


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
    #: The auto-approval rule that applied, when none is required.
    rule: str | None = None


@dataclass(frozen=True)
class Location:
    address: str
    latitude: Decimal | None = None
    longitude: Decimal | None = None


@dataclass(frozen=True)
class TypedChange:
    """What seed 002's typed changes carry; each type reads only its own field."""

    pickup: Location | None = None
    destination: Location | None = None
    amenities: tuple[str, ...] = ()
    vehicle_costs: Mapping[uuid.UUID, Decimal] = field(default_factory=dict)


def approval_needed(request: ChangeRequest, policy: ApprovalPolicy) -> Approval:
    """Seed 002's rules over the system's prices: the requester's figure plays no part.

    `request.current_price` and `request.new_price` are what the charter
    costs now and what it would cost once the change is implemented, both
    computed from the snapshots (`price_of`).
    """
    difference = abs((request.new_price or Decimal(0)) - (request.current_price or Decimal(0)))
    manager = difference >= policy.manager_threshold
    if request.change_type in ALWAYS_REVIEWED:
        return Approval(True, manager)
    if manager or request.priority in ("high", "urgent"):
        return Approval(True, manager)
    if request.impact_level in ("significant", "major"):
        return Approval(True, manager)
    for rule in policy.auto_approval_rules:
        if rule.applies(request):
            return Approval(False, False, rule.name)
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
            notes="opened"
            if approval.required
            else f"opened and auto-approved (rule: {approval.rule})",
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
    """Move a case along `states.CHANGE_CASE`; deciding needs the right role.

    Approving, rejecting, implementing and cancelling need `notes`
    (`NOTE_REQUIRED`), checked after who may act, so a refused caller learns
    nothing more.
    """
    case = await get_case(session, case_id, lock=True)
    if target == "implemented":
        return await implement(session, case_id, actor, notes)
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
        # Who may decide first: a refused caller learns nothing of the case's state.
        CHANGE_CASE.check(case.status, target)
        notes = _required_note(target, notes)
        case.decided_by = actor.user_id
        case.decided_at = now()
        case.decision_notes = notes
    else:
        charter = await session.get(Charter, case.charter_id)
        if charter is not None:
            ensure_can_edit(actor, charter)
        CHANGE_CASE.check(case.status, target)
        if target in NOTE_REQUIRED:
            notes = _required_note(target, notes)
    old = case.status
    case.status = target
    _record(case, session, old, actor, notes)
    return case


def _required_note(target: str, notes: str | None) -> str:
    text = (notes or "").strip()
    if not text:
        raise ServiceError.of(
            Code.REQUIRED, f"Moving a case to {target} needs {NOTE_REQUIRED[target]}.", "notes"
        )
    if len(text) > 2000:
        raise ServiceError.of(Code.TOO_LONG, "Notes are longer than 2000 characters.", "notes")
    return text


#: The note of an auto-approved case, implemented in the transaction that opens it.
AUTO_IMPLEMENTED = "implemented on auto-approval"


async def implement(
    session: AsyncSession, case_id: uuid.UUID, actor: Viewer, notes: str | None = None
) -> ChangeCase:
    """Apply the after-snapshot in this transaction, unless the charter moved on.

    A person implementing gives implementation notes; an auto-approved case
    (implemented as it is opened) carries `AUTO_IMPLEMENTED`.
    """
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
    if not case.requires_approval and notes is None:
        notes = AUTO_IMPLEMENTED
    notes = _required_note("implemented", notes)
    old = case.status
    case.status = "implemented"
    case.implemented_by = actor.user_id
    case.implemented_at = now()
    _record(case, session, old, actor, notes)
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
    changed = [k for k in case.after if case.after[k] != case.before.get(k)]
    # A vehicle added gets its readiness tasks; a moved pickup moves the open ones.
    if await tasks.sync(session, charter, now()):
        changed.append("tasks")
    await events.charter_changed(session, charter, changed, changeCase=case.case_number)
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
    typed: TypedChange | None = None,
) -> ChangeCase:
    """File a case against a BOOKED-or-later charter (a quote is edited directly).

    `changes` holds snapshot keys to replace; `stops` and `vehicles`, when
    given, are full replacement lists. A cancellation carries no changes,
    only its reason and optional fee. Seed 002's typed changes carry their
    one change in `typed` and no other (`typed_after`). An auto-approved
    case is implemented in the same transaction.
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
    elif request.change_type in TYPED:
        if changes or cancellation_fee is not None:
            raise ServiceError.of(
                Code.INVALID,
                "This change type carries only its own change, nothing else.",
                "input.changes",
            )
        if request.change_type in AMENITY_TYPES:
            before["amenities"] = await requested_amenities(session, charter.id)
        after = typed_after(request.change_type, before, typed or TypedChange())
        problems = snapshot_problems(after)
        if problems:
            raise ServiceError(problems)
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


#: Seed 002's typed change types: each reads one field of `TypedChange`.
TYPED = frozenset(
    {
        "pickup_location_change",
        "destination_change",
        "amenity_addition",
        "amenity_removal",
        "pricing_adjustment",
    }
)


def _place(stop: dict[str, object], where: Location, field: str) -> dict[str, object]:
    address = where.address.strip()
    if not address or len(address) > 500:
        raise ServiceError.of(Code.INVALID, "An address is 1 to 500 characters.", field)
    return {
        **stop,
        "address": address,
        "latitude": str(where.latitude) if where.latitude is not None else None,
        "longitude": str(where.longitude) if where.longitude is not None else None,
    }


def _amenity_names(given: Sequence[str]) -> list[str]:
    names = []
    for raw in given:
        name = " ".join(raw.split()).lower()
        if not name or len(name) > MAX_AMENITY_LENGTH:
            raise ServiceError.of(
                Code.INVALID,
                f"An amenity is named in 1 to {MAX_AMENITY_LENGTH} characters.",
                "input.amenities",
            )
        if name not in names:
            names.append(name)
    if not names:
        raise ServiceError.of(Code.REQUIRED, "Name at least one amenity.", "input.amenities")
    return names


def typed_after(change_type: str, before: Snapshot, typed: TypedChange) -> Snapshot:
    """The after-snapshot of a seed 002 typed change: `before` with its one change.

    - pickup_location_change: the pickup stop (the first of type pickup, else
      the first stop) gets the new address and coordinates; the stop keeps
      its id, time and notes;
    - destination_change: likewise the final drop-off (the last stop of type
      dropoff, else the last stop);
    - amenity_addition / amenity_removal: `amenities`, the full list asked
      for, gains or loses the named ones (each must be new / present);
    - pricing_adjustment: the named vehicles of the charter get new costs,
      keeping their ids (and so their vendors, vehicles and drivers).
    """
    after: Snapshot = {
        **before,
        "stops": [dict(s) for s in before["stops"]],
        "vehicles": [dict(v) for v in before["vehicles"]],
    }
    stops = after["stops"]
    if change_type in ("pickup_location_change", "destination_change"):
        pickup = change_type == "pickup_location_change"
        where = typed.pickup if pickup else typed.destination
        field = "input.pickup" if pickup else "input.destination"
        if where is None:
            raise ServiceError.of(Code.REQUIRED, "Say where the stop moves to.", field)
        if not stops:
            raise ServiceError.of(Code.INVALID, "The charter has no stops.", field)
        kind = "pickup" if pickup else "dropoff"
        matching = [i for i, s in enumerate(stops) if s.get("stop_type") == kind]
        index = (matching[0] if pickup else matching[-1]) if matching else (0 if pickup else -1)
        stops[index] = _place(stops[index], where, field)
    elif change_type in AMENITY_TYPES:
        current = list(before.get("amenities") or [])
        names = _amenity_names(typed.amenities)
        if change_type == "amenity_addition":
            present = [n for n in names if n in current]
            if present:
                raise ServiceError.of(
                    Code.INVALID, f"Already asked for: {', '.join(present)}.", "input.amenities"
                )
            if len(current) + len(names) > MAX_AMENITIES:
                raise ServiceError.of(
                    Code.OUT_OF_RANGE, f"At most {MAX_AMENITIES} amenities.", "input.amenities"
                )
            after["amenities"] = current + names
        else:
            missing = [n for n in names if n not in current]
            if missing:
                raise ServiceError.of(
                    Code.INVALID, f"Not asked for: {', '.join(missing)}.", "input.amenities"
                )
            after["amenities"] = [n for n in current if n not in names]
    elif change_type == "pricing_adjustment":
        if not typed.vehicle_costs:
            raise ServiceError.of(
                Code.REQUIRED, "Give the new cost of at least one vehicle.", "input.vehicleCosts"
            )
        by_id = {str(v.get("id")): v for v in after["vehicles"]}
        for vehicle_id, cost in typed.vehicle_costs.items():
            vehicle = by_id.get(str(vehicle_id))
            if vehicle is None:
                raise ServiceError.of(
                    Code.NOT_FOUND,
                    f"Vehicle {vehicle_id} is not on this charter.",
                    "input.vehicleCosts",
                )
            if cost < 0 or cost.as_tuple().exponent < -2:  # type: ignore[operator]
                raise ServiceError.of(
                    Code.INVALID,
                    "A cost is at least 0.00, with at most two decimals.",
                    "input.vehicleCosts",
                )
            vehicle["cost"] = str(cost.quantize(Decimal("0.01")))
    if after == before:
        raise ServiceError.of(Code.INVALID, "The request changes nothing.", "input")
    return after


async def requested_amenities(session: AsyncSession, charter_id: uuid.UUID) -> list[str]:
    """The amenities asked for: the after-list of the last implemented amenity case."""
    latest = await session.scalar(
        select(ChangeCase.after)
        .where(
            ChangeCase.charter_id == charter_id,
            ChangeCase.change_type.in_(AMENITY_TYPES),
            ChangeCase.status == "implemented",
        )
        .order_by(ChangeCase.implemented_at.desc(), ChangeCase.id.desc())
        .limit(1)
    )
    return list((latest or {}).get("amenities") or [])
