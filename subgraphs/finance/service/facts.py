"""What finance keeps of other subgraphs' records, from their events (never their tables).

- `sales.client_changed`: a client's name, type, payment terms, credit limit, tax exemption,
  status, billing address and e-mail (printed on invoices); a change enters the accounting sync.
- `charters.charter_changed`: a charter's reference, client, agent, status and pickup,
  its vehicles' cost and its cancellation (when, fee, reason).
- `pricing.quote_accepted`: the price a booked charter owes, with its lines and tax.

Each handler is an idempotent upsert guarded by the event's time. When a
charter is booked and its accepted price is known (in either order), its
payment plan is made; a new accepted price re-plans it (`plans.plan`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.finance.models import CharterFact, ClientFact
from subgraphs.finance.service import plans, sync_outbox
from subgraphs.kit.facts import upsert_newer
from subgraphs.kit.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

CLIENT_CHANGED = "sales.client_changed"
CHARTER_CHANGED = "charters.charter_changed"
QUOTE_ACCEPTED = "pricing.quote_accepted"
#: Charter statuses that owe money on a plan.
BOOKED = frozenset({"booked", "confirmed", "in_progress", "completed"})


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def _money(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


async def apply_client_event(session: AsyncSession, event: dict[str, Any]) -> None:
    payload = event.get("payload") or {}
    if "clientId" not in payload or "occurredAt" not in event:
        return
    changed = await upsert_newer(
        session,
        ClientFact,
        "client_id",
        {
            "client_id": uuid.UUID(payload["clientId"]),
            "name": str(payload.get("name") or "")[:200],
            "client_type": payload.get("type"),
            "payment_terms": payload.get("paymentTerms"),
            "credit_limit": _money(payload.get("creditLimit")),
            "tax_exempt": bool(payload.get("taxExempt")),
            "sales_agent_id": _uuid(payload.get("salesAgentId")),
            "as_of": datetime.fromisoformat(event["occurredAt"]),
            **_billing_facts(payload),
        },
    )
    if changed:
        await sync_outbox.enqueue(session, "customer", uuid.UUID(payload["clientId"]))


def _billing_facts(payload: dict[str, Any]) -> dict[str, Any]:
    """Status, billing address and e-mail, only when the event carries them.

    Events written before sales sent these keys leave what is held alone
    instead of wiping an address an invoice prints.
    """
    out: dict[str, Any] = {}
    if "status" in payload:
        out["status"] = str(payload["status"])[:20] if payload["status"] else None
    if "billingAddress" in payload:
        address = payload["billingAddress"]
        out["billing_address"] = dict(address) if isinstance(address, dict) else None
    if "email" in payload:
        out["email"] = str(payload["email"])[:254] if payload["email"] else None
    return out


async def apply_charter_event(session: AsyncSession, event: dict[str, Any]) -> None:
    payload = event.get("payload") or {}
    if "charterId" not in payload or "occurredAt" not in event or payload.get("isTemplate"):
        return
    pickup = payload.get("pickupAt")
    changed = await upsert_newer(
        session,
        CharterFact,
        "charter_id",
        {
            "charter_id": uuid.UUID(payload["charterId"]),
            "reference": payload.get("reference"),
            "client_id": _uuid(payload.get("clientId")),
            "sales_agent_id": _uuid(payload.get("salesAgentId")),
            "status": str(payload.get("status") or "quote"),
            "pickup_at": datetime.fromisoformat(pickup) if pickup else None,
            "as_of": datetime.fromisoformat(event["occurredAt"]),
            **_cost_and_cancellation(payload),
        },
    )
    if changed:
        await _plan_when_ready(session, uuid.UUID(payload["charterId"]))


def _cost_and_cancellation(payload: dict[str, Any]) -> dict[str, Any]:
    """The profit and cancellation facts, only when the event carries them.

    Events written before charters sent these keys leave what is held alone
    instead of wiping a known cost.
    """
    out: dict[str, Any] = {}
    if "vehicleCost" in payload:
        out["vehicle_cost"] = _money(payload["vehicleCost"])
    if "cancelledAt" in payload:
        cancelled = payload["cancelledAt"]
        out["cancelled_at"] = datetime.fromisoformat(cancelled) if cancelled else None
    if "cancellationFee" in payload:
        out["cancellation_fee"] = _money(payload["cancellationFee"])
    if "cancellationReason" in payload:
        reason = payload["cancellationReason"]
        out["cancellation_reason"] = str(reason)[:1000] if reason is not None else None
    return out


async def apply_quote_accepted(session: AsyncSession, event: dict[str, Any]) -> None:
    payload = event.get("payload") or {}
    if "charterId" not in payload or "total" not in payload:
        return
    charter_id = uuid.UUID(payload["charterId"])
    values = {
        "accepted_total": _money(payload["total"]),
        "accepted_tax": _money(payload.get("tax")),
        "accepted_lines": payload.get("lines") or [],
        "accepted_at": datetime.fromisoformat(event["occurredAt"])
        if event.get("occurredAt")
        else datetime.now(UTC),
    }
    stmt = insert(CharterFact).values(
        charter_id=charter_id,
        client_id=_uuid(payload.get("clientId")),
        status="booked",
        as_of=datetime(2000, 1, 1, tzinfo=UTC),  # charters' own facts, when they come, win
        **values,
    )
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[CharterFact.charter_id], set_=values)
    )
    await _plan_when_ready(session, charter_id)


async def _plan_when_ready(session: AsyncSession, charter_id: uuid.UUID) -> None:
    fact = await session.scalar(select(CharterFact).where(CharterFact.charter_id == charter_id))
    if fact is None or fact.status not in BOOKED or fact.accepted_total is None:
        return
    if fact.pickup_at is None:
        return
    zone = ZoneInfo(get_settings().operator_time_zone)
    pickup_on = fact.pickup_at.astimezone(zone).date()
    today = datetime.now(UTC).astimezone(zone).date()
    await plans.plan(session, charter_id, fact.client_id, fact.accepted_total, pickup_on, today)
