"""AR aging: property-tested against a direct computation, and the same figures as query and CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from subgraphs.finance.models import ClientFact, Invoice
from subgraphs.finance.service.aging import BUCKETS, age, bucket, totals
from tests.support.graphql_client import GraphQLClient

AS_OF = date(2026, 11, 30)
CLIENTS = [uuid.UUID(int=n) for n in range(1, 5)]
items = st.lists(
    st.tuples(
        st.sampled_from(CLIENTS),
        st.integers(-60, 400).map(lambda d: AS_OF - timedelta(days=d)),
        st.decimals(min_value=Decimal("0.00"), max_value=Decimal("50000.00"), places=2),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(items)
def test_every_bucket_sums_to_the_total_and_nothing_is_counted_twice(open_items):
    rows = age(open_items, AS_OF)

    positive = [(c, d, a) for c, d, a in open_items if a > 0]
    assert sum((r.total for r in rows), Decimal(0)) == sum((a for *_, a in positive), Decimal(0))
    for row in rows:
        mine = [(d, a) for c, d, a in positive if c == row.client_id]
        assert row.total == sum((a for _, a in mine), Decimal(0))
        for name in BUCKETS:
            direct = sum((a for d, a in mine if bucket((AS_OF - d).days) == name), Decimal(0))
            assert row.amounts[name] == direct
    assert sum(totals(rows).values(), Decimal(0)) == sum((r.total for r in rows), Decimal(0))
    assert len({r.client_id for r in rows}) == len(rows)


def test_bucket_edges():
    assert [bucket(d) for d in (-5, 0, 1, 30, 31, 60, 61, 90, 91, 120, 121)] == [
        "current",
        "current",
        "1-30",
        "1-30",
        "31-60",
        "31-60",
        "61-90",
        "61-90",
        "91-120",
        "91-120",
        "over_120",
    ]


QUERY = """query($d: Date!) { arAging(asOf: $d) { asOf csvUrl
  rows { clientName buckets { current days1To30 days31To60 over120 total } }
  totals { current days1To30 days31To60 days61To90 days91To120 over120 total } } }"""


async def test_the_query_and_the_csv_give_the_same_figures(
    sessions, finance_server, http_client, mint
):
    lakeside, northwind = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        for client, name in ((lakeside, "Lakeside"), (northwind, "Northwind")):
            session.add(ClientFact(client_id=client, name=name, as_of=now))
        plan = [
            (lakeside, 10, "1000.00", "0.00", "sent"),  # due 10 days ago: 1-30
            (lakeside, -5, "500.00", "100.00", "partially_paid"),  # not yet due: current 400
            (northwind, 45, "2000.00", "500.00", "overdue"),  # 31-60: 1,500
            (northwind, 200, "300.00", "0.00", "overdue"),  # over 120
            (northwind, 20, "999.00", "0.00", "void"),  # owes nothing
            (northwind, 20, "700.00", "700.00", "paid"),  # owes nothing
        ]
        for n, (client, days, total, paid, status) in enumerate(plan):
            session.add(
                Invoice(
                    id=uuid.uuid4(),
                    number=f"INV-2030-{n + 1:05d}",
                    client_id=client,
                    status=status,
                    issued_on=AS_OF - timedelta(days=days + 30),
                    due_on=AS_OF - timedelta(days=days),
                    subtotal=Decimal(total),
                    tax=Decimal("0.00"),
                    total=Decimal(total),
                    paid=Decimal(paid),
                )
            )
    token = await mint("accounting")
    report = (
        await GraphQLClient(finance_server.graphql_url, http_client, token)(
            QUERY, {"d": AS_OF.isoformat()}
        )
    ).ok()["arAging"]
    sheet = await http_client.get(
        f"{finance_server.base_url}{report['csvUrl']}", headers={"Authorization": f"Bearer {token}"}
    )

    assert report["totals"] == {
        "current": "400.00",
        "days1To30": "1000.00",
        "days31To60": "1500.00",
        "days61To90": "0.00",
        "days91To120": "0.00",
        "over120": "300.00",
        "total": "3200.00",
    }
    assert [r["clientName"] for r in report["rows"]] == ["Northwind", "Lakeside"]
    lines = list(csv.reader(io.StringIO(sheet.text)))
    assert lines[0][2:] == [*BUCKETS, "total"]
    assert lines[-1][1:] == [
        "TOTAL",
        "400.00",
        "1000.00",
        "1500.00",
        "0.00",
        "0.00",
        "300.00",
        "3200.00",
    ]
    refused = await http_client.get(
        f"{finance_server.base_url}/reports/ar-aging.csv",
        headers={"Authorization": f"Bearer {await mint('sales_agent')}"},
    )
    assert refused.status_code == 403
