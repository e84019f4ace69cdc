"""Sales demo, second part: a lead queue of three agents and 20 leads across the pipeline.

Loaded after charters (`db.demo.ORDER`): two leads were converted into demo
quotes of their clients, and their rows name those charters. The rest go
through the same services as real use: leads arrive with no agent and the
queue (weights 2/1/1, the third agent capped at 5 a day) or an existing
client's agent takes them; calls, notes, follow-ups and status moves are
logged as their agent. Runs once: with leads present it adds nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from db.demo.charters import _NS, DEMO_CLIENTS, _identity_users
from db.demo.identity import EXTRA_AGENTS, demo_user_event
from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.models import Charter
from subgraphs.kit.settings import get_settings
from subgraphs.sales.models import ClientContact, Lead, LeadConversion
from subgraphs.sales.service import leads, queue
from subgraphs.sales.service.agents import apply_user_event

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

LEADS = 20
#: (first, last, company, source, passengers, days ahead, where it got to)
PEOPLE = [
    ("Jordan", "Blake", "Blake & Sons", "web", 52, 12, "qualified"),
    ("Maya", "Ortiz", None, "phone", 18, 45, "new"),
    ("Priya", "Raman", "Northwind Corporate Travel", "email", 40, 21, "converted"),
    ("Chris", "Nolan", "Delta Robotics", "referral", 110, 60, "quoted"),
    ("Ava", "Kim", None, "web", 12, 9, "contacted"),
    ("Luis", "Mendez", "Mendez Tours", "partner", 48, 20, "qualified"),
    ("Nora", "Hughes", "First Baptist Youth", "walk_in", 35, 75, "new"),
    ("Omar", "Haddad", "Haddad Logistics", "email", 60, 30, "contacted"),
    ("Tom", "Alvarez", "Riverside School District", "phone", 44, 35, "converted"),
    ("Grace", "Lee", None, "web", 22, 120, "lost"),
    ("Evan", "Price", "Price Capital", "referral", 16, 14, "quoted"),
    ("Sofia", "Rossi", "Rossi Weddings", "web", 75, 50, "qualified"),
    ("Henry", "Walsh", None, "phone", 8, 5, "new"),
    ("Ivy", "Chen", "Chen Dental Group", "email", 30, 40, "contacted"),
    ("Ben", "Carter", "Carter High Band", "web", 58, 26, "new"),
    ("Lena", "Fischer", "Fischer GmbH", "partner", 25, 90, "lost"),
    ("Raj", "Patel", "Patel Events", "referral", 140, 65, "qualified"),
    ("Zoe", "Martin", None, "walk_in", 10, 8, "contacted"),
    ("Sam", "Wright", "Wright Church", "web", 46, 18, "new"),
    ("Kai", "Nakamura", "Nakamura Travel", "phone", 33, 100, "quoted"),
]
PATH = ["new", "contacted", "qualified", "quoted"]
ROUTES = [
    ("Memphis, TN", "Nashville, TN"),
    ("Little Rock, AR", "Memphis, TN"),
    ("Memphis, TN", "Tunica, MS"),
    ("Jackson, MS", "New Orleans, LA"),
]


async def _agents(session: AsyncSession) -> list[uuid.UUID]:
    """The three demo agents, known to sales as identity announces them."""
    main = "sales_agent@demo.athena"
    known = await _identity_users(session, [main, *(email for email, _ in EXTRA_AGENTS)])
    first = known.get(main) or uuid.uuid5(_NS, "sales-agent")  # the charters demo's agent
    await apply_user_event(session, demo_user_event(Role.SALES_AGENT, first))
    out = [first]
    for email, name in EXTRA_AGENTS:
        user_id = known.get(email) or uuid.uuid5(_NS, email)
        event = demo_user_event(Role.SALES_AGENT, user_id, email=email, name=name)
        await apply_user_event(session, event)
        out.append(user_id)
    return out


async def load(session: AsyncSession) -> int:
    if await session.scalar(select(func.count()).select_from(Lead)):
        return 0
    zone = get_settings().operator_time_zone
    known = await _identity_users(session, ["manager@demo.athena", "sales_support@demo.athena"])
    manager = Viewer(
        user_id=known.get("manager@demo.athena") or uuid.uuid5(_NS, "manager"),
        roles=frozenset({Role.MANAGER}),
    )
    support = Viewer(
        user_id=known.get("sales_support@demo.athena") or uuid.uuid5(_NS, "sales-support"),
        roles=frozenset({Role.SALES_SUPPORT}),
    )
    agents = await _agents(session)
    for position, (agent, weight, cap) in enumerate(
        zip(agents, (2, 1, 1), (None, None, 5), strict=True), start=1
    ):
        await queue.set_entry(
            session,
            queue.QueueSettings(agent, position, weight=weight, max_per_day=cap),
            manager,
        )
    contacts = {
        row.client_id: row.email
        for row in await session.execute(
            select(ClientContact.client_id, ClientContact.email).where(ClientContact.is_primary)
        )
    }
    today = datetime.now(UTC).date()
    for n, (first, last, company, source, pax, ahead, goal) in enumerate(PEOPLE[:LEADS]):
        client_id = DEMO_CLIENTS.get(company or "")
        email = contacts.get(client_id) if client_id else None
        origin, destination = ROUTES[n % len(ROUTES)]
        lead = await leads.create(
            session,
            leads.LeadDetails(
                source=source,
                first_name=first,
                last_name=last,
                email=email or f"{first}.{last}@example.com".lower(),
                phone=f"+1901555{1000 + n:04d}",
                company=company,
                trip_date=today + timedelta(days=ahead),
                origin=origin,
                destination=destination,
                passengers=pax,
                vehicle_type="motorcoach" if pax > 30 else "minibus",
                score=min(100, 20 + pax // 2),
            ),
            support,
            now=datetime.now(UTC),
            zone=zone,
        )
        owner = _as_agent(lead.agent_id) or manager
        await _work(session, lead, goal, owner, n)
        if goal == "converted" and client_id is not None:
            await _converted(session, lead, client_id)
    return LEADS


def _as_agent(agent_id: uuid.UUID | None) -> Viewer | None:
    if agent_id is None:
        return None
    return Viewer(user_id=agent_id, roles=frozenset({Role.SALES_AGENT}))


async def _work(session: AsyncSession, lead: Lead, goal: str, actor: Viewer, n: int) -> None:
    """Calls, a note and the moves that bring the lead to `goal`, by its agent."""
    if n % 3 != 2:
        follow_up = datetime.now(UTC) + timedelta(days=(n % 5) - 2)  # some overdue, some due
        await leads.log_activity(
            session,
            lead.id,
            leads.ActivityInput("call", "Discussed dates and group size.", follow_up),
            actor,
        )
    if n % 4 == 0:
        await leads.log_activity(
            session, lead.id, leads.ActivityInput("note", "Asked for a coach with Wi-Fi."), actor
        )
    if goal == "lost":
        await leads.set_status(session, lead.id, "lost", "Booked with another operator.", actor)
        return
    target = "quoted" if goal == "converted" else goal
    for status in PATH[1 : PATH.index(target) + 1]:
        await leads.set_status(session, lead.id, status, None, actor)
    if n in (0, 5):
        await leads.mark_hot(session, lead.id, True, actor)


async def _converted(session: AsyncSession, lead: Lead, client_id: uuid.UUID) -> None:
    """Converted before this data was loaded: the lead names its client's first demo quote."""
    charter = await session.scalar(
        select(Charter)
        .where(Charter.client_id == client_id, Charter.status == "quote", ~Charter.is_template)
        .order_by(Charter.pickup_at)
        .limit(1)
    )
    if charter is None:  # charters lives in another database: leave it quoted
        return
    key = f"demo-{lead.id}"
    session.add(
        LeadConversion(
            idempotency_key=key,
            lead_id=lead.id,
            request_hash="0" * 64,
            state="done",
            client_id=client_id,
            charter_id=charter.id,
            actor_id=lead.agent_id,
        )
    )
    lead.status = "converted"
    lead.client_id = client_id
    lead.charter_id = charter.id
    lead.charter_status = charter.status
    lead.converted_at = datetime.now(UTC) - timedelta(days=4)
    await session.flush()
