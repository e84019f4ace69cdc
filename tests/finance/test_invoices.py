"""Per-charter invoices (issue 12 §2): numbers, lines from the accepted quote, due dates, states, PDF.

Service-level tests run each step in its own transaction on the real
database; the GraphQL and PDF tests go through the finance subgraph on a
real port with real tokens. Each numbering test takes its own year, so the
gapless counter it reads is its own whatever else runs in the process.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pypdf
import pytest
from sqlalchemy import select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.finance.models import FinanceAudit, Instalment, Invoice, InvoiceLine
from subgraphs.finance.service import applications, facts, invoices, payments
from subgraphs.finance.states import INVOICE
from subgraphs.kit.errors import ServiceError
from tests.finance.conftest import event
from tests.support.graphql_client import GraphQLClient

ACCOUNTING = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.ACCOUNTING}))
LINES = [
    {"label": "Motorcoach, 56 passengers", "kind": "base", "amount": "900.00"},
    {"label": "Fuel surcharge", "kind": "surcharge", "amount": "100.00"},
]


async def _charter(
    sessions: Any,
    *,
    client_id: uuid.UUID | None = None,
    total: str | None = "1080.00",
    tax: str = "80.00",
    lines: list[dict[str, str]] | None = None,
    terms: str | None = None,
    pickup_days: int | None = 60,
    name: str = "Lakeside Tours",
) -> tuple[uuid.UUID, uuid.UUID]:
    """A charter finance knows (booked, priced unless `total` is None) and its client."""
    charter_id, client_id = uuid.uuid4(), client_id or uuid.uuid4()
    async with sessions() as session, session.begin():
        await facts.apply_client_event(
            session, event({"clientId": str(client_id), "name": name, "paymentTerms": terms})
        )
        charter: dict[str, Any] = {
            "charterId": str(charter_id),
            "clientId": str(client_id),
            "status": "booked",
            "reference": f"CH-{charter_id.hex[:6]}",
        }
        if pickup_days is not None:
            charter["pickupAt"] = (datetime.now(UTC) + timedelta(days=pickup_days)).isoformat()
        await facts.apply_charter_event(session, event(charter))
        if total is not None:
            await facts.apply_quote_accepted(
                session,
                event(
                    {
                        "charterId": str(charter_id),
                        "total": total,
                        "tax": tax,
                        "lines": LINES if lines is None else lines,
                    }
                ),
            )
    return charter_id, client_id


async def _invoice(sessions: Any, charter_id: uuid.UUID, today: date) -> Invoice:
    async with sessions() as session, session.begin():
        return await invoices.invoice_charter(session, charter_id, ACCOUNTING, today)


async def _refused(sessions: Any, work: Any) -> tuple[str, str | None]:
    with pytest.raises(ServiceError) as raised:
        async with sessions() as session, session.begin():
            await work(session)
    [problem] = raised.value.problems
    return problem.code, problem.field


async def _step(sessions: Any, work: Any) -> Any:
    async with sessions() as session, session.begin():
        return await work(session)


async def test_numbers_are_inv_yyyy_nnnnn_gapless_and_consecutive_in_their_year(sessions):
    today = date(2041, 3, 1)
    charters = [(await _charter(sessions))[0] for _ in range(3)]

    numbers = [(await _invoice(sessions, c, today)).number for c in charters]

    assert numbers == ["INV-2041-00001", "INV-2041-00002", "INV-2041-00003"]


async def test_a_refused_invoice_takes_no_number(sessions):
    today = date(2042, 3, 1)
    priced, _ = await _charter(sessions)
    await _invoice(sessions, priced, today)

    refused = await _refused(
        sessions, lambda s: invoices.invoice_charter(s, priced, ACCOUNTING, today)
    )
    assert refused == ("CONFLICT", "charterId")
    second, _ = await _charter(sessions)

    assert (await _invoice(sessions, second, today)).number == "INV-2042-00002"


async def test_lines_tax_and_total_are_the_accepted_quotes(sessions):
    charter_id, client_id = await _charter(sessions)
    invoice = await _invoice(sessions, charter_id, date(2026, 11, 30))

    async with sessions() as session:
        lines = (
            await session.scalars(
                select(InvoiceLine)
                .where(InvoiceLine.invoice_id == invoice.id)
                .order_by(InvoiceLine.position)
            )
        ).all()
    assert [(x.description, x.amount) for x in lines] == [
        ("Motorcoach, 56 passengers", Decimal("900.00")),
        ("Fuel surcharge", Decimal("100.00")),
    ]
    assert (invoice.subtotal, invoice.tax, invoice.total, invoice.paid) == (
        Decimal("1000.00"),
        Decimal("80.00"),
        Decimal("1080.00"),
        Decimal("0.00"),
    )
    assert (invoice.status, invoice.client_id, invoice.charter_id) == (
        "draft",
        client_id,
        charter_id,
    )


async def test_a_discount_the_lines_do_not_carry_is_shown_so_the_lines_add_up(sessions):
    charter_id, _ = await _charter(sessions, total="1030.00", tax="80.00")
    invoice = await _invoice(sessions, charter_id, date(2026, 11, 30))

    async with sessions() as session:
        lines = (
            await session.scalars(
                select(InvoiceLine)
                .where(InvoiceLine.invoice_id == invoice.id)
                .order_by(InvoiceLine.position)
            )
        ).all()
    assert [(x.description, x.amount) for x in lines][-1] == ("Discount", Decimal("-50.00"))
    assert sum(x.amount for x in lines) == invoice.subtotal == Decimal("950.00")


async def test_the_due_date_is_the_plans_next_unpaid_instalment(sessions):
    charter_id, _ = await _charter(sessions, pickup_days=60, terms="net_15")
    async with sessions() as session:
        deposit = await session.scalar(
            select(Instalment).where(Instalment.charter_id == charter_id, Instalment.sequence == 1)
        )
    assert deposit is not None
    assert deposit.kind == "deposit"
    today = datetime.now(UTC).date()

    invoice = await _invoice(sessions, charter_id, today)

    assert invoice.due_on == deposit.due_on
    assert invoice.due_on != today + timedelta(days=15)


@pytest.mark.parametrize(
    ("terms", "days"), [("due_on_receipt", 0), ("net_15", 15), ("net_30", 30), ("net_60", 60)]
)
async def test_without_a_plan_the_due_date_follows_the_clients_terms(sessions, terms, days):
    charter_id, _ = await _charter(sessions, pickup_days=None, terms=terms)
    today = date(2026, 11, 30)

    invoice = await _invoice(sessions, charter_id, today)

    assert invoice.due_on == today + timedelta(days=days)


async def test_a_charter_without_an_accepted_price_is_not_payable(sessions):
    charter_id, _ = await _charter(sessions, total=None)

    refused = await _refused(
        sessions, lambda s: invoices.invoice_charter(s, charter_id, ACCOUNTING, date(2026, 11, 30))
    )

    assert refused == ("NOT_PAYABLE", "charterId")
    async with sessions() as session:
        assert await session.scalar(select(Invoice).where(Invoice.charter_id == charter_id)) is None


async def test_a_second_live_invoice_is_a_conflict_but_one_after_a_void_is_not(sessions):
    charter_id, _ = await _charter(sessions)
    today = date(2043, 1, 10)
    first = await _invoice(sessions, charter_id, today)

    refused = await _refused(
        sessions, lambda s: invoices.invoice_charter(s, charter_id, ACCOUNTING, today)
    )
    assert refused == ("CONFLICT", "charterId")

    voided = await _step(sessions, lambda s: invoices.void(s, first.id, "Wrong date", ACCOUNTING))
    again = await _invoice(sessions, charter_id, today)

    assert (voided.number, voided.status, voided.void_reason) == (
        "INV-2043-00001",
        "void",
        "Wrong date",
    )
    assert again.number == "INV-2043-00002"


async def test_void_keeps_the_number_and_the_invoice_takes_no_payment(sessions):
    charter_id, client_id = await _charter(sessions)
    today = date(2026, 11, 30)
    invoice = await _invoice(sessions, charter_id, today)
    await _step(sessions, lambda s: invoices.send(s, invoice.id, ACCOUNTING))
    await _step(sessions, lambda s: invoices.void(s, invoice.id, "Duplicate", ACCOUNTING))
    payment = await _step(
        sessions,
        lambda s: payments.record(
            s,
            payments.PaymentInput(client_id, Decimal("100.00"), today, "cash", {}),
            ACCOUNTING,
            today,
        ),
    )

    refused = await _refused(
        sessions,
        lambda s: applications.apply(
            s,
            applications.Application(
                payment.id, charter_id, Decimal("100.00"), "void-pay", invoice.id
            ),
            ACCOUNTING,
        ),
    )

    assert refused == ("NOT_PAYABLE", "invoiceId")
    async with sessions() as session:
        row = await session.get(Invoice, invoice.id)
        audit = (
            await session.scalars(
                select(FinanceAudit)
                .where(FinanceAudit.entity_id == invoice.id)
                .order_by(FinanceAudit.at, FinanceAudit.action)
            )
        ).all()
    assert row is not None
    assert (row.number, row.status, row.paid) == (invoice.number, "void", Decimal("0.00"))
    assert sorted(a.action for a in audit) == ["create", "send", "void"]
    assert [a.reason for a in audit if a.action == "void"] == ["Duplicate"]


async def test_an_invoice_holding_money_cannot_be_voided_and_a_void_needs_a_reason(sessions):
    charter_id, client_id = await _charter(sessions)
    today = date(2026, 11, 30)
    invoice = await _invoice(sessions, charter_id, today)
    await _step(sessions, lambda s: invoices.send(s, invoice.id, ACCOUNTING))
    payment = await _step(
        sessions,
        lambda s: payments.record(
            s,
            payments.PaymentInput(client_id, Decimal("300.00"), today, "cash", {}),
            ACCOUNTING,
            today,
        ),
    )
    await _step(
        sessions,
        lambda s: applications.apply(
            s,
            applications.Application(
                payment.id, charter_id, Decimal("300.00"), f"pay-{invoice.id}", invoice.id
            ),
            ACCOUNTING,
        ),
    )

    assert await _refused(
        sessions, lambda s: invoices.void(s, invoice.id, "Client asked", ACCOUNTING)
    ) == ("INVALID_TRANSITION", "id")
    assert await _refused(sessions, lambda s: invoices.void(s, invoice.id, "  ", ACCOUNTING)) == (
        "REQUIRED",
        "reason",
    )
    async with sessions() as session:
        row = await session.get(Invoice, invoice.id)
    assert row is not None
    assert (row.status, row.paid) == ("partially_paid", Decimal("300.00"))


async def test_transitions_outside_the_table_are_refused(sessions):
    charter_id, _ = await _charter(sessions)
    invoice = await _invoice(sessions, charter_id, date(2026, 11, 30))
    await _step(sessions, lambda s: invoices.send(s, invoice.id, ACCOUNTING))

    assert await _refused(sessions, lambda s: invoices.send(s, invoice.id, ACCOUNTING)) == (
        "INVALID_TRANSITION",
        "id",
    )
    await _step(sessions, lambda s: invoices.void(s, invoice.id, "Cancelled", ACCOUNTING))
    assert await _refused(sessions, lambda s: invoices.send(s, invoice.id, ACCOUNTING)) == (
        "INVALID_TRANSITION",
        "id",
    )
    assert await _refused(
        sessions, lambda s: invoices.void(s, invoice.id, "Again", ACCOUNTING)
    ) == ("INVALID_TRANSITION", "id")


def test_the_invoice_table_is_the_issues_with_money_taken_back():
    assert {s: set(INVOICE.allowed(s)) for s in INVOICE.states} == {
        "draft": {"sent", "void"},
        "sent": {"partially_paid", "paid", "overdue", "void"},
        "partially_paid": {"paid", "overdue", "void", "sent"},
        "overdue": {"partially_paid", "paid", "void"},
        "paid": {"partially_paid", "sent"},
        "void": set(),
    }


# --- through GraphQL and the download route ---------------------------------------------------

ISSUE = """mutation($id: ID!) { invoiceCharter(charterId: $id) {
  invoice { id number status subtotal tax total paid balance charterId clientId pdfUrl
            lines { description amount } }
  userErrors { field code message } } }"""
SEND = """mutation($id: ID!) { sendInvoice(id: $id) {
  invoice { status } userErrors { field code } } }"""
VOID = """mutation($id: ID!, $reason: String!) { voidInvoice(id: $id, reason: $reason) {
  invoice { number status } userErrors { field code } } }"""
READ = "query($id: ID!) { invoice(id: $id) { number status total lines { description } } }"
CHARTER_INVOICES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Charter { invoices { number status } } } }"""


