"""The client messages notifications decides from other subgraphs' events (issue 14 §1).

Handlers are driven with events shaped as their emitters write them (the
emitters' own payload functions where they are pure); one test sends a real
payment through finance's outbox, its relay and Redis to the notifications
app's own consumer.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from protocol.roles import Role
from protocol.viewer import ANONYMOUS, Viewer
from subgraphs.finance.models import outbox as finance_outbox
from subgraphs.finance.service import applications, payments
from subgraphs.finance.service import facts as finance_facts
from subgraphs.kit.outbox import OutboxRelay
from subgraphs.notifications.models import Message
from subgraphs.notifications.service import client_messages as cm
from subgraphs.notifications.service import facts
from subgraphs.notifications.service.preferences import set_client_preferences
from subgraphs.notifications.service.templates import install_defaults
from subgraphs.pricing.models import QuoteCalculation
from subgraphs.pricing.service.quotes import accepted_payload

EMAIL = "trips@lakeside.example"


def ev(payload: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    return {
        "id": f"test:{uuid.uuid4()}",
        "payload": payload,
        "occurredAt": (at or datetime.now(UTC)).isoformat(),
    }


def charter_payload(charter_id: uuid.UUID, client_id: uuid.UUID, **over: Any) -> dict[str, Any]:
    """The shape of `charters.service.events.charter_changed`'s payload."""
    return {
        "charterId": str(charter_id),
        "reference": "CH-2026-000123",
        "status": "quote",
        "pickupAt": "2026-12-20T15:30:00+00:00",
        "pickupTimeZone": "America/Chicago",
        "quoteRevision": 1,
        "clientId": str(client_id),
        "salesAgentId": None,
        "isTemplate": False,
        "pickupAddress": "233 S Wacker Dr, Chicago, IL",
        "pickupLatitude": "41.8789",
        "pickupLongitude": "-87.6359",
        "version": 1,
        "passengerCount": 48,
        "tripType": "one_way",
        "vehicles": [],
        "vehicleCost": None,
        "cancelledAt": None,
        "cancellationFee": None,
        "cancellationReason": None,
        "changes": ["created"],
        **over,
    }


def accepted(charter_id: uuid.UUID, client_id: uuid.UUID, total: str = "1234.50") -> dict:
    row = QuoteCalculation(
        id=uuid.uuid4(),
        charter_id=charter_id,
        client_id=client_id,
        subtotal=Decimal(total),
        discount=Decimal("0.00"),
        tax=Decimal("0.00"),
        total=Decimal(total),
        lines=[],
    )
    return ev(accepted_payload(row))


@pytest.fixture
async def client(sessions) -> uuid.UUID:
    """A client company notifications knows the e-mail of, and the default templates."""
    client_id = uuid.uuid4()
    async with sessions() as s, s.begin():
        await install_defaults(s)
        await facts.apply_client_event(
            s,
            ev(
                {
                    "clientId": str(client_id),
                    "action": "created",
                    "name": "Lakeside Tours",
                    "status": "active",
                    "email": EMAIL,
                }
            ),
        )
    return client_id


async def messages(sessions, kind: str | None = None) -> list[Message]:
    async with sessions() as s:
        query = select(Message).order_by(Message.created_at)
        if kind:
            query = query.where(Message.kind == kind)
        return list(await s.scalars(query))


async def deliver(sessions, handler, event: dict[str, Any]) -> None:
    async with sessions() as s, s.begin():
        await handler(s, event)


async def test_quote_sent_mails_the_link_once_per_event(sessions, client) -> None:
    charter_id = uuid.uuid4()
    await deliver(sessions, cm.on_charter_changed, ev(charter_payload(charter_id, client)))
    await deliver(
        sessions,
        cm.on_quote_priced,
        ev(
            {
                "charterId": str(charter_id),
                "total": "1234.50",
                "calculatedAt": "2026-11-30T15:00:00+00:00",
            }
        ),
    )
    sent = ev(
        {
            "charterId": str(charter_id),
            "reference": "CH-2026-000123",
            "clientId": str(client),
            "revision": 1,
            "link": "https://portal.example/quote?token=abc",
            "expiresAt": "2026-12-14T15:00:00+00:00",
        }
    )
    await deliver(sessions, cm.on_quote_sent, sent)
    await deliver(sessions, cm.on_quote_sent, sent)  # redelivered: nothing new
    [message] = await messages(sessions)
    assert (message.kind, message.channel, message.recipient, message.status) == (
        "quote_sent",
        "email",
        EMAIL,
        "queued",
    )
    assert message.charter_id == charter_id
    assert message.client_id == client
    assert message.variables["quote_link"] == "https://portal.example/quote?token=abc"
    assert message.variables["quote_total"] == {"amount": "1234.50", "currency": "USD"}
    assert "https://portal.example/quote?token=abc" in (message.body_text or "")
    # a second link made is a second sending
    await deliver(sessions, cm.on_quote_sent, ev(sent["payload"]))
    assert len(await messages(sessions, "quote_sent")) == 2


