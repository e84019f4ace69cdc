"""Report schedules: when a template is run and mailed, to whom, in what format (issue 16 §3).

A schedule fires daily at a local time, weekly on an ISO weekday, monthly on
a day (a month without that day fires on its last day), or on a cron
expression, always in the schedule's own IANA zone. Every kind is one
croniter expression stepped in NAIVE local wall time and each wall time is
then placed in the zone (`kit/recurrence.to_instant`): an 08:00 mail stays
08:00 across DST, a wall time skipped by spring-forward fires an hour
later, and the repeated hour of fall-back fires once (croniter over an
aware datetime fires it twice).

The schedule runs with its owner's token (next session's job), so a report
mails what its owner may see: the owner is whoever created it, or whoever
enabled it last. That is why only the owner edits a schedule, and why
enabling one makes the enabler its owner; managers and admins may disable
any schedule of a shared template (stopping a mail leaks nothing).
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterError, croniter
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.kit.recurrence import to_instant, zone
from subgraphs.reports.error_codes import ReportsErrorCode as Code
from subgraphs.reports.models import FORMATS, FREQUENCIES, ReportSchedule, ReportTemplate
from subgraphs.reports.service import access, audit, operations, variables
from subgraphs.reports.service.run_tokens import (
    DelegationRefused,
    Delegations,
    IdentityUnavailable,
    purpose_of,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.kit.context import Services

MAX_NAME = 200
MAX_RECIPIENTS = 50
MAX_CRON = 100
#: A cron expression that fires nowhere in this many years never fires (Feb 30th).
CRON_HORIZON_YEARS = 5


@dataclass(frozen=True)
class ScheduleData:
    """A new schedule, or an edit: None leaves a field as it is."""

    name: str | None = None
    frequency: str | None = None
    at_time: time | None = None
    weekday: int | None = None
    month_day: int | None = None
    cron: str | None = None
    time_zone: str | None = None
    recipients: list[str] | None = None
    format: str | None = None
    parameters: dict[str, Any] | None = None


# --- when it fires --------------------------------------------------------------------------


def _expression(frequency: str, at: time, weekday: int | None, month_day: int | None) -> str:
    """The croniter expression of a daily, weekly or monthly schedule.

    Monthly on the 29th-31st asks for every day from the 28th on and keeps the one
    that is the day or, in a shorter month, the last day (`_fires_on`).
    """
    if frequency == "daily":
        return f"{at.minute} {at.hour} * * *"
    if frequency == "weekly":
        return f"{at.minute} {at.hour} * * {(weekday or 1) % 7}"
    day = month_day or 1
    return f"{at.minute} {at.hour} {day if day <= 28 else '28-31'} * *"


def _fires_on(local: datetime, month_day: int | None) -> bool:
    if month_day is None or month_day <= 28:
        return True
    last = calendar.monthrange(local.year, local.month)[1]
    return local.day == min(month_day, last)


def next_fire(
    *,
    frequency: str,
    time_zone: str,
    after: datetime,
    at_time: time | None = None,
    weekday: int | None = None,
    month_day: int | None = None,
    cron: str | None = None,
) -> datetime:
    """The first fire time strictly after `after` (UTC), or INVALID_CRON on `cron`."""
    tz = zone(time_zone)
    if frequency == "cron":
        expression = (cron or "").strip()
    else:
        expression = _expression(frequency, at_time or time(0, 0), weekday, month_day)
    bad = ServiceError.of(
        Code.INVALID_CRON,
        f"{expression!r} is not a cron expression that fires within {CRON_HORIZON_YEARS} "
        "years (five fields: minute hour day-of-month month day-of-week).",
        "cron",
    )
    if not expression.startswith("@") and len(expression.split()) != 5:
        raise bad
    local_after = after.astimezone(tz).replace(tzinfo=None)
    try:
        steps = croniter(expression, local_after, max_years_between_matches=CRON_HORIZON_YEARS)
        # Bounded: at most a month of candidates for a long month's day, plus the
        # fall-back hour's repeat; a fire time never goes backwards.
        for _ in range(64):
            local = steps.get_next(datetime)
            if not _fires_on(local, month_day if frequency == "monthly" else None):
                continue
            instant = to_instant(local, time_zone)
            if instant > after:
                return instant
    except (CroniterBadCronError, CroniterBadDateError, CroniterError, ValueError, KeyError) as exc:
        raise bad from exc
    raise bad


# --- validation -----------------------------------------------------------------------------


def _recipients(values: Sequence[str]) -> tuple[list[str], list[Problem]]:
    """Normalised addresses (duplicates dropped, order kept) and what is wrong."""
    seen: dict[str, str] = {}
    problems: list[Problem] = []
    for value in values:
        try:
            checked = validate_email(value.strip(), check_deliverability=False)
        except EmailNotValidError as exc:
            problems.append(Problem(Code.INVALID, f"{value!r}: {exc}", "recipients"))
            continue
        seen.setdefault(checked.normalized.lower(), checked.normalized)
    if not values:
        problems.append(Problem(Code.REQUIRED, "At least one recipient e-mail.", "recipients"))
    elif len(seen) > MAX_RECIPIENTS:
        problems.append(
            Problem(Code.INVALID, f"At most {MAX_RECIPIENTS} recipients.", "recipients")
        )
    return list(seen.values()), problems


def _parameter_problems(template: ReportTemplate, parameters: dict[str, Any]) -> list[Problem]:
    """Parameters name the operation's declared variables; relative dates resolve at run time."""
    declared = operations.declared_variables(template.operation)
    return variables.value_problems(parameters, declared, "parameters")


