"""A charter's editable content as one plain document, and applying one.

Content is what was sold (times, itinerary, passengers, vehicles by type
and cost); which vehicle and driver serve it is operations, kept apart so
that dispatch work never makes a pending change case stale.

Every edit is computed on a snapshot first. For a quote the new snapshot is
applied at once; for a booked charter it becomes a change case's `after`,
applied only when the case is implemented. One path, so a change case can
never apply something a direct edit could not.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import Range

from subgraphs.charters.models import Charter, CharterVehicle, Stop
from subgraphs.charters.service import audit
from subgraphs.charters.service.conflicts import flush_resources
from subgraphs.charters.service.timing import DEFAULT_DURATION, to_instant

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

Snapshot = dict[str, Any]

CHARTER_FIELDS = (
    "trip_type",
    "passenger_count",
    "pickup_local",
    "pickup_time_zone",
    "ends_at",
    "notes",
    "requires_second_driver",
    #: A Decimal string (or None): what the agent entered for pricing.
    "estimated_miles",
)
STOP_FIELDS = (
    "id",
    "stop_type",
    "address",
    "latitude",
    "longitude",
    "planned_arrival",
    "planned_departure",
    "notes",
)
VEHICLE_FIELDS = (
    "id",
    "vehicle_type_id",
    "capacity",
    "cost",
    "pickup_address",
    "dropoff_address",
    "special_requirements",
)


def _value(v: Any) -> Any:
    if isinstance(v, uuid.UUID | Decimal):
        return str(v)
    if isinstance(v, datetime):
        return v.isoformat()
    return v


def take(charter: Charter, stops: list[Stop], vehicles: list[CharterVehicle]) -> Snapshot:
    return {
        **{f: _value(getattr(charter, f)) for f in CHARTER_FIELDS},
        "stops": [{f: _value(getattr(s, f)) for f in STOP_FIELDS} for s in stops],
        "vehicles": [{f: _value(getattr(v, f)) for f in VEHICLE_FIELDS} for v in vehicles],
    }


async def load_parts(
    session: AsyncSession, charter_id: uuid.UUID
) -> tuple[list[Stop], list[CharterVehicle]]:
    stops = list(
        await session.scalars(
            select(Stop).where(Stop.charter_id == charter_id).order_by(Stop.position)
        )
    )
    vehicles = list(
        await session.scalars(
            select(CharterVehicle)
            .where(CharterVehicle.charter_id == charter_id)
            .order_by(CharterVehicle.position, CharterVehicle.id)
        )
    )
    return stops, vehicles


async def load(session: AsyncSession, charter: Charter) -> Snapshot:
    stops, vehicles = await load_parts(session, charter.id)
    return take(charter, stops, vehicles)


def as_datetime(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def as_uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def as_decimal(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


def window(charter: Charter) -> tuple[datetime, datetime]:
    """The time a charter holds its vehicles and drivers."""
    return charter.pickup_at, charter.ends_at or charter.pickup_at + DEFAULT_DURATION


def busy_range(charter: Charter) -> Range[datetime]:
    start, end = window(charter)
    return Range(start, end, bounds="[)")


async def apply(
    session: AsyncSession, charter: Charter, after: Snapshot, actor: Viewer | None
) -> None:
    """Make the charter, its stops and its vehicles match `after`, audited."""
    before = audit.row_snapshot(charter)
    pickup_local = as_datetime(after["pickup_local"])
    if pickup_local is None:
        raise ValueError("snapshot without pickup_local")
    charter.trip_type = after["trip_type"]
    charter.passenger_count = int(after["passenger_count"])
    charter.pickup_local = pickup_local
    charter.pickup_time_zone = after["pickup_time_zone"]
    charter.pickup_at = to_instant(pickup_local, charter.pickup_time_zone)
    charter.ends_at = as_datetime(after.get("ends_at"))
    charter.notes = after.get("notes")
    charter.requires_second_driver = bool(after.get("requires_second_driver"))
    if "estimated_miles" in after:
        # Absent from snapshots older than the column (open cases): those keep the miles.
        charter.estimated_miles = as_decimal(after["estimated_miles"])
    charter.version += 1
    audit.charter_updated(session, charter, "update", actor, before)
    await _apply_stops(session, charter, after["stops"], actor)
    await _apply_vehicles(session, charter, after["vehicles"], actor)


async def _apply_stops(
    session: AsyncSession, charter: Charter, stops: list[Snapshot], actor: Viewer | None
) -> None:
    existing = {
        s.id: s for s in await session.scalars(select(Stop).where(Stop.charter_id == charter.id))
    }
    wanted = {as_uuid(s.get("id")) for s in stops}
    for stop_id, row in existing.items():
        if stop_id not in wanted:
            audit.record(
                session,
                charter_id=charter.id,
                entity="stop",
                entity_id=stop_id,
                action="remove",
                actor=actor,
                old=audit.row_snapshot(row),
                new=None,
            )
            await session.delete(row)
    for position, data in enumerate(stops, start=1):
        stop_id = as_uuid(data.get("id")) or uuid.uuid4()
        row = existing.get(stop_id)
        old = audit.row_snapshot(row) if row else None
        if row is None:
            row = Stop(id=stop_id, charter_id=charter.id)
            session.add(row)
        row.position = position
        row.stop_type = data["stop_type"]
        row.address = data["address"]
        row.latitude = as_decimal(data.get("latitude"))
        row.longitude = as_decimal(data.get("longitude"))
        row.planned_arrival = as_datetime(data.get("planned_arrival"))
        row.planned_departure = as_datetime(data.get("planned_departure"))
        row.notes = data.get("notes")
        audit.record(
            session,
            charter_id=charter.id,
            entity="stop",
            entity_id=stop_id,
            action="add" if old is None else "update",
            actor=actor,
            old=old,
            new=audit.row_snapshot(row),
        )
    await session.flush()


async def _apply_vehicles(
    session: AsyncSession, charter: Charter, vehicles: list[Snapshot], actor: Viewer | None
) -> None:
    existing = {
        v.id: v
        for v in await session.scalars(
            select(CharterVehicle).where(CharterVehicle.charter_id == charter.id)
        )
    }
    wanted = {as_uuid(v.get("id")) for v in vehicles}
    removed = [vid for vid in existing if vid not in wanted]
    for vid in removed:
        audit.record(
            session,
            charter_id=charter.id,
            entity="charter_vehicle",
            entity_id=vid,
            action="remove",
            actor=actor,
            old=audit.row_snapshot(existing[vid]),
            new=None,
        )
    if removed:
        await session.execute(delete(CharterVehicle).where(CharterVehicle.id.in_(removed)))
    rows = []
    for position, data in enumerate(vehicles, start=1):
        vid = as_uuid(data.get("id")) or uuid.uuid4()
        row = existing.get(vid)
        old = audit.row_snapshot(row) if row else None
        if row is None:
            row = CharterVehicle(id=vid, charter_id=charter.id, status="pending")
            session.add(row)
        vehicle_type_id = as_uuid(data["vehicle_type_id"])
        cost = as_decimal(data["cost"])
        if vehicle_type_id is None or cost is None:
            raise ValueError("snapshot vehicle without type or cost")
        row.position = position
        row.vehicle_type_id = vehicle_type_id
        row.capacity = int(data["capacity"])
        row.cost = cost
        row.pickup_address = data.get("pickup_address")
        row.dropoff_address = data.get("dropoff_address")
        row.special_requirements = data.get("special_requirements")
        row.busy = busy_range(charter)
        row.holds_resources = charter.status not in ("cancelled", "completed")
        rows.append(row)
        audit.record(
            session,
            charter_id=charter.id,
            entity="charter_vehicle",
            entity_id=vid,
            action="add" if old is None else "update",
            actor=actor,
            old=old,
            new=audit.row_snapshot(row),
        )
    await flush_resources(session, rows)