async def test_quote_sent_before_the_charters_own_event_still_renders_the_trip(
    sessions, client
) -> None:
    """Each topic has its own consumer: the link's event can win the race against the
    charter's; it carries the trip itself, so the mail is decided, not failed."""
    charter_id = uuid.uuid4()
    await deliver(
        sessions,
        cm.on_quote_sent,
        ev(
            {
                "charterId": str(charter_id),
                "reference": "CH-2026-000777",
                "clientId": str(client),
                "revision": 1,
                "link": "https://portal.example/quote?token=early",
                "expiresAt": "2026-12-14T15:00:00+00:00",
                "pickupAt": "2026-12-20T14:30:00+00:00",
                "pickupTimeZone": "America/Chicago",
                "pickupAddress": "233 S Wacker Dr, Chicago",
                "passengerCount": 40,
            }
        ),
    )
    [message] = await messages(sessions, "quote_sent")
    assert message.status == "queued", message.failure_reason
    assert "8:30" in (message.body_text or "")  # 14:30 UTC in Chicago, in December
    assert "233 S Wacker Dr, Chicago" in (message.body_text or "")


async def test_quote_sent_honours_the_quotes_opt_out(sessions, client) -> None:
    async with sessions() as s, s.begin():
        await set_client_preferences(s, client, {"quotes": False}, ANONYMOUS)
    charter_id = uuid.uuid4()
    await deliver(
        sessions,
        cm.on_quote_sent,
        ev({"charterId": str(charter_id), "clientId": str(client), "revision": 1, "link": "t"}),
    )
    [message] = await messages(sessions)
    assert message.status == "suppressed"


async def test_a_new_quote_revision_is_told_once(sessions, client) -> None:
    charter_id = uuid.uuid4()
    await deliver(sessions, cm.on_charter_changed, ev(charter_payload(charter_id, client)))
    await deliver(
        sessions,
        cm.on_quote_priced,
        ev(
            {
                "charterId": str(charter_id),
                "total": "990.00",
                "calculatedAt": "2026-11-30T15:00:00+00:00",
            }
        ),
    )
    revised = ev(charter_payload(charter_id, client, quoteRevision=2, changes=["quote_revision"]))
    await deliver(sessions, cm.on_charter_changed, revised)
    await deliver(sessions, cm.on_charter_changed, revised)
    # an edit of the same revision later tells nothing new
    await deliver(
        sessions,
        cm.on_charter_changed,
        ev(charter_payload(charter_id, client, quoteRevision=2, changes=["passengers"])),
    )
    [message] = await messages(sessions)
    assert (message.kind, message.status) == ("quote_revised", "queued")
    assert message.idempotency_key == f"quote_revised:{charter_id}:2"
    assert message.variables["quote_revision"] == 2
    assert message.variables["quote_total"] == {"amount": "990.00", "currency": "USD"}


