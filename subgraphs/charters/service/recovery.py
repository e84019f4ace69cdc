"""Recovery: a charter vehicle that lost its vendor (or driver) and needs a replacement.

A case opens `pending`, by a dispatcher (`open_recovery`,
`open_driver_recovery`) or by vendors' own answer (`on_assignment_changed`:
a vendor asks for recovery, or declines within `DECLINE_WINDOW` of the
pickup, when there is no time left to plan around it). A vendor case then
searches: `charters.recovery_opened` goes to vendors, which mails the
vendors whose service area covers the pickup and answers
`vendors.recovery_alerted` with whom it told (kept on the case, so a
second search tells only new ones). A replacement assignment from another
vendor moves the case to `vendor_assigned`, its confirmation resolves it;
a driver case resolves when another driver is put on the vehicle.

Every case change locks the charter, then the vehicle (the order every
charter edit uses), then the case, so the vehicle's `recovery_status`
mirror and the case never disagree; the partial unique index keeps one
open case per vehicle and subject whatever the concurrency.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from subgraphs.charters import states
from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import (
    RECOVERY_REASONS,
    Charter,
    CharterVehicle,
    RecoveryCase,
    Stop,
    VehicleType,
    VendorAssignmentFact,
    outbox,
)
from subgraphs.charters.service import audit, events
from subgraphs.charters.service.access import RECOVERY_DESK, ensure_role
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

RECOVERY_OPENED = "charters.recovery_opened"
RECOVERY_ALERTED = "vendors.recovery_alerted"
#: A vendor's decline this close to the pickup opens a case by itself.
DECLINE_WINDOW = timedelta(hours=48)
NOTE_MAX = 1000
OPEN = ("pending", "vendor_search", "vendor_assigned")
#: Charter statuses whose vehicles can be recovered: sold and not over.
RECOVERABLE = frozenset({"booked", "confirmed", "in_progress"})
#: Vendors' assignment statuses that hold the vehicle (vendors' HOLDING_ASSIGNMENT).
HOLDING_ASSIGNMENT = ("offered", "confirmed", "recovery_requested", "in_progress")
#: The vendor's answers that put its vehicle in recovery.
LOST = ("declined", "recovery_requested")


#: The note a case gets when its charter is cancelled under it.
CANCELLED_NOTE = "Resolved: the charter was cancelled."


def _now() -> datetime:
    return datetime.now(UTC)


def _clean_note(note: str | None, field: str = "note") -> str | None:
    note = note.strip() if note else None
    if note and len(note) > NOTE_MAX:
        raise ServiceError.of(Code.TOO_LONG, f"A note has at most {NOTE_MAX} characters.", field)
    return note or None


def open_cases() -> Select[Any]:
    """The recovery board's cases: open ones of charters still to run (order: oldest first).

    A cancelled or completed charter's case has nothing left to recover.
    """
    return (
        select(RecoveryCase)
        .join(Charter, Charter.id == RecoveryCase.charter_id)
        .where(RecoveryCase.status.in_(OPEN), Charter.status.in_(RECOVERABLE))
    )


async def _lock_vehicle(
    session: AsyncSession, charter_vehicle_id: uuid.UUID
) -> tuple[CharterVehicle, Charter] | None:
    charter_id = await session.scalar(
        select(CharterVehicle.charter_id).where(CharterVehicle.id == charter_vehicle_id)
    )
    if charter_id is None:
        return None
    charter = (
        await session.scalars(select(Charter).where(Charter.id == charter_id).with_for_update())
    ).one()
    row = (
        await session.scalars(
            select(CharterVehicle)
            .where(CharterVehicle.id == charter_vehicle_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    return row, charter


async def _vehicle_or_error(
    session: AsyncSession, charter_vehicle_id: uuid.UUID
) -> tuple[CharterVehicle, Charter]:
    locked = await _lock_vehicle(session, charter_vehicle_id)
    if locked is None:
        raise ServiceError.of(
            Code.NOT_FOUND,
            f"Charter vehicle {charter_vehicle_id} does not exist.",
            "charterVehicleId",
        )
    return locked


async def _open_case_of(
    session: AsyncSession, charter_vehicle_id: uuid.UUID, subject: str
) -> RecoveryCase | None:
    return await session.scalar(
        select(RecoveryCase)
        .where(
            RecoveryCase.charter_vehicle_id == charter_vehicle_id,
            RecoveryCase.subject == subject,
            RecoveryCase.status.in_(OPEN),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def _case_locked(
    session: AsyncSession, case_id: uuid.UUID
) -> tuple[RecoveryCase, CharterVehicle, Charter]:
    vehicle_id = await session.scalar(
        select(RecoveryCase.charter_vehicle_id).where(RecoveryCase.id == case_id)
    )
    locked = await _lock_vehicle(session, vehicle_id) if vehicle_id else None
    if locked is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Recovery case {case_id} does not exist.", "caseId")
    case = (
        await session.scalars(
            select(RecoveryCase)
            .where(RecoveryCase.id == case_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    row, charter = locked
    return case, row, charter


async def _mirror(session: AsyncSession, row: CharterVehicle) -> None:
    """The vehicle shows its open vendor case, else its open driver case, else not_needed."""
    await session.flush()
    statuses = dict(
        (
            await session.execute(
                select(RecoveryCase.subject, RecoveryCase.status).where(
                    RecoveryCase.charter_vehicle_id == row.id, RecoveryCase.status.in_(OPEN)
                )
            )
        ).all()
    )
    row.recovery_status = statuses.get("vendor") or statuses.get("driver") or "not_needed"
    await session.flush()


async def _announce(session: AsyncSession, case: RecoveryCase, charter: Charter) -> None:
    await events.charter_changed(
        session,
        charter,
        ["recovery"],
        charterVehicleId=str(case.charter_vehicle_id),
        recoveryCaseId=str(case.id),
        recoveryStatus=case.status,
        recoverySubject=case.subject,
    )


async def _search(
    session: AsyncSession, case: RecoveryCase, row: CharterVehicle, charter: Charter
) -> None:
    """Ask vendors to alert the vendors that could take the vehicle over."""
    first_stop = await session.scalar(
        select(Stop).where(Stop.charter_id == charter.id).order_by(Stop.position).limit(1)
    )
    vtype = await session.get(VehicleType, row.vehicle_type_id)
    excluded = {str(v) for v in (case.previous_vendor_id, case.replacement_vendor_id) if v}
    excluded |= set(case.alerted_vendor_ids or [])
    await emit(
        session,
        outbox,
        RECOVERY_OPENED,
        {
            "caseId": str(case.id),
            "charterId": str(charter.id),
            "charterVehicleId": str(row.id),
            "reference": charter.reference,
            "reason": case.reason,
            "pickupAt": charter.pickup_at.isoformat(),
            "pickupAddress": first_stop.address if first_stop else None,
            "pickupLatitude": _number(first_stop.latitude if first_stop else None),
            "pickupLongitude": _number(first_stop.longitude if first_stop else None),
            "vehicleTypeId": str(row.vehicle_type_id),
            "vehicleTypeName": vtype.name if vtype else None,
            "capacity": row.capacity,
            "excludeVendorIds": sorted(excluded),
        },
    )


def _number(value: Any) -> str | None:
    return str(value) if value is not None else None


async def _move(
    session: AsyncSession,
    case: RecoveryCase,
    row: CharterVehicle,
    charter: Charter,
    target: str,
    actor: Viewer | None,
    *,
    at: datetime,
    field: str | None = "status",
    **changes: Any,
) -> RecoveryCase:
    states.RECOVERY.check(case.status, target, field)
    old = audit.row_snapshot(case)
    case.status = target
    for name, value in changes.items():
        setattr(case, name, value)
    if target == "resolved":
        case.resolved_at = at
        case.resolved_by = actor.user_id if actor else None
    await _mirror(session, row)
    audit.record(
        session,
        charter_id=charter.id,
        entity="recovery_case",
        entity_id=case.id,
        action=f"recovery:{target}",
        actor=actor,
        old=old,
        new=audit.row_snapshot(case),
    )
    if target == "vendor_search":
        await _search(session, case, row, charter)
    await _announce(session, case, charter)
    return case


async def _open(
    session: AsyncSession,
    row: CharterVehicle,
    charter: Charter,
    *,
    subject: str,
    reason: str,
    note: str | None,
    actor: Viewer | None,
    at: datetime,
    previous_vendor_id: uuid.UUID | None,
) -> RecoveryCase:
    if reason not in RECOVERY_REASONS:
        raise ServiceError.of(Code.INVALID, f"{reason!r} is not a recovery reason.", "reason")
    if charter.status not in RECOVERABLE:
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            f"{charter.reference} is {charter.status}: only booked, confirmed or in-progress "
            "charters are recovered.",
            "charterVehicleId",
        )
    if await _open_case_of(session, row.id, subject) is not None:
        raise ServiceError.of(
            Code.CONFLICT,
            f"This vehicle already has an open {subject} recovery case.",
            "charterVehicleId",
        )
    states.RECOVERY.check("not_needed", "pending")
    case = RecoveryCase(
        id=uuid.uuid4(),
        charter_id=charter.id,
        charter_vehicle_id=row.id,
        subject=subject,
        status="pending",
        reason=reason,
        note=note,
        opened_by=actor.user_id if actor else None,
        opened_at=at,
        previous_vendor_id=previous_vendor_id,
        previous_driver_id=row.driver_id if subject == "driver" else None,
        alerted_vendor_ids=[],
    )
    session.add(case)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # a concurrent opener won the unique index
        raise ServiceError.of(
            Code.CONFLICT,
            f"This vehicle already has an open {subject} recovery case.",
            "charterVehicleId",
        ) from exc
    await _mirror(session, row)
    audit.record(
        session,
        charter_id=charter.id,
        entity="recovery_case",
        entity_id=case.id,
        action="recovery:pending",
        actor=actor,
        old=None,
        new=audit.row_snapshot(case),
    )
    await _announce(session, case, charter)
    return case


async def _holding_vendor(session: AsyncSession, charter_vehicle_id: uuid.UUID) -> uuid.UUID | None:
    """The vendor whose assignment holds the vehicle now, as vendors last told us."""
    return await session.scalar(
        select(VendorAssignmentFact.vendor_id)
        .where(
            VendorAssignmentFact.charter_vehicle_id == charter_vehicle_id,
            VendorAssignmentFact.status.in_(HOLDING_ASSIGNMENT),
        )
        .order_by(VendorAssignmentFact.as_of.desc())
        .limit(1)
    )


async def open_recovery(
    session: AsyncSession,
    charter_vehicle_id: uuid.UUID,
    reason: str,
    actor: Viewer,
    *,
    note: str | None = None,
    search_vendors: bool = False,
    at: datetime | None = None,
) -> RecoveryCase:
    """A dispatcher puts a vehicle into (vendor) recovery; optionally searching at once."""
    ensure_role(actor, RECOVERY_DESK, "open recovery cases")
    note = _clean_note(note)
    row, charter = await _vehicle_or_error(session, charter_vehicle_id)
    at = at or _now()
    case = await _open(
        session,
        row,
        charter,
        subject="vendor",
        reason=reason,
        note=note,
        actor=actor,
        at=at,
        previous_vendor_id=await _holding_vendor(session, row.id),
    )
    if search_vendors:
        await _move(session, case, row, charter, "vendor_search", actor, at=at)
    return case


async def open_driver_recovery(
    session: AsyncSession,
    charter_vehicle_id: uuid.UUID,
    reason: str,
    actor: Viewer,
    *,
    note: str | None = None,
    at: datetime | None = None,
) -> RecoveryCase:
    """Emergency reassignment: the vehicle's driver cannot drive; another one must."""
    ensure_role(actor, RECOVERY_DESK, "open recovery cases")
    note = _clean_note(note)
    row, charter = await _vehicle_or_error(session, charter_vehicle_id)
    if row.driver_id is None:
        raise ServiceError.of(
            Code.INVALID,
            "This vehicle has no driver to replace: assign one instead.",
            "charterVehicleId",
        )
    return await _open(
        session,
        row,
        charter,
        subject="driver",
        reason=reason,
        note=note,
        actor=actor,
        at=at or _now(),
        previous_vendor_id=None,
    )


