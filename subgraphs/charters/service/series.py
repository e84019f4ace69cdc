"""Recurring charters (seed 000 task 2.3, done right): RFC 5545 rules.

A series is a template, an RRULE (python-dateutil), a local start and an
IANA zone. Its instances are ordinary QUOTE charters pointing at it by
`series_id` with their `occurrence_date`; membership is by that id only,
never by comparing rule text, so two series with the same rule never merge.

Recurrence (`subgraphs/kit/recurrence.py`, shared with tours' schedules):
- The rule is parsed with DTSTART = `starts_local` as a NAIVE local time
  and each occurrence is turned into an instant with `timing.to_instant` in
  the series' zone: a 07:30 pickup stays 07:30 local across DST changes
  (its UTC offset changes). A local time that does not exist on a
  spring-forward day takes the offset before the change (zoneinfo's fold=0).
- Month ends are dateutil's (RFC) semantics: BYMONTHDAY=-1 is each month's
  last day; BYMONTHDAY=31 skips months without a 31st. No date arithmetic
  by hand, so the 29th-31st never crash.
- Accepted: FREQ DAILY, WEEKLY, MONTHLY or YEARLY with the usual BY* parts,
  INTERVAL, and COUNT or UNTIL (not both, as RFC 5545 says). Refused with
  INVALID_RRULE on `rrule`: no FREQ, FREQ finer than DAILY, BYHOUR /
  BYMINUTE / BYSECOND (one pickup per day, at `startsLocal`'s time),
  DTSTART or EXDATE lines (use `startsLocal` and `exceptionDates`), and
  month/day combinations that can never occur (BYMONTH=2;BYMONTHDAY=30).
  UNTIL may be local (floating), a date (that whole day is included) or
  UTC with `Z` (converted to the series' local time).
- Decision on open-ended rules: neither COUNT nor UNTIL is required. Each
  generation creates instances up to a horizon of HORIZON_DAYS (366) days
  from today; running generation again later extends the series, so an
  open-ended "every weekday" series is topped up rather than refused.

Generation (`generate`) is idempotent: under a lock on the series row it
reads the dates that already have an instance and inserts only the missing
ones; the unique (series_id, occurrence_date) constraint is the backstop.
It never creates instances for past days (days before today are not
considered at all; today's occurrence whose time has passed is reported as
IN_THE_PAST); exception dates and blacked-out dates (global, or for one of
the template's vehicle types) are skipped and reported.

Editing:
- One instance is a normal charter (`updateCharter`, change cases once booked).
- This-and-following (`update_instances`): applies to every QUOTE instance
  on or after `from_date` whose pickup is still ahead, in one transaction.
  Decision: booked-or-later instances are NOT changed silently and no
  change cases are opened in bulk: they are skipped and reported, to be
  changed one by one through change cases. A new pickup time also becomes
  the series' start time, so instances generated later use it;
  passengers and notes of later instances still come from the template.
- Removing one instance: a quote is deleted (its stops, vehicles, revisions
  and audit rows go with it: audit rows reference the charter) unless other
  rows point at it (clones, splits, change cases), in which case it is
  cancelled; a booked or confirmed one is cancelled; either way its date is
  added to `exception_dates` so generation never brings it back.
- Deactivating stops generation; it is a manager's act (seed 000). With
  `cancel_future`, the instances still ahead that are quoted or booked are
  cancelled with the reason "Series <name> deactivated"; confirmed ones are
  left for a person to cancel one by one (vendors and drivers are committed).

Ownership: a series belongs to whoever created it. Generating it, changing
this-and-following and removing instances are its owner's, or staff's who
edit any charter (`access.ensure_owner_or_edit_any`).

Series-level changes (create, deactivate, pickup time, removed instance)
are audited on the series' template charter (`entity="charter_series"`),
since the audit log hangs off charters.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from dateutil.rrule import rrule
from sqlalchemy import delete, exists, or_, select

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import (
    AuditEntry,
    ChangeCase,
    Charter,
    CharterSeries,
    CharterVehicle,
    QuoteRevision,
    Stop,
)
from subgraphs.charters.service import audit, events
from subgraphs.charters.service import charters as charter_service
from subgraphs.charters.service.access import (
    SERIES_DEACTIVATORS,
    ensure_can_edit,
    ensure_owner_or_edit_any,
    ensure_role,
)
from subgraphs.charters.service.change_cases import ApprovalPolicy, ChangeRequest
from subgraphs.charters.service.snapshots import Snapshot, as_datetime
from subgraphs.charters.service.templates import (
    Target,
    blacked_out_days,
    copy_many,
    load_source,
)
from subgraphs.charters.service.timing import now, to_instant, zone
from subgraphs.kit import recurrence
from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.kit.recurrence import Skipped, occurrences

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

#: How far ahead one generation goes (days from today, in the series' zone).
HORIZON_DAYS = 366
MAX_NAME = 200
MAX_EXCEPTIONS = 1000

# Skip reasons, reported by generation.
EXCEPTION_DATE = "exception_date"
BLACKED_OUT = "blacked_out"
IN_THE_PAST = "in_the_past"
# Why this-and-following left an instance alone.
NOT_A_QUOTE = "not_a_quote"


def parse_rule(text: str, starts_local: datetime, time_zone: str) -> rrule:
    """Parse an RRULE with DTSTART = the naive local start; INVALID_RRULE on `rrule`."""
    return recurrence.parse_rule(
        text,
        starts_local,
        time_zone,
        code=Code.INVALID_RRULE,
        field="rrule",
        zone_code=Code.INVALID_TIME_ZONE,
        zone_field="timeZone",
    )


def occurrence_instant(local: datetime, time_zone: str) -> datetime:
    return to_instant(local, time_zone, "timeZone")


# --- reading ----------------------------------------------------------------------------


async def get_series(
    session: AsyncSession, series_id: uuid.UUID, *, lock: bool = False, field: str = "id"
) -> CharterSeries:
    stmt = select(CharterSeries).where(CharterSeries.id == series_id)
    if lock:
        stmt = stmt.with_for_update()
    series = await session.scalar(stmt)
    if series is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Series {series_id} does not exist.", field)
    return series


def _audit_series(
    session: AsyncSession,
    series: CharterSeries,
    action: str,
    actor: Viewer,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
) -> None:
    audit.record(
        session,
        charter_id=series.template_id,
        entity="charter_series",
        entity_id=series.id,
        action=action,
        actor=actor,
        old=old,
        new=new,
    )


# --- create -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewSeries:
    name: str
    template_id: uuid.UUID
    rrule: str
    starts_local: datetime
    time_zone: str
    exception_dates: list[date]
    description: str | None = None


async def create(session: AsyncSession, data: NewSeries, actor: Viewer) -> CharterSeries:
    """Validate everything first (every problem at once); write only when valid."""
    problems: list[Problem] = []
    name = " ".join(data.name.split())
    if not name or len(name) > MAX_NAME:
        problems.append(Problem(Code.INVALID, f"A name of 1 to {MAX_NAME} characters.", "name"))
    if data.description is not None and len(data.description) > 5000:
        problems.append(
            Problem(Code.TOO_LONG, "Description is longer than 5000 characters.", "description")
        )
    if len(data.exception_dates) > MAX_EXCEPTIONS:
        problems.append(
            Problem(Code.OUT_OF_RANGE, f"At most {MAX_EXCEPTIONS} dates.", "exceptionDates")
        )
    zone_ok = True
    try:
        zone(data.time_zone, "timeZone")
    except ServiceError as exc:
        zone_ok = False
        problems.extend(exc.problems)
    if zone_ok:
        try:
            parse_rule(data.rrule, data.starts_local, data.time_zone)
        except ServiceError as exc:
            problems.extend(exc.problems)
    template = await session.scalar(select(Charter).where(Charter.id == data.template_id))
    if template is None:
        problems.append(Problem(Code.NOT_FOUND, "Unknown template.", "templateId"))
    elif not template.is_template:
        problems.append(
            Problem(
                Code.NOT_A_TEMPLATE,
                f"{template.reference} is not a template; save it as one first.",
                "templateId",
            )
        )
    if problems:
        raise ServiceError(problems)
    if template is None:  # for the type checker: a missing template is a problem above
        raise ServiceError.of(Code.NOT_FOUND, "Unknown template.", "templateId")
    series = CharterSeries(
        id=uuid.uuid4(),
        name=name,
        client_id=template.client_id,
        template_id=template.id,
        rrule=data.rrule.strip(),
        starts_local=data.starts_local,
        time_zone=data.time_zone,
        exception_dates=sorted(set(data.exception_dates)),
        active=True,
        created_by=actor.user_id,
        description=data.description,
    )
    session.add(series)
    await session.flush()
    _audit_series(session, series, "series:create", actor, None, audit.row_snapshot(series))
    return series


# --- generate ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    series: CharterSeries
    created: list[Charter]
    skipped: list[Skipped]


async def generate(session: AsyncSession, series_id: uuid.UUID, actor: Viewer) -> Generated:
    """Create the missing instances up to the horizon; idempotent."""
    series = await get_series(session, series_id, lock=True)
    ensure_owner_or_edit_any(actor, series.created_by, f"series {series.name!r}")
    if not series.active:
        raise ServiceError.of(
            Code.INVALID_TRANSITION, f"Series {series.name!r} is deactivated.", "id"
        )
    rule = parse_rule(series.rrule, series.starts_local, series.time_zone)
    current = now()
    today = current.astimezone(zone(series.time_zone, "timeZone")).date()
    start = max(series.starts_local, datetime.combine(today, time.min))
    end = datetime.combine(today + timedelta(days=HORIZON_DAYS), time.max)
    local_times = occurrences(rule, start, end)
    if not local_times:
        return Generated(series, [], [])

    existing = set(
        await session.scalars(select(Charter.occurrence_date).where(Charter.series_id == series.id))
    )
    source = await load_source(session, series.template_id, "id")
    blocked = await blacked_out_days(
        session, local_times[0].date(), local_times[-1].date(), source.vehicle_type_ids
    )
    exceptions = set(series.exception_dates or ())
    agent = series.created_by or actor.user_id
    targets: list[Target] = []
    skipped: list[Skipped] = []
    for local in local_times:
        day = local.date()
        if day in existing:
            continue
        if day in exceptions:
            skipped.append(Skipped(day, EXCEPTION_DATE, f"{day.isoformat()} is an exception."))
        elif occurrence_instant(local, series.time_zone) <= current:
            skipped.append(
                Skipped(day, IN_THE_PAST, f"{day.isoformat()}: the pickup time has passed.")
            )
        elif day in blocked:
            skipped.append(
                Skipped(day, BLACKED_OUT, f"{day.isoformat()} is blacked out ({blocked[day]}).")
            )
        else:
            targets.append(
                Target(
                    pickup_local=local,
                    time_zone=series.time_zone,
                    sales_agent_id=agent,
                    action="series:generate",
                    series_id=series.id,
                    occurrence_date=day,
                )
            )
    copies = await copy_many(session, source, targets, actor) if targets else []
    return Generated(series, [c.charter for c in copies], skipped)


# --- this and following -----------------------------------------------------------------


@dataclass(frozen=True)
class InstanceChanges:
    pickup_time: time | None = None
    passenger_count: int | None = None
    notes: str | None = None

    @property
    def empty(self) -> bool:
        return self.pickup_time is None and self.passenger_count is None and self.notes is None


@dataclass(frozen=True)
class Left:
    charter: Charter
    reason: str
    message: str


@dataclass(frozen=True)
class InstancesUpdated:
    series: CharterSeries
    updated: list[Charter]
    skipped: list[Left]


def _retimed(value: Any, time_zone: str, delta: timedelta) -> str | None:
    """An instant moved by `delta` of local wall time in `time_zone`."""
    instant = as_datetime(value)
    if instant is None:
        return None
    wall = instant.astimezone(zone(time_zone)).replace(tzinfo=None) + delta
    return to_instant(wall, time_zone).isoformat()


def instance_change(changes: InstanceChanges) -> Callable[[Snapshot], Snapshot]:
    """The snapshot edit for one instance; stops and end move with the pickup."""

    def apply(snap: Snapshot) -> Snapshot:
        out: Snapshot = {**snap, "stops": [dict(s) for s in snap["stops"]]}
        if changes.pickup_time is not None:
            tz = snap["pickup_time_zone"]
            old_local = as_datetime(snap["pickup_local"])
            if old_local is None:
                raise ValueError("snapshot without pickup_local")
            new_local = datetime.combine(old_local.date(), changes.pickup_time)
            delta = new_local - old_local
            out["pickup_local"] = new_local.isoformat()
            ends_at = as_datetime(snap.get("ends_at"))
            if ends_at is not None:
                moved = to_instant(new_local, tz) - to_instant(old_local, tz)
                out["ends_at"] = (ends_at + moved).isoformat()
            for stop in out["stops"]:
                stop["planned_arrival"] = _retimed(stop.get("planned_arrival"), tz, delta)
                stop["planned_departure"] = _retimed(stop.get("planned_departure"), tz, delta)
        if changes.passenger_count is not None:
            out["passenger_count"] = changes.passenger_count
        if changes.notes is not None:
            out["notes"] = changes.notes or None
        return out

    return apply


async def update_instances(
    session: AsyncSession,
    series_id: uuid.UUID,
    from_date: date,
    changes: InstanceChanges,
    actor: Viewer,
) -> InstancesUpdated:
    """Change every quote instance on or after `from_date`; report the rest."""
    if changes.empty:
        raise ServiceError.of(
            Code.REQUIRED, "Give a pickup time, passenger count or notes.", "input"
        )
    series = await get_series(session, series_id, lock=True, field="seriesId")
    ensure_owner_or_edit_any(actor, series.created_by, f"series {series.name!r}")
    rows = list(
        await session.scalars(
            select(Charter)
            .where(
                Charter.series_id == series.id,
                Charter.occurrence_date >= from_date,
                # Departed instances are history: never changed, not reported either.
                Charter.pickup_at > now(),
            )
            .order_by(Charter.occurrence_date)
            .with_for_update()
        )
    )
    current = now()
    updated: list[Charter] = []
    skipped: list[Left] = []
    change = instance_change(changes)
    request = ChangeRequest(change_type="other", title=f"Series {series.name}: this and following")
    for row in rows:
        if row.status != "quote":
            skipped.append(
                Left(
                    row,
                    NOT_A_QUOTE,
                    f"{row.reference} is {row.status}: change it alone, through a change case.",
                )
            )
            continue
        if row.pickup_at <= current:
            skipped.append(Left(row, IN_THE_PAST, f"{row.reference} has already departed."))
            continue
        result = await charter_service.edit(
            session, row.id, change, actor, request=request, policy=ApprovalPolicy()
        )
        updated.append(result.charter)
    if changes.pickup_time is not None and series.starts_local.time() != changes.pickup_time:
        old = audit.row_snapshot(series)
        series.starts_local = datetime.combine(series.starts_local.date(), changes.pickup_time)
        _audit_series(session, series, "series:pickup_time", actor, old, audit.row_snapshot(series))
    await session.flush()
    return InstancesUpdated(series, updated, skipped)


# --- remove one, deactivate -------------------------------------------------------------


@dataclass(frozen=True)
class Removed:
    series: CharterSeries
    #: The cancelled instance; None when it was deleted.
    charter: Charter | None
    deleted: bool


async def _referenced(session: AsyncSession, charter_id: uuid.UUID) -> bool:
    """Whether other rows point at this charter, so that it cannot simply be deleted."""
    pointed = select(Charter.id).where(
        or_(Charter.cloned_from_id == charter_id, Charter.split_from_id == charter_id)
    )
    cases = select(ChangeCase.id).where(ChangeCase.charter_id == charter_id)
    template_of = select(CharterSeries.id).where(CharterSeries.template_id == charter_id)
    return bool(await session.scalar(select(exists(pointed) | exists(cases) | exists(template_of))))


async def _delete_quote(session: AsyncSession, charter: Charter) -> None:
    await events.charter_changed(session, charter, ["deleted"], seriesId=str(charter.series_id))
    for model in (AuditEntry, QuoteRevision, Stop, CharterVehicle):
        await session.execute(delete(model).where(model.charter_id == charter.id))
    await session.delete(charter)
    await session.flush()


async def remove_instance(session: AsyncSession, charter_id: uuid.UUID, actor: Viewer) -> Removed:
    probe = await charter_service.get(session, charter_id)
    if probe.series_id is None or probe.occurrence_date is None:
        raise ServiceError.of(
            Code.INVALID, f"{probe.reference} is not part of a series.", "charterId"
        )
    # The same lock order as generation and this-and-following: series, then charters.
    series = await get_series(session, probe.series_id, lock=True, field="charterId")
    charter = await session.scalar(
        select(Charter)
        .where(Charter.id == charter_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if charter is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Charter {charter_id} does not exist.", "charterId")
    ensure_can_edit(actor, charter)
    day = charter.occurrence_date or probe.occurrence_date
    if day is None:  # the probe above had one; a series instance keeps it
        raise ServiceError.of(Code.INVALID, "Not part of a series.", "charterId")
    removed = {"reference": charter.reference, "occurrence_date": day.isoformat()}
    deleted = False
    if charter.status == "quote" and not await _referenced(session, charter.id):
        await _delete_quote(session, charter)
        deleted = True
    elif charter.status in ("quote", "booked", "confirmed"):
        charter = await charter_service.cancel(
            session,
            charter.id,
            reason=f"Removed from series {series.name}.",
            fee=None,
            actor=actor,
        )
    elif charter.status != "cancelled":
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            f"{charter.reference} is {charter.status}; it can no longer be removed.",
            "charterId",
        )
    old = audit.row_snapshot(series)
    # Past exception dates no longer matter (generation never looks back): dropping
    # them keeps the list within MAX_EXCEPTIONS for the life of the series.
    today = now().astimezone(zone(series.time_zone, "timeZone")).date()
    kept = {d for d in (series.exception_dates or []) if d >= today} | {day}
    if len(kept) > MAX_EXCEPTIONS:
        raise ServiceError.of(
            Code.OUT_OF_RANGE,
            f"A series has at most {MAX_EXCEPTIONS} exception dates.",
            "charterId",
        )
    series.exception_dates = sorted(kept)
    _audit_series(
        session,
        series,
        "series:remove_instance",
        actor,
        old,
        {**audit.row_snapshot(series), "removed": removed, "deleted": deleted},
    )
    await session.flush()
    return Removed(series, None if deleted else charter, deleted)


#: Instance statuses a deactivation may cancel: not yet confirmed to vendors and drivers.
CANCELLED_ON_DEACTIVATION = ("quote", "booked")


@dataclass(frozen=True)
class Deactivated:
    series: CharterSeries
    cancelled: list[Charter]


async def deactivate(
    session: AsyncSession, series_id: uuid.UUID, actor: Viewer, *, cancel_future: bool = False
) -> Deactivated:
    """Stop generation (a manager's act); optionally cancel future quoted and booked instances."""
    ensure_role(actor, SERIES_DEACTIVATORS, "deactivate a series")
    series = await get_series(session, series_id, lock=True)
    if series.active:
        old = audit.row_snapshot(series)
        series.active = False
        _audit_series(session, series, "series:deactivate", actor, old, audit.row_snapshot(series))
        await session.flush()
    cancelled: list[Charter] = []
    if cancel_future:
        future = await session.scalars(
            select(Charter.id)
            .where(
                Charter.series_id == series.id,
                Charter.status.in_(CANCELLED_ON_DEACTIVATION),
                Charter.pickup_at > now(),
            )
            .order_by(Charter.occurrence_date)
        )
        for charter_id in list(future):
            cancelled.append(
                await charter_service.cancel(
                    session,
                    charter_id,
                    reason=f"Series {series.name} deactivated",
                    fee=None,
                    actor=actor,
                )
            )
    return Deactivated(series, cancelled)
