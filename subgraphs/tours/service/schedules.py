"""Schedules and the departures they generate (issue 15 §1).

A schedule is a recurrence (`service/recurrence.py`: every kind is an RFC
5545 rule), a local start time in an IANA zone, a duration, capacities,
a validity window and an optional price. Editing a schedule changes the
departures generated afterwards only: departures already generated may be
sold, and are changed one by one (`updateDepartureSlot`, `cancelDepartureSlot`).

Generation (`generate_departures`) is idempotent: under the schedule's row
lock it passes over days that already have one of its departures (whatever
their time: a start-time edit does not double a day) and inserts the rest
with `ON CONFLICT DO NOTHING` on the unique (schedule, date, local start),
so running it twice (or twice at once) creates nothing new. It skips, and reports, blacked-out days (global or the
tour's) and days that have begun: a departure whose start is not after now.
At most 366 days per call.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.kit.recurrence import Skipped
from subgraphs.tours.error_codes import ToursErrorCode as Code
from subgraphs.tours.models import RECURRENCES, DepartureSlot, Schedule, Tour
from subgraphs.tours.service import audit, blackouts, recurrence
from subgraphs.tours.service.changes import SYSTEM
from subgraphs.tours.service.slots import range_problems
from subgraphs.tours.service.tours import MAX_DURATION, get_tour, money_problems, zone_problems

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.tours.service.changes import Actor

MAX_NAME = 200
MAX_CAPACITY = 1000
MAX_GENERATE_DAYS = 366
_SLOT = cast("Table", DepartureSlot.__table__)

# Why generation passed a day over, as `skipped { reason }` says.
BLACKED_OUT = "BLACKED_OUT"
IN_THE_PAST = "IN_THE_PAST"


def parse_local_time(text: str, field: str = "startTime") -> time:
    """'HH:MM' (24-hour) local wall time."""
    try:
        hours, minutes = text.strip().split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError(text)
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise ServiceError.of(Code.INVALID, "A local time as HH:MM, e.g. 09:30.", field) from exc


@dataclass(frozen=True)
class ScheduleData:
    """A new schedule, or an edit (None leaves a field as it is; the tour is fixed)."""

    name: str | None = None
    start_time: time | None = None
    time_zone: str | None = None
    duration_minutes: int | None = None
    recurrence: str | None = None
    weekdays: list[int] | None = None
    rrule: str | None = None
    max_capacity: int | None = None
    min_capacity: int | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    price_override: Decimal | None = None
    active: bool | None = None


def _problems(data: ScheduleData) -> list[Problem]:
    """`data` is complete here: a new schedule with the tour's defaults, or an edit merged."""
    problems: list[Problem] = []
    if not data.name or len(data.name) > MAX_NAME:
        problems.append(Problem(Code.INVALID, f"A name of 1 to {MAX_NAME} characters.", "name"))
    if data.start_time is None:
        problems.append(Problem(Code.REQUIRED, "A local start time, HH:MM.", "startTime"))
    zone_bad = zone_problems(data.time_zone or "")
    problems += zone_bad
    if data.duration_minutes is None or not 1 <= data.duration_minutes <= MAX_DURATION:
        problems.append(
            Problem(Code.OUT_OF_RANGE, f"From 1 to {MAX_DURATION} minutes.", "durationMinutes")
        )
    kind = data.recurrence or ""
    if kind not in RECURRENCES:
        problems.append(Problem(Code.INVALID, f"One of {', '.join(RECURRENCES)}.", "recurrence"))
    weekdays = data.weekdays or []
    if any(not 1 <= d <= 7 for d in weekdays):
        problems.append(
            Problem(Code.OUT_OF_RANGE, "ISO weekdays: 1 (Monday) to 7 (Sunday).", "weekdays")
        )
    elif kind in recurrence.NEEDS_WEEKDAYS and not weekdays:
        problems.append(
            Problem(Code.REQUIRED, f"A {kind} schedule runs on at least one weekday.", "weekdays")
        )
    if kind == "custom" and not (data.rrule or "").strip():
        problems.append(
            Problem(Code.INVALID_RRULE, "A custom schedule needs its RFC 5545 rule.", "rrule")
        )
    if kind != "custom" and data.rrule:
        problems.append(Problem(Code.INVALID, "Only a CUSTOM schedule has its own rule.", "rrule"))
    high, low = data.max_capacity, data.min_capacity
    if high is None or not 1 <= high <= MAX_CAPACITY:
        problems.append(
            Problem(Code.OUT_OF_RANGE, f"From 1 to {MAX_CAPACITY} seats.", "maxCapacity")
        )
    elif low is None or not 0 <= low <= high:
        problems.append(
            Problem(
                Code.OUT_OF_RANGE,
                f"From 0 to the maximum capacity ({high}) seats.",
                "minCapacity",
            )
        )
    if data.valid_from is None:
        problems.append(Problem(Code.REQUIRED, "The first day it runs.", "validFrom"))
    elif data.valid_until is not None and data.valid_until < data.valid_from:
        problems.append(
            Problem(Code.OUT_OF_RANGE, "The schedule ends before it starts.", "validUntil")
        )
    problems += money_problems(data.price_override, "priceOverride")
    if not problems and data.start_time is not None and data.valid_from is not None:
        try:
            recurrence.parse(
                kind, weekdays, data.valid_from, data.start_time, data.time_zone or "", data.rrule
            )
        except ServiceError as exc:
            problems += exc.problems
    return problems