async def start_search(
    session: AsyncSession, case_id: uuid.UUID, actor: Viewer, *, at: datetime | None = None
) -> RecoveryCase:
    """Alert eligible vendors (again: only those not told yet) for a vendor case."""
    ensure_role(actor, RECOVERY_DESK, "search vendors for a recovery")
    case, row, charter = await _case_locked(session, case_id)
    if case.subject != "vendor":
        raise ServiceError.of(
            Code.INVALID,
            "A driver case is resolved by assigning another driver, not by a vendor search.",
            "caseId",
        )
    return await _move(
        session,
        case,
        row,
        charter,
        "vendor_search",
        actor,
        at=at or _now(),
        field="caseId",
        replacement_vendor_id=None,
    )


async def resolve(
    session: AsyncSession,
    case_id: uuid.UUID,
    note: str,
    actor: Viewer,
    *,
    at: datetime | None = None,
) -> RecoveryCase:
    """A dispatcher closes a case by hand, saying how it was settled."""
    ensure_role(actor, RECOVERY_DESK, "resolve recovery cases")
    cleaned = _clean_note(note)
    if cleaned is None:
        raise ServiceError.of(Code.REQUIRED, "Say how the recovery was settled.", "note")
    case, row, charter = await _case_locked(session, case_id)
    joined = f"{case.note}\n{cleaned}" if case.note else cleaned
    return await _move(
        session,
        case,
        row,
        charter,
        "resolved",
        actor,
        at=at or _now(),
        field="caseId",
        note=joined[-NOTE_MAX:],
    )


