"""`identity.user_changed`: the user facts other subgraphs keep copies of.

Identity owns users; sales (its agents) and charters (who may be named as
a charter's agent) must not read its tables, and must not trust a token
alone to learn who holds a role (a token outlives a demotion). So every
change to what they copy (e-mail, name, roles, active, client or vendor
link) writes the user's whole current state to identity's outbox, in the
transaction of the change: a rolled-back change announces nothing, and a
consumer that missed events catches up from any later one. Consumers order
events by their `occurredAt` (the changing transaction's start; the change
holds the user's row lock, so two changes of one user never overlap).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from subgraphs.identity.models import User, outbox
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

TOPIC = "identity.user_changed"


def user_facts(user: User) -> dict[str, Any]:
    """The announced state; identity links no vendor yet (vendors owns that link)."""
    return {
        "userId": str(user.id),
        "email": user.email,
        "name": user.name,
        "roles": list(user.roles),
        "active": user.status == "active",
        "clientId": str(user.client_id) if user.client_id else None,
        "vendorId": None,
    }


async def announce(session: AsyncSession, user: User) -> None:
    await emit(session, outbox, TOPIC, user_facts(user))


async def announce_if_changed(
    session: AsyncSession, user: User, before: dict[str, Any] | None
) -> None:
    """Announce unless nothing others copy changed (a phone number, say)."""
    if before != user_facts(user):
        await announce(session, user)


async def announce_all(session: AsyncSession) -> int:
    """Announce every user once, for consumers that start after the users exist.

    Consumers only learn from events; users created before identity
    announced them (or before a consumer's stream was trimmed) are unknown
    to them until this runs (an operator's one-off, or the demo loader).
    """
    count = 0
    for user in await session.scalars(select(User).order_by(User.created_at)):
        await announce(session, user)
        count += 1
    return count
