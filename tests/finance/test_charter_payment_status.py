"""Charter payment status, zero-balance charters and outstanding receivables from real rows.

Given charters, plans, payments, an unapplied application and a refund in
PostgreSQL, the three reports give exact figures as queries and as CSV
(the same ones), and only finance staff read them.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from subgraphs.finance.models import (
    CharterFact,
    ClientFact,
    Instalment,
    Payment,
    PaymentApplication,
    PaymentPlan,
)
from subgraphs.finance.reports.charter_payment_status import HEADER
from subgraphs.finance.reports.common import today
from subgraphs.finance.service import charter_payment_status, outstanding_receivables
from tests.support.graphql_client import GraphQLClient

ZONE = "America/Chicago"


class Books:
    """Finance's rows for a test, written as charters', pricing's and accounting's facts."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)
        self.day = today(ZONE)
        #: Rows by level: a level's rows reference only earlier levels' (no ORM relationships
        #: to order the inserts by).
        self.levels: list[list[Any]] = [[], [], []]

    async def save(self, session: Any) -> None:
        for level in self.levels:
            session.add_all(level)
            await session.flush()

    def client(self, name: str) -> uuid.UUID:
        client_id = uuid.uuid4()
        self.levels[0].append(ClientFact(client_id=client_id, name=name, as_of=self.now))
        return client_id

    def charter(
        self,
        client_id: uuid.UUID,
        reference: str,
        owed: str | None,
        *,
        status: str = "booked",
        pickup_days: float = 60,
        dues: tuple[tuple[str, int], ...] = (),
        agent_id: uuid.UUID | None = None,
        **facts: Any,
    ) -> uuid.UUID:
        charter_id = uuid.uuid4()
        self.levels[0].append(
            CharterFact(
                charter_id=charter_id,
                reference=reference,
                client_id=client_id,
                sales_agent_id=agent_id,
                status=status,
                pickup_at=self.now + timedelta(days=pickup_days),
                as_of=self.now,
                accepted_total=Decimal(owed) if owed is not None else None,
                **facts,
            )
        )
        if dues:
            total = sum((Decimal(a) for a, _ in dues), Decimal(0))
            self.levels[0].append(
                PaymentPlan(charter_id=charter_id, client_id=client_id, total=total)
            )
            for n, (amount, days) in enumerate(dues, start=1):
                self.levels[1].append(
                    Instalment(
                        id=uuid.uuid4(),
                        charter_id=charter_id,
                        sequence=n,
                        kind="deposit" if n == 1 else "balance",
                        amount=Decimal(amount),
                        due_on=self.day + timedelta(days=days),
                    )
                )
        return charter_id

    def payment(
        self,
        client_id: uuid.UUID,
        amount: str,
        applications: dict[uuid.UUID, str],
        *,
        method: str = "wire",
        received_on: date | None = None,
        details: dict[str, Any] | None = None,
        unapplied: dict[uuid.UUID, str] | None = None,
        refund_of: uuid.UUID | None = None,
    ) -> uuid.UUID:
        payment_id = uuid.uuid4()
        applied = sum((Decimal(a) for a in applications.values()), Decimal("0.00"))
        self.levels[1].append(
            Payment(
                id=payment_id,
                client_id=client_id,
                kind="refund" if refund_of else "payment",
                refund_of_id=refund_of,
                amount=Decimal(amount),
                applied=applied,
                received_on=received_on or self.day,
                method=method,
                details=details or {},
            )
        )
        rows = [(c, a, None) for c, a in applications.items()]
        rows += [(c, a, self.now) for c, a in (unapplied or {}).items()]
        for charter_id, part, gone in rows:
            self.levels[2].append(
                PaymentApplication(
                    id=uuid.uuid4(),
                    payment_id=payment_id,
                    charter_id=charter_id,
                    amount=Decimal(part),
                    idempotency_key=str(uuid.uuid4()),
                    unapplied_at=gone,
                )
            )
        return payment_id


async def write(sessions: Any, build: Any) -> Any:
    books = Books()
    made = build(books)
    async with sessions() as session, session.begin():
        await books.save(session)
    return made


async def ask(server: Any, http_client: Any, token: str, query: str, **variables: Any) -> Any:
    return await GraphQLClient(server.graphql_url, http_client, token)(query, variables)