async def close_for_cancelled(
    session: AsyncSession, charter: Charter, at: datetime
) -> list[uuid.UUID]:
    """A cancelled charter needs no replacement: its open cases resolve (audited, no actor)."""
    ids = list(
        await session.scalars(
            select(RecoveryCase.id).where(
                RecoveryCase.charter_id == charter.id, RecoveryCase.status.in_(OPEN)
            )
        )
    )
    for case_id in ids:
        case, row, locked_charter = await _case_locked(session, case_id)
        note = f"{case.note}\n{CANCELLED_NOTE}" if case.note else CANCELLED_NOTE
        await _move(
            session, case, row, locked_charter, "resolved", None, at=at, note=note[-NOTE_MAX:]
        )
    return ids


async def on_assignment_changed(
    session: AsyncSession, previous_status: str | None, fact: VendorAssignmentFact
) -> None:
    """Vendors moved an assignment (`fact`, now as stored; `previous_status` before, or None).

    A decline close to pickup, or a recovery request, opens a case and starts
    the vendor search at once (no dispatcher is needed to alert vendors at
    night). Another vendor taking the vehicle moves an open case on; the
    replacement declining (or cancelled) sends it back to the search. Runs in a
    projection's transaction: it never raises for facts it cannot use, or the
    event would be retried for ever.
    """
    if previous_status == fact.status:
        return  # a re-delivered event
    locked = await _lock_vehicle(session, fact.charter_vehicle_id)
    if locked is None:
        return
    row, charter = locked
    case = await _open_case_of(session, row.id, "vendor")
    at = fact.as_of
    if fact.status in (*LOST, "cancelled"):
        if charter.status not in RECOVERABLE:
            return
        if case is None:
            if fact.status == "cancelled":
                return
            if fact.status == "declined" and charter.pickup_at - at > DECLINE_WINDOW:
                return
            reason = "vendor_declined" if fact.status == "declined" else "recovery_requested"
            case = await _open(
                session,
                row,
                charter,
                subject="vendor",
                reason=reason,
                note=None,
                actor=None,
                at=at,
                previous_vendor_id=fact.vendor_id,
            )
            await _move(session, case, row, charter, "vendor_search", None, at=at)
        elif case.status == "vendor_assigned" and fact.vendor_id == case.replacement_vendor_id:
            # The replacement fell through too (declined, or staff cancelled it): search on,
            # counting it with those already asked, so it is not asked again.
            alerted = set(case.alerted_vendor_ids or []) | {str(fact.vendor_id)}
            await _move(
                session,
                case,
                row,
                charter,
                "vendor_search",
                None,
                at=at,
                alerted_vendor_ids=sorted(alerted),
                replacement_vendor_id=None,
            )
        return
    if case is None or fact.status not in ("offered", "confirmed"):
        return
    if fact.vendor_id == case.previous_vendor_id:
        if fact.status == "confirmed" and previous_status == "recovery_requested":
            # The vendor took its request back: it runs the trip after all.
            await _move(session, case, row, charter, "resolved", None, at=at)
        return
    if case.status in ("pending", "vendor_search"):
        await _move(
            session,
            case,
            row,
            charter,
            "vendor_assigned",
            None,
            at=at,
            replacement_vendor_id=fact.vendor_id,
        )
    elif case.replacement_vendor_id != fact.vendor_id:
        old = audit.row_snapshot(case)
        case.replacement_vendor_id = fact.vendor_id
        audit.record(
            session,
            charter_id=charter.id,
            entity="recovery_case",
            entity_id=case.id,
            action="recovery:replacement",
            actor=None,
            old=old,
            new=audit.row_snapshot(case),
        )
    if fact.status == "confirmed":
        await _move(session, case, row, charter, "resolved", None, at=at)


