"""Tour customers' messages (issue 15): tours decides what happened, notifications tells them.

Tour customers are people, often without an account: a booking and a
waitlist entry carry the customer's name and e-mail, and the account id only
when the customer was signed in. So the recipient is the e-mail in the
event itself (never looked up), with the account's preferences when there
is one and the defaults otherwise. Every tour kind is transactional (it
confirms something the customer did or holds), so only the channel
switches could silence it; e-mail only, since tours takes no SMS opt-in.

`tours.booking_changed` by `change`:
- `created` -> `tour_booking_confirmation`;
- `confirmed`, `modified` -> `tour_booking_changed`;
- `cancelled`, `departure_cancelled` -> `tour_booking_cancelled`, with the
  refund due (null: nothing is owed back);
- `completed`, `no_show`, `refunded` -> nothing (staff bookkeeping).

`tours.waitlist_offer_made` -> `tour_waitlist_offer` (seats held until the
offer expires).

One message per event, kind and address (`messages.queue`'s idempotency
key), and none for an event older than `facts.DECIDE_WITHIN`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from subgraphs.notifications.service import facts
from subgraphs.notifications.service.client_messages import money
from subgraphs.notifications.service.messages import Decision, Recipient, queue
from subgraphs.notifications.service.preferences import DEFAULTS, user_preferences

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.notifications.models import Message

log = logging.getLogger(__name__)

BOOKING_CHANGED = "tours.booking_changed"
WAITLIST_OFFER_MADE = "tours.waitlist_offer_made"

#: `tours.booking_changed`'s change -> the message kind (absent: no message)
KIND_OF_CHANGE = {
    "created": "tour_booking_confirmation",
    "confirmed": "tour_booking_changed",
    "modified": "tour_booking_changed",
    "cancelled": "tour_booking_cancelled",
    "departure_cancelled": "tour_booking_cancelled",
}
CHANNEL = "email"


def _now() -> datetime:
    return datetime.now(UTC)


async def customer(session: AsyncSession, payload: dict[str, Any]) -> Recipient | None:
    """The customer the event names, by its e-mail; None when it names none."""
    address = str(payload.get("customerEmail") or "").strip()
    if not address:
        return None
    user_id = facts.uuid_or_none(payload.get("userId"))
    return Recipient(
        address=address,
        name=str(payload.get("customerName") or "").strip() or None,
        user_id=user_id,
        preferences=await user_preferences(session, user_id) if user_id else DEFAULTS,
    )


def _departure(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "tour_name": payload.get("tourName") or "your tour",
        "departs_at": payload.get("startsAt"),
        "departure_time_zone": payload.get("timeZone") or "UTC",
    }


def booking_variables(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = {
        **_departure(payload),
        "booking_reference": payload.get("reference"),
        "adults": int(payload.get("adults") or 0),
        "children": int(payload.get("children") or 0),
        "infants": int(payload.get("infants") or 0),
    }
    reason = str(payload.get("reason") or "").strip() or None
    if kind == "tour_booking_confirmation":
        variables["total"] = money(payload.get("total"))
    elif kind == "tour_booking_changed":
        variables |= {
            "change": payload.get("change"),
            "total": money(payload.get("total")),
            "reason": reason,
        }
    else:
        refund = money(payload.get("refundDue"))
        variables |= {
            "departure_cancelled": payload.get("change") == "departure_cancelled",
            "refund_due": refund if refund and refund["amount"] != "0.00" else None,
            "reason": reason,
        }
    return variables


async def _decide(
    session: AsyncSession,
    event: dict[str, Any],
    kind: str,
    variables: dict[str, Any],
    now: datetime,
) -> Message | None:
    payload = facts.payload_of(event)
    event_id = facts.event_id(event)
    if not event_id or not facts.fresh(event, now):
        return None
    recipient = await customer(session, payload)
    if recipient is None:
        log.info("%s not decided: event %s names no customer e-mail", kind, event_id)
        return None
    return await queue(
        session,
        Decision(
            kind=kind,
            channel=CHANNEL,
            recipient=recipient,
            variables={"recipient_name": recipient.name, **variables},
            event_id=event_id,
        ),
        now,
    )


async def on_booking_changed(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> Message | None:
    payload = facts.payload_of(event)
    kind = KIND_OF_CHANGE.get(str(payload.get("change")))
    if kind is None:
        return None
    return await _decide(session, event, kind, booking_variables(kind, payload), now or _now())


async def on_waitlist_offer_made(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> Message | None:
    payload = facts.payload_of(event)
    variables = {
        **_departure(payload),
        "seats": int(payload.get("seats") or 0),
        "price_per_person": money(payload.get("pricePerPerson")),
        "offer_expires_at": payload.get("expiresAt"),
    }
    return await _decide(session, event, "tour_waitlist_offer", variables, now or _now())


#: topic -> (consumer group, handler), for the app.
CONSUMERS: dict[str, tuple[str, Any]] = {
    BOOKING_CHANGED: ("notifications.tour-bookings", on_booking_changed),
    WAITLIST_OFFER_MADE: ("notifications.tour-waitlist", on_waitlist_offer_made),
}
