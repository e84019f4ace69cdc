"""One demo account per role: `<role>@demo.athena`, password `athena-demo`.

Sales has two more agents (`EXTRA_AGENTS`), so its lead queue has three.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.demo.charters import DEMO_CLIENTS
from protocol.roles import Role
from subgraphs.identity.models import User
from subgraphs.identity.passwords import hash_password
from subgraphs.identity.service import events

DEMO_CLIENT_COMPANY = next(iter(DEMO_CLIENTS.values()))
DEMO_PASSWORD = "athena-demo"  # noqa: S105 - embedded demo data only
DEMO_DOMAIN = "demo.athena"


#: The time demo projections are seeded "as of": before any real event, so
#: identity's own announcement of the account, once consumed, wins.
SEEDED_AS_OF = "2000-01-01T00:00:00+00:00"


#: Sales agents besides `sales_agent@demo.athena`: (e-mail, name).
EXTRA_AGENTS = (
    (f"alex.rivera@{DEMO_DOMAIN}", "Alex Rivera"),
    (f"sam.okafor@{DEMO_DOMAIN}", "Sam Okafor"),
)


def demo_email(role: Role) -> str:
    return f"{role.value}@{DEMO_DOMAIN}"


def demo_user_event(
    role: Role, user_id: uuid.UUID, *, email: str | None = None, name: str | None = None
) -> dict[str, Any]:
    """`identity.user_changed` for a demo account, for other subgraphs' demo loaders.

    Demo data loads before any subgraph runs, so no consumer has read
    identity's events yet; a loader that needs an account known (sales'
    and charters' demo agent) applies this through its own handler.
    """
    return {
        "occurredAt": SEEDED_AS_OF,
        "payload": {
            "userId": str(user_id),
            "email": email or demo_email(role),
            "name": name or f"Demo {role.value.replace('_', ' ').title()}",
            "roles": [role.value],
            "active": True,
            "clientId": None,
            "vendorId": None,
        },
    }


async def load(session: AsyncSession) -> int:
    existing = set(
        await session.scalars(
            select(func.lower(User.email)).where(User.email.like(f"%@{DEMO_DOMAIN}"))
        )
    )
    password_hash = await hash_password(DEMO_PASSWORD)
    added: list[User] = []
    for role in Role:
        if demo_email(role) in existing:
            continue
        added.append(
            User(
                email=demo_email(role),
                name=f"Demo {role.value.replace('_', ' ').title()}",
                roles=[role.value],
                status="active",
                password_hash=password_hash,
                # The demo client books for the first demo client company.
                client_id=DEMO_CLIENT_COMPANY if role is Role.CLIENT else None,
            )
        )
    for email, name in EXTRA_AGENTS:
        if email not in existing:
            added.append(
                User(
                    email=email,
                    name=name,
                    roles=[Role.SALES_AGENT.value],
                    status="active",
                    password_hash=password_hash,
                )
            )
    session.add_all(added)
    await session.flush()
    # Written around the service, so announced here: sales and charters learn
    # the demo agents from these events like from any other user's.
    for user in added:
        await events.announce(session, user)
    return len(added)
