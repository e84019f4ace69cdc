"""Scheduled delivery: each fire time of a schedule run as its owner and mailed once (issue 16 §3).

A fire time becomes one `report_deliveries` row, unique per (schedule, due
time), in the same transaction that moves the schedule's `next_run_at` on;
schedules are claimed with SKIP LOCKED, so two workers, or the job run
twice, make one row. Missed fire times (the job was down for a day) make
one delivery, for the oldest, not a backlog of stale mails.

The graph call runs outside any transaction (a slow router holds no
connection), so a worker takes a delivery by a lease (`lease_until`,
counting the attempt) and finishes it in a short transaction that checks
the lease is still its own: a worker that died lets the delivery go when
its lease passes, and a late one whose lease was taken over drops its
result. Only the finishing transaction marks the delivery sent and writes
`reports.delivery_ready` to the outbox, together, so the mail is
announced exactly once.

A failed run (graph errors, no token for the owner, bad parameters) is
retried on the next ticks, `MAX_ATTEMPTS` in all; then the delivery fails
and the schedule's `last_error` says why. A file over `MAX_FILE_BYTES`
fails at once: running again would make the same file. A failure clients
can act on without reading it starts with its code: `DELEGATION_FAILED: `
when no token of the owner could be had (the owner enables it again);
the delivery's own `error` keeps the plain message.
"""

from __future__ import annotations

import base64
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.kit.errors import ServiceError
from subgraphs.kit.outbox import emit
from subgraphs.reports.error_codes import ReportsErrorCode as Code
from subgraphs.reports.models import ReportDelivery, ReportSchedule, ReportTemplate, outbox
from subgraphs.reports.service import exports, pdf, runner
from subgraphs.reports.service.graph_port import RunFailed
from subgraphs.reports.service.schedules import next_fire

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from subgraphs.kit.context import Services
    from subgraphs.reports.service.graph_port import GraphPort
    from subgraphs.reports.service.run_tokens import RunTokens

log = logging.getLogger(__name__)

TOPIC = "reports.delivery_ready"
MAX_ATTEMPTS = 3
MAX_FILE_BYTES = 5 * 1024 * 1024
#: How long a worker holds a delivery it runs; longer than a run takes (pages time out at 30 s).
LEASE = timedelta(minutes=15)
#: Deliveries one tick takes on; the rest wait for the next tick (or another worker).
BATCH = 20
PENDING, SENT, FAILED = "pending", "sent", "failed"
CONTENT_TYPES = {"csv": exports.CSV_TYPE, "xlsx": exports.XLSX_TYPE, "pdf": pdf.PDF_TYPE}


@dataclass(frozen=True)
class Claim:
    """A delivery this worker holds: the lease and attempt say it is still its own."""

    delivery_id: uuid.UUID
    schedule_id: uuid.UUID
    due_at: datetime
    attempt: int
    lease_until: datetime


@dataclass(frozen=True)
class File:
    name: str
    content_type: str
    content: bytes


class DeliveryFailed(Exception):
    """Why this attempt failed; `final` when trying again cannot help; `code` when one applies."""

    def __init__(self, message: str, *, final: bool = False, code: Code | None = None) -> None:
        super().__init__(message)
        self.final = final
        self.code = code


# --- claiming ---------------------------------------------------------------------------------