def _problems(data: ScheduleData, template: ReportTemplate) -> tuple[ScheduleData, list[Problem]]:
    """`data` is complete here (a new schedule, or an edit merged over its row)."""
    problems: list[Problem] = []
    if not data.name or len(data.name) > MAX_NAME:
        problems.append(Problem(Code.INVALID, f"A name of 1 to {MAX_NAME} characters.", "name"))
    frequency = data.frequency or ""
    if frequency not in FREQUENCIES:
        problems.append(Problem(Code.INVALID, f"One of {', '.join(FREQUENCIES)}.", "frequency"))
    if frequency in ("daily", "weekly", "monthly") and data.at_time is None:
        problems.append(Problem(Code.REQUIRED, "The local time it runs, HH:MM.", "atTime"))
    if frequency == "weekly" and not 1 <= (data.weekday or 0) <= 7:
        problems.append(
            Problem(Code.INVALID, "An ISO weekday: 1 (Monday) to 7 (Sunday).", "weekday")
        )
    if frequency == "monthly" and not 1 <= (data.month_day or 0) <= 31:
        problems.append(
            Problem(
                Code.INVALID,
                "A day of the month, 1 to 31 (short months: their last day).",
                "monthDay",
            )
        )
    if frequency == "cron" and not (data.cron or "").strip():
        problems.append(Problem(Code.INVALID_CRON, "A cron expression.", "cron"))
    elif len(data.cron or "") > MAX_CRON:
        problems.append(Problem(Code.INVALID_CRON, f"At most {MAX_CRON} characters.", "cron"))
    try:
        zone(data.time_zone or "")
    except ServiceError as exc:
        problems += [replace(p, code=Code.INVALID) for p in exc.problems]
    if (data.format or "") not in FORMATS:
        problems.append(Problem(Code.INVALID, f"One of {', '.join(FORMATS)}.", "format"))
    recipients, bad_recipients = _recipients(data.recipients or [])
    problems += bad_recipients
    problems += _parameter_problems(template, data.parameters or {})
    return replace(data, recipients=recipients), problems


def _tidy(data: ScheduleData) -> ScheduleData:
    """Fields that do not belong to the frequency are cleared, so a row says one thing."""
    frequency = (data.frequency or "").lower()
    return replace(
        data,
        name=" ".join(data.name.split()) if data.name is not None else None,
        frequency=frequency,
        format=(data.format or "").lower(),
        time_zone=(data.time_zone or "").strip(),
        cron=" ".join(data.cron.split()) if frequency == "cron" and data.cron else None,
        at_time=data.at_time if frequency != "cron" else None,
        weekday=data.weekday if frequency == "weekly" else None,
        month_day=data.month_day if frequency == "monthly" else None,
    )


def _checked(
    data: ScheduleData, template: ReportTemplate, now: datetime
) -> tuple[ScheduleData, datetime]:
    """The tidy, valid data and its next fire time after `now`, or every problem at once."""
    tidy = _tidy(data)
    tidy, problems = _problems(tidy, template)
    if problems:
        raise ServiceError(problems)
    fire = next_fire(
        frequency=tidy.frequency or "",
        time_zone=tidy.time_zone or "",
        after=now,
        at_time=tidy.at_time,
        weekday=tidy.weekday,
        month_day=tidy.month_day,
        cron=tidy.cron,
    )
    return tidy, fire


