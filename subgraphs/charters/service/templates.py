"""Templates and cloning (seed 000, task 2.2).

A template is a charter row with `is_template` and a `template_name`: its
content (trip, passengers, notes, stops, vehicles by type, capacity and
cost) is what gets copied; its pickup date means nothing, only its local
time of day and zone do. Templates are never booked (see
`charters.transition`) and never listed with real charters.

A copy (clone, template, series instance) is built here and nowhere else:
- a new QUOTE with a new reference, `cloned_from_id` = the source;
- the pickup at the same local wall time on the new date, in the source's
  zone, converted with `timing.to_instant` (so 07:30 stays 07:30 across a
  DST change); `ends_at` keeps the source's duration;
- stops' planned arrival and departure keep their local wall-clock offset
  from the pickup (a stop at 09:15 local on a 07:30 trip is at 09:15 local
  on every copy);
- vehicles copied by type, capacity, cost, addresses and requirements;
  never the assigned vehicle or driver (they are not free on another day).

Decisions:
- Vendor assignments live in the vendors subgraph. With
  `keep_vendor_assignments` the copy only records the intent: each `Copy`
  carries `vehicle_map` (source charter vehicle id -> new charter vehicle
  id), returned in the mutation payload and written into the clone's
  `charter_changed` outbox event (`vehicleMap`, `keepVendorAssignments`),
  so the vendors subgraph can copy its assignments from the event or from
  the payload. This subgraph never writes vendor data.
- A clone belongs to whoever cloned it (`sales_agent_id` = the actor), as
  in the seed; managers can reassign it. A template has no agent, so any
  editor may maintain it.
- Cloning to many dates is all-or-nothing: every date is checked (not in
  the past, not blacked out for the source's vehicle types, no duplicates,
  at most 366) before anything is written, and every problem is reported
  at once, each naming its date.
- Template names are unique among templates (case-insensitively), checked
  before insert; there is no database constraint, so two concurrent saves
  of one name may both succeed (harmless: they are two templates).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import BlackoutDate, Charter, CharterVehicle, Stop
from subgraphs.charters.service import audit, events
from subgraphs.charters.service.references import next_reference
from subgraphs.charters.service.snapshots import busy_range, load_parts
from subgraphs.charters.service.timing import now, to_instant
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

MAX_CLONE_DATES = 366
#: The furthest ahead a clone may go (about three years).
MAX_DAYS_AHEAD = 3 * 366
MAX_TEMPLATE_NAME = 200


@dataclass(frozen=True)
class Source:
    """A charter or template with its parts, as copies are made from it."""

    charter: Charter
    stops: list[Stop]
    vehicles: list[CharterVehicle]

    @property
    def vehicle_type_ids(self) -> list[uuid.UUID]:
        return sorted({v.vehicle_type_id for v in self.vehicles})


@dataclass(frozen=True)
class Target:
    """Where one copy goes and what it is."""

    pickup_local: datetime
    time_zone: str
    sales_agent_id: uuid.UUID | None
    action: str
    is_template: bool = False
    template_name: str | None = None
    series_id: uuid.UUID | None = None
    occurrence_date: date | None = None
    keep_vendor_assignments: bool = False


@dataclass(frozen=True)
class Copy:
    charter: Charter
    #: Source charter vehicle id -> the copy's charter vehicle id.
    vehicle_map: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)


async def load_source(session: AsyncSession, charter_id: uuid.UUID, field: str) -> Source:
    charter = await session.scalar(select(Charter).where(Charter.id == charter_id))
    if charter is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Charter {charter_id} does not exist.", field)
    stops, vehicles = await load_parts(session, charter.id)
    return Source(charter, stops, vehicles)


def _wall(instant: datetime | None, zone_name: str) -> datetime | None:
    """The naive local wall time of an instant in a zone."""
    if instant is None:
        return None
    return instant.astimezone(ZoneInfo(zone_name)).replace(tzinfo=None)


def _shifted(
    instant: datetime | None, source: Charter, target_local: datetime, time_zone: str
) -> datetime | None:
    """`instant`, moved so it keeps its local wall-clock offset from the pickup."""
    wall = _wall(instant, source.pickup_time_zone)
    if wall is None:
        return None
    return to_instant(wall - source.pickup_local + target_local, time_zone)


async def copy_many(
    session: AsyncSession, source: Source, targets: Sequence[Target], actor: Viewer
) -> list[Copy]:
    """Write one copy of `source` per target: rows, audit and events.

    Rows are added in two flushes (charters, then their stops and vehicles)
    whatever the number of targets.
    """
    src = source.charter
    duration = (src.ends_at - src.pickup_at) if src.ends_at is not None else None
    charters: list[Charter] = []
    for target in targets:
        pickup_at = to_instant(target.pickup_local, target.time_zone)
        charter = Charter(
            id=uuid.uuid4(),
            reference=await next_reference(session, "CH", target.pickup_local.year),
            status="quote",
            client_id=src.client_id,
            sales_agent_id=target.sales_agent_id,
            created_by=actor.user_id,
            trip_type=src.trip_type,
            passenger_count=src.passenger_count,
            pickup_local=target.pickup_local,
            pickup_time_zone=target.time_zone,
            pickup_at=pickup_at,
            ends_at=pickup_at + duration if duration is not None else None,
            notes=src.notes,
            requires_second_driver=src.requires_second_driver,
            estimated_miles=src.estimated_miles,
            quote_revision=1,
            version=1,
            is_template=target.is_template,
            template_name=target.template_name,
            cloned_from_id=src.id,
            series_id=target.series_id,
            occurrence_date=target.occurrence_date,
        )
        charters.append(charter)
    session.add_all(charters)
    await session.flush()

    copies: list[Copy] = []
    for target, charter in zip(targets, charters, strict=True):
        audit.charter_updated(session, charter, target.action, actor, None)
        stops = [
            Stop(
                id=uuid.uuid4(),
                charter_id=charter.id,
                position=stop.position,
                stop_type=stop.stop_type,
                address=stop.address,
                latitude=stop.latitude,
                longitude=stop.longitude,
                planned_arrival=_shifted(
                    stop.planned_arrival, src, target.pickup_local, target.time_zone
                ),
                planned_departure=_shifted(
                    stop.planned_departure, src, target.pickup_local, target.time_zone
                ),
                notes=stop.notes,
            )
            for stop in source.stops
        ]
        vehicle_map: dict[uuid.UUID, uuid.UUID] = {}
        vehicles = []
        for vehicle in source.vehicles:
            row = CharterVehicle(
                id=uuid.uuid4(),
                charter_id=charter.id,
                position=vehicle.position,
                vehicle_type_id=vehicle.vehicle_type_id,
                capacity=vehicle.capacity,
                cost=vehicle.cost,
                vehicle_id=None,
                driver_id=None,
                pickup_address=vehicle.pickup_address,
                dropoff_address=vehicle.dropoff_address,
                special_requirements=vehicle.special_requirements,
                status="pending",
                dispatch_status="not_ready",
                busy=busy_range(charter),
                # A template holds nothing; a quote's (empty) slots are ordinary.
                holds_resources=not target.is_template,
            )
            vehicle_map[vehicle.id] = row.id
            vehicles.append(row)
        session.add_all([*stops, *vehicles])
        parts: list[tuple[str, Stop | CharterVehicle]] = [
            *(("stop", s) for s in stops),
            *(("charter_vehicle", v) for v in vehicles),
        ]
        for entity, part in parts:
            audit.record(
                session,
                charter_id=charter.id,
                entity=entity,
                entity_id=part.id,
                action="add",
                actor=actor,
                old=None,
                new=audit.row_snapshot(part),
            )
        if not target.is_template:
            extra: dict[str, object] = {"clonedFromId": str(src.id)}
            if target.series_id is not None:
                extra["seriesId"] = str(target.series_id)
            if target.keep_vendor_assignments:
                extra["keepVendorAssignments"] = True
                extra["vehicleMap"] = {str(k): str(v) for k, v in vehicle_map.items()}
            await events.charter_changed(session, charter, ["created"], **extra)
        copies.append(Copy(charter, vehicle_map))
    await session.flush()
    return copies


def _template_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_TEMPLATE_NAME:
        raise ServiceError.of(
            Code.INVALID, f"A template name of 1 to {MAX_TEMPLATE_NAME} characters.", "name"
        )
    return cleaned


async def save_as_template(
    session: AsyncSession, charter_id: uuid.UUID, name: str, actor: Viewer
) -> Charter:
    """Copy a charter into a new named template (no vehicles or drivers)."""
    cleaned = _template_name(name)
    source = await load_source(session, charter_id, "charterId")
    taken = await session.scalar(
        select(func.count())
        .select_from(Charter)
        .where(Charter.is_template.is_(True), func.lower(Charter.template_name) == cleaned.lower())
    )
    if taken:
        raise ServiceError.of(Code.CONFLICT, f"A template named {cleaned!r} exists.", "name")
    src = source.charter
    [copy] = await copy_many(
        session,
        source,
        [
            Target(
                pickup_local=src.pickup_local,
                time_zone=src.pickup_time_zone,
                sales_agent_id=None,
                action="template:create",
                is_template=True,
                template_name=cleaned,
            )
        ],
        actor,
    )
    return copy.charter


async def blacked_out_days(
    session: AsyncSession, first: date, last: date, vehicle_type_ids: Sequence[uuid.UUID]
) -> dict[date, str]:
    """Days in [first, last] blacked out globally or for one of the types, with why.

    The same scope as `fleet.blackouts_on`, for a range in one statement.
    """
    scope = or_(
        BlackoutDate.vehicle_type_id.is_(None),
        BlackoutDate.vehicle_type_id.in_(list(vehicle_type_ids)),
    )
    rows = await session.scalars(
        select(BlackoutDate)
        .where(BlackoutDate.starts_on <= last, BlackoutDate.ends_on >= first, scope)
        .order_by(BlackoutDate.starts_on)
    )
    days: dict[date, str] = {}
    for row in rows:
        day = max(row.starts_on, first)
        while day <= min(row.ends_on, last):
            days.setdefault(day, row.description or row.kind)
            day += timedelta(days=1)
    return days


def _date_problems(dates: Sequence[date]) -> list[Problem]:
    if not dates:
        return [Problem(Code.REQUIRED, "Give at least one date.", "dates")]
    if len(dates) > MAX_CLONE_DATES:
        return [
            Problem(
                Code.TOO_MANY_DATES,
                f"At most {MAX_CLONE_DATES} dates in one call ({len(dates)} given).",
                "dates",
            )
        ]
    seen: set[date] = set()
    problems = []
    for index, day in enumerate(dates):
        if day in seen:
            problems.append(
                Problem(Code.INVALID, f"{day.isoformat()} is listed twice.", f"dates.{index}")
            )
        seen.add(day)
    return problems


async def clone(
    session: AsyncSession,
    source_id: uuid.UUID,
    dates: Sequence[date],
    actor: Viewer,
    *,
    keep_vendor_assignments: bool = False,
) -> list[Copy]:
    """Copy a charter or template to each date, all or nothing."""
    problems = _date_problems(dates)
    if problems:
        raise ServiceError(problems)
    source = await load_source(session, source_id, "sourceId")
    src = source.charter
    blocked = await blacked_out_days(session, min(dates), max(dates), source.vehicle_type_ids)
    current = now()
    latest = current.date() + timedelta(days=MAX_DAYS_AHEAD)
    targets = []
    for index, day in enumerate(dates):
        pickup_local = datetime.combine(day, src.pickup_local.time())
        if day > latest:
            problems.append(
                Problem(
                    Code.OUT_OF_RANGE,
                    f"{day.isoformat()} is more than {MAX_DAYS_AHEAD} days ahead.",
                    f"dates.{index}",
                )
            )
            continue
        if day < current.date() - timedelta(days=1) or (
            to_instant(pickup_local, src.pickup_time_zone) <= current
        ):
            problems.append(
                Problem(
                    Code.IN_THE_PAST,
                    f"{day.isoformat()}: the pickup would be in the past.",
                    f"dates.{index}",
                )
            )
        elif day in blocked:
            problems.append(
                Problem(
                    Code.BLACKED_OUT,
                    f"{day.isoformat()} is blacked out ({blocked[day]}).",
                    f"dates.{index}",
                )
            )
        targets.append(
            Target(
                pickup_local=pickup_local,
                time_zone=src.pickup_time_zone,
                sales_agent_id=actor.user_id,
                action="clone:create",
                keep_vendor_assignments=keep_vendor_assignments,
            )
        )
    if problems:
        raise ServiceError(problems)
    return await copy_many(session, source, targets, actor)
