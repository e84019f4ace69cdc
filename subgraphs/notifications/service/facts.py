"""What notifications keeps of other subgraphs' records, from their events (never their tables).

- `sales.client_changed` -> `ClientFact`: whom a client company is written to (sales keeps no
  locale: "en" until it does).
- `identity.user_changed` -> `UserFact`: a person's e-mail, name, roles, client and vendor link.
- `charters.charter_changed` -> `CharterFact`: reference, client, agent, status, pickup (instant,
  zone, first stop), passengers, quote revision; cancellation fee and reason in `data`.
- `pricing.quote_accepted` -> `CharterFact.total`: the price a booking confirmation states.
- `pricing.quote_priced` -> `CharterFact.data["quotedTotal"]`: an open quote's latest price,
  which the quote mails state.
- `vendors.vendor_changed` -> `VendorFact`.
- `finance.installment_changed` -> `InstallmentFact`: what is due when, and still open.

Every handler is an upsert keyed by the source id and guarded by the event's time
(`kit/facts.upsert_newer`): an event delivered twice writes the same row, an older one
never overwrites a newer fact. Each returns whether it wrote, so the consumers that decide
messages (`client_messages.py`) act only on news.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import cast, update
from sqlalchemy.dialects.postgresql import JSONB, insert

from subgraphs.kit.facts import upsert_newer
from subgraphs.kit.settings import get_settings
from subgraphs.notifications.models import (
    CharterFact,
    ClientFact,
    InstallmentFact,
    UserFact,
    VendorFact,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

CLIENT_CHANGED = "sales.client_changed"
USER_CHANGED = "identity.user_changed"
CHARTER_CHANGED = "charters.charter_changed"
QUOTE_SENT = "charters.quote_sent"
QUOTE_ACCEPTED = "pricing.quote_accepted"
QUOTE_PRICED = "pricing.quote_priced"
VENDOR_CHANGED = "vendors.vendor_changed"
INSTALLMENT_CHANGED = "finance.installment_changed"
PAYMENT_APPLIED = "finance.payment_applied"
INVOICE_CHANGED = "finance.invoice_changed"

#: An event older than this on arrival (a first deploy reading a stream's history, a long
#: outage) updates the facts but decides no message: nobody wants last month's reminders.
DECIDE_WITHIN = timedelta(days=2)
#: A fact a charter's own events have not yet described is older than any of them.
UNKNOWN_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def payload_of(event: dict[str, Any]) -> dict[str, Any]:
    payload = event.get("payload")
    return payload if isinstance(payload, dict) else {}


def event_time(event: dict[str, Any]) -> datetime | None:
    """When the change happened: the payload's own moment if it has one, else the outbox row's.

    Finance stamps an instalment's event under the change's locks (the outbox row's time is
    its transaction's start), so its own moment orders two changes of one instalment right.
    """
    raw = payload_of(event).get("occurredAt") or event.get("occurredAt")
    if not raw:
        return None
    at = datetime.fromisoformat(str(raw))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def fresh(event: dict[str, Any], now: datetime) -> bool:
    """Recent enough to decide a message (`DECIDE_WITHIN`); an older one only updates facts."""
    at = event_time(event)
    return at is None or now - at <= DECIDE_WITHIN


def event_id(event: dict[str, Any]) -> str | None:
    """The outbox id of the event: the idempotency key's root."""
    value = event.get("id")
    return str(value) if value else None


def portal_link(path: str) -> str | None:
    """The client portal's page at `path`, or None when no portal is configured."""
    base = get_settings().portal_url.rstrip("/")
    return f"{base}{path}" if base else None


def uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def money(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


def _text(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if value else None


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


async def apply_client_event(session: AsyncSession, event: dict[str, Any]) -> bool:
    payload = payload_of(event)
    client_id = uuid_or_none(payload.get("clientId"))
    at = event_time(event)
    if client_id is None or at is None:
        return False
    values: dict[str, Any] = {
        "client_id": client_id,
        "name": str(payload.get("name") or "")[:200],
        "status": _text(payload.get("status"), 30),
        "locale": str(payload.get("locale") or "en")[:20],
        "data": {k: payload[k] for k in ("type", "salesAgentId", "paymentTerms") if k in payload},
        "as_of": at,
    }
    # Events from before sales announced these keep what is held.
    if "email" in payload:
        values["email"] = _text(payload["email"], 320)
    if "phone" in payload:
        values["phone"] = _text(payload["phone"], 40)
    return await upsert_newer(session, ClientFact, "client_id", values)


async def apply_user_event(session: AsyncSession, event: dict[str, Any]) -> bool:
    payload = payload_of(event)
    user_id = uuid_or_none(payload.get("userId"))
    at = event_time(event)
    if user_id is None or at is None or not payload.get("email"):
        return False
    active = payload.get("active")
    values: dict[str, Any] = {
        "user_id": user_id,
        "email": str(payload["email"])[:320],
        "name": str(payload.get("name") or "")[:200],
        "roles": [str(r) for r in payload.get("roles") or []],
        "client_id": uuid_or_none(payload.get("clientId")),
        "vendor_id": uuid_or_none(payload.get("vendorId")),
        "locale": str(payload.get("locale") or "en")[:20],
        "status": None if active is None else ("active" if active else "inactive"),
        "as_of": at,
    }
    if "phone" in payload:
        values["phone"] = _text(payload["phone"], 40)
    return await upsert_newer(session, UserFact, "user_id", values)


async def apply_charter_event(session: AsyncSession, event: dict[str, Any]) -> bool:
    """The charter as it stands; never its accepted total (pricing's, kept apart)."""
    payload = payload_of(event)
    charter_id = uuid_or_none(payload.get("charterId"))
    at = event_time(event)
    if charter_id is None or at is None or payload.get("isTemplate"):
        return False
    pickup = payload.get("pickupAt")
    values: dict[str, Any] = {
        "charter_id": charter_id,
        "reference": str(payload.get("reference") or "")[:40],
        "client_id": uuid_or_none(payload.get("clientId")),
        "sales_agent_id": uuid_or_none(payload.get("salesAgentId")),
        "status": str(payload.get("status") or "quote")[:20],
        "pickup_at": datetime.fromisoformat(pickup) if pickup else None,
        "pickup_address": payload.get("pickupAddress"),
        "pickup_latitude": _float(payload.get("pickupLatitude")),
        "pickup_longitude": _float(payload.get("pickupLongitude")),
        "passenger_count": payload.get("passengerCount"),
        "as_of": at,
    }
    # Events from before charters announced these keep what is held.
    if payload.get("pickupTimeZone"):
        values["pickup_time_zone"] = str(payload["pickupTimeZone"])[:60]
    if payload.get("quoteRevision") is not None:
        values["quote_revision"] = int(payload["quoteRevision"])
    written = await upsert_newer(session, CharterFact, "charter_id", values)
    if written:
        await _merge_data(
            session,
            charter_id,
            {
                k: payload[k]
                for k in ("tripType", "cancelledAt", "cancellationFee", "cancellationReason")
                if k in payload
            },
        )
    return written


async def _merge_data(session: AsyncSession, charter_id: uuid.UUID, data: dict[str, Any]) -> None:
    """Add to a charter's `data`, keeping what other streams put there (the quoted price)."""
    if data:
        await session.execute(
            update(CharterFact)
            .where(CharterFact.charter_id == charter_id)
            .values(data=CharterFact.data.op("||")(cast(data, JSONB)))
        )


async def apply_quote_priced(session: AsyncSession, event: dict[str, Any]) -> bool:
    """An open quote's latest price; a newer calculation replaces an older one, never back."""
    payload = payload_of(event)
    charter_id = uuid_or_none(payload.get("charterId"))
    total = money(payload.get("total"))
    at = payload.get("calculatedAt") or event.get("occurredAt")
    if charter_id is None or total is None or not at:
        return False
    quoted = {"quotedTotal": str(total), "quotedAt": str(at)}
    await session.execute(
        insert(CharterFact)
        .values(
            charter_id=charter_id,
            client_id=uuid_or_none(payload.get("clientId")),
            data={},
            as_of=UNKNOWN_TIME,
        )
        .on_conflict_do_nothing(index_elements=[CharterFact.charter_id])
    )
    held = CharterFact.data["quotedAt"].astext
    done = await session.scalar(
        update(CharterFact)
        .where(
            CharterFact.charter_id == charter_id,
            held.is_(None)
            | (cast(held, CharterFact.as_of.type) <= datetime.fromisoformat(str(at))),
        )
        .values(data=CharterFact.data.op("||")(cast(quoted, JSONB)))
        .returning(CharterFact.charter_id)
    )
    return done is not None


async def apply_quote_accepted(session: AsyncSession, event: dict[str, Any]) -> bool:
    """The accepted price, whenever it comes: before the charter's own facts or after."""
    payload = payload_of(event)
    charter_id = uuid_or_none(payload.get("charterId"))
    total = money(payload.get("total"))
    if charter_id is None or total is None:
        return False
    stmt = insert(CharterFact).values(
        charter_id=charter_id,
        client_id=uuid_or_none(payload.get("clientId")),
        total=total,
        data={},
        as_of=UNKNOWN_TIME,  # charters' own facts, when they come, win
    )
    written = await session.scalar(
        stmt.on_conflict_do_update(
            index_elements=[CharterFact.charter_id],
            set_={"total": total},
            where=CharterFact.total.is_distinct_from(total),
        ).returning(CharterFact.charter_id)
    )
    return written is not None


async def apply_vendor_event(session: AsyncSession, event: dict[str, Any]) -> bool:
    payload = payload_of(event)
    vendor_id = uuid_or_none(payload.get("vendorId"))
    at = event_time(event)
    if vendor_id is None or at is None:
        return False
    values: dict[str, Any] = {
        "vendor_id": vendor_id,
        "name": str(payload.get("name") or "")[:200],
        "email": _text(payload.get("email"), 320),
        "status": _text(payload.get("status"), 30),
        "data": {k: payload[k] for k in ("address", "paymentTerms") if k in payload},
        "as_of": at,
    }
    for key, column in (("phone", "phone"), ("compliant", "compliant")):
        if key in payload:
            values[column] = payload[key]
    for key, column in (
        ("latitude", "latitude"),
        ("longitude", "longitude"),
        ("serviceRadiusMiles", "service_radius_miles"),
    ):
        if key in payload:
            values[column] = payload[key]
    return await upsert_newer(session, VendorFact, "vendor_id", values)


async def apply_installment_event(session: AsyncSession, event: dict[str, Any]) -> bool:
    """An instalment as finance has it now; one a re-plan removed wants nothing any more."""
    payload = payload_of(event)
    installment_id = uuid_or_none(payload.get("installmentId"))
    at = event_time(event)
    if installment_id is None or at is None:
        return False
    if payload.get("removed"):
        done = await session.scalar(
            update(InstallmentFact)
            .where(InstallmentFact.installment_id == installment_id, InstallmentFact.as_of <= at)
            .values(outstanding=Decimal("0.00"), as_of=at)
            .returning(InstallmentFact.installment_id)
        )
        return done is not None
    charter_id = uuid_or_none(payload.get("charterId"))
    amount = money(payload.get("amount"))
    outstanding = money(payload.get("outstanding"))
    if charter_id is None or amount is None or outstanding is None or not payload.get("dueOn"):
        return False
    return await upsert_newer(
        session,
        InstallmentFact,
        "installment_id",
        {
            "installment_id": installment_id,
            "charter_id": charter_id,
            "client_id": uuid_or_none(payload.get("clientId")),
            "kind": str(payload.get("kind") or "instalment")[:20],
            "amount": amount,
            "outstanding": outstanding,
            "due_on": date.fromisoformat(str(payload["dueOn"])),
            "as_of": at,
        },
    )
