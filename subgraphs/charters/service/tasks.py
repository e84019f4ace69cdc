"""Readiness tasks: what must be true before a booked charter departs, and by when.

Each kind is due a fixed time before pickup (`PLAN`); per-vehicle kinds get
one task per charter vehicle, charter-wide kinds one per charter. A task
completes itself when its condition becomes true (`satisfy`), whichever
subgraph the fact came from (vendors' events reach charters through
`service/vendor_assignments.py`).

Generation (`sync`) runs when a charter is booked and whenever a booked
charter's content changes (a change case implemented): it creates what is
missing (a vehicle added later gets its per-vehicle tasks) and moves the
open tasks' due times with the pickup. A condition already true when a task
is generated (a vehicle already assigned) yields the task *completed*, by
nobody, at generation time: the board's history then shows every step of
the plan, and a later `sync` never recreates it as pending (the unique
index keeps one task per kind and vehicle).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import literal, select, update
from sqlalchemy.dialects.postgresql import insert

from subgraphs.charters import states
from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import (
    Charter,
    CharterVehicle,
    Confirmation,
    DispatchTask,
    VendorAssignmentFact,
)
from subgraphs.charters.service import audit, events
from subgraphs.charters.service.access import DISPATCH, ensure_role
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.kit.context import Services

#: Statuses a task is still open in.
OPEN = ("pending", "in_progress")
#: Charter statuses that carry readiness tasks: sold and not over.
TASKED = frozenset({"booked", "confirmed", "in_progress"})
#: Vendors' assignment statuses in which the vendor holds the vehicle, and those
#: in which it has said yes (vendors' `HOLDING_ASSIGNMENT` and its confirmed side).
VENDOR_HOLDING = ("offered", "confirmed", "recovery_requested", "in_progress")
VENDOR_CONFIRMED = ("confirmed", "in_progress")
SKIP_REASON_MAX = 500


@dataclass(frozen=True)
class Step:
    kind: str
    minutes_before_pickup: int
    per_vehicle: bool


DAY = 24 * 60
#: Seed 001 section 8's readiness steps, in the order a dispatcher works them.
PLAN = (
    Step("vehicle_assigned", 7 * DAY, per_vehicle=True),
    Step("vendor_assigned", 5 * DAY, per_vehicle=True),
    Step("vendor_confirmed", 3 * DAY, per_vehicle=True),
    Step("driver_assigned", 2 * DAY, per_vehicle=True),
    Step("driver_confirmed", DAY, per_vehicle=True),
    Step("route_verified", DAY, per_vehicle=False),
    Step("documents_ready", DAY, per_vehicle=False),
)
ORDER = {step.kind: i for i, step in enumerate(PLAN)}


async def satisfy(
    session: AsyncSession,
    charter_id: uuid.UUID,
    charter_vehicle_id: uuid.UUID | None,
    kind: str,
    at: datetime,
    by: uuid.UUID | None = None,
    *,
    announce: bool = False,
) -> list[uuid.UUID]:
    """Complete the open task of `kind` (its condition just became true); the ids completed.

    `by` is None when the fact completed it (an event, an assignment), a
    user when a person did. Completing an already completed task is a no-op.
    Each completion is audited. The caller names "tasks" in the board event
    it emits for its own change anyway (one event, not two); a caller with
    no event of its own passes `announce` and the board hears of it here.
    """
    rows = list(
        await session.scalars(
            select(DispatchTask)
            .where(
                DispatchTask.charter_id == charter_id,
                DispatchTask.charter_vehicle_id.is_(None)
                if charter_vehicle_id is None
                else DispatchTask.charter_vehicle_id == charter_vehicle_id,
                DispatchTask.kind == kind,
                DispatchTask.status.in_(OPEN),
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    for row in rows:
        old = audit.row_snapshot(row)
        row.status = "completed"
        row.completed_at = at
        row.completed_by = by
        row.overdue_since = None
        audit.record(
            session,
            charter_id=charter_id,
            entity="dispatch_task",
            entity_id=row.id,
            action="task:satisfied",
            actor=None,
            old=old,
            new=audit.row_snapshot(row),
        )
    if rows:
        await session.flush()
        if announce:
            charter = await session.get(Charter, charter_id)
            if charter is not None:
                await events.charter_changed(
                    session,
                    charter,
                    ["tasks"],
                    charterVehicleId=str(charter_vehicle_id) if charter_vehicle_id else None,
                )
    return [r.id for r in rows]


async def unsatisfy(
    session: AsyncSession,
    charter_id: uuid.UUID,
    charter_vehicle_id: uuid.UUID,
    kind: str,
    at: datetime,
) -> list[uuid.UUID]:
    """Reopen a completed task whose condition stopped holding (the vendor let the vehicle go).

    Skipped tasks stay skipped (a person decided they do not apply). Audited
    with no actor; the caller announces it with the change that caused it.
    """
    rows = list(
        await session.scalars(
            select(DispatchTask)
            .where(
                DispatchTask.charter_id == charter_id,
                DispatchTask.charter_vehicle_id == charter_vehicle_id,
                DispatchTask.kind == kind,
                DispatchTask.status == "completed",
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    for row in rows:
        old = audit.row_snapshot(row)
        row.status = "pending"
        row.completed_at = None
        row.completed_by = None
        row.overdue_since = at if row.due_at <= at else None
        audit.record(
            session,
            charter_id=charter_id,
            entity="dispatch_task",
            entity_id=row.id,
            action="task:unsatisfied",
            actor=None,
            old=old,
            new=audit.row_snapshot(row),
        )
    if rows:
        await session.flush()
    return [r.id for r in rows]


async def _satisfied(
    session: AsyncSession, vehicles: list[CharterVehicle]
) -> set[tuple[uuid.UUID, str]]:
    """(charter vehicle, kind) pairs whose condition already holds."""
    done: set[tuple[uuid.UUID, str]] = set()
    for v in vehicles:
        if v.vehicle_id is not None:
            done.add((v.id, "vehicle_assigned"))
        if v.driver_id is not None:
            done.add((v.id, "driver_assigned"))
    ids = [v.id for v in vehicles]
    if not ids:
        return done
    facts = await session.execute(
        select(VendorAssignmentFact.charter_vehicle_id, VendorAssignmentFact.status).where(
            VendorAssignmentFact.charter_vehicle_id.in_(ids),
            VendorAssignmentFact.status.in_(VENDOR_HOLDING),
        )
    )
    for vehicle_id, status in facts.all():
        done.add((vehicle_id, "vendor_assigned"))
        if status in VENDOR_CONFIRMED:
            done.add((vehicle_id, "vendor_confirmed"))
    drivers = {v.id: v.driver_id for v in vehicles}
    confirmed = await session.execute(
        select(Confirmation.charter_vehicle_id, Confirmation.party_id).where(
            Confirmation.charter_vehicle_id.in_(ids), Confirmation.party == "driver"
        )
    )
    for vehicle_id, driver_id in confirmed.all():
        if driver_id is not None and drivers.get(vehicle_id) == driver_id:
            done.add((vehicle_id, "driver_confirmed"))
    return done


async def sync(session: AsyncSession, charter: Charter, at: datetime) -> bool:
    """Bring a charter's tasks in line with it: create the missing ones, move due times.

    Safe to call any number of times (the unique index makes creation
    idempotent); a charter that carries no tasks (a quote, a finished trip)
    is left alone. True when something was created or moved.
    """
    if charter.status not in TASKED or charter.is_template:
        return False
    await session.flush()
    vehicles = list(
        await session.scalars(
            select(CharterVehicle)
            .where(CharterVehicle.charter_id == charter.id)
            .order_by(CharterVehicle.position, CharterVehicle.id)
        )
    )
    satisfied = await _satisfied(session, vehicles)
    values = []
    for step in PLAN:
        targets: list[uuid.UUID | None] = [v.id for v in vehicles] if step.per_vehicle else [None]
        for vehicle_id in targets:
            done = vehicle_id is not None and (vehicle_id, step.kind) in satisfied
            values.append(
                {
                    "id": uuid.uuid4(),
                    "charter_id": charter.id,
                    "charter_vehicle_id": vehicle_id,
                    "kind": step.kind,
                    "status": "completed" if done else "pending",
                    "due_before_minutes": step.minutes_before_pickup,
                    "due_at": charter.pickup_at - timedelta(minutes=step.minutes_before_pickup),
                    "completed_at": at if done else None,
                }
            )
    created = list(
        await session.scalars(
            insert(DispatchTask).values(values).on_conflict_do_nothing().returning(DispatchTask.id)
        )
    )
    moved = list(
        await session.scalars(
            update(DispatchTask)
            .where(
                DispatchTask.charter_id == charter.id,
                DispatchTask.status.in_(OPEN),
                DispatchTask.due_at
                != literal(charter.pickup_at)
                - DispatchTask.due_before_minutes * literal(timedelta(minutes=1)),
            )
            .values(
                due_at=literal(charter.pickup_at)
                - DispatchTask.due_before_minutes * literal(timedelta(minutes=1))
            )
            .returning(DispatchTask.id)
        )
    )
    if moved:
        # A task moved later is no longer overdue; one moved earlier waits for the job.
        await session.execute(
            update(DispatchTask)
            .where(DispatchTask.id.in_(moved), DispatchTask.due_at > at)
            .values(overdue_since=None)
        )
    return bool(created or moved)


async def follow_split(
    session: AsyncSession, moved: list[uuid.UUID], new: Charter, at: datetime
) -> bool:
    """Vehicles split off to `new` take their tasks and confirmations; `new` gets its own.

    `new`'s charter-wide tasks come from `sync`; True when anything moved or
    was made. The split-off charter is the same trip sold twice: what was done for a
    vehicle (assigned, confirmed) stays done, instead of starting over.
    """
    if not moved:
        return await sync(session, new, at)
    followed = await session.execute(
        update(DispatchTask)
        .where(DispatchTask.charter_vehicle_id.in_(moved))
        .values(charter_id=new.id)
    )
    await session.execute(
        update(Confirmation)
        .where(Confirmation.charter_vehicle_id.in_(moved))
        .values(charter_id=new.id)
    )
    made = await sync(session, new, at)
    return bool(getattr(followed, "rowcount", 0)) or made


async def get_task(session: AsyncSession, task_id: uuid.UUID) -> tuple[DispatchTask, Charter]:
    """Lock the charter, then the task: the order every charter edit uses."""
    charter_id = await session.scalar(
        select(DispatchTask.charter_id).where(DispatchTask.id == task_id)
    )
    if charter_id is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Task {task_id} does not exist.", "id")
    charter = (
        await session.scalars(select(Charter).where(Charter.id == charter_id).with_for_update())
    ).one()
    task = (
        await session.scalars(
            select(DispatchTask)
            .where(DispatchTask.id == task_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    return task, charter


async def move(
    session: AsyncSession,
    task_id: uuid.UUID,
    target: str,
    actor: Viewer,
    *,
    at: datetime,
    reason: str | None = None,
) -> DispatchTask:
    """A dispatcher starts, completes, skips or reopens a task; audited and announced."""
    ensure_role(actor, DISPATCH, "work readiness tasks")
    reason = reason.strip() if reason else None
    if target == "skipped":
        if not reason:
            raise ServiceError.of(Code.REQUIRED, "Say why the task is skipped.", "reason")
        if len(reason) > SKIP_REASON_MAX:
            raise ServiceError.of(
                Code.TOO_LONG, f"A reason has at most {SKIP_REASON_MAX} characters.", "reason"
            )
    task, charter = await get_task(session, task_id)
    if charter.status not in TASKED:
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            f"{charter.reference} is {charter.status}: its tasks are closed.",
            "id",
        )
    states.TASK.check(task.status, target)
    old = audit.row_snapshot(task)
    task.status = target
    if target == "completed":
        task.completed_at = at
        task.completed_by = actor.user_id
        task.overdue_since = None
    elif target == "skipped":
        task.skip_reason = reason
        task.overdue_since = None
    elif target == "pending" and old["status"] in ("completed", "skipped"):
        task.completed_at = None
        task.completed_by = None
        task.skip_reason = None
        task.overdue_since = at if task.due_at <= at else None
    await session.flush()
    audit.record(
        session,
        charter_id=charter.id,
        entity="dispatch_task",
        entity_id=task.id,
        action=f"task:{target}",
        actor=actor,
        old=old,
        new=audit.row_snapshot(task),
    )
    await events.charter_changed(
        session,
        charter,
        ["tasks"],
        charterVehicleId=str(task.charter_vehicle_id) if task.charter_vehicle_id else None,
        taskId=str(task.id),
        taskStatus=target,
    )
    return task


async def flag_overdue(session: AsyncSession, at: datetime) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Flag open tasks past due (once each); one board event per charter touched.

    Only charters that still carry tasks count: a cancelled charter's leftovers
    are not anybody's to chase. The flag is derived from the clock, not a
    person's act, so it is announced but not audited.
    """
    flagged = await session.execute(
        update(DispatchTask)
        .where(
            DispatchTask.status.in_(OPEN),
            DispatchTask.due_at <= at,
            DispatchTask.overdue_since.is_(None),
            DispatchTask.charter_id.in_(
                select(Charter.id).where(Charter.status.in_(sorted(TASKED)))
            ),
        )
        .values(overdue_since=at)
        .returning(DispatchTask.charter_id, DispatchTask.id)
    )
    by_charter: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for charter_id, task_id in flagged.all():
        by_charter[charter_id].append(task_id)
    for charter_id in sorted(by_charter):
        charter = await session.get(Charter, charter_id)
        if charter is not None:
            await events.charter_changed(
                session,
                charter,
                ["tasks"],
                overdueTaskIds=sorted(str(t) for t in by_charter[charter_id]),
            )
    return dict(by_charter)


def sort_key(task: DispatchTask) -> tuple[datetime, int, str]:
    """Soonest due first; within a due time, the plan's order."""
    return (task.due_at, ORDER.get(task.kind, len(ORDER)), str(task.charter_vehicle_id or ""))


async def overdue_job(services: Services, due: datetime) -> dict[str, int]:
    """`charters.dispatch_overdue`: flag what is past due now (the clock, not `due`).

    Safe to run twice: a flagged task is not flagged again.
    """
    async with services.sessions() as session, session.begin():
        flagged = await flag_overdue(session, datetime.now(UTC))
    return {"charters": len(flagged), "tasks": sum(len(t) for t in flagged.values())}