# --- who may ---------------------------------------------------------------------------------


def may_schedule(viewer: Viewer, template: ReportTemplate) -> bool:
    """Shared templates are scheduled by those who manage shared ones; private by their owner."""
    return access.may_run(viewer, template.shared, template.owner_id) and access.may_edit(
        viewer, template.shared, template.owner_id
    )


def may_see(viewer: Viewer, schedule: ReportSchedule) -> bool:
    return access.manages_shared(viewer) or access.owns(viewer, schedule.owner_id)


def may_disable(viewer: Viewer, schedule: ReportSchedule, template: ReportTemplate) -> bool:
    return access.owns(viewer, schedule.owner_id) or (
        template.shared and access.manages_shared(viewer)
    )


# --- reading ---------------------------------------------------------------------------------


async def _template(
    session: AsyncSession, template_id: uuid.UUID, viewer: Viewer, field: str
) -> ReportTemplate:
    """The active template the viewer may schedule, or NOT_FOUND / FORBIDDEN on `field`.

    A template the viewer may not even run is NOT_FOUND (its existence is not
    told); one it runs but may not schedule (a shared one, for a sales agent) is
    FORBIDDEN.
    """
    template = await session.get(ReportTemplate, template_id)
    if (
        template is None
        or not template.active
        or not access.may_run(viewer, template.shared, template.owner_id)
    ):
        raise ServiceError.of(Code.NOT_FOUND, "No such report template.", field)
    if not may_schedule(viewer, template):
        raise ServiceError.of(
            Code.FORBIDDEN,
            "Only managers and admins schedule shared templates; schedule your own private ones.",
            field,
        )
    if template.broken_at is not None:
        raise ServiceError.of(
            Code.BROKEN_TEMPLATE,
            f"The template no longer validates against the graph: {template.broken_reason}",
            field,
        )
    return template


async def get_schedule(
    session: AsyncSession, schedule_id: uuid.UUID, viewer: Viewer, *, lock: bool = False
) -> ReportSchedule:
    """A schedule the viewer may see, or NOT_FOUND on `id`."""
    stmt = select(ReportSchedule).where(ReportSchedule.id == schedule_id)
    if lock:
        stmt = stmt.with_for_update()
    schedule = await session.scalar(stmt)
    if schedule is None or not may_see(viewer, schedule):
        raise ServiceError.of(Code.NOT_FOUND, "No such report schedule.", "id")
    return schedule


async def visible_schedules(
    session: AsyncSession, viewer: Viewer, template_id: uuid.UUID | None = None
) -> Sequence[ReportSchedule]:
    """Every schedule for managers and admins; a staff member's own otherwise."""
    stmt = select(ReportSchedule)
    if not access.manages_shared(viewer):
        stmt = stmt.where(ReportSchedule.owner_id == viewer.user_id)
    if template_id is not None:
        stmt = stmt.where(ReportSchedule.template_id == template_id)
    rows = await session.scalars(stmt.order_by(ReportSchedule.name, ReportSchedule.id))
    return rows.all()


# --- changing --------------------------------------------------------------------------------


def _record(
    session: AsyncSession,
    schedule: ReportSchedule,
    action: str,
    viewer: Viewer | None,
    before: dict[str, Any] | None,
) -> None:
    audit.record(
        session,
        entity=audit.SCHEDULE,
        entity_id=schedule.id,
        action=action,
        actor=viewer,
        before=before,
        after=audit.snapshot(schedule),
    )


def _fields(data: ScheduleData) -> dict[str, Any]:
    return {f.name: getattr(data, f.name) for f in fields(data)}


