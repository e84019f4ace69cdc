"""Sales demo data: the demo charters' clients, with real names and contacts.

Same ids as `db.demo.charters.DEMO_CLIENTS` (and the demo client account's
company, the first of them), so `charters { client { name } }` answers
through the router. Loaded through the service as a manager, so the same
rules, audit log and outbox events apply as for real use. Runs once: a
client that exists is left alone.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from db.demo.charters import _NS, DEMO_CLIENTS, _identity_users
from db.demo.identity import demo_user_event
from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.sales.models import Client
from subgraphs.sales.service import clients
from subgraphs.sales.service.agents import apply_user_event
from subgraphs.sales.service.contact_details import ContactDetails

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: name -> (type, payment terms, credit limit, tax exempt, city, state, contacts)
PROFILES: dict[str, tuple[str, str, str | None, bool, str, str, list[ContactDetails]]] = {
    "Lakeside University Athletics": (
        "school",
        "net_30",
        "50000.00",
        True,
        "Memphis",
        "TN",
        [
            ContactDetails(
                "Dana Whitfield",
                "Director of Team Travel",
                "D.Whitfield@Lakeside.example",
                "(901) 555-0142",
                True,
            ),
            ContactDetails(
                "Marcus Lee", "Equipment Manager", "marcus.lee@lakeside.example", "901-555-0178"
            ),
        ],
    ),
    "Northwind Corporate Travel": (
        "corporate",
        "net_15",
        "25000.00",
        False,
        "Nashville",
        "TN",
        [
            ContactDetails(
                "Priya Raman",
                "Travel Program Manager",
                "priya.raman@northwind.example",
                "+1 615 555 0110",
                True,
            )
        ],
    ),
    "Riverside School District": (
        "school",
        "net_60",
        "15000.00",
        True,
        "Germantown",
        "TN",
        [
            ContactDetails(
                "Tom Alvarez",
                "Transportation Coordinator",
                "transport@riverside-sd.example",
                "(901) 555-0191",
                True,
            )
        ],
    ),
    "Summit Wedding Planners": (
        "corporate",
        "due_on_receipt",
        None,
        False,
        "Little Rock",
        "AR",
        [
            ContactDetails(
                "Grace Kim", "Owner", "grace@summitweddings.example", "501-555-0133", True
            )
        ],
    ),
    "Metro Convention Center": (
        "government",
        "net_30",
        "100000.00",
        True,
        "Memphis",
        "TN",
        [
            ContactDetails(
                "Helen Brooks",
                "Events Logistics",
                "logistics@metrocc.example",
                "(901) 555-0104",
                True,
            )
        ],
    ),
    "Harbor Senior Living": (
        "nonprofit",
        "net_30",
        "5000.00",
        True,
        "Southaven",
        "MS",
        [
            ContactDetails(
                "Walter Price",
                "Activities Director",
                "activities@harborliving.example",
                "662-555-0165",
                True,
            )
        ],
    ),
}


async def load(session: AsyncSession) -> int:
    existing = set(
        await session.scalars(select(Client.id).where(Client.id.in_(DEMO_CLIENTS.values())))
    )
    known = await _identity_users(session, ["manager@demo.athena", "sales_agent@demo.athena"])
    manager = Viewer(
        user_id=known.get("manager@demo.athena") or uuid.uuid5(_NS, "manager"),
        roles=frozenset({Role.MANAGER}),
    )
    # The charters demo names the same agent on these clients' charters.
    agent = known.get("sales_agent@demo.athena") or uuid.uuid5(_NS, "sales-agent")
    # Owners must be known agents; identity's events are not consumed yet.
    await apply_user_event(session, demo_user_event(Role.SALES_AGENT, agent))
    added = 0
    for name, client_id in DEMO_CLIENTS.items():
        if client_id in existing:
            continue
        kind, terms, limit, exempt, city, state, people = PROFILES[name]
        profile = clients.ClientProfile(
            name=name,
            client_type=kind,
            billing_line1="100 Main Street",
            billing_city=city,
            billing_region=state,
            billing_country="US",
            tax_exempt=exempt,
            credit_limit=Decimal(limit) if limit else None,
            payment_terms=terms,
            sales_agent_id=agent,
        )
        await clients.create(session, profile, list(people), manager, client_id=client_id)
        added += 1
    return added