async def _open_fire_times(session: AsyncSession, now: datetime) -> None:
    """One pending delivery per schedule whose fire time has come; its next fire time set."""
    stmt = (
        select(ReportSchedule)
        .where(
            ReportSchedule.enabled.is_(True),
            ReportSchedule.owner_id.is_not(None),
            ReportSchedule.next_run_at <= now,
        )
        .order_by(ReportSchedule.next_run_at, ReportSchedule.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    for schedule in (await session.scalars(stmt)).all():
        due_at = schedule.next_run_at
        if due_at is None:  # excluded by the query; says so to the type checker
            continue
        await session.execute(
            insert(ReportDelivery)
            .values(id=uuid.uuid4(), schedule_id=schedule.id, due_at=due_at, status=PENDING)
            .on_conflict_do_nothing(constraint="uq_report_deliveries_schedule_due")
        )
        schedule.next_run_at = next_fire(
            frequency=schedule.frequency,
            time_zone=schedule.time_zone,
            after=max(now, due_at),
            at_time=schedule.at_time,
            weekday=schedule.weekday,
            month_day=schedule.month_day,
            cron=schedule.cron,
        )


async def due(session: AsyncSession, now: datetime) -> list[Claim]:
    """Claim what is to be delivered now: new fire times and failed attempts to retry.

    Call in a transaction and commit before delivering: the commit is what
    makes the lease visible to other workers.
    """
    await _open_fire_times(session, now)
    stmt = (
        select(ReportDelivery)
        .where(
            ReportDelivery.status == PENDING,
            ReportDelivery.attempts < MAX_ATTEMPTS,
            or_(ReportDelivery.lease_until.is_(None), ReportDelivery.lease_until <= now),
        )
        .order_by(ReportDelivery.due_at, ReportDelivery.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    claims = []
    for delivery in (await session.scalars(stmt)).all():
        delivery.attempts += 1
        delivery.lease_until = now + LEASE
        claims.append(
            Claim(
                delivery.id,
                delivery.schedule_id,
                delivery.due_at,
                delivery.attempts,
                delivery.lease_until,
            )
        )
    await session.flush()
    return claims


# --- the file ---------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "report"


def render(
    fmt: str,
    template_name: str,
    outcome: runner.Outcome,
    ran_at: datetime,
    time_zone: str,
) -> File:
    """The run's table in the schedule's format, named after the template and the local date."""
    columns, rows, totals = outcome.columns, outcome.rows, outcome.totals
    if fmt == "csv":
        content = exports.to_csv(columns, rows, totals)
    elif fmt == "xlsx":
        content = exports.to_xlsx(columns, rows, totals, title=template_name, time_zone=time_zone)
    elif fmt == "pdf":
        content = pdf.render_run(
            title=template_name,
            ran_at=ran_at,
            time_zone=time_zone,
            columns=columns,
            rows=rows,
            totals=totals,
        )
    else:
        raise DeliveryFailed(f"{fmt!r} is not a delivery format.", final=True)
    local_date = ran_at.astimezone(ZoneInfo(time_zone)).date().isoformat()
    return File(f"{_slug(template_name)}-{local_date}.{fmt}", CONTENT_TYPES[fmt], content)


# --- delivering -------------------------------------------------------------------------------


@dataclass
class _Attempt:
    outcome: runner.Outcome | None = None
    file: File | None = None
    error: DeliveryFailed | None = None


async def _run(
    schedule: ReportSchedule,
    template: ReportTemplate,
    claim: Claim,
    now: datetime,
    *,
    tokens: RunTokens,
    graph: GraphPort,
) -> _Attempt:
    """Run the template as the schedule's owner and render the file; no transaction open."""
    attempt = _Attempt()
    try:
        if not template.active:
            raise DeliveryFailed("The template was deleted.", final=True)
        if template.broken_at is not None:
            raise DeliveryFailed(
                f"The template no longer validates against the graph: {template.broken_reason}"
            )
        try:
            parameters = runner.resolve_parameters(
                template, schedule.parameters, claim.due_at, schedule.time_zone
            )
        except ServiceError as exc:
            raise DeliveryFailed(
                "The schedule's parameters no longer fit the template: "
                + "; ".join(p.message for p in exc.problems)
            ) from exc
        try:
            token = await tokens.token_for(schedule)
        except RunFailed as exc:
            raise DeliveryFailed(
                f"No access token for the schedule's owner: {exc}", code=Code.DELEGATION_FAILED
            ) from exc
        attempt.outcome = await runner.execute(
            template, parameters, graph=graph, authorization=f"Bearer {token}"
        )
        if attempt.outcome.status != runner.SUCCEEDED:
            raise DeliveryFailed(attempt.outcome.error or "The run failed.")
        attempt.file = render(
            schedule.format, template.name, attempt.outcome, now, schedule.time_zone
        )
        size = len(attempt.file.content)
        if size > MAX_FILE_BYTES:
            raise DeliveryFailed(
                f"The {schedule.format} file is {size} bytes, over the "
                f"{MAX_FILE_BYTES} bytes a mail may carry; narrow the report.",
                final=True,
            )
    except DeliveryFailed as exc:
        attempt.error = exc
    return attempt


def _payload(
    delivery: ReportDelivery,
    schedule: ReportSchedule,
    template: ReportTemplate,
    ran_at: datetime,
    outcome: runner.Outcome,
    file: File,
) -> dict[str, Any]:
    return {
        "deliveryId": str(delivery.id),
        "scheduleId": str(schedule.id),
        "scheduleName": schedule.name,
        "templateName": template.name,
        "ranAt": ran_at.isoformat(),
        "rowCount": outcome.row_count,
        "recipients": list(schedule.recipients),
        "format": schedule.format,
        "fileName": file.name,
        "contentType": file.content_type,
        "contentBase64": base64.b64encode(file.content).decode("ascii"),
    }


async def _schedule_and_template(
    session: AsyncSession, schedule_id: uuid.UUID, *, lock: bool = False
) -> tuple[ReportSchedule, ReportTemplate]:
    """A delivery's schedule and template (foreign keys: both exist)."""
    stmt = (
        select(ReportSchedule, ReportTemplate)
        .join(ReportTemplate, ReportTemplate.id == ReportSchedule.template_id)
        .where(ReportSchedule.id == schedule_id)
    )
    if lock:
        stmt = stmt.with_for_update(of=ReportSchedule)
    row = (await session.execute(stmt)).one()
    return row[0], row[1]


async def _finish(
    session: AsyncSession,
    claim: Claim,
    attempt: _Attempt,
    now: datetime,
    retention_days: int,
) -> str | None:
    """Store the attempt if the lease is still ours: the run, the delivery's state, the event."""
    delivery = await session.scalar(
        select(ReportDelivery).where(ReportDelivery.id == claim.delivery_id).with_for_update()
    )
    if (
        delivery is None
        or delivery.status != PENDING
        or delivery.attempts != claim.attempt
        or delivery.lease_until != claim.lease_until
    ):
        log.warning(
            "delivery %s was taken over; dropping attempt %d", claim.delivery_id, claim.attempt
        )
        return None
    schedule, template = await _schedule_and_template(session, claim.schedule_id, lock=True)
    delivery.lease_until = None
    if attempt.outcome is not None:
        run = runner.record(
            session,
            template.id,
            attempt.outcome,
            run_by=schedule.owner_id,
            now=now,
            retention_days=retention_days,
            schedule_id=schedule.id,
        )
        await session.flush()
        delivery.run_id = run.id
        schedule.last_run_id = run.id
    if attempt.error is None and attempt.outcome is not None and attempt.file is not None:
        delivery.status, delivery.sent_at, delivery.error = SENT, now, None
        schedule.last_run_at, schedule.last_error = now, None
        await emit(
            session,
            outbox,
            TOPIC,
            _payload(delivery, schedule, template, now, attempt.outcome, attempt.file),
        )
        return SENT
    message = str(attempt.error or "The run failed.")
    delivery.error = message
    if attempt.error is not None and (attempt.error.final or claim.attempt >= MAX_ATTEMPTS):
        delivery.status = FAILED
        schedule.last_run_at = now
        code = attempt.error.code
        schedule.last_error = (
            (f"{code}: " if code is not None else "")
            + f"The delivery due {claim.due_at.isoformat()} failed after "
            f"{claim.attempt} attempt{'s' if claim.attempt != 1 else ''}: {message}"
        )
        return FAILED
    return PENDING


async def deliver(
    sessions: async_sessionmaker[AsyncSession],
    claim: Claim,
    now: datetime,
    *,
    tokens: RunTokens,
    graph: GraphPort,
    retention_days: int,
) -> str | None:
    """One attempt at a claimed delivery: sent, failed, pending (to retry), or None (not ours)."""
    async with sessions() as session:
        schedule, template = await _schedule_and_template(session, claim.schedule_id)
    if not schedule.enabled or schedule.owner_id is None:
        attempt = _Attempt(error=DeliveryFailed("The schedule was disabled.", final=True))
    else:
        attempt = await _run(schedule, template, claim, now, tokens=tokens, graph=graph)
    async with sessions() as session, session.begin():
        return await _finish(session, claim, attempt, now, retention_days)


async def run_due(
    services: Services, now: datetime, *, tokens: RunTokens, graph: GraphPort | None = None
) -> dict[str, int]:
    """The `reports.deliveries` job: claim, then deliver each claim in turn; counts by outcome."""
    from subgraphs.reports.service.graph_port import http_graph

    async with services.sessions() as session, session.begin():
        claims = await due(session, now)
    counts: dict[str, int] = {SENT: 0, FAILED: 0, PENDING: 0}
    for claim in claims:
        result = await deliver(
            services.sessions,
            claim,
            now,
            tokens=tokens,
            graph=graph or http_graph(services),
            retention_days=services.settings.reports_run_retention_days,
        )
        if result is not None:
            counts[result] += 1
    return counts


async def delivery_job(services: Services, due: datetime) -> dict[str, int]:
    """`reports.deliveries`: the clock decides what is due, not `due`; safe to run twice."""
    from subgraphs.reports.service.run_tokens import identity_run_tokens

    return await run_due(services, datetime.now(UTC), tokens=identity_run_tokens(services))
