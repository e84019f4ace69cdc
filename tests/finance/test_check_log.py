"""The daily check log: checks received per day in a range, with day totals, from real rows."""

from __future__ import annotations

from datetime import timedelta

from subgraphs.finance.reports.common import today
from tests.finance.test_charter_payment_status import Books, ask, sheet, write

ZONE = "America/Chicago"
QUERY = """query($from: Date, $to: Date) { checkLog(from: $from, to: $to) { from to count total
  csvUrl days { day count total checks { number bank payer amount } } } }"""


def deposits(b: Books) -> None:
    lakeside, northwind = b.client("Lakeside"), b.client("Northwind")
    trip = b.charter(lakeside, "CH-1", "5000.00")
    yesterday, before = b.day - timedelta(days=1), b.day - timedelta(days=2)

    def check(client, amount, number, bank, on):
        b.payment(
            client,
            amount,
            {trip: amount} if client == lakeside else {},
            method="check",
            received_on=on,
            details={"checkNumber": number, "bank": bank},
        )

    check(lakeside, "1250.00", "1001", "First Bank", yesterday)
    check(northwind, "300.50", "77", "Credit Union", yesterday)
    check(lakeside, "99.99", "1002", "First Bank", b.day)
    check(lakeside, "10.00", "990", "First Bank", before)  # before the range asked
    b.payment(lakeside, "500.00", {}, method="wire", received_on=yesterday)  # not a check


async def test_checks_by_day_with_day_totals_as_query_and_csv(
    sessions, finance_server, http_client, mint
):
    await write(sessions, deposits)
    token = await mint("accounting")
    day = today(ZONE)
    yesterday = day - timedelta(days=1)

    report = (
        await ask(
            finance_server,
            http_client,
            token,
            QUERY,
            **{"from": yesterday.isoformat(), "to": day.isoformat()},
        )
    ).ok()["checkLog"]

    assert report["days"] == [
        {
            "day": yesterday.isoformat(),
            "count": 2,
            "total": "1550.50",
            "checks": [
                {"number": "1001", "bank": "First Bank", "payer": "Lakeside", "amount": "1250.00"},
                {"number": "77", "bank": "Credit Union", "payer": "Northwind", "amount": "300.50"},
            ],
        },
        {
            "day": day.isoformat(),
            "count": 1,
            "total": "99.99",
            "checks": [
                {"number": "1002", "bank": "First Bank", "payer": "Lakeside", "amount": "99.99"},
            ],
        },
    ]
    assert (report["count"], report["total"]) == (3, "1650.49")
    lines = await sheet(finance_server, http_client, token, report["csvUrl"])
    assert lines[0] == [
        "received_on",
        "check_number",
        "bank",
        "payer_id",
        "payer",
        "amount",
        "reference",
    ]
    assert [(line[1], line[5]) for line in lines[1:]] == [
        ("1001", "1250.00"),
        ("77", "300.50"),
        ("DAY TOTAL", "1550.50"),
        ("1002", "99.99"),
        ("DAY TOTAL", "99.99"),
        ("TOTAL", "1650.49"),
    ]

    today_only = (await ask(finance_server, http_client, token, QUERY)).ok()["checkLog"]
    assert (today_only["from"], today_only["to"], today_only["total"]) == (
        day.isoformat(),
        day.isoformat(),
        "99.99",
    )
