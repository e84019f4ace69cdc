"""Unearned revenue: money received for charters that have not picked up yet, from real rows."""

from __future__ import annotations

from tests.finance.test_charter_payment_status import Books, ask, sheet, write


def trips(b: Books) -> None:
    lakeside = b.client("Lakeside")
    soon = b.charter(lakeside, "CH-SOON", "1000.00", pickup_days=3)
    later = b.charter(lakeside, "CH-LATER", "2000.00", pickup_days=90, status="confirmed")
    gone = b.charter(lakeside, "CH-GONE", "700.00", pickup_days=-2, status="completed")
    cancelled = b.charter(lakeside, "CH-OFF", "900.00", pickup_days=10, status="cancelled")
    b.charter(lakeside, "CH-UNPAID", "400.00", pickup_days=5)
    b.payment(lakeside, "1500.00", {soon: "250.00", later: "500.00", gone: "700.00"})
    b.payment(lakeside, "300.00", {later: "100.00", cancelled: "200.00"})


async def test_unearned_revenue_is_received_money_for_trips_still_ahead(
    sessions, finance_server, http_client, mint
):
    await write(sessions, trips)
    token = await mint("accounting")

    report = (
        await ask(
            finance_server,
            http_client,
            token,
            "{ unearnedRevenue { asOf total csvUrl rows { reference clientName owed received } } }",
        )
    ).ok()["unearnedRevenue"]

    # Departed (CH-GONE), cancelled (CH-OFF) and unpaid (CH-UNPAID) charters hold none.
    assert report["rows"] == [
        {"reference": "CH-SOON", "clientName": "Lakeside", "owed": "1000.00", "received": "250.00"},
        {
            "reference": "CH-LATER",
            "clientName": "Lakeside",
            "owed": "2000.00",
            "received": "600.00",
        },
    ]
    assert report["total"] == "850.00"
    lines = await sheet(finance_server, http_client, token, report["csvUrl"])
    assert [line[1] for line in lines[1:]] == ["CH-SOON", "CH-LATER", "TOTAL"]
    assert lines[-1][-1] == "850.00"
    assert [line[-1] for line in lines[1:-1]] == ["250.00", "600.00"]
