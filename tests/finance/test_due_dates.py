"""Upcoming payment due dates: the unpaid part of instalments due in the next N days."""

from __future__ import annotations

from datetime import timedelta

from subgraphs.finance.reports.common import today
from tests.finance.test_charter_payment_status import Books, ask, sheet, write

ZONE = "America/Chicago"


def plans(b: Books) -> None:
    lakeside, northwind = b.client("Lakeside"), b.client("Northwind")
    # Deposit today, half paid; balance in 20 days.
    half = b.charter(lakeside, "CH-HALF", "1000.00", dues=(("400.00", 0), ("600.00", 20)))
    # Deposit in 14 days (the last day of the default window), unpaid.
    b.charter(northwind, "CH-EDGE", "800.00", dues=(("200.00", 14), ("600.00", 15)))
    # Paid in full: nothing to collect.
    done = b.charter(northwind, "CH-DONE", "300.00", dues=(("300.00", 2),))
    # Overdue already: not upcoming.
    b.charter(northwind, "CH-LATE", "500.00", dues=(("500.00", -1),))
    # Cancelled: owes nothing.
    b.charter(northwind, "CH-OFF", "500.00", status="cancelled", dues=(("500.00", 3),))
    b.payment(lakeside, "200.00", {half: "200.00"})
    b.payment(northwind, "300.00", {done: "300.00"})


QUERY = """query($days: Int) { upcomingDueDates(days: $days) { from to total csvUrl
  rows { reference clientName kind dueOn amount unpaid } } }"""


async def test_upcoming_due_dates_in_the_default_fortnight_and_a_wider_window(
    sessions, finance_server, http_client, mint
):
    await write(sessions, plans)
    token = await mint("manager")
    day = today(ZONE)

    report = (await ask(finance_server, http_client, token, QUERY)).ok()["upcomingDueDates"]

    assert (report["from"], report["to"]) == (
        day.isoformat(),
        (day + timedelta(days=14)).isoformat(),
    )
    assert report["rows"] == [
        {
            "reference": "CH-HALF",
            "clientName": "Lakeside",
            "kind": "deposit",
            "dueOn": day.isoformat(),
            "amount": "400.00",
            "unpaid": "200.00",
        },
        {
            "reference": "CH-EDGE",
            "clientName": "Northwind",
            "kind": "deposit",
            "dueOn": (day + timedelta(days=14)).isoformat(),
            "amount": "200.00",
            "unpaid": "200.00",
        },
    ]
    assert report["total"] == "400.00"

    wider = (await ask(finance_server, http_client, token, QUERY, days=30)).ok()
    rows = wider["upcomingDueDates"]["rows"]
    assert [(r["reference"], r["kind"], r["unpaid"]) for r in rows] == [
        ("CH-HALF", "deposit", "200.00"),
        ("CH-EDGE", "deposit", "200.00"),
        ("CH-EDGE", "balance", "600.00"),
        ("CH-HALF", "balance", "600.00"),
    ]
    assert wider["upcomingDueDates"]["total"] == "1600.00"
    lines = await sheet(finance_server, http_client, token, wider["upcomingDueDates"]["csvUrl"])
    assert lines[-1][-1] == "1600.00"
    assert len(lines) == 1 + 4 + 1
