"""Vendor performance (issue 16 §2 "vendor performance": ratings, on-time, declines).

Rows are built directly in a window of the test's own, years in the past;
the table lists every approved vendor, so each test reads its own vendors' rows.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from db.engine import record_statements
from subgraphs.vendors.models import Rating, Vendor, VendorAssignment, VendorAudit
from subgraphs.vendors.service.figures import Window
from subgraphs.vendors.service.performance import vendor_performance


def a_window() -> Window:
    start = datetime(2001, 1, 1, tzinfo=UTC) + timedelta(days=uuid.uuid4().int % 10_000)
    return Window(start, start + timedelta(days=1))


def vendor(name: str, *, approved: bool, status: str = "active") -> Vendor:
    return Vendor(
        id=uuid.uuid4(),
        business_name=f"{name} {uuid.uuid4().hex[:6]}",
        vendor_type="fleet_operator",
        status=status,
        approved_at=datetime(2000, 1, 1, tzinfo=UTC) if approved else None,
    )


def rating(vendor_id: uuid.UUID, at: datetime, overall: str, on_time: str) -> Rating:
    return Rating(
        id=uuid.uuid4(),
        vendor_id=vendor_id,
        charter_id=uuid.uuid4(),
        rated_by=uuid.uuid4(),
        overall=Decimal(overall),
        vehicle_condition=Decimal("5.0"),
        driver_professionalism=Decimal("5.0"),
        on_time=Decimal(on_time),
        communication=Decimal("5.0"),
        value=Decimal("5.0"),
        created_at=at,
    )


def assignment(vendor_id: uuid.UUID, at: datetime, status: str) -> VendorAssignment:
    return VendorAssignment(
        id=uuid.uuid4(),
        charter_vehicle_id=uuid.uuid4(),
        charter_id=uuid.uuid4(),
        vendor_id=vendor_id,
        amount=Decimal("800.00"),
        status=status,
        created_at=at,
    )


async def performance_world(sessions: Any, window: Window) -> dict[str, Vendor]:
    """Rated and assigned P1, idle P2 (approved, suspended since), pending P3."""
    p1 = vendor("P1", approved=True)
    p2 = vendor("P2", approved=True, status="suspended")
    p3 = vendor("P3", approved=False, status="pending")
    at = window.start + timedelta(hours=2)
    before = window.start - timedelta(hours=1)
    gave_back = assignment(p1.id, at, "cancelled")  # recovery requested, then cancelled
    async with sessions() as session, session.begin():
        session.add_all([p1, p2, p3])
        await session.flush()
        session.add_all(
            [
                # overall (5.0 + 4.5 + 4.5 + 4.0) / 4 = 4.50; on time 16.1 / 4 = 4.025 -> 4.03
                rating(p1.id, at, "5.0", "4.1"),
                rating(p1.id, at, "4.5", "4.0"),
                rating(p1.id, at, "4.5", "4.0"),
                rating(p1.id, at, "4.0", "4.0"),
                rating(p1.id, before, "1.0", "1.0"),  # before the window
                rating(p3.id, at, "3.0", "3.0"),  # not approved: not listed
                assignment(p1.id, at, "offered"),
                assignment(p1.id, at, "confirmed"),
                assignment(p1.id, at, "declined"),
                assignment(p1.id, at, "recovery_requested"),
                assignment(p1.id, at, "completed"),
                gave_back,
                assignment(p1.id, before, "declined"),  # before the window
            ]
        )
        await session.flush()
        session.add(
            VendorAudit(
                id=uuid.uuid4(),
                vendor_id=p1.id,
                entity="assignment",
                entity_id=gave_back.id,
                action="status:recovery_requested",
            )
        )
    return {"p1": p1, "p2": p2, "p3": p3}


async def test_every_approved_vendor_has_its_ratings_and_assignments_of_the_window(sessions):
    window = a_window()
    v = await performance_world(sessions, window)

    async with sessions() as session:
        rows = await vendor_performance(session, window)

    mine = {
        r.vendor_id: (
            r.ratings,
            r.average_overall,
            r.average_on_time,
            r.assignments,
            r.declines,
            r.completed,
        )
        for r in rows
        if r.vendor_id in {x.id for x in v.values()}
    }
    assert mine == {
        v["p1"].id: (4, Decimal("4.50"), Decimal("4.03"), 6, 3, 1),
        v["p2"].id: (0, None, None, 0, 0, 0),
    }
    names = [r.vendor.business_name for r in rows]
    assert names == sorted(names)


PERFORMANCE = """
query($from: DateTime, $to: DateTime) {
  vendorPerformance(from: $from, to: $to) {
    vendor { id name compliance { isCompliant } }
    ratings averageOverall averageOnTime assignments declines completed
  }
}"""


async def test_vendor_performance_through_graphql_in_constant_statements(sessions, vendors_as):
    window = a_window()
    v = await performance_world(sessions, window)
    manager = await vendors_as("manager")
    span = {"from": window.start.isoformat(), "to": window.end.isoformat()}
    (await manager(PERFORMANCE, span)).ok()  # warm the caches (the viewer's first request)

    with record_statements() as recorder:
        rows = (await manager(PERFORMANCE, span)).ok()["vendorPerformance"]
    before = len(recorder.statements)
    by_id = {r["vendor"]["id"]: r for r in rows}
    assert {k: v for k, v in by_id[str(v["p1"].id)].items() if k != "vendor"} == {
        "ratings": 4,
        "averageOverall": "4.50",
        "averageOnTime": "4.03",
        "assignments": 6,
        "declines": 3,
        "completed": 1,
    }
    assert str(v["p3"].id) not in by_id

    await performance_world(sessions, window)  # two more approved vendors listed
    with record_statements() as recorder:
        more = (await manager(PERFORMANCE, span)).ok()["vendorPerformance"]
    assert len(more) == len(rows) + 2
    assert len(recorder.statements) == before