async def create_schedule(
    session: AsyncSession,
    template_id: uuid.UUID,
    data: ScheduleData,
    viewer: Viewer,
    now: datetime,
    *,
    default_time_zone: str,
    delegations: Delegations | None = None,
    authorization: str | None = None,
) -> ReportSchedule:
    """A new enabled schedule owned by its creator, whose token will run it.

    With `delegations`, the creator's own `authorization` obtains the grant its
    runs are made with (`_delegate`).
    """
    if viewer.user_id is None:
        raise ServiceError.of(Code.FORBIDDEN, "Log in to schedule reports.", "templateId")
    template = await _template(session, template_id, viewer, "templateId")
    full = replace(
        data,
        time_zone=data.time_zone or default_time_zone,
        format=data.format or "csv",
        parameters=data.parameters or {},
        recipients=data.recipients or [],
    )
    tidy, fire = _checked(full, template, now)
    schedule = ReportSchedule(
        id=uuid.uuid4(),
        template_id=template.id,
        owner_id=viewer.user_id,
        enabled=True,
        next_run_at=fire,
        **_fields(tidy),
    )
    session.add(schedule)
    await session.flush()
    if delegations is not None:
        await _delegate(session, schedule, delegations, authorization, "templateId")
    _record(session, schedule, "create", viewer, None)
    return schedule


async def update_schedule(
    session: AsyncSession,
    schedule_id: uuid.UUID,
    data: ScheduleData,
    viewer: Viewer,
    now: datetime,
) -> ReportSchedule:
    """Change a schedule (its owner only); its next fire time follows the change."""
    schedule = await get_schedule(session, schedule_id, viewer, lock=True)
    # An unowned (shipped, never enabled) schedule runs for no one: whoever may schedule
    # its template sets it up before enabling it.
    if schedule.owner_id is not None and not access.owns(viewer, schedule.owner_id):
        raise ServiceError.of(
            Code.FORBIDDEN,
            "Only its owner changes a schedule (it runs with the owner's access).",
            "id",
        )
    template = await _template(session, schedule.template_id, viewer, "id")
    before = audit.snapshot(schedule)
    current = ScheduleData(**{f.name: getattr(schedule, f.name) for f in fields(ScheduleData)})
    given = {k: v for k, v in _fields(data).items() if v is not None}
    tidy, fire = _checked(replace(current, **given), template, now)
    for name, value in _fields(tidy).items():
        setattr(schedule, name, value)
    if schedule.enabled:
        schedule.next_run_at = fire
    await session.flush()
    _record(session, schedule, "update", viewer, before)
    return schedule


async def disable_schedule(
    session: AsyncSession,
    schedule_id: uuid.UUID,
    viewer: Viewer,
    now: datetime,
    *,
    delegations: Delegations | None = None,
) -> ReportSchedule:
    """Stop it: no next run. Its owner, or a manager or admin for a shared template."""
    schedule = await get_schedule(session, schedule_id, viewer, lock=True)
    template = await session.get(ReportTemplate, schedule.template_id)
    if template is None or not may_disable(viewer, schedule, template):
        raise ServiceError.of(
            Code.FORBIDDEN, "Only its owner, or a manager for a shared template.", "id"
        )
    if not schedule.enabled:
        return schedule
    before = audit.snapshot(schedule)
    schedule.enabled = False
    schedule.next_run_at = None
    await _forget_grant(schedule, delegations)
    await session.flush()
    _record(session, schedule, "disable", viewer, before)
    return schedule


async def enable_schedule(
    session: AsyncSession,
    schedule_id: uuid.UUID,
    viewer: Viewer,
    now: datetime,
    *,
    delegations: Delegations | None = None,
    authorization: str | None = None,
) -> ReportSchedule:
    """Turn it on with the enabler as its owner: from now on it runs with their access.

    Whoever may schedule its template may enable it (managers and admins for
    a shared one, such as the shipped daily management mail).
    """
    stmt = select(ReportSchedule).where(ReportSchedule.id == schedule_id).with_for_update()
    schedule = await session.scalar(stmt)
    if schedule is None or not (may_see(viewer, schedule) or schedule.owner_id is None):
        raise ServiceError.of(Code.NOT_FOUND, "No such report schedule.", "id")
    template = await _template(session, schedule.template_id, viewer, "id")
    if viewer.user_id is None:
        raise ServiceError.of(Code.FORBIDDEN, "Log in to schedule reports.", "id")
    before = audit.snapshot(schedule)
    current = ScheduleData(**{f.name: getattr(schedule, f.name) for f in fields(ScheduleData)})
    _, fire = _checked(current, template, now)
    schedule.owner_id = viewer.user_id
    schedule.enabled = True
    schedule.next_run_at = fire
    await session.flush()
    if delegations is not None:
        await _delegate(session, schedule, delegations, authorization, "id")
    _record(session, schedule, "enable", viewer, before)
    return schedule