async def sheet(server: Any, http_client: Any, token: str, url: str) -> list[list[str]]:
    answer = await http_client.get(
        f"{server.base_url}{url}", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return list(csv.reader(io.StringIO(answer.text)))


def lakeside_and_northwind(b: Books) -> dict[str, uuid.UUID]:
    lakeside, northwind = b.client("Lakeside"), b.client("Northwind")
    c1 = b.charter(lakeside, "CH-1", "1000.00", dues=(("250.00", -40), ("750.00", -5)))
    c2 = b.charter(lakeside, "CH-2", "2000.00", dues=(("500.00", -10), ("1500.00", 20)))
    c3 = b.charter(
        lakeside, "CH-3", "800.00", status="confirmed", dues=(("100.00", 3), ("700.00", 30))
    )
    c4 = b.charter(northwind, "CH-4", "1200.00", dues=(("300.00", 7), ("900.00", 40)))
    cancelled = b.charter(northwind, "CH-5", "900.00", status="cancelled")
    b.charter(northwind, "CH-6", None, status="quote")
    b.payment(
        lakeside,
        "1300.00",
        {c1: "1000.00", c2: "300.00"},
        method="check",
        details={"checkNumber": "1001", "bank": "First Bank"},
    )
    p3 = b.payment(lakeside, "900.00", {c3: "500.00"}, unapplied={c3: "400.00"})
    b.payment(northwind, "100.00", {cancelled: "100.00"})
    return {"c1": c1, "c2": c2, "c3": c3, "c4": c4, "p3": p3, "lakeside": lakeside}


STATUS = """query($s: CharterPaymentStatus) { charterPaymentStatus(status: $s) { asOf csvUrl
  counts { paid partiallyPaid unpaid overdue }
  rows { reference clientName status owed paid outstanding due overdue }
  totals { count owed paid outstanding due overdue } } }"""


async def test_each_booked_charter_in_one_class_with_exact_figures(
    sessions, finance_server, http_client, mint
):
    await write(sessions, lakeside_and_northwind)
    token = await mint("accounting")

    report = (await ask(finance_server, http_client, token, STATUS)).ok()["charterPaymentStatus"]

    assert report["asOf"] == today(ZONE).isoformat()
    assert report["counts"] == {"paid": 1, "partiallyPaid": 1, "unpaid": 1, "overdue": 1}
    assert report["rows"] == [
        {
            "reference": "CH-1",
            "clientName": "Lakeside",
            "status": "PAID",
            "owed": "1000.00",
            "paid": "1000.00",
            "outstanding": "0.00",
            "due": "0.00",
            "overdue": "0.00",
        },
        # 300 paid covers 300 of the 500 deposit due ten days ago: 200 overdue.
        {
            "reference": "CH-2",
            "clientName": "Lakeside",
            "status": "OVERDUE",
            "owed": "2000.00",
            "paid": "300.00",
            "outstanding": "1700.00",
            "due": "200.00",
            "overdue": "200.00",
        },
        # 500 applied and 400 unapplied again (not counted): 500 paid.
        {
            "reference": "CH-3",
            "clientName": "Lakeside",
            "status": "PARTIALLY_PAID",
            "owed": "800.00",
            "paid": "500.00",
            "outstanding": "300.00",
            "due": "0.00",
            "overdue": "0.00",
        },
        {
            "reference": "CH-4",
            "clientName": "Northwind",
            "status": "UNPAID",
            "owed": "1200.00",
            "paid": "0.00",
            "outstanding": "1200.00",
            "due": "0.00",
            "overdue": "0.00",
        },
    ]
    assert report["totals"] == {
        "count": 4,
        "owed": "5000.00",
        "paid": "1800.00",
        "outstanding": "3200.00",
        "due": "200.00",
        "overdue": "200.00",
    }

    overdue_only = (await ask(finance_server, http_client, token, STATUS, s="OVERDUE")).ok()
    only = overdue_only["charterPaymentStatus"]
    assert [r["reference"] for r in only["rows"]] == ["CH-2"]
    assert only["counts"] == report["counts"]
    lines = await sheet(finance_server, http_client, token, only["csvUrl"])
    assert lines[0] == HEADER
    assert [line[1] for line in lines[1:]] == ["CH-2", "TOTAL"]
    assert lines[-1][6:] == ["2000.00", "300.00", "1700.00", "200.00", "200.00"]


async def test_zero_balance_charters_are_the_paid_ones(sessions, finance_server, http_client, mint):
    await write(sessions, lakeside_and_northwind)
    token = await mint("manager")

    report = (
        await ask(
            finance_server,
            http_client,
            token,
            "{ zeroBalanceCharters { csvUrl rows { reference status owed paid outstanding } "
            "totals { count owed paid } } }",
        )
    ).ok()["zeroBalanceCharters"]

    assert report["rows"] == [
        {
            "reference": "CH-1",
            "status": "PAID",
            "owed": "1000.00",
            "paid": "1000.00",
            "outstanding": "0.00",
        }
    ]
    assert report["totals"] == {"count": 1, "owed": "1000.00", "paid": "1000.00"}
    lines = await sheet(finance_server, http_client, token, report["csvUrl"])
    assert [line[1] for line in lines[1:]] == ["CH-1", "TOTAL"]


async def test_outstanding_receivables_by_client_sum_their_charters(
    sessions, finance_server, http_client, mint
):
    await write(sessions, lakeside_and_northwind)
    token = await mint("admin")

    report = (
        await ask(
            finance_server,
            http_client,
            token,
            "{ outstandingReceivables { csvUrl rows { clientName charters owed paid outstanding "
            "overdue } totals { charters owed paid outstanding overdue } } }",
        )
    ).ok()["outstandingReceivables"]

    assert report["rows"] == [
        {
            "clientName": "Lakeside",
            "charters": 3,
            "owed": "3800.00",
            "paid": "1800.00",
            "outstanding": "2000.00",
            "overdue": "200.00",
        },
        {
            "clientName": "Northwind",
            "charters": 1,
            "owed": "1200.00",
            "paid": "0.00",
            "outstanding": "1200.00",
            "overdue": "0.00",
        },
    ]
    assert report["totals"] == {
        "charters": 4,
        "owed": "5000.00",
        "paid": "1800.00",
        "outstanding": "3200.00",
        "overdue": "200.00",
    }
    lines = await sheet(finance_server, http_client, token, report["csvUrl"])
    assert lines[0] == ["client_id", "client", "charters", "owed", "paid", "outstanding", "overdue"]
    assert lines[-1] == ["", "TOTAL", "4", "5000.00", "1800.00", "3200.00", "200.00"]
    # The same figures the service gives straight from the rows.
    async with sessions() as session:
        rows = await outstanding_receivables.outstanding_receivables(session, today(ZONE))
        every = await charter_payment_status.payment_status(session, today(ZONE))
    assert outstanding_receivables.totals(rows).outstanding == sum(
        (r.charter.outstanding for r in every), Decimal(0)
    )


REPORT_QUERIES = {
    "outstandingReceivables": "{ outstandingReceivables { asOf } }",
    "charterPaymentStatus": "{ charterPaymentStatus { asOf } }",
    "zeroBalanceCharters": "{ zeroBalanceCharters { asOf } }",
    "unearnedRevenue": "{ unearnedRevenue { total } }",
    "checkLog": "{ checkLog { total } }",
    "upcomingDueDates": "{ upcomingDueDates { total } }",
    "departedTripsByAgent": "{ departedTripsByAgent { to } }",
    "cancellations": "{ cancellations { to } }",
}
CSV_URLS = [
    "/reports/outstanding-receivables.csv",
    "/reports/charter-payment-status.csv",
    "/reports/zero-balance-charters.csv",
    "/reports/unearned-revenue.csv",
    "/reports/check-log.csv",
    "/reports/upcoming-due-dates.csv",
    "/reports/departed-trips.csv",
    "/reports/cancellations.csv",
]


@pytest.mark.parametrize("role", ["sales_agent", "sales_support", "client", "vendor", "driver"])
async def test_only_finance_staff_read_the_receivables_reports(
    role, sessions, finance_server, http_client, mint
):
    await write(sessions, lakeside_and_northwind)
    token = await mint(role, client_id=uuid.uuid4() if role == "client" else None)

    for name, query in REPORT_QUERIES.items():
        answer = await ask(finance_server, http_client, token, query)
        assert answer.error_codes == ["FORBIDDEN"], (name, answer.body)
        assert answer.data is None or answer.data.get(name) is None
    for url in CSV_URLS:
        refused = await http_client.get(
            f"{finance_server.base_url}{url}", headers={"Authorization": f"Bearer {token}"}
        )
        assert refused.status_code == 403, url
        assert "TOTAL" not in refused.text
    anonymous = await http_client.get(f"{finance_server.base_url}{CSV_URLS[0]}")
    assert anonymous.status_code == 401


async def test_a_bad_parameter_is_a_400_or_a_bad_user_input(finance_server, http_client, mint):
    token = await mint("accounting")
    headers = {"Authorization": f"Bearer {token}"}
    for url in (
        "/reports/charter-payment-status.csv?status=late",
        "/reports/upcoming-due-dates.csv?days=-1",
        "/reports/check-log.csv?from=2026-02-01&to=2026-01-01",
        "/reports/cancellations.csv?from=yesterday",
    ):
        answer = await http_client.get(f"{finance_server.base_url}{url}", headers=headers)
        assert answer.status_code == 400, url
    for query in (
        "{ upcomingDueDates(days: 400) { total } }",
        '{ checkLog(from: "2026-02-01", to: "2026-01-01") { total } }',
        '{ departedTripsByAgent(from: "2026-02-01", to: "2026-01-01") { to } }',
        '{ cancellations(from: "2026-02-01", to: "2026-01-01") { to } }',
    ):
        answer = await ask(finance_server, http_client, token, query)
        assert answer.error_codes == ["BAD_USER_INPUT"], query


BALANCES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Charter { id balance { owed paid outstanding due } } } }"""


async def test_the_report_agrees_with_each_charters_balance(
    sessions, finance_server, http_client, mint
):
    made = await write(sessions, lakeside_and_northwind)
    token = await mint("accounting")
    ids = [made[k] for k in ("c1", "c2", "c3", "c4")]

    report = (
        await ask(
            finance_server,
            http_client,
            token,
            "{ charterPaymentStatus { rows { charterId owed paid outstanding due } } }",
        )
    ).ok()["charterPaymentStatus"]["rows"]
    balances = (
        await ask(
            finance_server,
            http_client,
            token,
            BALANCES,
            r=[{"__typename": "Charter", "id": str(i)} for i in ids],
        )
    ).ok()["_entities"]

    assert [r["charterId"] for r in report] == [str(i) for i in ids]
    assert [
        {"id": r["charterId"], "balance": {k: r[k] for k in ("owed", "paid", "outstanding", "due")}}
        for r in report
    ] == balances
