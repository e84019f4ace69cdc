"""Cancellations with their fees: charters' event carries cost and cancellation into finance.

Charters' `charter_changed` now says what the vehicles cost and when, why
and for what fee a charter was cancelled; finance keeps it in its charter
facts, and the cancellations report lists what was cancelled in a range.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from subgraphs.finance.models import CharterFact
from subgraphs.finance.reports.common import today
from subgraphs.finance.service import facts
from tests.charters.ops import CANCEL
from tests.finance.conftest import event
from tests.finance.test_charter_payment_status import Books, ask, sheet, write

ZONE = "America/Chicago"


async def last_event(sessions: Any, charter_id: str) -> dict[str, Any]:
    async with sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT payload, created_at FROM charters.outbox"
                    " WHERE topic = 'charters.charter_changed' AND payload->>'charterId' = :id"
                    " ORDER BY id DESC LIMIT 1"
                ),
                {"id": charter_id},
            )
        ).one()
    return {"occurredAt": row.created_at.isoformat(), "payload": row.payload}


async def test_charters_event_carries_vehicle_cost_and_cancellation_into_finance(
    sessions, staff, bookable_charter
):
    charter = await bookable_charter(vehicles=2)  # two vehicles at 1250.00 each
    created = await last_event(sessions, charter["id"])
    assert created["payload"]["vehicleCost"] == "2500.00"
    assert created["payload"]["cancelledAt"] is None

    answer = (
        await staff(CANCEL, {"id": charter["id"], "reason": "Budget cut", "fee": "75.50"})
    ).ok()["cancelCharter"]
    assert answer["userErrors"] == []
    cancelled = await last_event(sessions, charter["id"])
    async with sessions() as session, session.begin():
        await facts.apply_charter_event(session, cancelled)
    async with sessions() as session:
        fact = await session.get(CharterFact, uuid.UUID(charter["id"]))

    assert fact is not None
    assert fact.status == "cancelled"
    assert fact.vehicle_cost == Decimal("2500.00")
    assert fact.cancellation_fee == Decimal("75.50")
    assert fact.cancellation_reason == "Budget cut"
    async with sessions() as session:
        when = await session.scalar(
            text("SELECT cancelled_at FROM charters.charters WHERE id = :id"), {"id": charter["id"]}
        )
    assert when is not None
    assert fact.cancelled_at == when


async def test_an_event_without_the_new_keys_keeps_what_finance_knows(sessions):
    charter_id, client_id = str(uuid.uuid4()), str(uuid.uuid4())
    base = {
        "charterId": charter_id,
        "clientId": client_id,
        "status": "booked",
        "pickupAt": (datetime.now(UTC) + timedelta(days=9)).isoformat(),
    }
    async with sessions() as session, session.begin():
        await facts.apply_charter_event(session, event({**base, "vehicleCost": "900.00"}))
        await facts.apply_charter_event(session, event(base))  # an older charters' shape
    async with sessions() as session:
        fact = await session.get(CharterFact, uuid.UUID(charter_id))
    assert fact is not None
    assert fact.vehicle_cost == Decimal("900.00")

    async with sessions() as session, session.begin():
        await facts.apply_charter_event(session, event({**base, "vehicleCost": None}))
    async with sessions() as session:
        fact = await session.get(CharterFact, uuid.UUID(charter_id))
    assert fact is not None
    assert fact.vehicle_cost is None


def cancelled_charters(b: Books) -> None:
    lakeside, northwind = b.client("Lakeside"), b.client("Northwind")
    day_start = datetime.combine(b.day, datetime.min.time(), tzinfo=ZoneInfo(ZONE))
    fee_kept = b.charter(
        lakeside,
        "CH-FEE",
        "1000.00",
        status="cancelled",
        cancelled_at=day_start + timedelta(hours=1),
        cancellation_fee=Decimal("150.00"),
        cancellation_reason="Weather",
    )
    b.charter(
        northwind,
        "CH-FREE",
        "400.00",
        status="cancelled",
        cancelled_at=day_start + timedelta(hours=23, minutes=30),
        cancellation_reason=None,
    )
    # 00:30 local the day after the range's end (05:30 or 06:30 UTC): out of range.
    b.charter(
        northwind,
        "CH-NEXT",
        "300.00",
        status="cancelled",
        cancelled_at=day_start + timedelta(days=1, minutes=30),
        cancellation_fee=Decimal("30.00"),
    )
    # Long ago: out of range.
    b.charter(
        lakeside,
        "CH-OLD",
        "300.00",
        status="cancelled",
        cancelled_at=day_start - timedelta(days=60),
        cancellation_fee=Decimal("10.00"),
    )
    b.charter(lakeside, "CH-LIVE", "500.00")  # booked, not cancelled
    b.payment(lakeside, "250.00", {fee_kept: "250.00"})


QUERY = """query($from: Date, $to: Date) { cancellations(from: $from, to: $to) { from to csvUrl
  rows { reference clientName owed fee paid reason }
  totals { count owed fees paid } } }"""


async def test_cancellations_in_the_operators_days_with_fees_and_totals(
    sessions, finance_server, http_client, mint
):
    await write(sessions, cancelled_charters)
    token = await mint("accounting")
    day = today(ZONE)

    report = (
        await ask(
            finance_server,
            http_client,
            token,
            QUERY,
            **{"from": (day - timedelta(days=7)).isoformat(), "to": day.isoformat()},
        )
    ).ok()["cancellations"]

    assert report["rows"] == [
        {
            "reference": "CH-FEE",
            "clientName": "Lakeside",
            "owed": "1000.00",
            "fee": "150.00",
            "paid": "250.00",
            "reason": "Weather",
        },
        {
            "reference": "CH-FREE",
            "clientName": "Northwind",
            "owed": "400.00",
            "fee": "0.00",
            "paid": "0.00",
            "reason": None,
        },
    ]
    assert report["totals"] == {"count": 2, "owed": "1400.00", "fees": "150.00", "paid": "250.00"}
    lines = await sheet(finance_server, http_client, token, report["csvUrl"])
    assert [line[2] for line in lines[1:]] == ["CH-FEE", "CH-FREE", "TOTAL"]
    assert lines[-1][7:10] == ["1400.00", "150.00", "250.00"]
