"""The invoice PDF's parties: the operator from settings, the client's billing address from sales.

Sales announces the address and e-mail with the client, finance keeps them
in its client facts, and the PDF prints them; a consolidated invoice also
lists every charter it bills, by reference, with that charter's lines.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pypdf
from sqlalchemy import select

from subgraphs.finance.downloads import address_lines, document
from subgraphs.finance.models import ClientFact
from subgraphs.finance.service import facts
from subgraphs.finance.service.invoice_pdf import render_invoice
from subgraphs.kit.settings import get_settings
from subgraphs.sales.models import Client as SalesClient
from subgraphs.sales.models import ClientContact
from subgraphs.sales.models import outbox as sales_outbox
from subgraphs.sales.service.clients import announce
from tests.finance.test_month_end import charter_fact, consolidate, local

ADDRESS = {
    "line1": "1 Elm Street",
    "line2": "Suite 200",
    "city": "Austin",
    "region": "TX",
    "postalCode": "78701",
    "country": "US",
}


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def client_event(client_id: uuid.UUID, at: datetime, **payload: Any) -> dict[str, Any]:
    return {
        "occurredAt": at.isoformat(),
        "payload": {"clientId": str(client_id), "name": "Acme Events", **payload},
    }


async def test_sales_announces_the_billing_address_email_and_status(sessions):
    client = SalesClient(
        id=uuid.uuid4(),
        name="Acme Events",
        client_type="corporate",
        status="active",
        billing_line1="1 Elm Street",
        billing_line2="Suite 200",
        billing_city="Austin",
        billing_region="TX",
        billing_postal_code="78701",
        billing_country="US",
        payment_terms="net_30",
        tax_exempt=False,
    )
    async with sessions() as session, session.begin():
        session.add(client)
        await session.flush()
        session.add_all(
            [
                ClientContact(
                    client_id=client.id, name="Pat", email="ap@acme.example", is_primary=True
                ),
                ClientContact(
                    client_id=client.id, name="Sam", email="sam@acme.example", is_primary=False
                ),
            ]
        )
        await session.flush()
        await announce(session, client, "updated")
    async with sessions() as session:
        [payload] = await session.scalars(
            select(sales_outbox.c.payload).where(sales_outbox.c.topic == "sales.client_changed")
        )

    assert payload["billingAddress"] == ADDRESS
    assert payload["email"] == "ap@acme.example"
    assert payload["status"] == "active"


async def test_finance_keeps_the_address_and_an_older_kind_of_event_does_not_wipe_it(sessions):
    client_id = uuid.uuid4()
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        await facts.apply_client_event(
            session,
            client_event(
                client_id,
                now,
                status="active",
                billingAddress=ADDRESS,
                email="ap@acme.example",
            ),
        )
        # An event from before sales sent these keys: the name changes, the address stays.
        await facts.apply_client_event(
            session, client_event(client_id, now + timedelta(seconds=1), name="Acme Events Inc")
        )
    async with sessions() as session:
        fact = await session.get(ClientFact, client_id)

    assert fact is not None
    assert (fact.name, fact.status, fact.email) == ("Acme Events Inc", "active", "ap@acme.example")
    assert fact.billing_address == ADDRESS
    assert address_lines(fact.billing_address) == (
        "1 Elm Street",
        "Suite 200",
        "Austin, TX 78701",
        "US",
    )
    assert address_lines({"line1": "9 Lake Rd", "city": "Dallas"}) == ("9 Lake Rd", "Dallas")
    assert address_lines(None) == ()


async def _consolidated(sessions: Any) -> tuple[Any, uuid.UUID]:
    client_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        await facts.apply_client_event(
            session,
            client_event(
                client_id,
                datetime.now(UTC),
                paymentTerms="net_30",
                status="active",
                billingAddress=ADDRESS,
                email="ap@acme.example",
            ),
        )
    await charter_fact(sessions, client_id, local(2051, 3, 4, 9), reference="CH-2051-000101")
    await charter_fact(
        sessions,
        client_id,
        local(2051, 3, 18, 9),
        total="650.00",
        tax="50.00",
        lines=[{"label": "Minibus, 24 passengers, Austin loop", "amount": "600.00"}],
        reference="CH-2051-000102",
    )
    return await consolidate(sessions, client_id), client_id


async def test_a_consolidated_pdf_prints_both_parties_and_each_charter(sessions):
    settings = get_settings().model_copy(
        update={
            "operator_name": "Lone Star Coaches",
            "operator_address": "100 Main Street|Dallas, TX 75201",
            "operator_phone": "+1 214 555 0199",
            "operator_email": "billing@lonestar.example",
            "operator_tax_id": "EIN 12-3456789",
        }
    )
    invoice, _ = await _consolidated(sessions)

    async with sessions() as session:
        printed = await document(session, invoice, settings)
    text = pdf_text(render_invoice(printed))
    flowing = " ".join(text.split())  # long descriptions wrap inside their cell

    assert printed.charter_references == ("CH-2051-000101", "CH-2051-000102")
    assert printed.period == (date(2051, 3, 1), date(2051, 3, 31))
    for operator in (
        "Lone Star Coaches",
        "100 Main Street",
        "Dallas, TX 75201",
        "+1 214 555 0199",
        "billing@lonestar.example",
        "Tax ID: EIN 12-3456789",
    ):
        assert operator in text, operator
    for client in (
        "Acme Events",
        "1 Elm Street",
        "Suite 200",
        "Austin, TX 78701",
        "ap@acme.example",
    ):
        assert client in text, client
    assert "CH-2051-000101, CH-2051-000102" in text
    for line in (
        "CH-2051-000101 (2051-03-04): Motorcoach, 56 passengers",
        "CH-2051-000101 (2051-03-04): Fuel surcharge",
        "CH-2051-000102 (2051-03-18): Minibus, 24 passengers, Austin loop",
    ):
        assert line in flowing, line
    assert "Period March 1, 2051 to March 31, 2051" in flowing
    assert invoice.number in text
    assert "Total\n $1,730.00" in text


async def test_the_downloaded_pdf_carries_the_parties_for_its_client_only(
    sessions, finance_server, http_client, mint
):
    invoice, client_id = await _consolidated(sessions)
    url = f"{finance_server.base_url}/invoices/{invoice.id}.pdf"
    defaults = get_settings()

    async def get(token: str) -> Any:
        return await http_client.get(url, headers={"Authorization": f"Bearer {token}"})

    answer = await get(await mint("client", client_id=client_id))
    refused = await get(await mint("client", client_id=uuid.uuid4()))

    assert answer.status_code == 200
    text = pdf_text(answer.content)
    assert defaults.operator_name in text
    assert defaults.operator_address.split("|")[0] in text
    assert f"Tax ID: {defaults.operator_tax_id}" in text
    assert "Austin, TX 78701" in text
    assert "CH-2051-000101, CH-2051-000102" in text
    assert refused.status_code == 404
