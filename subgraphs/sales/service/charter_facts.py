"""The converted lead's charter, as charters announces it (`charters.charter_changed`).

Follow-ups need to know whether a quote sales created by conversion is
still a quote: once it is booked (or cancelled), "your quote is waiting"
would be wrong. Sales never reads charters' tables, so it keeps the
charter's status on the lead that created it, from charters' own events.

The handler is idempotent and order-safe: an event older (by `occurredAt`)
than the status the lead holds changes nothing, so a replayed or late
event cannot move a booked charter back to "quote". A real change of the
status is audited on the lead as the system (no actor).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from subgraphs.kit.auditing import audit_row
from subgraphs.sales.models import Lead, LeadAudit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

CHARTER_CHANGED = "charters.charter_changed"
#: Longer than any charters status; a payload that is not a status is ignored.
MAX_STATUS = 20


async def apply_charter_event(session: AsyncSession, event: dict[str, Any]) -> None:
    """Record a charter's status on the leads converted into it, unless the event is stale."""
    payload = event.get("payload") or {}
    status = payload.get("status")
    if "charterId" not in payload or "occurredAt" not in event:
        return
    if not isinstance(status, str) or not status or len(status) > MAX_STATUS:
        return
    charter_id = uuid.UUID(payload["charterId"])
    at = datetime.fromisoformat(event["occurredAt"])
    leads = await session.scalars(
        select(Lead)
        .where(
            Lead.charter_id == charter_id,
            or_(Lead.charter_status_at.is_(None), Lead.charter_status_at <= at),
        )
        .order_by(Lead.id)
        .with_for_update()
    )
    for lead in leads:
        before = {"charter_status": lead.charter_status}
        lead.charter_status = status
        lead.charter_status_at = at
        row = audit_row(
            LeadAudit,
            None,
            before,
            {"charter_status": status},
            lead_id=lead.id,
            action="charter_status",
        )
        if row is not None:
            session.add(row)
    await session.flush()