async def test_finance_issues_and_sends_and_the_own_client_reads_it(
    sessions, finance_server, http_client, mint
):
    charter_id, client_id = await _charter(sessions)
    accounting = GraphQLClient(finance_server.graphql_url, http_client, await mint("accounting"))
    own = GraphQLClient(
        finance_server.graphql_url, http_client, await mint("client", client_id=client_id)
    )
    other = GraphQLClient(
        finance_server.graphql_url, http_client, await mint("client", client_id=uuid.uuid4())
    )

    issued = (await accounting(ISSUE, {"id": str(charter_id)})).ok()["invoiceCharter"]
    assert issued["userErrors"] == []
    invoice = issued["invoice"]
    assert invoice["number"].startswith(f"INV-{datetime.now(UTC).year}-")
    assert (invoice["status"], invoice["total"], invoice["balance"], invoice["clientId"]) == (
        "DRAFT",
        "1080.00",
        "1080.00",
        str(client_id),
    )
    assert [x["amount"] for x in invoice["lines"]] == ["900.00", "100.00"]
    assert invoice["pdfUrl"] == f"/invoices/{invoice['id']}.pdf"
    again = (await accounting(ISSUE, {"id": str(charter_id)})).ok()["invoiceCharter"]
    assert (again["invoice"], [(e["field"], e["code"]) for e in again["userErrors"]]) == (
        None,
        [("charterId", "CONFLICT")],
    )
    sent = (await accounting(SEND, {"id": invoice["id"]})).ok()["sendInvoice"]
    assert sent == {"invoice": {"status": "SENT"}, "userErrors": []}

    mine = (await own(READ, {"id": invoice["id"]})).ok()["invoice"]
    assert (mine["number"], mine["status"], len(mine["lines"])) == (invoice["number"], "SENT", 2)
    assert (await other(READ, {"id": invoice["id"]})).error_codes == ["NOT_FOUND"]

    listed = (
        await own(CHARTER_INVOICES, {"r": [{"__typename": "Charter", "id": str(charter_id)}]})
    ).ok()["_entities"][0]["invoices"]
    assert listed == [{"number": invoice["number"], "status": "SENT"}]
    denied = await other(
        CHARTER_INVOICES, {"r": [{"__typename": "Charter", "id": str(charter_id)}]}
    )
    assert denied.error_codes == ["FORBIDDEN"]

    blank = (await accounting(VOID, {"id": invoice["id"], "reason": ""})).ok()["voidInvoice"]
    assert blank == {"invoice": None, "userErrors": [{"field": "reason", "code": "REQUIRED"}]}
    voided = (await accounting(VOID, {"id": invoice["id"], "reason": "Re-issue"})).ok()
    assert voided["voidInvoice"]["invoice"] == {"number": invoice["number"], "status": "VOID"}


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


