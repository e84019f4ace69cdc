"""Splitting a charter into two with a passenger distribution.

The new charter is a copy of the original (same client, agent, times,
itinerary, status) that takes some passengers and some vehicles; it
remembers the original in `split_from_id`. Moved vehicles keep their
assigned vehicle and driver: the trip window is unchanged, so the
exclusion constraints still hold. Everything happens in the caller's
transaction, audited on both charters.

Decision: a split does not go through a change case. On a quote any editor
of the quote may split it; once booked (or confirmed) only staff who may
edit any charter (admin, manager, sales support) may, and both sides must
still seat their passengers. The original's version moves on, so change
cases opened before the split become stale.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import Charter, CharterVehicle, Stop
from subgraphs.charters.service import audit, events, tasks
from subgraphs.charters.service.access import EDIT_ANY, ensure_can_edit, ensure_role
from subgraphs.charters.service.charters import get
from subgraphs.charters.service.references import next_reference
from subgraphs.charters.service.timing import now
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

SPLITTABLE = frozenset({"quote", "booked", "confirmed"})


@dataclass(frozen=True)
class SplitResult:
    original: Charter
    new: Charter


async def split(
    session: AsyncSession,
    charter_id: uuid.UUID,
    *,
    passengers_to_new: int,
    charter_vehicle_ids: list[uuid.UUID],
    actor: Viewer,
) -> SplitResult:
    original = await get(session, charter_id, lock=True)
    ensure_can_edit(actor, original)
    if original.status not in SPLITTABLE:
        raise ServiceError.of(
            Code.INVALID_TRANSITION, f"A {original.status} charter cannot be split.", "id"
        )
    if original.status != "quote":
        ensure_role(actor, EDIT_ANY, "split a booked charter")
    if original.is_template:
        raise ServiceError.of(Code.INVALID, "A template cannot be split.", "id")

    vehicles = list(
        await session.scalars(
            select(CharterVehicle)
            .where(CharterVehicle.charter_id == original.id)
            .order_by(CharterVehicle.position, CharterVehicle.id)
            .with_for_update()
        )
    )
    problems: list[Problem] = []
    if not 1 <= passengers_to_new < original.passenger_count:
        problems.append(
            Problem(
                Code.OUT_OF_RANGE,
                f"Move between 1 and {original.passenger_count - 1} passengers.",
                "passengersToNew",
            )
        )
    wanted = set(charter_vehicle_ids)
    if len(wanted) != len(charter_vehicle_ids):
        problems.append(Problem(Code.INVALID, "A vehicle is listed twice.", "vehicleIds"))
    own = {v.id for v in vehicles}
    if wanted - own:
        problems.append(
            Problem(Code.NOT_FOUND, "A listed vehicle is not on this charter.", "vehicleIds")
        )
    if problems:
        raise ServiceError(problems)

    moving = [v for v in vehicles if v.id in wanted]
    staying = [v for v in vehicles if v.id not in wanted]
    remaining = original.passenger_count - passengers_to_new
    if original.status != "quote":
        for side, rows, passengers, field in (
            ("original", staying, remaining, "passengersToNew"),
            ("new", moving, passengers_to_new, "vehicleIds"),
        ):
            seats = sum(v.capacity for v in rows)
            if seats < passengers:
                problems.append(
                    Problem(
                        Code.INSUFFICIENT_CAPACITY,
                        f"The {side} charter's vehicles seat {seats}, "
                        f"fewer than its {passengers} passengers.",
                        field,
                    )
                )
        if problems:
            raise ServiceError(problems)

    new = Charter(
        id=uuid.uuid4(),
        reference=await next_reference(session, "CH", original.pickup_local.year),
        status=original.status,
        booked_at=original.booked_at,
        client_id=original.client_id,
        sales_agent_id=original.sales_agent_id,
        created_by=actor.user_id,
        trip_type=original.trip_type,
        passenger_count=passengers_to_new,
        pickup_local=original.pickup_local,
        pickup_time_zone=original.pickup_time_zone,
        pickup_at=original.pickup_at,
        ends_at=original.ends_at,
        notes=original.notes,
        requires_second_driver=original.requires_second_driver,
        estimated_miles=original.estimated_miles,
        quote_revision=1,
        version=0,
        split_from_id=original.id,
    )
    session.add(new)
    await session.flush()
    audit.charter_updated(session, new, "split:create", actor, None)
    for stop in await session.scalars(
        select(Stop).where(Stop.charter_id == original.id).order_by(Stop.position)
    ):
        copy = Stop(
            id=uuid.uuid4(),
            charter_id=new.id,
            position=stop.position,
            stop_type=stop.stop_type,
            address=stop.address,
            latitude=stop.latitude,
            longitude=stop.longitude,
            planned_arrival=stop.planned_arrival,
            planned_departure=stop.planned_departure,
            notes=stop.notes,
        )
        session.add(copy)
        audit.record(
            session,
            charter_id=new.id,
            entity="stop",
            entity_id=copy.id,
            action="add",
            actor=actor,
            old=None,
            new=audit.row_snapshot(copy),
        )

    for side, rows in ((original, staying), (new, moving)):
        for position, row in enumerate(rows, start=1):
            old = audit.row_snapshot(row)
            row.charter_id = side.id
            row.position = position
            changed = audit.row_snapshot(row)
            if old == changed:
                continue
            action = "split:move" if side is new else "update"
            for charter in (original, new) if side is new else (original,):
                audit.record(
                    session,
                    charter_id=charter.id,
                    entity="charter_vehicle",
                    entity_id=row.id,
                    action=action,
                    actor=actor,
                    old=old,
                    new=changed,
                )

    before = audit.row_snapshot(original)
    original.passenger_count = remaining
    original.version += 1
    audit.record(
        session,
        charter_id=original.id,
        entity="charter",
        entity_id=original.id,
        action="split",
        actor=actor,
        old=before,
        new={**audit.row_snapshot(original), "split_into": new.reference},
    )
    await session.flush()
    # The moved vehicles' readiness tasks go with them; the new charter gets its own.
    await tasks.follow_split(session, [row.id for row in moving], new, now())
    await events.charter_changed(
        session, original, ["passenger_count", "vehicles"], splitInto=new.reference
    )
    await events.charter_changed(session, new, ["created"], splitFrom=original.reference)
    return SplitResult(original, new)
