"""The driver app's trip: one charter vehicle as its assigned driver runs it.

A trip is confirmed, started, taken stop by stop (arrive, depart) and
completed by the driver the charter vehicle is assigned to, and by nobody
else: to anyone else the trip does not exist (NOT_FOUND, same as an unknown
id, so assignments are not revealed). Each step is checked against the
order of the stops and the transition tables (`states.CHARTER`,
`states.CHARTER_VEHICLE`, `states.DISPATCH`): the app reports facts, and the
tables decide which of the dispatcher's statuses they move. Every step is
audited and announced on the dispatch board (change `trip`).

All steps lock the charter, then its vehicle (the order every charter edit
uses), so two taps of the same button serialise and the second is refused.
"""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from subgraphs.charters import states
from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import (
    Charter,
    CharterVehicle,
    Confirmation,
    Driver,
    Stop,
    StopVisit,
    TripNote,
)
from subgraphs.charters.service import audit, events, tasks
from subgraphs.charters.service.access import TRIP_START_WINDOW
from subgraphs.charters.service.timing import now as utc_now
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.kit.state_machine import StateMachine

#: Charter statuses in which a trip is still to be driven.
LIVE = frozenset({"booked", "confirmed", "in_progress"})
NOTE_MAX = 2000
#: Notes one trip keeps: `Trip.notes` is a plain list, so its length is bounded here.
NOTES_PER_TRIP = 100


@dataclass
class Trip:
    """A locked charter vehicle, its charter and the driver running it."""

    row: CharterVehicle
    charter: Charter
    driver: Driver


def not_found(field: str) -> ServiceError:
    return ServiceError.of(Code.NOT_FOUND, "No such trip among yours.", field)


async def driver_of(session: AsyncSession, viewer: Viewer) -> Driver | None:
    """The fleet driver linked to the viewer's account, if any."""
    if viewer.user_id is None:
        return None
    return await session.scalar(select(Driver).where(Driver.user_id == viewer.user_id))


