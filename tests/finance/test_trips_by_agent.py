"""Departed trips by agent and month: count, revenue (accepted price), cost and profit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tests.finance.test_charter_payment_status import Books, ask, sheet, write

ZONE = "America/Chicago"
ANNA, BOB = uuid.UUID(int=0xA), uuid.UUID(int=0xB)
QUERY = """query($from: Date, $to: Date) { departedTripsByAgent(from: $from, to: $to) {
  from to csvUrl rows { agentId agent { id } month trips revenue cost profit uncosted }
  totals { trips revenue cost profit uncosted } } }"""


def month_of(days_ago: float) -> str:
    return (
        (datetime.now(UTC) - timedelta(days=days_ago)).astimezone(ZoneInfo(ZONE)).strftime("%Y-%m")
    )


def trips(b: Books) -> None:
    c = b.client("Lakeside")
    cost = Decimal
    b.charter(
        c,
        "T-1",
        "1000.00",
        status="completed",
        pickup_days=-40,
        agent_id=ANNA,
        vehicle_cost=cost("600.00"),
    )
    b.charter(
        c,
        "T-2",
        "1500.00",
        status="completed",
        pickup_days=-40,
        agent_id=ANNA,
        vehicle_cost=cost("1000.00"),
    )
    b.charter(c, "T-3", "800.00", status="in_progress", pickup_days=-0.1, agent_id=ANNA)
    b.charter(
        c,
        "T-4",
        "2000.00",
        status="completed",
        pickup_days=-40,
        agent_id=BOB,
        vehicle_cost=cost("1250.00"),
    )
    # Not departed: pickup ahead, cancelled, or never booked.
    b.charter(c, "T-5", "900.00", pickup_days=5, agent_id=ANNA, vehicle_cost=cost("1.00"))
    b.charter(c, "T-6", "900.00", status="cancelled", pickup_days=-40, agent_id=BOB)
    b.charter(c, "T-7", None, status="quote", pickup_days=-40, agent_id=BOB)


async def test_departed_trips_by_agent_and_month_with_profit(
    sessions, finance_server, http_client, mint
):
    await write(sessions, trips)
    token = await mint("accounting")
    start = (datetime.now(UTC) - timedelta(days=60)).date().isoformat()
    end = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()

    report = (
        await ask(finance_server, http_client, token, QUERY, **{"from": start, "to": end})
    ).ok()["departedTripsByAgent"]

    rows = {(r["agentId"], r["month"]): r for r in report["rows"]}
    assert rows[(str(ANNA), month_of(40))] == {
        "agentId": str(ANNA),
        "agent": {"id": str(ANNA)},
        "month": month_of(40),
        "trips": 2,
        "revenue": "2500.00",
        "cost": "1600.00",
        "profit": "900.00",
        "uncosted": 0,
    }
    # T-3 departed a couple of hours ago, its cost not known yet: counted as 0, and said so.
    assert rows[(str(ANNA), month_of(0.1))] == {
        "agentId": str(ANNA),
        "agent": {"id": str(ANNA)},
        "month": month_of(0.1),
        "trips": 1,
        "revenue": "800.00",
        "cost": "0.00",
        "profit": "800.00",
        "uncosted": 1,
    }
    assert rows[(str(BOB), month_of(40))] == {
        "agentId": str(BOB),
        "agent": {"id": str(BOB)},
        "month": month_of(40),
        "trips": 1,
        "revenue": "2000.00",
        "cost": "1250.00",
        "profit": "750.00",
        "uncosted": 0,
    }
    assert report["totals"] == {
        "trips": 4,
        "revenue": "5300.00",
        "cost": "2850.00",
        "profit": "2450.00",
        "uncosted": 1,
    }
    assert sum(r["trips"] for r in report["rows"]) == 4
    lines = await sheet(finance_server, http_client, token, report["csvUrl"])
    assert lines[0] == ["agent_id", "month", "trips", "revenue", "cost", "profit", "uncosted"]
    assert lines[-1] == ["TOTAL", "", "4", "5300.00", "2850.00", "2450.00", "1"]

    narrow = (
        await ask(
            finance_server,
            http_client,
            token,
            QUERY,
            **{"from": (datetime.now(UTC) - timedelta(days=10)).date().isoformat(), "to": end},
        )
    ).ok()["departedTripsByAgent"]
    assert narrow["totals"]["trips"] == 1  # only T-3 picked up in the last ten days
    assert narrow["totals"]["revenue"] == "800.00"
