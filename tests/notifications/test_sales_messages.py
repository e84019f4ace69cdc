"""Sales' follow-ups (issue 14 §1): sales decides who is due one, notifications writes it.

The `sales.follow_up_due` events are the ones sales' own service writes
(`follow_ups.decide`, read back from its outbox).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.notifications.models import Message
from subgraphs.notifications.service import client_messages, facts, sales_messages
from subgraphs.notifications.service.preferences import set_client_preferences
from subgraphs.notifications.service.templates import install_defaults
from subgraphs.sales.models import outbox as sales_outbox
from subgraphs.sales.service import follow_ups
from tests.sales.test_follow_ups import add_client, add_converted, add_lead

AGENT = uuid.uuid4()


def ev(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"test:{uuid.uuid4()}",
        "payload": payload,
        "occurredAt": datetime.now(UTC).isoformat(),
    }


async def due_events(sessions: Any) -> list[dict[str, Any]]:
    """Sales decides now; its announcements as its relay delivers them."""
    async with sessions() as session, session.begin():
        await follow_ups.decide(session, now=datetime.now(UTC), quote_days=3, lead_days=2)
    async with sessions() as session:
        rows = (
            await session.execute(
                select(sales_outbox)
                .where(sales_outbox.c.topic == follow_ups.TOPIC)
                .order_by(sales_outbox.c.id)
            )
        ).all()
    return [
        {"id": f"sales:{r.id}", "occurredAt": r.created_at.isoformat(), "payload": r.payload}
        for r in rows
    ]


async def handle(sessions: Any, handler: Any, event: dict[str, Any]) -> Any:
    async with sessions() as session, session.begin():
        return await handler(session, event)


async def messages(sessions: Any, kind: str) -> list[Message]:
    async with sessions() as session:
        return list(await session.scalars(select(Message).where(Message.kind == kind)))


@pytest.fixture
async def agent(sessions: Any) -> uuid.UUID:
    """The sales agent as identity announced them, and the default templates."""
    async with sessions() as s, s.begin():
        await install_defaults(s)
        await facts.apply_user_event(
            s,
            ev(
                {
                    "userId": str(AGENT),
                    "email": "priya.raman@athena.example",
                    "name": "Priya Raman",
                    "roles": ["sales_agent"],
                    "phone": "+1 312 555 0142",
                    "active": True,
                }
            ),
        )
    return AGENT


async def know_client(sessions: Any, client_id: uuid.UUID, email: str) -> None:
    async with sessions() as s, s.begin():
        await facts.apply_client_event(
            s, ev({"clientId": str(client_id), "name": "Northwind", "email": email})
        )


async def test_an_untouched_lead_gets_its_agents_follow_up_once(sessions, agent) -> None:
    lead = await add_lead(sessions, agent_id=agent, first_name="Robin", last_name="Hale")
    [event] = await due_events(sessions)

    await handle(sessions, sales_messages.on_follow_up_due, event)
    await handle(sessions, sales_messages.on_follow_up_due, event)  # redelivered

    [message] = await messages(sessions, "lead_follow_up")
    assert (message.recipient, message.recipient_name, message.lead_id) == (
        lead.email,
        "Robin Hale",
        lead.id,
    )
    assert message.status == "queued"
    assert message.variables["agent_name"] == "Priya Raman"
    assert message.variables["agent_email"] == "priya.raman@athena.example"
    assert message.variables["agent_phone"] == "+1 312 555 0142"
    assert "Priya Raman" in str(message.body_text)
    assert "Hello Robin Hale" in str(message.body_text)


async def test_an_unanswered_quote_reminds_the_primary_contact_with_the_sent_link(
    sessions, agent
) -> None:
    lead = await add_converted(sessions, datetime.now(UTC) - timedelta(days=4), agent_id=agent)
    assert lead.client_id is not None
    assert lead.charter_id is not None
    # What notifications knows of the client and the charter, and the link it mailed
    await know_client(sessions, lead.client_id, "office@northwind.example")
    expires = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    async with sessions() as s, s.begin():
        await facts.apply_charter_event(
            s,
            ev(
                {
                    "charterId": str(lead.charter_id),
                    "reference": "CH-2026-000888",
                    "status": "quote",
                    "clientId": str(lead.client_id),
                    "pickupAt": (datetime.now(UTC) + timedelta(days=40)).isoformat(),
                    "pickupTimeZone": "America/Chicago",
                }
            ),
        )
        await facts.apply_quote_priced(
            s, ev({"charterId": str(lead.charter_id), "total": "1234.50"})
        )
    await handle(
        sessions,
        client_messages.on_quote_sent,
        ev(
            {
                "charterId": str(lead.charter_id),
                "clientId": str(lead.client_id),
                "reference": "CH-2026-000888",
                "link": "https://portal.example/quote?token=signed",
                "expiresAt": expires,
            }
        ),
    )
    [event] = [e for e in await due_events(sessions) if e["payload"]["kind"] == "quote_unanswered"]

    await handle(sessions, sales_messages.on_follow_up_due, event)
    await handle(sessions, sales_messages.on_follow_up_due, event)

    [message] = await messages(sessions, "quote_follow_up")
    assert message.recipient == event["payload"]["recipient"]["email"]  # the primary contact
    assert message.recipient_name == "Pat Doe"
    assert (message.client_id, message.charter_id) == (lead.client_id, lead.charter_id)
    assert message.variables["charter_reference"] == "CH-2026-000888"
    assert message.variables["quote_total"] == {"amount": "1234.50", "currency": "USD"}
    assert message.variables["quote_link"] == "https://portal.example/quote?token=signed"
    assert message.variables["quote_expires_at"] == expires
    assert message.variables["agent_name"] == "Priya Raman"
    assert message.subject == "[Athena] Your quote CH-2026-000888 is waiting"


@pytest.mark.parametrize("opt_out", ["follow_ups", "quotes", "email"])
async def test_a_client_that_wants_no_follow_ups_hears_none(sessions, agent, opt_out) -> None:
    client_id, _contact = await add_client(sessions)
    await add_lead(sessions, agent_id=agent, client_id=client_id)
    await add_converted(sessions, datetime.now(UTC) - timedelta(days=4), agent_id=agent)
    events = await due_events(sessions)
    async with sessions() as s, s.begin():
        actor = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.ADMIN}))
        for event in events:
            about = facts.uuid_or_none(event["payload"]["clientId"])
            assert about is not None
            await set_client_preferences(s, about, {opt_out: False}, actor)

    for event in events:
        await handle(sessions, sales_messages.on_follow_up_due, event)

    decided = {
        m.kind: (m.status, m.failure_reason)
        for m in await messages(sessions, "lead_follow_up")
        + await messages(sessions, "quote_follow_up")
    }
    # Quotes off silences the quote's follow-up only; follow-ups or e-mail off, both.
    lead_status = "queued" if opt_out == "quotes" else "suppressed"
    assert decided["lead_follow_up"][0] == lead_status
    assert decided["quote_follow_up"][0] == "suppressed"
    assert decided["quote_follow_up"][1]


async def test_an_old_announcement_read_from_history_tells_nobody(sessions, agent) -> None:
    await add_lead(sessions, agent_id=agent)
    [event] = await due_events(sessions)

    later = datetime.now(UTC) + timedelta(days=3)
    async with sessions() as s, s.begin():
        decided = await sales_messages.on_follow_up_due(s, event, now=later)

    assert decided is None
    assert await messages(sessions, "lead_follow_up") == []