@pytest.mark.parametrize("order", ["booking_first", "price_first"])
async def test_the_booking_is_confirmed_once_when_both_booking_and_price_are_known(
    sessions, client, order
) -> None:
    charter_id = uuid.uuid4()
    await deliver(sessions, cm.on_charter_changed, ev(charter_payload(charter_id, client)))
    booked = ev(
        charter_payload(
            charter_id, client, status="booked", changes=["status"], previousStatus="quote"
        )
    )
    price = accepted(charter_id, client)
    first, second = (
        ((cm.on_charter_changed, booked), (cm.on_quote_accepted, price))
        if order == "booking_first"
        else ((cm.on_quote_accepted, price), (cm.on_charter_changed, booked))
    )
    await deliver(sessions, *first)
    assert await messages(sessions) == []  # half known: nothing yet
    await deliver(sessions, *second)
    # both again, and a later change (confirmed): still one confirmation
    await deliver(sessions, *first)
    await deliver(sessions, *second)
    await deliver(
        sessions,
        cm.on_charter_changed,
        ev(charter_payload(charter_id, client, status="confirmed", changes=["status"])),
    )
    [message] = await messages(sessions)
    assert (message.kind, message.recipient, message.status, message.transactional) == (
        "booking_confirmed",
        EMAIL,
        "queued",
        True,
    )
    assert message.idempotency_key == f"booking_confirmed:{charter_id}"
    assert message.variables["total"] == {"amount": "1234.50", "currency": "USD"}
    assert message.variables["pickup_at"] == "2026-12-20T15:30:00+00:00"
    assert message.variables["pickup_time_zone"] == "America/Chicago"
    # 15:30 UTC is 9:30 AM in Chicago (CST) on December 20
    assert "9:30" in (message.body_text or "")
    assert "$1,234.50" in (message.body_text or "")


async def test_a_booked_charter_cancelled_tells_the_client_with_the_reason(
    sessions, client
) -> None:
    charter_id = uuid.uuid4()
    await deliver(
        sessions, cm.on_charter_changed, ev(charter_payload(charter_id, client, status="booked"))
    )
    cancelled = ev(
        charter_payload(
            charter_id,
            client,
            status="cancelled",
            changes=["status"],
            previousStatus="booked",
            cancellationFee="150.00",
            cancellationReason="Event postponed",
        )
    )
    await deliver(sessions, cm.on_charter_changed, cancelled)
    await deliver(sessions, cm.on_charter_changed, cancelled)
    [message] = await messages(sessions)
    assert (message.kind, message.status) == ("cancellation", "queued")
    assert message.variables["reason"] == "Event postponed"
    assert message.variables["cancellation_fee"] == {"amount": "150.00", "currency": "USD"}


async def test_a_quote_withdrawn_is_no_trip_cancelled(sessions, client) -> None:
    charter_id = uuid.uuid4()
    await deliver(sessions, cm.on_charter_changed, ev(charter_payload(charter_id, client)))
    await deliver(
        sessions,
        cm.on_charter_changed,
        ev(
            charter_payload(
                charter_id, client, status="cancelled", changes=["status"], previousStatus="quote"
            )
        ),
    )
    assert await messages(sessions) == []


def payment_event(charter_id: uuid.UUID, client_id: uuid.UUID, action: str = "applied") -> dict:
    """The shape of `finance.service.applications._announce`'s payload."""
    return ev(
        {
            "applicationId": str(uuid.uuid4()),
            "paymentId": str(uuid.uuid4()),
            "charterId": str(charter_id),
            "invoiceId": None,
            "amount": "308.63",
            "action": action,
            "clientId": str(client_id),
            "method": "card",
            "receivedOn": "2026-11-30",
        }
    )


async def test_a_receipt_goes_even_to_a_client_who_turned_everything_off(sessions, client) -> None:
    async with sessions() as s, s.begin():
        await set_client_preferences(
            s,
            client,
            {"quotes": False, "reminders": False, "marketing": False, "email": False},
            ANONYMOUS,
        )
    charter_id = uuid.uuid4()
    await deliver(
        sessions, cm.on_charter_changed, ev(charter_payload(charter_id, client, status="booked"))
    )
    paid = payment_event(charter_id, client)
    await deliver(sessions, cm.on_payment_applied, paid)
    await deliver(sessions, cm.on_payment_applied, paid)
    await deliver(sessions, cm.on_payment_applied, payment_event(charter_id, client, "unapplied"))
    [message] = await messages(sessions)
    assert (message.kind, message.status, message.transactional, message.recipient) == (
        "payment_receipt",
        "queued",
        True,
        EMAIL,
    )
    assert message.variables["amount"] == {"amount": "308.63", "currency": "USD"}
    assert message.variables["charter_reference"] == "CH-2026-000123"


