"""What the business tells a client company, decided from other subgraphs' events and the clock.

Each consumer here first keeps the facts the event carries (`facts.py`), then
decides the messages it causes through `messages.queue`, in the consumer's
transaction: the event is acknowledged only after both commit, and a
redelivered event decides nothing new (the idempotency key is unique).

| kind | cause | key |
| --- | --- | --- |
| quote_sent | `charters.quote_sent` (staff made a quote link) | the event |
| quote_revised | `charters.charter_changed` with a new quote revision | charter and revision |
| booking_confirmed | the charter booked AND its accepted price known: decided by whichever of `charters.charter_changed` and `pricing.quote_accepted` comes second | the charter |
| cancellation | `charters.charter_changed` to cancelled, from a booking | the charter |
| payment_receipt | `finance.payment_applied` (applied) | the event |
| invoice_issued | `finance.invoice_changed` (sent) | the invoice |
| deposit/balance_reminder | the daily job: an open instalment due in 7 or 2 days | `<kind>:<instalment>:<days>` |
| trip_reminder | the hourly job: a booked trip whose pickup is tomorrow where it starts | `trip_reminder:<charter>` |

Every kind goes to the client's e-mail, and by SMS as well where the kind
has SMS and the client gave a phone with its opt-in (preferences decide
the rest, in `messages.queue`). A client notifications knows no address of
yet is skipped (logged): its facts come by their own stream and may lag.

An event much older than its arrival (a consumer group reading a stream's
history after a first deploy or a long outage) still updates the facts but
decides nothing: telling clients about last month's bookings helps nobody.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from subgraphs.kit.settings import get_settings
from subgraphs.notifications.models import CharterFact, InstallmentFact, Message
from subgraphs.notifications.service import facts
from subgraphs.notifications.service.catalogue import KINDS
from subgraphs.notifications.service.messages import Decision, queue
from subgraphs.notifications.service.recipients import client_recipient

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

CURRENCY = "USD"
#: Charter statuses a confirmation, a reminder or a trip reminder is for.
BOOKED = frozenset({"booked", "confirmed"})
#: Statuses a cancellation mail is sent from (a quote withdrawn is not a trip cancelled).
CANCELLABLE = frozenset({"booked", "confirmed", "in_progress"})
#: Days before an instalment's due date its reminders go out.
REMINDER_DAYS = (7, 2)
#: The trip reminder waits for this local hour of the day before (no mail at midnight).
TRIP_REMINDER_FROM_HOUR = 9


def money(amount: Decimal | str | None) -> dict[str, str] | None:
    """The catalogue's money: a decimal string and its currency."""
    if amount is None:
        return None
    return {"amount": str(Decimal(str(amount)).quantize(Decimal("0.01"))), "currency": CURRENCY}


def _pickup(fact: CharterFact | None) -> dict[str, Any]:
    return {
        "charter_reference": fact.reference or None if fact else None,
        "pickup_at": fact.pickup_at.isoformat() if fact and fact.pickup_at else None,
        "pickup_time_zone": fact.pickup_time_zone if fact else "UTC",
        "pickup_address": fact.pickup_address if fact else None,
    }


async def to_client(
    session: AsyncSession,
    kind: str,
    client_id: uuid.UUID | None,
    variables: dict[str, Any],
    now: datetime,
    *,
    key: str | None = None,
    event_id: str | None = None,
    charter_id: uuid.UUID | None = None,
) -> list[Message]:
    """Decide `kind` for the client on each channel it has; the messages newly decided.

    `key` (a job's or a once-per-charter key) is the e-mail's idempotency key; the
    SMS's is the same with `:sms`. Without it the event's id makes the key.
    """
    if client_id is None:
        log.info("%s not decided: the charter names no client", kind)
        return []
    decided = []
    for channel in KINDS[kind].channels:
        recipient = await client_recipient(session, client_id, channel)
        if recipient is None:
            if channel == "email":
                log.info("%s not decided: no e-mail known for client %s yet", kind, client_id)
            continue
        message = await queue(
            session,
            Decision(
                kind=kind,
                channel=channel,
                recipient=recipient,
                variables={**variables, "recipient_name": recipient.name or None},
                key=None if key is None else (key if channel == "email" else f"{key}:{channel}"),
                event_id=event_id,
                client_id=client_id,
                charter_id=charter_id,
            ),
            now,
        )
        if message is not None:
            decided.append(message)
    return decided


