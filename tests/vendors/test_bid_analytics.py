"""Bid analytics (issue 16 §2 "vendor bid analytics", §4 the vendor's and manager's dashboards).

Each test builds its bids directly in a window of its own, years in the
past, so that the operator-wide totals of that window are exactly its own.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from db.engine import record_statements
from subgraphs.kit.errors import ServiceError
from subgraphs.vendors.models import Bid, Vendor, VendorUser
from subgraphs.vendors.service.bid_analytics import bid_analytics, vendor_statistics
from subgraphs.vendors.service.figures import Window, two_places

NOW = datetime.now(UTC)


def a_window() -> Window:
    """A day of its own, between 2001 and 2030 (no other test bids there)."""
    start = datetime(2001, 1, 1, tzinfo=UTC) + timedelta(days=uuid.uuid4().int % 10_000)
    return Window(start, start + timedelta(days=1))


async def add_vendors(sessions: Any, *names: str) -> list[uuid.UUID]:
    tag = uuid.uuid4().hex[:6]
    rows = [
        Vendor(id=uuid.uuid4(), business_name=f"{name} {tag}", vendor_type="broker")
        for name in names
    ]
    async with sessions() as session, session.begin():
        session.add_all(rows)
    return [r.id for r in rows]


def bid(
    vendor_id: uuid.UUID,
    charter_id: uuid.UUID,
    amount: str,
    submitted_at: datetime | None,
    status: str,
    *,
    vehicle: uuid.UUID | None = None,
    valid: bool = True,
) -> Bid:
    return Bid(
        id=uuid.uuid4(),
        vendor_id=vendor_id,
        charter_id=charter_id,
        charter_vehicle_id=vehicle,
        amount=Decimal(amount),
        vehicle_type="coach",
        vehicle_count=1,
        # A live bid still valid is pending; one past its validity reads as expired.
        valid_until=NOW + timedelta(days=30 if valid else -1),
        status=status,
        submitted_at=submitted_at,
    )


async def bidding_world(sessions: Any, window: Window) -> dict[str, uuid.UUID]:
    """Three vendors bidding on three charters (see the expectations below).

    - charter 1, vehicle 1: A 1000 accepted, B 1100 rejected, C 1250 withdrawn;
      C's draft of 900 never submitted;
    - charter 2, whole charter: A 2000 submitted (valid), B 1900 submitted but
      past its validity (expired);
    - charter 3, vehicle 3: B 500 submitted before the window (the lowest
      still), A 600 rejected in the window; C 300 submitted after the window
      (neither counted nor the lowest of the window).
    """
    a, b, c = await add_vendors(sessions, "Alpha", "Bravo", "Charlie")
    c1, c2, c3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    v1, v3 = uuid.uuid4(), uuid.uuid4()
    at = window.start + timedelta(hours=1)
    async with sessions() as session, session.begin():
        session.add_all(
            [
                bid(a, c1, "1000.00", at, "accepted", vehicle=v1),
                bid(b, c1, "1100.00", at, "rejected", vehicle=v1),
                bid(c, c1, "1250.00", at, "withdrawn", vehicle=v1),
                bid(c, c1, "900.00", None, "draft", vehicle=v1),
                bid(a, c2, "2000.00", at, "submitted"),
                bid(b, c2, "1900.00", at, "under_review", valid=False),
                bid(b, c3, "500.00", window.start - timedelta(days=3), "submitted", vehicle=v3),
                bid(a, c3, "600.00", at, "rejected", vehicle=v3),
                bid(c, c3, "300.00", window.end, "submitted", vehicle=v3),
            ]
        )
    return {"a": a, "b": b, "c": c}


async def test_bid_analytics_counts_wins_losses_pending_and_distance_from_lowest(sessions):
    window = a_window()
    v = await bidding_world(sessions, window)

    async with sessions() as session:
        result = await bid_analytics(session, window, NOW)

    assert (result.charters, result.bids, result.bids_per_charter) == (3, 6, Decimal("2.00"))
    rows = [
        (
            r.vendor_id,
            r.bids,
            r.won,
            r.lost,
            r.pending,
            r.win_rate,
            r.average_above_lowest_percent,
        )
        for r in result.vendors
    ]
    assert rows == [
        # (0 + (2000-1900)/1900 + (600-500)/500) / 3 = (0 + 5.263157.. + 20) / 3 = 8.4210..
        (v["a"], 3, 1, 1, 1, Decimal("0.5000"), Decimal("8.42")),
        # Its expired bid is neither lost nor pending; (10 + 0) / 2.
        (v["b"], 2, 0, 1, 0, Decimal("0.0000"), Decimal("5.00")),
        # Withdrawn only: nothing decided, no win rate.
        (v["c"], 1, 0, 0, 0, None, Decimal("25.00")),
    ]


async def test_a_window_without_bids_has_zeros_and_no_ratio(sessions):
    async with sessions() as session:
        result = await bid_analytics(session, a_window(), NOW)

    assert (result.charters, result.bids, result.bids_per_charter, result.vendors) == (
        0,
        0,
        None,
        [],
    )


async def test_one_vendors_statistics_are_its_row_of_the_analytics(sessions):
    window = a_window()
    v = await bidding_world(sessions, window)

    async with sessions() as session:
        whole = await bid_analytics(session, window, NOW)
        only_b = await vendor_statistics(session, window, NOW, [v["b"]])

    assert only_b == [r for r in whole.vendors if r.vendor_id == v["b"]]


def test_averages_round_half_up_to_two_places():
    assert two_places(Decimal("4.025")) == Decimal("4.03")
    assert two_places(None) is None


def test_the_window_defaults_to_the_days_before_now_and_refuses_a_backwards_one():
    assert Window.of(None, None, default_days=90, now=NOW) == Window(NOW - timedelta(days=90), NOW)
    end = datetime(2026, 3, 1, tzinfo=UTC)
    assert Window.of(None, end, default_days=90, now=NOW).start == end - timedelta(days=90)

    with pytest.raises(ServiceError) as refused:
        Window.of(end, end, default_days=90, now=NOW)
    assert [(p.code, p.field) for p in refused.value.problems] == [("OUT_OF_RANGE", "from")]


# -- through GraphQL ---------------------------------------------------------

ANALYTICS = """
query($from: DateTime, $to: DateTime) {
  bidAnalytics(from: $from, to: $to) {
    from to charters bids bidsPerCharter
    vendors { vendor { id name } bids won lost pending winRate averageAboveLowestPercent }
  }
}"""
OWN = """
query($from: DateTime, $to: DateTime) {
  myVendor { id bidStatistics(from: $from, to: $to) { vendor { id } bids won lost winRate } }
}"""
OF_VENDOR = """
query($id: ID!, $from: DateTime, $to: DateTime) {
  vendor(id: $id) { id bidStatistics(from: $from, to: $to) { bids won } }
}"""
LISTED = """
query($search: String, $from: DateTime, $to: DateTime) {
  vendors(first: 10, search: $search) {
    edges { node { name bidStatistics(from: $from, to: $to) { bids won vendor { name } } } }
  }
}"""


def span(window: Window) -> dict[str, str]:
    return {"from": window.start.isoformat(), "to": window.end.isoformat()}


async def test_bid_analytics_through_graphql_for_a_dispatcher(sessions, vendors_as):
    window = a_window()
    v = await bidding_world(sessions, window)
    dispatcher = await vendors_as("dispatcher")

    answer = (await dispatcher(ANALYTICS, span(window))).ok()["bidAnalytics"]

    assert (answer["charters"], answer["bids"], answer["bidsPerCharter"]) == (3, 6, "2.00")
    assert answer["from"].startswith(window.start.date().isoformat())
    assert [
        (r["vendor"]["id"], r["won"], r["lost"], r["winRate"], r["averageAboveLowestPercent"])
        for r in answer["vendors"]
    ] == [
        (str(v["a"]), 1, 1, "0.5000", "8.42"),
        (str(v["b"]), 0, 1, "0.0000", "5.00"),
        (str(v["c"]), 0, 0, None, "25.00"),
    ]

    backwards = await dispatcher(
        ANALYTICS, {"from": span(window)["to"], "to": span(window)["from"]}
    )
    assert backwards.error_codes == ["BAD_USER_INPUT"]


async def test_a_vendor_reads_its_own_bid_statistics_and_a_sales_agent_none(sessions, vendors_as):
    window = a_window()
    v = await bidding_world(sessions, window)
    user_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(VendorUser(user_id=user_id, vendor_id=v["a"]))
    vendor = await vendors_as("vendor", user_id=user_id)

    own = (await vendor(OWN, span(window))).ok()["myVendor"]["bidStatistics"]
    assert own == {
        "vendor": {"id": str(v["a"])},
        "bids": 3,
        "won": 1,
        "lost": 1,
        "winRate": "0.5000",
    }
    # Another vendor's record is not its to read (the vendor itself is not found).
    other = await vendor(OF_VENDOR, {"id": str(v["b"]), **span(window)})
    assert other.error_codes == ["NOT_FOUND"]
    assert (await vendor(ANALYTICS, span(window))).error_codes == ["FORBIDDEN"]

    agent = await vendors_as("sales_agent")
    denied = await agent(OF_VENDOR, {"id": str(v["a"]), **span(window)})
    assert denied.error_codes == ["FORBIDDEN"]
    assert denied.data["vendor"] == {"id": str(v["a"]), "bidStatistics": None}


async def test_nested_bid_statistics_take_the_same_statements_for_one_or_three_vendors(
    sessions, vendors_as
):
    window = a_window()
    v = await bidding_world(sessions, window)
    manager = await vendors_as("manager")
    async with sessions() as session:
        names = {
            key: await session.scalar(
                Vendor.__table__.select()
                .with_only_columns(Vendor.business_name)
                .where(Vendor.id == vendor_id)
            )
            for key, vendor_id in v.items()
        }
    tag = names["a"].split()[-1]  # the three share the tag: "<name> <tag>"

    (await manager(ANALYTICS, span(window))).ok()  # warm the caches (the viewer's first request)

    async def statements(search: str) -> tuple[int, list[Any]]:
        with record_statements() as recorder:
            answer = (await manager(LISTED, {"search": search, **span(window)})).ok()
        return len(recorder.statements), answer["vendors"]["edges"]

    one, edges_one = await statements(names["a"])
    three, edges_three = await statements(tag)

    assert [e["node"]["bidStatistics"]["bids"] for e in edges_one] == [3]
    assert [e["node"]["bidStatistics"]["bids"] for e in edges_three] == [3, 2, 1]
    assert one == three

    with record_statements() as recorder:
        (await manager(ANALYTICS, span(window))).ok()
    # Totals, the per-vendor rows, the vendors of the rows (one batch).
    assert len(recorder.statements) == 3
