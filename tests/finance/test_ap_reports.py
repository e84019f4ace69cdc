"""AP aging and vendor payables: property-tested against a direct sum, same figures as CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from subgraphs.finance.models import BILL_STATUSES, VendorBill, VendorFact
from subgraphs.finance.service import aging, bills
from tests.support.graphql_client import GraphQLClient

AS_OF = date(2026, 11, 30)
VENDORS = [uuid.UUID(int=n) for n in range(1, 5)]
ZERO = Decimal("0.00")


@st.composite
def a_bill(draw: st.DrawFn) -> tuple[uuid.UUID, date, Decimal, Decimal, str]:
    """(vendor, due date, total, paid, status) as the table allows them."""
    total = draw(st.decimals(min_value=ZERO, max_value=Decimal("50000.00"), places=2))
    status = draw(st.sampled_from(BILL_STATUSES))
    if status == "paid":
        paid = total
    else:
        paid = draw(st.decimals(min_value=ZERO, max_value=total, places=2))
    due = AS_OF - timedelta(days=draw(st.integers(-60, 400)))
    return draw(st.sampled_from(VENDORS)), due, total, paid, status


def owing(book: list[tuple[uuid.UUID, date, Decimal, Decimal, str]]) -> list[tuple]:
    """What `bills.ap_aging` selects: bills not paid that still owe something."""
    return [(v, d, t - p) for v, d, t, p, s in book if s in bills.OWING and t > p]


@settings(max_examples=300, deadline=None)
@given(st.lists(a_bill(), max_size=60))
def test_ap_aging_buckets_sum_to_what_each_vendor_is_owed_and_nothing_twice(book):
    rows = aging.age(owing(book), AS_OF)

    direct_total = sum((t - p for _, _, t, p, s in book if s != "paid"), ZERO)
    assert sum((r.total for r in rows), ZERO) == direct_total
    for row in rows:
        mine = [(d, t - p) for v, d, t, p, s in book if v == row.client_id and s != "paid"]
        assert row.total == sum((a for _, a in mine), ZERO)
        for name in aging.BUCKETS:
            direct = sum((a for d, a in mine if aging.bucket((AS_OF - d).days) == name), ZERO)
            assert row.amounts[name] == direct
    assert sum(aging.totals(rows).values(), ZERO) == direct_total
    assert len({r.client_id for r in rows}) == len(rows)


@settings(max_examples=300, deadline=None)
@given(st.lists(a_bill(), max_size=60))
def test_vendor_payables_sum_each_vendors_bills_once(book):
    rows = bills.payables((v, t, p, s) for v, _, t, p, s in book)

    assert len({r.vendor_id for r in rows}) == len(rows)
    assert {r.vendor_id for r in rows} == {v for v, *_ in book}
    for row in rows:
        mine = [(t, p, s) for v, _, t, p, s in book if v == row.vendor_id]
        assert row.billed == sum((t for t, _, _ in mine), ZERO)
        assert row.paid == sum((p for _, p, _ in mine), ZERO)
        assert row.owed == row.billed - row.paid
        assert row.overdue == sum((t - p for t, p, s in mine if s == "overdue"), ZERO)
        assert ZERO <= row.overdue <= row.owed
    assert sum((r.owed for r in rows), ZERO) == sum((t - p for _, _, t, p, _ in book), ZERO)
    assert [r.owed for r in rows] == sorted((r.owed for r in rows), reverse=True)


AP_QUERY = """query($d: Date!) { apAging(asOf: $d) { asOf csvUrl
  rows { vendorName buckets { current days1To30 days31To60 over120 total } }
  totals { current days1To30 days31To60 days61To90 days91To120 over120 total } } }"""
PAYABLES_QUERY = """{ vendorPayables { csvUrl totalBilled totalPaid totalOwed totalOverdue
  rows { vendorName billed paid owed overdue } } }"""


async def test_the_queries_and_the_csvs_give_the_same_exact_figures(
    sessions, finance_server, http_client, mint
):
    prairie, summit = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        for vendor, name in ((prairie, "Prairie"), (summit, "Summit")):
            session.add(VendorFact(vendor_id=vendor, name=name, as_of=now))
        plan = [
            (prairie, 10, "1000.00", "0.00", "overdue"),  # 1-30: 1,000
            (prairie, -5, "500.00", "100.00", "partially_paid"),  # current: 400
            (summit, 45, "2000.00", "500.00", "overdue"),  # 31-60: 1,500
            (summit, 200, "300.00", "0.00", "disputed"),  # over 120: 300 (still owed)
            (summit, 20, "700.00", "700.00", "paid"),  # owes nothing
            (summit, 3, "250.00", "0.00", "received"),  # 1-30: 250
        ]
        for n, (vendor, days, total, paid, status) in enumerate(plan):
            session.add(
                VendorBill(
                    id=uuid.uuid4(),
                    number=f"BILL-2030-{n + 1:05d}",
                    vendor_id=vendor,
                    bill_date=AS_OF - timedelta(days=days + 30),
                    terms="net_30",
                    due_on=AS_OF - timedelta(days=days),
                    subtotal=Decimal(total),
                    tax=ZERO,
                    total=Decimal(total),
                    paid=Decimal(paid),
                    status=status,
                )
            )
    token = await mint("accounting")
    caller = GraphQLClient(finance_server.graphql_url, http_client, token)
    headers = {"Authorization": f"Bearer {token}"}

    ap = (await caller(AP_QUERY, {"d": AS_OF.isoformat()})).ok()["apAging"]
    payables = (await caller(PAYABLES_QUERY)).ok()["vendorPayables"]
    ap_sheet = await http_client.get(f"{finance_server.base_url}{ap['csvUrl']}", headers=headers)
    payables_sheet = await http_client.get(
        f"{finance_server.base_url}{payables['csvUrl']}", headers=headers
    )

    assert ap["totals"] == {
        "current": "400.00",
        "days1To30": "1250.00",
        "days31To60": "1500.00",
        "days61To90": "0.00",
        "days91To120": "0.00",
        "over120": "300.00",
        "total": "3450.00",
    }
    assert [(r["vendorName"], r["buckets"]["total"]) for r in ap["rows"]] == [
        ("Summit", "2050.00"),
        ("Prairie", "1400.00"),
    ]
    ap_lines = list(csv.reader(io.StringIO(ap_sheet.text)))
    assert ap_sheet.headers["content-type"].startswith("text/csv")
    assert ap_lines[0] == ["vendor_id", "vendor", *aging.BUCKETS, "total"]
    assert ap_lines[-1][1:] == [
        "TOTAL",
        "400.00",
        "1250.00",
        "1500.00",
        "0.00",
        "0.00",
        "300.00",
        "3450.00",
    ]

    assert payables["rows"] == [
        {
            "vendorName": "Summit",
            "billed": "3250.00",
            "paid": "1200.00",
            "owed": "2050.00",
            "overdue": "1500.00",
        },
        {
            "vendorName": "Prairie",
            "billed": "1500.00",
            "paid": "100.00",
            "owed": "1400.00",
            "overdue": "1000.00",
        },
    ]
    assert (
        payables["totalBilled"],
        payables["totalPaid"],
        payables["totalOwed"],
        payables["totalOverdue"],
    ) == ("4750.00", "1300.00", "3450.00", "2500.00")
    payable_lines = list(csv.reader(io.StringIO(payables_sheet.text)))
    assert payable_lines[0] == ["vendor_id", "vendor", "billed", "paid", "owed", "overdue"]
    assert payable_lines[1][1:] == ["Summit", "3250.00", "1200.00", "2050.00", "1500.00"]
    assert payable_lines[-1][1:] == ["TOTAL", "4750.00", "1300.00", "3450.00", "2500.00"]


async def test_the_ap_reports_are_for_finance_staff_only(finance_server, http_client, mint):
    for role in ("vendor", "sales_agent", "driver"):
        token = await mint(role)
        caller = GraphQLClient(finance_server.graphql_url, http_client, token)
        headers = {"Authorization": f"Bearer {token}"}

        ap = await caller(AP_QUERY, {"d": AS_OF.isoformat()})
        payables = await caller(PAYABLES_QUERY)
        sheets = [
            await http_client.get(f"{finance_server.base_url}{path}", headers=headers)
            for path in ("/reports/ap-aging.csv", "/reports/vendor-payables.csv")
        ]

        assert ap.error_codes == ["FORBIDDEN"], role
        assert payables.error_codes == ["FORBIDDEN"], role
        assert [s.status_code for s in sheets] == [403, 403], role
    anonymous = await http_client.get(f"{finance_server.base_url}/reports/ap-aging.csv")
    assert anonymous.status_code == 401
