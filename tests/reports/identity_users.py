"""Staff accounts that exist in identity, for tests whose schedules obtain real delegation grants.

A schedule created or enabled through reports' GraphQL asks identity for a
grant with the caller's token (`service/run_tokens.py`): identity grants only
for an active staff account it knows, so these tests' callers must be real.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.identity.models import User


async def staff_user(
    sessions: async_sessionmaker[AsyncSession], *roles: str, user_id: uuid.UUID | None = None
) -> uuid.UUID:
    """An active identity account with `roles` (default manager); its id."""
    key = user_id or uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(
            User(
                id=key,
                email=f"staff-{key.hex[:12]}@example.com",
                name="Report Owner",
                roles=list(roles or ("manager",)),
                password_hash="not-a-password",
            )
        )
    return key
