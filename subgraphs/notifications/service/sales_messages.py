"""Sales' automated follow-ups: sales decides who is due one, notifications words and sends it.

`sales.follow_up_due` (`sales/service/follow_ups.py`) is emitted once per
silence: `lead_untouched` (an open lead nobody touched for a while) becomes
`lead_follow_up`, `quote_unanswered` (a converted lead's quote still a
quote) becomes `quote_follow_up`. The event names the recipient (the
client's primary contact, else the lead's own contact) and the agent; the
agent's name, e-mail and phone come from identity's facts (`UserFact`).

Preferences: when the lead belongs to a client company, the company's
choices apply; a lead with no client has none yet (the defaults). A lead
follow-up is silenced by `follow_ups`; a quote follow-up by `quotes` (its
kind's topic) and, being a follow-up, by `follow_ups` as well: a client
who asked for no follow-ups hears none about its quotes either.

The quote follow-up carries the quote's signed link when notifications
sent one (`quote_sent`, still valid), else the charter's portal page.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from subgraphs.kit.settings import get_settings
from subgraphs.notifications.models import CharterFact, ClientFact, Message, UserFact
from subgraphs.notifications.service import facts
from subgraphs.notifications.service.client_messages import money
from subgraphs.notifications.service.messages import Decision, Recipient, queue
from subgraphs.notifications.service.preferences import DEFAULTS, client_preferences

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

FOLLOW_UP_DUE = "sales.follow_up_due"
#: sales' follow-up kind -> the message kind
KIND_OF = {"lead_untouched": "lead_follow_up", "quote_unanswered": "quote_follow_up"}


def _now() -> datetime:
    return datetime.now(UTC)


async def _recipient(
    session: AsyncSession, payload: dict[str, Any], kind: str, client_id: uuid.UUID | None
) -> Recipient | None:
    named = payload.get("recipient") or {}
    address = str(named.get("email") or "").strip()
    client = await session.get(ClientFact, client_id) if client_id else None
    if not address and client is not None and client.email:
        address = client.email
    if not address:
        return None
    prefs = await client_preferences(session, client_id) if client_id else DEFAULTS
    if kind == "quote_follow_up":
        prefs = replace(prefs, quotes=prefs.quotes and prefs.follow_ups)
    return Recipient(
        address=address,
        name=str(named.get("name") or "").strip() or None,
        locale=client.locale if client else "en",
        preferences=prefs,
    )


async def _agent(session: AsyncSession, agent_id: uuid.UUID | None) -> UserFact | None:
    return await session.get(UserFact, agent_id) if agent_id else None


async def _sent_quote_link(
    session: AsyncSession, charter_id: uuid.UUID, now: datetime
) -> tuple[str | None, str | None]:
    """The newest quote link mailed for the charter that still works: (link, expires at)."""
    rows = await session.scalars(
        select(Message.variables)
        .where(Message.charter_id == charter_id, Message.kind == "quote_sent")
        .order_by(Message.created_at.desc())
        .limit(5)
    )
    for variables in rows:
        link, expires = variables.get("quote_link"), variables.get("quote_expires_at")
        if link and (not expires or datetime.fromisoformat(str(expires)) > now):
            return str(link), expires
    return None, None


async def on_follow_up_due(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> Message | None:
    """One follow-up sales announced: one e-mail, once per event."""
    now = now or _now()
    payload = facts.payload_of(event)
    kind = KIND_OF.get(str(payload.get("kind")))
    event_id = facts.event_id(event)
    if kind is None or not event_id or not facts.fresh(event, now):
        return None
    client_id = facts.uuid_or_none(payload.get("clientId"))
    recipient = await _recipient(session, payload, kind, client_id)
    if recipient is None:
        log.info("%s not decided: follow-up %s names no e-mail", kind, payload.get("followUpId"))
        return None
    agent = await _agent(session, facts.uuid_or_none(payload.get("agentId")))
    charter_id = facts.uuid_or_none(payload.get("charterId"))
    variables: dict[str, Any] = {"recipient_name": recipient.name}
    if kind == "lead_follow_up":
        settings = get_settings()
        variables |= {
            "agent_name": (agent.name if agent else None) or "Athena sales",
            "agent_email": (agent.email if agent else None) or settings.notifications_from,
            "agent_phone": agent.phone if agent else None,
            "trip_description": payload.get("tripDescription"),
        }
    else:
        charter = await session.get(CharterFact, charter_id) if charter_id else None
        link, expires = (
            await _sent_quote_link(session, charter_id, now) if charter_id else (None, None)
        )
        variables |= {
            "charter_reference": (charter.reference if charter else None)
            or payload.get("reference"),
            "quote_total": money((charter.data or {}).get("quotedTotal") if charter else None),
            "quote_link": link or facts.portal_link(f"/charters/{charter_id}"),
            "quote_expires_at": expires,
            "time_zone": charter.pickup_time_zone if charter else get_settings().operator_time_zone,
            "agent_name": agent.name if agent and agent.name else None,
            "agent_email": agent.email if agent else None,
        }
    return await queue(
        session,
        Decision(
            kind=kind,
            channel="email",
            recipient=recipient,
            variables=variables,
            event_id=str(event_id),
            client_id=client_id,
            charter_id=charter_id,
            lead_id=facts.uuid_or_none(payload.get("leadId")),
        ),
        now,
    )


#: topic -> (consumer group, handler), for the app.
CONSUMERS: dict[str, tuple[str, Any]] = {
    FOLLOW_UP_DUE: ("notifications.follow-ups", on_follow_up_due),
}
