"""Report schedules' rules, at the service: fire times, validation, who may, the audit trail."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any

import pytest
from sqlalchemy import func, select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.kit.errors import ServiceError
from subgraphs.reports.models import ReportsAudit, ReportSchedule, ReportTemplate
from subgraphs.reports.service import schedules, shipped
from subgraphs.reports.service.schedules import ScheduleData, next_fire

CHICAGO = "America/Chicago"
NOW = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # 12:00 in Chicago
OPERATION = (
    "query Charters($from: Date, $after: String) { charters(first: 50, after: $after, "
    "filter: { pickupFrom: $from }) { edges { node { id status } } "
    "pageInfo { hasNextPage endCursor } } }"
)


def _viewer(role: Role) -> Viewer:
    return Viewer(user_id=uuid.uuid4(), roles=frozenset({role}))


def _utc(*args: int, zone: str = CHICAGO) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


# --- fire times -----------------------------------------------------------------------------


def test_daily_stays_at_local_wall_time_across_daylight_saving():
    # 2026-03-08: Chicago springs forward; 08:00 is 14:00 UTC before, 13:00 UTC after.
    first = next_fire(
        frequency="daily", time_zone=CHICAGO, after=_utc(2026, 3, 7, 9, 0), at_time=time(8, 0)
    )
    second = next_fire(frequency="daily", time_zone=CHICAGO, after=first, at_time=time(8, 0))
    assert (first, second) == (
        datetime(2026, 3, 8, 13, 0, tzinfo=UTC),
        datetime(2026, 3, 9, 13, 0, tzinfo=UTC),
    )


def test_a_skipped_wall_time_fires_once_later_and_a_repeated_one_fires_once():
    # 02:30 does not exist on 2026-03-08 in Chicago: it fires at 03:30 CDT (08:30 UTC).
    spring = next_fire(
        frequency="daily", time_zone=CHICAGO, after=_utc(2026, 3, 7, 12, 0), at_time=time(2, 30)
    )
    assert spring == datetime(2026, 3, 8, 8, 30, tzinfo=UTC)
    # 01:30 happens twice on 2026-11-01: the schedule fires at the first only.
    fall = next_fire(
        frequency="daily", time_zone=CHICAGO, after=_utc(2026, 10, 31, 12, 0), at_time=time(1, 30)
    )
    after_fall = next_fire(frequency="daily", time_zone=CHICAGO, after=fall, at_time=time(1, 30))
    assert fall == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 CDT
    assert after_fall == datetime(2026, 11, 2, 7, 30, tzinfo=UTC)  # 01:30 CST, next day


def test_weekly_on_an_iso_weekday():
    # 2026-11-30 is a Monday; Sunday is ISO 7.
    sunday = next_fire(
        frequency="weekly", time_zone=CHICAGO, after=NOW, at_time=time(9, 15), weekday=7
    )
    monday = next_fire(
        frequency="weekly", time_zone=CHICAGO, after=NOW, at_time=time(9, 15), weekday=1
    )
    assert sunday == _utc(2026, 12, 6, 9, 15)
    assert monday == _utc(2026, 12, 7, 9, 15)  # today's 09:15 has passed


def test_monthly_on_a_day_short_months_fire_on_their_last_day():
    fires: list[datetime] = []
    after = _utc(2027, 1, 1, 0, 0)
    for _ in range(4):
        after = next_fire(
            frequency="monthly", time_zone=CHICAGO, after=after, at_time=time(7, 0), month_day=31
        )
        fires.append(after)
    assert fires == [
        _utc(2027, 1, 31, 7, 0),
        _utc(2027, 2, 28, 7, 0),
        _utc(2027, 3, 31, 7, 0),
        _utc(2027, 4, 30, 7, 0),
    ]
    leap = next_fire(
        frequency="monthly",
        time_zone=CHICAGO,
        after=_utc(2028, 2, 1, 0, 0),
        at_time=time(7, 0),
        month_day=30,
    )
    assert leap == _utc(2028, 2, 29, 7, 0)


def test_a_cron_expression_in_the_schedules_zone():
    fire = next_fire(frequency="cron", time_zone="Europe/London", after=NOW, cron="0 8 * * 1-5")
    assert fire == _utc(2026, 12, 1, 8, 0, zone="Europe/London")


@pytest.mark.parametrize(
    "cron",
    ["not a cron", "61 * * * *", "0 8 * *", "* * * * * *", "0 0 30 2 *", "0 0 31 4,6 *"],
)
def test_a_cron_that_does_not_parse_or_never_fires_is_invalid_cron(cron):
    with pytest.raises(ServiceError) as caught:
        next_fire(frequency="cron", time_zone=CHICAGO, after=NOW, cron=cron)
    assert [(p.code, p.field) for p in caught.value.problems] == [("INVALID_CRON", "cron")]


# --- creating, validation -------------------------------------------------------------------


async def _template(sessions: Any, *, shared: bool, owner: Viewer | None = None) -> uuid.UUID:
    async with sessions() as session, session.begin():
        row = ReportTemplate(
            id=uuid.uuid4(),
            name="Charters",
            operation=OPERATION,
            variables={"from": {"relative": "month_start"}},
            rows_path="charters.edges.node",
            columns=[{"path": "status", "label": "Status", "format": "text"}],
            shared=shared,
            owner_id=owner.user_id if owner else None,
        )
        session.add(row)
    return row.id


GOOD: dict[str, Any] = {
    "name": "Morning charters",
    "frequency": "daily",
    "at_time": time(8, 0),
    "recipients": ["Boss@Example.com", "boss@example.com", "ops@example.com"],
    "parameters": {"from": {"relative": "days_ago", "days": 7}},
}


async def _create(sessions: Any, template_id: uuid.UUID, viewer: Viewer, **changes: Any) -> Any:
    async with sessions() as session, session.begin():
        return await schedules.create_schedule(
            session,
            template_id,
            ScheduleData(**{**GOOD, **changes}),
            viewer,
            NOW,
            default_time_zone=CHICAGO,
        )


async def test_a_schedule_is_owned_by_its_creator_with_its_next_run_and_an_audit_row(sessions):
    manager = _viewer(Role.MANAGER)
    template_id = await _template(sessions, shared=True)

    row = await _create(sessions, template_id, manager)

    assert row.owner_id == manager.user_id
    assert (row.enabled, row.format, row.time_zone) == (True, "csv", CHICAGO)
    assert row.recipients == ["Boss@example.com", "ops@example.com"]  # one per address
    assert row.next_run_at == _utc(2026, 12, 1, 8, 0)  # today's 08:00 has passed
    assert row.last_run_at is None
    async with sessions() as session:
        audit = (await session.scalars(select(ReportsAudit))).one()
    assert (audit.entity, audit.entity_id, audit.action, audit.actor_id) == (
        "schedule",
        row.id,
        "create",
        manager.user_id,
    )
    assert audit.after["recipients"] == ["Boss@example.com", "ops@example.com"]


BAD: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
    ({"frequency": "cron", "cron": "0 0 30 2 *"}, [("INVALID_CRON", "cron")]),
    ({"frequency": "cron", "cron": "every day"}, [("INVALID_CRON", "cron")]),
    ({"frequency": "cron", "cron": None}, [("INVALID_CRON", "cron")]),
    ({"frequency": "hourly"}, [("INVALID", "frequency")]),
    ({"at_time": None}, [("REQUIRED", "atTime")]),
    ({"frequency": "weekly", "weekday": 8}, [("INVALID", "weekday")]),
    ({"frequency": "weekly"}, [("INVALID", "weekday")]),
    ({"frequency": "monthly", "month_day": 0}, [("INVALID", "monthDay")]),
    ({"recipients": []}, [("REQUIRED", "recipients")]),
    ({"recipients": ["ops@example.com", "not-an-address"]}, [("INVALID", "recipients")]),
    ({"format": "docx"}, [("INVALID", "format")]),
    ({"time_zone": "Mars/Olympus_Mons"}, [("INVALID", "timeZone")]),
    ({"parameters": {"to": "2026-12-01"}}, [("INVALID", "parameters")]),
    ({"parameters": {"from": {"relative": "fortnight"}}}, [("INVALID", "parameters")]),
    ({"name": "  ", "format": "doc"}, [("INVALID", "name"), ("INVALID", "format")]),
]


async def test_bad_input_names_its_field_and_saves_nothing(sessions):
    manager = _viewer(Role.MANAGER)
    template_id = await _template(sessions, shared=True)

    for changes, expected in BAD:
        with pytest.raises(ServiceError) as caught:
            await _create(sessions, template_id, manager, **changes)
        assert [(p.code, p.field) for p in caught.value.problems] == expected, changes

    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ReportSchedule)) == 0
        assert await session.scalar(select(func.count()).select_from(ReportsAudit)) == 0


async def test_fields_of_another_frequency_are_not_kept(sessions):
    agent = _viewer(Role.SALES_AGENT)
    template_id = await _template(sessions, shared=False, owner=agent)

    row = await _create(
        sessions, template_id, agent, frequency="cron", cron="0  7 * * 1", weekday=3, month_day=9
    )

    assert (row.cron, row.at_time, row.weekday, row.month_day) == ("0 7 * * 1", None, None, None)
    assert row.next_run_at == _utc(2026, 12, 7, 7, 0)


# --- who may --------------------------------------------------------------------------------


async def _codes(work: Any) -> list[tuple[str, str | None]]:
    with pytest.raises(ServiceError) as caught:
        await work
    return [(p.code, p.field) for p in caught.value.problems]


async def test_shared_templates_are_scheduled_by_managers_private_ones_by_their_owner(sessions):
    agent, other_agent, manager = (
        _viewer(Role.SALES_AGENT),
        _viewer(Role.SALES_AGENT),
        _viewer(Role.MANAGER),
    )
    shared = await _template(sessions, shared=True)
    private = await _template(sessions, shared=False, owner=agent)

    assert await _codes(_create(sessions, shared, agent)) == [("FORBIDDEN", "templateId")]
    assert await _codes(_create(sessions, private, other_agent)) == [("NOT_FOUND", "templateId")]
    assert await _codes(_create(sessions, private, manager)) == [("NOT_FOUND", "templateId")]
    assert await _codes(_create(sessions, uuid.uuid4(), manager)) == [("NOT_FOUND", "templateId")]
    assert (await _create(sessions, private, agent)).owner_id == agent.user_id
    assert (await _create(sessions, shared, manager)).owner_id == manager.user_id


async def test_a_broken_template_is_not_scheduled(sessions):
    manager = _viewer(Role.MANAGER)
    template_id = await _template(sessions, shared=True)
    async with sessions() as session, session.begin():
        row = await session.get(ReportTemplate, template_id)
        row.broken_at, row.broken_reason = NOW, "Cannot query field 'charters'."

    assert await _codes(_create(sessions, template_id, manager)) == [
        ("BROKEN_TEMPLATE", "templateId")
    ]


async def test_managers_see_every_schedule_others_their_own(sessions):
    agent, manager = _viewer(Role.SALES_AGENT), _viewer(Role.MANAGER)
    private = await _template(sessions, shared=False, owner=agent)
    shared = await _template(sessions, shared=True)
    mine = await _create(sessions, private, agent, name="B mine")
    theirs = await _create(sessions, shared, manager, name="A theirs")

    async with sessions() as session:
        assert [r.id for r in await schedules.visible_schedules(session, manager)] == [
            theirs.id,
            mine.id,
        ]
        assert [r.id for r in await schedules.visible_schedules(session, agent)] == [mine.id]
        assert [r.id for r in await schedules.visible_schedules(session, manager, shared)] == [
            theirs.id
        ]
        assert await _codes(schedules.get_schedule(session, theirs.id, agent)) == [
            ("NOT_FOUND", "id")
        ]


async def test_only_the_owner_edits_and_the_next_run_follows_with_before_and_after(sessions):
    owner, other_manager = _viewer(Role.MANAGER), _viewer(Role.ADMIN)
    template_id = await _template(sessions, shared=True)
    row = await _create(sessions, template_id, owner)

    async def update(viewer: Viewer, **changes: Any) -> Any:
        async with sessions() as session, session.begin():
            return await schedules.update_schedule(
                session, row.id, ScheduleData(**changes), viewer, NOW
            )

    assert await _codes(update(other_manager, name="Mine now")) == [("FORBIDDEN", "id")]
    assert await _codes(update(owner, frequency="cron", cron="0 0 31 2 *")) == [
        ("INVALID_CRON", "cron")
    ]

    changed = await update(owner, frequency="weekly", weekday=5, at_time=time(17, 30))

    assert (changed.frequency, changed.weekday, changed.at_time) == ("weekly", 5, time(17, 30))
    assert changed.next_run_at == _utc(2026, 12, 4, 17, 30)
    assert changed.recipients == row.recipients
    async with sessions() as session:
        audit = (
            await session.scalars(select(ReportsAudit).where(ReportsAudit.action == "update"))
        ).one()
    assert audit.before == {
        "frequency": "daily",
        "weekday": None,
        "at_time": "08:00:00",
        "next_run_at": row.next_run_at.isoformat(),
    }
    assert audit.after == {
        "frequency": "weekly",
        "weekday": 5,
        "at_time": "17:30:00",
        "next_run_at": changed.next_run_at.isoformat(),
    }


async def test_disabling_and_enabling_enabling_makes_the_enabler_the_owner(sessions):
    creator, admin, agent = _viewer(Role.MANAGER), _viewer(Role.ADMIN), _viewer(Role.SALES_AGENT)
    template_id = await _template(sessions, shared=True)
    row = await _create(sessions, template_id, creator)

    async def act(name: str, viewer: Viewer) -> Any:
        async with sessions() as session, session.begin():
            return await getattr(schedules, name)(session, row.id, viewer, NOW)

    assert await _codes(act("disable_schedule", agent)) == [("NOT_FOUND", "id")]
    disabled = await act("disable_schedule", admin)
    assert (disabled.enabled, disabled.next_run_at, disabled.owner_id) == (
        False,
        None,
        creator.user_id,
    )
    assert await _codes(act("enable_schedule", agent)) == [("NOT_FOUND", "id")]

    enabled = await act("enable_schedule", admin)

    assert (enabled.enabled, enabled.owner_id) == (True, admin.user_id)
    assert enabled.next_run_at == _utc(2026, 12, 1, 8, 0)
    async with sessions() as session:
        trail = (
            await session.scalars(
                select(ReportsAudit.action)
                .where(ReportsAudit.entity_id == row.id)
                .order_by(ReportsAudit.at)
            )
        ).all()
    assert trail == ["create", "disable", "enable"]


def test_the_daily_management_mail_runs_a_shipped_template_at_8_local():
    shipped_template = shipped.by_key(schedules.DAILY_MANAGEMENT_MAIL.template_key)
    template = ReportTemplate(operation=shipped_template.operation)
    data = replace(
        schedules.DAILY_MANAGEMENT_MAIL.data, time_zone=CHICAGO, recipients=["ops@example.com"]
    )

    tidy, fire = schedules._checked(data, template, NOW)

    assert (tidy.frequency, tidy.format) == ("daily", "pdf")
    assert fire == _utc(2026, 12, 1, 8, 0)
    # Shipped without recipients: it is set up before anyone enables it.
    with pytest.raises(ServiceError) as caught:
        schedules._checked(schedules.DAILY_MANAGEMENT_MAIL.data, template, NOW)
    assert [(p.code, p.field) for p in caught.value.problems] == [
        ("INVALID", "timeZone"),
        ("REQUIRED", "recipients"),
    ]