def _now() -> datetime:
    return datetime.now(UTC)


# -- the consumers ------------------------------------------------------------------------------


async def on_client_changed(session: AsyncSession, event: dict[str, Any]) -> None:
    await facts.apply_client_event(session, event)


async def on_user_changed(session: AsyncSession, event: dict[str, Any]) -> None:
    await facts.apply_user_event(session, event)


async def on_vendor_changed(session: AsyncSession, event: dict[str, Any]) -> None:
    await facts.apply_vendor_event(session, event)


async def on_installment_changed(session: AsyncSession, event: dict[str, Any]) -> None:
    await facts.apply_installment_event(session, event)


async def on_quote_priced(session: AsyncSession, event: dict[str, Any]) -> None:
    await facts.apply_quote_priced(session, event)


async def on_charter_changed(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> None:
    """Keep the charter's facts; tell the client of a new revision, a booking, a cancellation."""
    now = now or _now()
    payload = facts.payload_of(event)
    charter_id = facts.uuid_or_none(payload.get("charterId"))
    if charter_id is None:
        return
    before = (
        await session.execute(
            select(CharterFact.status, CharterFact.quote_revision, CharterFact.as_of).where(
                CharterFact.charter_id == charter_id
            )
        )
    ).first()
    if not await facts.apply_charter_event(session, event) or not facts.fresh(event, now):
        return
    fact = await session.get(CharterFact, charter_id, populate_existing=True)
    if fact is None:  # pragma: no cover - just written
        return
    changes = set(payload.get("changes") or [])
    # What charters had said before this event (not a placeholder another stream made).
    was_status, was_revision = (
        (before.status, before.quote_revision)
        if before is not None and before.as_of > facts.UNKNOWN_TIME
        else (None, None)
    )
    revised = "quote_revision" in changes or (
        was_revision is not None
        and fact.quote_revision is not None
        and fact.quote_revision > was_revision
    )
    if fact.status == "quote" and fact.quote_revision and revised:
        await _quote_revised(session, fact, now)
    if fact.status in BOOKED:
        await decide_booking_confirmed(session, fact, now)
    if fact.status == "cancelled":
        previous = payload.get("previousStatus") or was_status
        if previous in CANCELLABLE:
            await _cancellation(session, fact, now)


async def on_quote_accepted(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> None:
    """Keep the accepted price; confirm the booking if the charter is known booked already."""
    now = now or _now()
    await facts.apply_quote_accepted(session, event)
    charter_id = facts.uuid_or_none(facts.payload_of(event).get("charterId"))
    if charter_id is None or not facts.fresh(event, now):
        return
    fact = await session.get(CharterFact, charter_id, populate_existing=True)
    if fact is not None and fact.status in BOOKED:
        await decide_booking_confirmed(session, fact, now)


async def on_quote_sent(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> None:
    """Mail the client the quote's signed link: each link made is one sending."""
    now = now or _now()
    payload = facts.payload_of(event)
    charter_id = facts.uuid_or_none(payload.get("charterId"))
    if charter_id is None or not facts.fresh(event, now):
        return
    fact = await session.get(CharterFact, charter_id)
    quoted = (fact.data or {}).get("quotedTotal") if fact else None
    known = _pickup(fact)
    await to_client(
        session,
        "quote_sent",
        facts.uuid_or_none(payload.get("clientId")) or (fact.client_id if fact else None),
        {
            # the event carries the trip: it may arrive before charters' own event did
            "charter_reference": payload.get("reference") or known["charter_reference"],
            "pickup_at": payload.get("pickupAt") or known["pickup_at"],
            "pickup_time_zone": payload.get("pickupTimeZone") or known["pickup_time_zone"],
            "pickup_address": payload.get("pickupAddress") or known["pickup_address"],
            "quote_total": money(quoted),
            "quote_link": payload.get("link"),
            "quote_expires_at": payload.get("expiresAt"),
            "passenger_count": payload.get("passengerCount")
            or (fact.passenger_count if fact else None),
        },
        now,
        event_id=facts.event_id(event),
        charter_id=charter_id,
    )


async def on_payment_applied(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> None:
    """A receipt for money applied to a charter (not for one taken back)."""
    now = now or _now()
    payload = facts.payload_of(event)
    amount = facts.money(payload.get("amount"))
    charter_id = facts.uuid_or_none(payload.get("charterId"))
    if payload.get("action") != "applied" or amount is None or amount <= 0:
        return
    if not facts.fresh(event, now):
        return
    fact = await session.get(CharterFact, charter_id) if charter_id else None
    at = facts.event_time(event) or now
    await to_client(
        session,
        "payment_receipt",
        facts.uuid_or_none(payload.get("clientId")) or (fact.client_id if fact else None),
        {
            "charter_reference": fact.reference or None if fact else None,
            "amount": money(amount),
            "paid_at": at.isoformat(),
            "time_zone": get_settings().operator_time_zone,
            "payment_method": _method(payload.get("method")),
            "receipt_number": str(payload.get("paymentId") or payload.get("applicationId")),
            "balance_remaining": None,
        },
        now,
        event_id=facts.event_id(event),
        charter_id=charter_id,
    )


_METHODS = {"ach": "ACH transfer", "wire": "Wire transfer", "check": "Check", "cash": "Cash"}


def _method(method: Any) -> str:
    if not method:
        return "Payment"
    text = str(method)
    return _METHODS.get(text, text.replace("_", " ").capitalize())


async def on_invoice_changed(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> None:
    """An invoice issued to the client (sent: a draft is the operator's, not yet the client's)."""
    now = now or _now()
    payload = facts.payload_of(event)
    invoice_id = payload.get("invoiceId")
    if payload.get("action") != "sent" or not invoice_id or not facts.fresh(event, now):
        return
    charter_id = facts.uuid_or_none(payload.get("charterId"))
    fact = await session.get(CharterFact, charter_id) if charter_id else None
    await to_client(
        session,
        "invoice_issued",
        facts.uuid_or_none(payload.get("clientId")),
        {
            "invoice_number": payload.get("number"),
            "charter_reference": fact.reference or None if fact else None,
            "amount": money(payload.get("total")),
            "due_on": payload.get("dueOn"),
            "invoice_link": facts.portal_link(f"/invoices/{invoice_id}"),
        },
        now,
        key=f"invoice_issued:{invoice_id}",
        event_id=facts.event_id(event),
        charter_id=charter_id,
    )


# -- decisions about one charter ------------------------------------------------------------------


async def decide_booking_confirmed(
    session: AsyncSession, fact: CharterFact, now: datetime
) -> list[Message]:
    """Confirm once both halves are known: the booking (charters) and its price (pricing)."""
    if fact.total is None or fact.status not in BOOKED:
        return []
    deposit = await session.scalar(
        select(InstallmentFact)
        .where(InstallmentFact.charter_id == fact.charter_id, InstallmentFact.kind == "deposit")
        .order_by(InstallmentFact.due_on)
        .limit(1)
    )
    return await to_client(
        session,
        "booking_confirmed",
        fact.client_id,
        {
            **_pickup(fact),
            "total": money(fact.total),
            "deposit_amount": money(deposit.amount) if deposit else None,
            "deposit_due_on": deposit.due_on.isoformat() if deposit else None,
            "portal_link": facts.portal_link(f"/charters/{fact.charter_id}"),
        },
        now,
        key=f"booking_confirmed:{fact.charter_id}",
        charter_id=fact.charter_id,
    )


async def _quote_revised(session: AsyncSession, fact: CharterFact, now: datetime) -> None:
    quoted = (fact.data or {}).get("quotedTotal")
    await to_client(
        session,
        "quote_revised",
        fact.client_id,
        {
            **_pickup(fact),
            "quote_total": money(quoted),
            "previous_total": None,
            "quote_revision": fact.quote_revision,
            "quote_link": facts.portal_link(f"/charters/{fact.charter_id}"),
            "quote_expires_at": None,
        },
        now,
        key=f"quote_revised:{fact.charter_id}:{fact.quote_revision}",
        charter_id=fact.charter_id,
    )


async def _cancellation(session: AsyncSession, fact: CharterFact, now: datetime) -> None:
    data = fact.data or {}
    await to_client(
        session,
        "cancellation",
        fact.client_id,
        {
            **_pickup(fact),
            "reason": data.get("cancellationReason"),
            "cancellation_fee": money(data.get("cancellationFee")),
            "refund_amount": None,
        },
        now,
        key=f"cancellation:{fact.charter_id}",
        charter_id=fact.charter_id,
    )


# -- the clock's decisions (the jobs in `jobs.py`) ----------------------------------------------


def reminder_kind(instalment_kind: str) -> str:
    return "deposit_reminder" if instalment_kind == "deposit" else "balance_reminder"


async def payment_reminders(session: AsyncSession, today: date, now: datetime) -> list[Message]:
    """Remind of each open instalment due in exactly 7 or 2 days (`today`: operator-local)."""
    decided: list[Message] = []
    for days in REMINDER_DAYS:
        rows = (
            await session.execute(
                select(InstallmentFact, CharterFact)
                .join(CharterFact, CharterFact.charter_id == InstallmentFact.charter_id)
                .where(
                    InstallmentFact.due_on == today + timedelta(days=days),
                    InstallmentFact.outstanding > 0,
                    CharterFact.status.in_(BOOKED),
                )
                .order_by(InstallmentFact.due_on, InstallmentFact.installment_id)
            )
        ).all()
        for instalment, charter in rows:
            kind = reminder_kind(instalment.kind)
            decided += await to_client(
                session,
                kind,
                instalment.client_id or charter.client_id,
                {
                    **_pickup(charter),
                    "amount_due": money(instalment.outstanding),
                    "due_on": instalment.due_on.isoformat(),
                    "days_left": days,
                    "pay_link": facts.portal_link(f"/charters/{charter.charter_id}/pay"),
                },
                now,
                key=f"{kind}:{instalment.installment_id}:{days}",
                charter_id=charter.charter_id,
            )
    return decided


async def trip_reminders(session: AsyncSession, now: datetime) -> list[Message]:
    """Remind of each booked trip whose pickup is tomorrow in the pickup's own time zone."""
    # Tomorrow anywhere on Earth starts within 2 days of now: a cheap window, then the exact test.
    candidates = await session.scalars(
        select(CharterFact)
        .where(
            CharterFact.status.in_(BOOKED),
            CharterFact.pickup_at > now,
            CharterFact.pickup_at < now + timedelta(days=3),
        )
        .order_by(CharterFact.pickup_at, CharterFact.charter_id)
    )
    decided: list[Message] = []
    settings = get_settings()
    for charter in list(candidates):
        if charter.pickup_at is None:  # pragma: no cover - filtered above
            continue
        zone = _zone(charter.pickup_time_zone)
        local_now = now.astimezone(zone)
        tomorrow = local_now.date() + timedelta(days=1)
        if charter.pickup_at.astimezone(zone).date() != tomorrow:
            continue
        if local_now.hour < TRIP_REMINDER_FROM_HOUR:
            continue
        decided += await to_client(
            session,
            "trip_reminder",
            charter.client_id,
            {
                **_pickup(charter),
                "passenger_count": charter.passenger_count,
                "driver_name": None,
                "dispatch_phone": settings.dispatch_phone_number or None,
            },
            now,
            key=f"trip_reminder:{charter.charter_id}",
            charter_id=charter.charter_id,
        )
    return decided


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


#: The streams these consumers read: topic -> (consumer group, handler), for the app.
CONSUMERS: dict[str, tuple[str, Any]] = {
    facts.CLIENT_CHANGED: ("notifications.client-facts", on_client_changed),
    facts.USER_CHANGED: ("notifications.user-facts", on_user_changed),
    facts.VENDOR_CHANGED: ("notifications.vendor-facts", on_vendor_changed),
    facts.CHARTER_CHANGED: ("notifications.charters", on_charter_changed),
    facts.QUOTE_SENT: ("notifications.quotes-sent", on_quote_sent),
    facts.QUOTE_PRICED: ("notifications.quote-prices", on_quote_priced),
    facts.QUOTE_ACCEPTED: ("notifications.accepted-prices", on_quote_accepted),
    facts.INSTALLMENT_CHANGED: ("notifications.instalments", on_installment_changed),
    facts.PAYMENT_APPLIED: ("notifications.payments", on_payment_applied),
    facts.INVOICE_CHANGED: ("notifications.invoices", on_invoice_changed),
}
