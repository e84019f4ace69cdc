"""`qcBacklog`: open change cases and overdue open dispatch tasks, oldest first, by age.

Cases and tasks are written straight to charters' tables with the times that
matter (a case's creation, a task's `overdue_since`); the page and the counts
are read through the service with a fixed `now`, and through the subgraph for
the gate, the charters (a loader) and the statement count.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from db.engine import record_statements
from subgraphs.charters.models import ChangeCase, Charter, DispatchTask
from subgraphs.charters.service.qc_backlog import (
    BUCKETS,
    BacklogKind,
    age_days,
    backlog_page,
    bucket_of,
)

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
BACKLOG = """query($first: Int, $after: String) { qcBacklog(first: $first, after: $after) {
  totalCount buckets { kind ageBucket count }
  pageInfo { hasNextPage endCursor }
  edges { node { kind ageDays ageBucket description charter { reference } } } } }"""

CASE, TASK = BacklogKind.CHANGE_CASE, BacklogKind.DISPATCH_TASK


async def charter(session: Any, reference: str) -> Charter:
    row = Charter(
        reference=reference,
        status="booked",
        client_id=uuid.uuid4(),
        trip_type="one_way",
        passenger_count=20,
        pickup_local=datetime(2026, 7, 1, 9),
        pickup_time_zone="UTC",
        pickup_at=datetime(2026, 7, 1, 9, tzinfo=UTC),
    )
    session.add(row)
    await session.flush()
    return row


def case(of: Charter, number: str, status: str, created_at: datetime) -> ChangeCase:
    return ChangeCase(
        case_number=number,
        charter_id=of.id,
        change_type="passenger_count_change",
        status=status,
        title=f"More passengers ({number})",
        before={},
        after={},
        charter_version=1,
        created_at=created_at,
    )


def task(of: Charter, kind: str, status: str, overdue_since: datetime | None) -> DispatchTask:
    return DispatchTask(
        charter_id=of.id,
        kind=kind,
        status=status,
        due_before_minutes=60,
        due_at=overdue_since or NOW + DAY,
        overdue_since=overdue_since,
        skip_reason="not needed" if status == "skipped" else None,
    )


async def backlog(sessions: Any, now: datetime = NOW) -> list[uuid.UUID]:
    """The backlog of the tests below; the ids in the order expected (oldest first)."""
    async with sessions() as session, session.begin():
        first, second = (
            await charter(session, "CH-2026-000001"),
            await charter(session, "CH-2026-000002"),
        )
        rows = [
            case(first, "CHG-2026-0004", "under_review", now - 40 * DAY),
            task(first, "vehicle_assigned", "pending", now - 8 * DAY),
            case(second, "CHG-2026-0003", "rejected", now - 3 * DAY),
            task(second, "driver_assigned", "in_progress", now - 3 * DAY + timedelta(minutes=1)),
            case(first, "CHG-2026-0001", "pending", now - timedelta(hours=2)),
        ]
        closed = [
            case(first, "CHG-2026-0002", "implemented", now - 5 * DAY),
            case(second, "CHG-2026-0005", "cancelled", now - 5 * DAY),
            task(first, "route_verified", "completed", now - 5 * DAY),
            task(first, "documents_ready", "skipped", now - 5 * DAY),
            task(second, "vendor_assigned", "pending", None),  # open, not overdue
        ]
        session.add_all(rows + closed)
    return [r.id for r in rows]


def test_a_bucket_is_named_by_whole_days_of_age() -> None:
    assert [bucket_of(d) for d in (0, 2, 3, 7, 8, 30, 31, 400)] == [
        "0-2 days",
        "0-2 days",
        "3-7 days",
        "3-7 days",
        "8-30 days",
        "8-30 days",
        "over 30 days",
        "over 30 days",
    ]
    assert age_days(NOW - 3 * DAY + timedelta(seconds=1), NOW) == 2
    assert age_days(NOW - 3 * DAY, NOW) == 3
    assert age_days(NOW + DAY, NOW) == 0


async def test_open_cases_and_overdue_open_tasks_oldest_first_with_every_bucket_counted(
    sessions: Any,
) -> None:
    expected = await backlog(sessions)

    async with sessions() as session:
        page = await backlog_page(session, first=None, after=None, now=NOW)

    assert [i.id for i in page.items] == expected
    assert [(i.kind, i.age_days, i.age_bucket) for i in page.items] == [
        (CASE, 40, "over 30 days"),
        (TASK, 8, "8-30 days"),
        (CASE, 3, "3-7 days"),
        (TASK, 2, "0-2 days"),
        (CASE, 0, "0-2 days"),
    ]
    assert page.items[0].description == (
        "CHG-2026-0004 (under review): More passengers (CHG-2026-0004)"
    )
    assert page.items[1].description == "Assign a vehicle (pending): overdue"
    assert page.items[1].opened_at == NOW - 8 * DAY
    assert (page.total_count, page.has_next_page) == (5, False)
    # every kind and bucket, zeros included: SQL buckets agree with `bucket_of` at the edges
    assert page.counts == {
        (CASE, "0-2 days"): 1,
        (CASE, "3-7 days"): 1,
        (CASE, "8-30 days"): 0,
        (CASE, "over 30 days"): 1,
        (TASK, "0-2 days"): 1,
        (TASK, "3-7 days"): 0,
        (TASK, "8-30 days"): 1,
        (TASK, "over 30 days"): 0,
    }
    assert len(page.counts) == len(BacklogKind) * len(BUCKETS)


async def test_pages_follow_each_other_through_the_cursor(sessions: Any) -> None:
    expected = await backlog(sessions)

    seen: list[uuid.UUID] = []
    after = None
    pages = 0
    while True:
        async with sessions() as session:
            page = await backlog_page(session, first=2, after=after, now=NOW)
        seen += [i.id for i in page.items]
        pages += 1
        if not page.has_next_page:
            break
        after = page.cursors[-1]

    assert (seen, pages) == (expected, 3)


async def test_the_office_reads_it_with_charters_in_a_constant_number_of_statements(
    sessions: Any, as_role: Any
) -> None:
    support = await as_role("sales_support")
    async with sessions() as session, session.begin():
        one = await charter(session, "CH-2026-000009")
        session.add(case(one, "CHG-2026-0009", "pending", datetime.now(UTC) - 10 * DAY))
    (await support(BACKLOG)).ok()
    with record_statements() as recorder:
        (await support(BACKLOG)).ok()
    before = len(recorder.statements)
    await backlog(sessions, now=datetime.now(UTC))
    with record_statements() as recorder:
        data = (await support(BACKLOG, {"first": 4})).ok()["qcBacklog"]
    after = len(recorder.statements)
    agent = await (await as_role("sales_agent"))(BACKLOG)
    accounting = await (await as_role("accounting"))(BACKLOG)
    too_many = await support(BACKLOG, {"first": 101})

    assert before == after
    assert (data["totalCount"], data["pageInfo"]["hasNextPage"]) == (6, True)
    assert [e["node"]["charter"]["reference"] for e in data["edges"]] == [
        "CH-2026-000001",
        "CH-2026-000009",
        "CH-2026-000001",
        "CH-2026-000002",
    ]
    assert data["edges"][1]["node"] == {
        "kind": "CHANGE_CASE",
        "ageDays": 10,
        "ageBucket": "8-30 days",
        "description": "CHG-2026-0009 (pending): More passengers (CHG-2026-0009)",
        "charter": {"reference": "CH-2026-000009"},
    }
    assert {"kind": "DISPATCH_TASK", "ageBucket": "8-30 days", "count": 1} in data["buckets"]
    assert len(data["buckets"]) == 8
    assert agent.error_codes == ["FORBIDDEN"]
    assert accounting.error_codes == ["FORBIDDEN"]
    assert too_many.error_codes == ["BAD_USER_INPUT"]
