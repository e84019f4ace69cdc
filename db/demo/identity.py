"""One demo account per role: `<role>@demo.athena`, password `athena-demo`."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.demo.charters import DEMO_CLIENTS
from subgraphs.identity.models import User
from subgraphs.identity.passwords import hash_password
from subgraphs.kit.auth.roles import Role

DEMO_CLIENT_COMPANY = next(iter(DEMO_CLIENTS.values()))
DEMO_PASSWORD = "athena-demo"  # noqa: S105 - embedded demo data only
DEMO_DOMAIN = "demo.athena"


def demo_email(role: Role) -> str:
    return f"{role.value}@{DEMO_DOMAIN}"


async def load(session: AsyncSession) -> int:
    existing = set(
        await session.scalars(
            select(func.lower(User.email)).where(User.email.like(f"%@{DEMO_DOMAIN}"))
        )
    )
    password_hash = await hash_password(DEMO_PASSWORD)
    added = 0
    for role in Role:
        if demo_email(role) in existing:
            continue
        session.add(
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
        added += 1
    return added