def _tidy(data: ScheduleData) -> ScheduleData:
    return replace(
        data,
        name=" ".join(data.name.split()) if data.name is not None else None,
        time_zone=data.time_zone.strip() if data.time_zone is not None else None,
        recurrence=data.recurrence.lower() if data.recurrence is not None else None,
        weekdays=sorted(set(data.weekdays)) if data.weekdays is not None else None,
        rrule=data.rrule.strip() or None if data.rrule is not None else None,
    )


async def get_schedule(
    session: AsyncSession, schedule_id: uuid.UUID, *, lock: bool = False, field: str = "id"
) -> Schedule:
    stmt = select(Schedule).where(Schedule.id == schedule_id)
    if lock:
        stmt = stmt.with_for_update()
    schedule = await session.scalar(stmt)
    if schedule is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such schedule.", field)
    return schedule


async def create_schedule(
    session: AsyncSession, tour_id: uuid.UUID, data: ScheduleData, actor: Actor
) -> Schedule:
    tour = await get_tour(session, tour_id, field="tourId")
    full = _tidy(
        replace(
            data,
            time_zone=data.time_zone or tour.time_zone,
            duration_minutes=(
                tour.duration_minutes if data.duration_minutes is None else data.duration_minutes
            ),
            weekdays=data.weekdays or [],
            min_capacity=0 if data.min_capacity is None else data.min_capacity,
            active=True if data.active is None else data.active,
        )
    )
    problems = _problems(full)
    if problems:
        raise ServiceError(problems)
    schedule = Schedule(
        id=uuid.uuid4(),
        tour_id=tour.id,
        created_by=actor.user_id,
        **{f.name: getattr(full, f.name) for f in fields(full)},
    )
    session.add(schedule)
    await session.flush()
    audit.record(
        session,
        entity=audit.SCHEDULE,
        entity_id=schedule.id,
        tour_id=schedule.tour_id,
        action="create",
        actor=actor.viewer,
        before=None,
        after=audit.snapshot(schedule),
    )
    return schedule


async def update_schedule(
    session: AsyncSession,
    schedule_id: uuid.UUID,
    data: ScheduleData,
    *,
    clear: set[str],
    actor: Actor = SYSTEM,
) -> Schedule:
    """Apply an edit; `clear` names the optional fields set to null (validUntil, priceOverride)."""
    schedule = await get_schedule(session, schedule_id, lock=True)
    before = audit.snapshot(schedule)
    edit = _tidy(data)
    values: dict[str, Any] = {}
    for f in fields(edit):
        given = getattr(edit, f.name)
        values[f.name] = (
            None if f.name in clear else (getattr(schedule, f.name) if given is None else given)
        )
    if values["recurrence"] != "custom" and edit.recurrence is not None and edit.rrule is None:
        values["rrule"] = None  # a schedule that stops being custom drops its rule
    if values["recurrence"] not in recurrence.NEEDS_WEEKDAYS and edit.weekdays is None:
        values["weekdays"] = []
    merged = ScheduleData(**values)
    problems = _problems(merged)
    if problems:
        raise ServiceError(problems)
    for name, value in values.items():
        setattr(schedule, name, value)
    await session.flush()
    await session.refresh(schedule)  # numbers as stored: 70 and 70.00 are no change
    audit.record(
        session,
        entity=audit.SCHEDULE,
        entity_id=schedule.id,
        tour_id=schedule.tour_id,
        action="update",
        actor=actor.viewer,
        before=before,
        after=audit.snapshot(schedule),
    )
    return schedule