async def _delegate(
    session: AsyncSession,
    schedule: ReportSchedule,
    delegations: Delegations,
    authorization: str | None,
    field: str,
) -> None:
    """The owner's grant for this schedule, obtained with the owner's own token (S2).

    Asked after every other check passed, so bad input never leaves a grant
    behind; a grant the schedule held before (an earlier owner's) is given up.
    Refused (DELEGATION_FAILED) or unreachable (CONFLICT, worth a retry): a
    user error, nothing saved.
    """
    if not authorization:
        raise ServiceError.of(Code.FORBIDDEN, "Log in to schedule reports.", field)
    try:
        grant = await delegations.grant(authorization, purpose_of(schedule.id))
    except DelegationRefused as exc:
        raise ServiceError.of(
            Code.DELEGATION_FAILED, f"Identity would not let reports run it as you: {exc}", field
        ) from exc
    except IdentityUnavailable as exc:
        raise ServiceError.of(
            Code.CONFLICT, f"Identity could not be asked for a grant; try again. ({exc})", field
        ) from exc
    await _forget_grant(schedule, delegations)
    schedule.delegation_grant_id = grant.id
    schedule.delegation_secret = grant.secret
    await session.flush()


async def _forget_grant(schedule: ReportSchedule, delegations: Delegations | None) -> None:
    """Drop the schedule's grant: revoked at identity when possible, forgotten here always.

    Stopping a mail must not depend on identity answering: a forgotten secret
    cannot be used by anyone, and its owner still sees (and may revoke) the grant.
    """
    grant_id, secret = schedule.delegation_grant_id, schedule.delegation_secret
    schedule.delegation_grant_id = None
    schedule.delegation_secret = None
    if delegations is not None and grant_id is not None and secret:
        await delegations.give_up(grant_id, secret)


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- shipped ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShippedSchedule:
    """A schedule shipped with the product: disabled and owned by no one until enabled.

    Its id is fixed (uuid5 of its key), so installing it again finds it. No one's
    token runs it until a manager or admin sets its recipients and enables it,
    becoming its owner (`enable_schedule`).
    """

    key: str
    template_key: str
    data: ScheduleData

    @property
    def id(self) -> uuid.UUID:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"athena:reports:schedule:{self.key}")


#: The seed's daily management mail (003: revenue, utilisation, performance at 8 AM, PDF
#: to management). This session's graph answers the revenue part: sales by agent, month to
#: date; utilisation and performance follow with their shipped templates.
DAILY_MANAGEMENT_MAIL = ShippedSchedule(
    key="daily_management_mail",
    template_key="sales_by_agent",
    data=ScheduleData(
        name="Daily management mail",
        frequency="daily",
        at_time=time(8, 0),
        format="pdf",
        recipients=[],
        parameters={},
    ),
)
SHIPPED = (DAILY_MANAGEMENT_MAIL,)


async def install_shipped(
    session: AsyncSession,
    *,
    time_zone: str,
    shipped: tuple[ShippedSchedule, ...] = SHIPPED,
) -> int:
    """Insert the shipped schedules that are missing, disabled and owned by no one; how many.

    An existing one is never touched: an admin may have set its recipients and
    enabled it. Its template must be installed first (`shipped.install`); one
    whose template is missing waits for the next start.
    """
    written = 0
    for definition in shipped:
        if await session.get(ReportSchedule, definition.id) is not None:
            continue
        template = await session.scalar(
            select(ReportTemplate).where(ReportTemplate.key == definition.template_key)
        )
        if template is None:
            continue
        data = _tidy(replace(definition.data, time_zone=definition.data.time_zone or time_zone))
        schedule = ReportSchedule(
            id=definition.id,
            template_id=template.id,
            owner_id=None,
            enabled=False,
            next_run_at=None,
            **_fields(data),
        )
        session.add(schedule)
        await session.flush()
        _record(session, schedule, "shipped_create", None, None)
        written += 1
    return written


async def install_shipped_at_startup(services: Services) -> None:
    """App start-up hook, after the shipped templates: the daily management mail exists."""
    async with services.sessions() as session, session.begin():
        # Replicas starting together: the second waits, then finds the rows.
        await session.execute(
            select(func.pg_advisory_xact_lock(func.hashtext("reports.shipped_schedules")))
        )
        await install_shipped(session, time_zone=services.settings.operator_time_zone)