async def on_driver_assigned(
    session: AsyncSession,
    row: CharterVehicle,
    charter: Charter,
    actor: Viewer | None,
    *,
    at: datetime | None = None,
) -> None:
    """Another driver on the vehicle (the assign path, rows already locked) resolves its case."""
    if row.driver_id is None:
        return
    case = await _open_case_of(session, row.id, "driver")
    if case is None or case.previous_driver_id == row.driver_id:
        return
    await _move(
        session,
        case,
        row,
        charter,
        "resolved",
        actor,
        at=at or _now(),
        replacement_driver_id=row.driver_id,
    )


async def apply_alerted_event(session: AsyncSession, event: dict[str, Any]) -> None:
    """`vendors.recovery_alerted`: keep whom vendors told about a case (idempotent union)."""
    payload = event.get("payload") or {}
    case_id = parse_uuid(payload.get("caseId"))
    if case_id is None:
        return
    case = await session.scalar(
        select(RecoveryCase)
        .where(RecoveryCase.id == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if case is None:
        return
    known = list(case.alerted_vendor_ids or [])
    added = [str(v) for v in payload.get("vendorIds") or [] if str(v) not in known]
    if not added:
        return
    old = audit.row_snapshot(case)
    case.alerted_vendor_ids = known + added
    audit.record(
        session,
        charter_id=case.charter_id,
        entity="recovery_case",
        entity_id=case.id,
        action="recovery:alerted",
        actor=None,
        old=old,
        new=audit.row_snapshot(case),
    )
    await session.flush()