async def test_the_pdf_downloads_for_staff_and_its_own_client_only(
    sessions, finance_server, http_client, mint
):
    charter_id, client_id = await _charter(sessions, name="Lakeside Tours")
    invoice = await _invoice(sessions, charter_id, datetime.now(UTC).date())
    url = f"{finance_server.base_url}/invoices/{invoice.id}.pdf"

    async def get(token: str | None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await http_client.get(url, headers=headers)

    for token in (await mint("accounting"), await mint("client", client_id=client_id)):
        answer = await get(token)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/pdf"
        text = _pdf_text(answer.content)
        assert invoice.number in text
        assert "Lakeside Tours" in text
        assert "Motorcoach, 56 passengers" in text
    assert (await get(await mint("client", client_id=uuid.uuid4()))).status_code == 404
    assert (await get(await mint("sales_agent"))).status_code == 404
    missing = f"{finance_server.base_url}/invoices/{uuid.uuid4()}.pdf"
    staff = {"Authorization": f"Bearer {await mint('accounting')}"}
    assert (await http_client.get(missing, headers=staff)).status_code == 404
    assert (await get(None)).status_code == 401


async def test_a_pdf_download_stops_when_the_session_ends(
    sessions, finance_server, http_client, mint, redis, settings
):
    import jwt

    from protocol.revocation import revoke_sessions

    charter_id, _client_id = await _charter(sessions, name="Lakeside Tours")
    invoice = await _invoice(sessions, charter_id, datetime.now(UTC).date())
    token = await mint("accounting")
    session_id = jwt.decode(token, options={"verify_signature": False})["sid"]

    await revoke_sessions(redis, [session_id], ttl_seconds=settings.jwt_access_ttl_seconds)
    answer = await http_client.get(
        f"{finance_server.base_url}/invoices/{invoice.id}.pdf",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert answer.status_code == 401