async def assigned_trip(
    session: AsyncSession, trip_id: uuid.UUID, viewer: Viewer, field: str = "id"
) -> Trip:
    """Lock and return the viewer's trip; NOT_FOUND when it is not the viewer's to run."""
    driver = await driver_of(session, viewer)
    if driver is None:
        raise not_found(field)
    charter_id = await session.scalar(
        select(CharterVehicle.charter_id).where(
            CharterVehicle.id == trip_id, CharterVehicle.driver_id == driver.id
        )
    )
    if charter_id is None:
        raise not_found(field)
    charter = (
        await session.scalars(select(Charter).where(Charter.id == charter_id).with_for_update())
    ).one()
    row = (
        await session.scalars(
            select(CharterVehicle)
            .where(CharterVehicle.id == trip_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    # Re-checked under the lock: a reassignment may have committed in between.
    if row.driver_id != driver.id or charter.is_template:
        raise not_found(field)
    return Trip(row=row, charter=charter, driver=driver)


def path(machine: StateMachine, current: str, target: str) -> list[str] | None:
    """The states a walk through `machine` from `current` to `target` passes, or None.

    The shortest walk, `current` excluded. The app reports "the trip started" whatever the dispatcher had set; the
    statuses in between are the ones the table says the vehicle went through.
    """
    if current == target:
        return []
    seen = {current}
    queue: deque[tuple[str, list[str]]] = deque([(current, [])])
    while queue:
        state, walked = queue.popleft()
        for nxt in sorted(machine.allowed(state)):
            if nxt in seen:
                continue
            if nxt == target:
                return [*walked, nxt]
            seen.add(nxt)
            queue.append((nxt, [*walked, nxt]))
    return None


def _invalid(message: str, field: str = "id") -> ServiceError:
    return ServiceError.of(Code.INVALID_TRANSITION, message, field)


def _move_dispatch(row: CharterVehicle, target: str, field: str) -> bool:
    """Walk the vehicle's dispatch status to `target`; True when it changed."""
    walked = path(states.DISPATCH, row.dispatch_status, target)
    if walked is None:
        raise _invalid(
            f"The trip's dispatch status is {row.dispatch_status}: it cannot become {target}.",
            field,
        )
    if walked:
        row.dispatch_status = target
    return bool(walked)


def _move_vehicle_status(row: CharterVehicle, target: str) -> None:
    """Follow the trip with the vehicle's own status where its table allows it."""
    walked = path(states.CHARTER_VEHICLE, row.status, target)
    if walked:
        row.status = target


def _ensure_running(trip: Trip, field: str = "id") -> None:
    if trip.row.trip_started_at is None:
        raise _invalid("Start the trip first.", field)
    if trip.row.trip_completed_at is not None:
        raise _invalid("The trip is already completed.", field)


async def _announce(
    session: AsyncSession,
    trip: Trip,
    action: str,
    changes: list[str],
    *,
    old_vehicle: dict[str, object],
    actor: Viewer,
) -> None:
    audit.record(
        session,
        charter_id=trip.charter.id,
        entity="charter_vehicle",
        entity_id=trip.row.id,
        action=f"trip:{action}",
        actor=actor,
        old=old_vehicle,
        new=audit.row_snapshot(trip.row),
    )
    if old_vehicle.get("dispatch_status") != trip.row.dispatch_status:
        changes = [*changes, "dispatchStatus"]
    await events.charter_changed(
        session,
        trip.charter,
        ["trip", *changes],
        charterVehicleId=str(trip.row.id),
        trip=action,
        dispatchStatus=trip.row.dispatch_status,
        previousDispatchStatus=old_vehicle.get("dispatch_status"),
    )


async def confirm(
    session: AsyncSession, trip_id: uuid.UUID, actor: Viewer, *, at: datetime | None = None
) -> Trip:
    """The driver confirms, in the app, that it will drive the trip (once per driver)."""
    at = at or utc_now()
    trip = await assigned_trip(session, trip_id, actor)
    if trip.charter.status not in LIVE or trip.row.trip_started_at is not None:
        raise _invalid(f"{trip.charter.reference} is {trip.charter.status}: nothing to confirm.")
    already = await session.scalar(
        select(Confirmation.id).where(
            Confirmation.charter_vehicle_id == trip.row.id,
            Confirmation.party == "driver",
            Confirmation.party_id == trip.driver.id,
        )
    )
    if already is not None:
        raise _invalid("You have already confirmed this trip.")
    confirmation = Confirmation(
        id=uuid.uuid4(),
        charter_id=trip.charter.id,
        charter_vehicle_id=trip.row.id,
        party="driver",
        party_id=trip.driver.id,
        method="app",
        recorded_by=actor.user_id,
        confirmed_at=at,
    )
    session.add(confirmation)
    await session.flush()
    done = await tasks.satisfy(session, trip.charter.id, trip.row.id, "driver_confirmed", at)
    audit.record(
        session,
        charter_id=trip.charter.id,
        entity="confirmation",
        entity_id=confirmation.id,
        action="trip:confirm",
        actor=actor,
        old=None,
        new=audit.row_snapshot(confirmation),
    )
    await events.charter_changed(
        session,
        trip.charter,
        ["trip", "confirmations", *(["tasks"] if done else [])],
        charterVehicleId=str(trip.row.id),
        trip="confirm",
    )
    return trip


async def _ordered_stops(session: AsyncSession, charter_id: uuid.UUID) -> list[Stop]:
    return list(
        await session.scalars(
            select(Stop).where(Stop.charter_id == charter_id).order_by(Stop.position)
        )
    )


async def _visits(session: AsyncSession, trip: Trip) -> dict[uuid.UUID, StopVisit]:
    rows = await session.scalars(
        select(StopVisit)
        .where(StopVisit.charter_vehicle_id == trip.row.id)
        .execution_options(populate_existing=True)
    )
    return {v.stop_id: v for v in rows}


async def start(
    session: AsyncSession, trip_id: uuid.UUID, actor: Viewer, *, at: datetime | None = None
) -> Trip:
    """The coach leaves the first stop: the trip, its vehicle and its charter are under way.

    The charter moves to in_progress by charters' own table (a booked charter
    is confirmed by dispatch first), from `TRIP_START_WINDOW` before pickup.
    """
    at = at or utc_now()
    trip = await assigned_trip(session, trip_id, actor)
    charter = trip.charter
    if trip.row.trip_started_at is not None:
        raise _invalid("The trip has already started.")
    if charter.status not in LIVE:
        raise _invalid(f"{charter.reference} is {charter.status}: its trip cannot start.")
    if charter.status != "in_progress" and not states.CHARTER.can(charter.status, "in_progress"):
        raise _invalid(
            f"{charter.reference} is {charter.status}: dispatch confirms it before its trip starts."
        )
    opens = charter.pickup_at - TRIP_START_WINDOW
    if at < opens:
        raise ServiceError.of(
            Code.TOO_EARLY,
            f"The trip can start from {opens.isoformat()} (around its pickup), not before.",
            "id",
        )
    stops = await _ordered_stops(session, charter.id)
    if not stops:
        raise _invalid(f"{charter.reference} has no stops to drive.")
    old = audit.row_snapshot(trip.row)
    _move_dispatch(trip.row, "in_transit", "id")
    _move_vehicle_status(trip.row, "en_route")
    trip.row.trip_started_at = at
    first = (await _visits(session, trip)).get(stops[0].id)
    if first is None:
        first = StopVisit(charter_vehicle_id=trip.row.id, stop_id=stops[0].id)
        session.add(first)
    first.departed_at = at
    changes = []
    if charter.status != "in_progress":
        old_charter = audit.row_snapshot(charter)
        states.CHARTER.check(charter.status, "in_progress", "id")
        charter.status = "in_progress"
        charter.version += 1
        await session.flush()
        audit.charter_updated(session, charter, "status:in_progress", actor, old_charter)
        changes.append("status")
    await session.flush()
    await _announce(session, trip, "start", changes, old_vehicle=old, actor=actor)
    return trip


async def _stop_of(session: AsyncSession, trip: Trip, stop_id: uuid.UUID) -> tuple[int, list[Stop]]:
    stops = await _ordered_stops(session, trip.charter.id)
    for index, stop in enumerate(stops):
        if stop.id == stop_id:
            return index, stops
    raise ServiceError.of(Code.NOT_FOUND, "No such stop on this trip.", "stopId")


async def _record_visit(
    session: AsyncSession,
    trip: Trip,
    visit: StopVisit,
    old: dict[str, object] | None,
    action: str,
    actor: Viewer,
) -> None:
    await session.flush()
    audit.record(
        session,
        charter_id=trip.charter.id,
        entity="stop_visit",
        entity_id=visit.stop_id,
        action=f"trip:{action}",
        actor=actor,
        old=old,
        new=audit.row_snapshot(visit),
    )


async def arrive(
    session: AsyncSession,
    trip_id: uuid.UUID,
    stop_id: uuid.UUID,
    actor: Viewer,
    *,
    at: datetime | None = None,
) -> Trip:
    """The coach reached a stop: the next one, every earlier stop having been left."""
    at = at or utc_now()
    trip = await assigned_trip(session, trip_id, actor, "tripId")
    _ensure_running(trip, "tripId")
    index, stops = await _stop_of(session, trip, stop_id)
    visits = await _visits(session, trip)
    visit = visits.get(stop_id)
    if visit is not None and (visit.arrived_at is not None or visit.departed_at is not None):
        raise _invalid(f"Stop {stops[index].position} was already reached.", "stopId")
    pending = [s for s in stops[:index] if (v := visits.get(s.id)) is None or v.departed_at is None]
    if pending:
        raise _invalid(
            f"Stop {pending[0].position} comes first: arrive at stops in order.", "stopId"
        )
    old = audit.row_snapshot(trip.row)
    _move_dispatch(trip.row, "on_site", "stopId")
    before = audit.row_snapshot(visit) if visit is not None else None
    if visit is None:
        visit = StopVisit(charter_vehicle_id=trip.row.id, stop_id=stop_id)
        session.add(visit)
    visit.arrived_at = at
    await _record_visit(session, trip, visit, before, "arrive", actor)
    await _announce(session, trip, "arrive", [], old_vehicle=old, actor=actor)
    return trip


async def depart(
    session: AsyncSession,
    trip_id: uuid.UUID,
    stop_id: uuid.UUID,
    actor: Viewer,
    *,
    at: datetime | None = None,
) -> Trip:
    """The coach left a stop it had reached (once)."""
    at = at or utc_now()
    trip = await assigned_trip(session, trip_id, actor, "tripId")
    _ensure_running(trip, "tripId")
    index, stops = await _stop_of(session, trip, stop_id)
    visit = (await _visits(session, trip)).get(stop_id)
    if visit is not None and visit.departed_at is not None:
        raise _invalid(f"Stop {stops[index].position} was already left.", "stopId")
    if visit is None or visit.arrived_at is None:
        raise _invalid(f"Arrive at stop {stops[index].position} before leaving it.", "stopId")
    if index == len(stops) - 1:
        raise _invalid("The last stop ends the trip: complete it instead.", "stopId")
    old = audit.row_snapshot(trip.row)
    before = audit.row_snapshot(visit)
    _move_dispatch(trip.row, "in_transit", "stopId")
    visit.departed_at = at
    await _record_visit(session, trip, visit, before, "depart", actor)
    await _announce(session, trip, "depart", [], old_vehicle=old, actor=actor)
    return trip


async def complete(
    session: AsyncSession, trip_id: uuid.UUID, actor: Viewer, *, at: datetime | None = None
) -> Trip:
    """The coach reached its last stop and the trip is over.

    The charter completes with its last vehicle, and frees its vehicles and
    drivers as `charters.transition` does.
    """
    at = at or utc_now()
    trip = await assigned_trip(session, trip_id, actor)
    _ensure_running(trip)
    stops = await _ordered_stops(session, trip.charter.id)
    last = (await _visits(session, trip)).get(stops[-1].id) if stops else None
    if last is None or last.arrived_at is None:
        raise _invalid("Arrive at the last stop before completing the trip.")
    old = audit.row_snapshot(trip.row)
    _move_dispatch(trip.row, "completed", "id")
    _move_vehicle_status(trip.row, "completed")
    trip.row.trip_completed_at = at
    await session.flush()
    changes = []
    charter = trip.charter
    unfinished = await session.scalar(
        select(CharterVehicle.id)
        .where(CharterVehicle.charter_id == charter.id, CharterVehicle.trip_completed_at.is_(None))
        .limit(1)
    )
    if unfinished is None and states.CHARTER.can(charter.status, "completed"):
        old_charter = audit.row_snapshot(charter)
        charter.status = "completed"
        charter.version += 1
        await session.execute(
            update(CharterVehicle)
            .where(CharterVehicle.charter_id == charter.id)
            .values(holds_resources=False)
        )
        await session.flush()
        audit.charter_updated(session, charter, "status:completed", actor, old_charter)
        changes.append("status")
    await _announce(session, trip, "complete", changes, old_vehicle=old, actor=actor)
    return trip


async def add_note(
    session: AsyncSession, trip_id: uuid.UUID, text: str, actor: Viewer
) -> tuple[Trip, TripNote]:
    """A driver's note on its trip (a delay, a passenger, the road); kept with the trip."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise ServiceError.of(Code.REQUIRED, "Write the note.", "text")
    if len(cleaned) > NOTE_MAX:
        raise ServiceError.of(Code.TOO_LONG, f"A note has at most {NOTE_MAX} characters.", "text")
    trip = await assigned_trip(session, trip_id, actor, "tripId")
    # The vehicle row is locked (assigned_trip): two notes cannot both take the last place.
    kept = await session.scalar(
        select(func.count()).select_from(TripNote).where(TripNote.charter_vehicle_id == trip.row.id)
    )
    if (kept or 0) >= NOTES_PER_TRIP:
        raise ServiceError.of(
            Code.OUT_OF_RANGE, f"A trip keeps at most {NOTES_PER_TRIP} notes.", "tripId"
        )
    note = TripNote(
        id=uuid.uuid4(),
        charter_vehicle_id=trip.row.id,
        author_id=actor.user_id,
        text=cleaned,
        created_at=utc_now(),
    )
    session.add(note)
    await session.flush()
    audit.record(
        session,
        charter_id=trip.charter.id,
        entity="trip_note",
        entity_id=note.id,
        action="trip:note",
        actor=actor,
        old=None,
        new=audit.row_snapshot(note),
    )
    await events.charter_changed(
        session, trip.charter, ["trip", "tripNotes"], charterVehicleId=str(trip.row.id)
    )
    return trip, note