# --- generation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    created: list[DepartureSlot]
    skipped: list[Skipped]


async def generate_departures(
    session: AsyncSession,
    schedule_id: uuid.UUID,
    start: date,
    end: date,
    now: datetime,
    *,
    actor: Actor = SYSTEM,
) -> Generated:
    """Insert the schedule's missing departures on days in [start, end]; idempotent.

    Audited as one row per call that creates any (the range asked and the
    count created): a departure per row would bury the trail under a year's
    generation. A call that creates nothing changed nothing and leaves no row.
    """
    problems = range_problems(start, end, MAX_GENERATE_DAYS)
    if problems:
        raise ServiceError(problems)
    schedule = await get_schedule(session, schedule_id, lock=True, field="scheduleId")
    if not schedule.active:
        raise ServiceError.of(
            Code.INVALID, "This schedule is inactive; activate it first.", "scheduleId"
        )
    tour = await session.get(Tour, schedule.tour_id)
    if tour is None:  # pragma: no cover - a foreign key
        raise ServiceError.of(Code.NOT_FOUND, "No such tour.", "scheduleId")
    rule = recurrence.parse(
        schedule.recurrence,
        list(schedule.weekdays or []),
        schedule.valid_from,
        schedule.start_time,
        schedule.time_zone,
        schedule.rrule,
    )
    locals_ = recurrence.local_starts(rule, schedule.valid_until, start, end)
    if not locals_:
        return Generated([], [])
    closed = await blackouts.blacked_out_days(
        session, tour.id, locals_[0].date(), locals_[-1].date()
    )
    # one departure per schedule and day: a day generated before a start-time edit keeps its own
    existing = set(
        await session.scalars(
            select(DepartureSlot.date).where(
                DepartureSlot.schedule_id == schedule.id,
                DepartureSlot.date >= locals_[0].date(),
                DepartureSlot.date <= locals_[-1].date(),
            )
        )
    )
    price = schedule.price_override if schedule.price_override is not None else tour.base_price
    skipped: list[Skipped] = []
    rows: list[dict[str, Any]] = []
    for local in locals_:
        day = local.date()
        if day in existing:
            continue
        if day in closed:
            skipped.append(Skipped(day, BLACKED_OUT, f"{day.isoformat()}: {closed[day]}."))
            continue
        starts_at = recurrence.instant(local, schedule.time_zone)
        if starts_at <= now:
            skipped.append(Skipped(day, IN_THE_PAST, f"{day.isoformat()} has begun."))
            continue
        ends_at = recurrence.end_of(starts_at, schedule.duration_minutes)
        rows.append(
            {
                "id": uuid.uuid4(),
                "tour_id": tour.id,
                "schedule_id": schedule.id,
                "date": day,
                "local_start": local.time(),
                "local_end": ends_at.astimezone(recurrence.zone_of(schedule.time_zone)).time(),
                "time_zone": schedule.time_zone,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "max_capacity": schedule.max_capacity,
                "min_capacity": schedule.min_capacity,
                "seats_booked": 0,
                "seats_held": 0,
                "price_per_person": price,
                "available": True,
                "created_at": now,
                "updated_at": now,
            }
        )
    if not rows:
        return Generated([], skipped)
    ids = list(
        await session.scalars(
            insert(_SLOT)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["schedule_id", "date", "local_start"])
            .returning(_SLOT.c.id)
        )
    )
    created = list(
        await session.scalars(
            select(DepartureSlot)
            .where(DepartureSlot.id.in_(ids))
            .order_by(DepartureSlot.starts_at, DepartureSlot.id)
        )
    )
    if created:
        audit.record(
            session,
            entity=audit.SCHEDULE,
            entity_id=schedule.id,
            tour_id=tour.id,
            action="generate",
            actor=actor.viewer,
            before=None,
            after={
                "from": start.isoformat(),
                "to": end.isoformat(),
                "created": len(created),
                "skipped": len(skipped),
            },
        )
    return Generated(created, skipped)