async def test_an_invoice_is_told_when_sent_not_when_drafted(sessions, client) -> None:
    invoice_id = uuid.uuid4()

    def invoice(action: str, status: str) -> dict:
        return ev(
            {
                "invoiceId": str(invoice_id),
                "number": "INV-2026-00017",
                "charterId": None,
                "clientId": str(client),
                "status": status,
                "total": "1234.50",
                "action": action,
                "issuedOn": "2026-11-30",
                "dueOn": "2026-12-30",
                "balance": "1234.50",
            }
        )

    await deliver(sessions, cm.on_invoice_changed, invoice("created", "draft"))
    assert await messages(sessions) == []
    sent = invoice("sent", "sent")
    await deliver(sessions, cm.on_invoice_changed, sent)
    await deliver(sessions, cm.on_invoice_changed, sent)
    [message] = await messages(sessions)
    assert (message.kind, message.status) == ("invoice_issued", "queued")
    assert message.variables["invoice_number"] == "INV-2026-00017"
    assert message.variables["due_on"] == "2026-12-30"


async def test_an_old_event_read_from_history_updates_facts_but_tells_nobody(
    sessions, client
) -> None:
    charter_id = uuid.uuid4()
    old = datetime.now(UTC) - timedelta(days=30)
    await deliver(
        sessions,
        cm.on_charter_changed,
        ev(charter_payload(charter_id, client, status="booked"), old),
    )
    await deliver(
        sessions,
        cm.on_quote_accepted,
        {**accepted(charter_id, client), "occurredAt": old.isoformat()},
    )
    assert await messages(sessions) == []


async def test_a_client_without_a_known_address_gets_nothing_decided(sessions) -> None:
    async with sessions() as s, s.begin():
        await install_defaults(s)
    await deliver(sessions, cm.on_payment_applied, payment_event(uuid.uuid4(), uuid.uuid4()))
    assert await messages(sessions) == []


# -- end to end: finance's own code, its relay, Redis, the notifications app's consumer --------


async def test_a_payment_applied_in_finance_reaches_the_client_as_a_receipt(
    sessions, redis, notifications_server, client
) -> None:
    charter_id, client_id = uuid.uuid4(), client
    staff = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.ACCOUNTING}))
    today = date.today()

    def fin(payload: dict) -> dict:
        return {"occurredAt": datetime.now(UTC).isoformat(), "payload": payload}

    async with sessions() as s, s.begin():
        await finance_facts.apply_client_event(
            s, fin({"clientId": str(client_id), "name": "Lakeside Tours", "type": "corporate"})
        )
        await finance_facts.apply_charter_event(
            s,
            fin(
                {
                    "charterId": str(charter_id),
                    "clientId": str(client_id),
                    "status": "booked",
                    "reference": "CH-2026-000777",
                    "pickupAt": (datetime.now(UTC) + timedelta(days=60)).isoformat(),
                }
            ),
        )
        await finance_facts.apply_quote_accepted(
            s, fin({"charterId": str(charter_id), "total": "1000.00", "lines": []})
        )
    await deliver(
        sessions,
        cm.on_charter_changed,
        ev(charter_payload(charter_id, client_id, status="booked", reference="CH-2026-000777")),
    )
    async with sessions() as s, s.begin():
        payment = await payments.record(
            s,
            payments.PaymentInput(
                client_id, Decimal("250.00"), today, "check", {"checkNumber": "7"}
            ),
            staff,
            today,
        )
        await applications.apply(
            s,
            applications.Application(payment.id, charter_id, Decimal("250.00"), "e2e-receipt"),
            staff,
        )
    # Finance's relay publishes the rows; a finance app started by another test in this
    # process may have published them already (then this one finds none): either way, once.
    await OutboxRelay(sessions, finance_outbox, redis).publish_pending()
    deadline = asyncio.get_running_loop().time() + 30
    found: list[Message] = []
    while not found and asyncio.get_running_loop().time() < deadline:
        found = await messages(sessions, "payment_receipt")
        if not found:
            await asyncio.sleep(0.2)
    [receipt] = found
    assert (receipt.recipient, receipt.status, receipt.charter_id) == (EMAIL, "queued", charter_id)
    assert receipt.variables["amount"] == {"amount": "250.00", "currency": "USD"}
    assert receipt.variables["charter_reference"] == "CH-2026-000777"
    assert str(receipt.event_id).startswith("finance:")
