"""Access tokens for tests, minted by identity's own keyring and code.

Subgraphs under test verify them exactly as in production: through the
identity subgraph's JWKS, served by a real identity app on a real port.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.identity.access_tokens import issue_access_token
from subgraphs.identity.keys import Keyring
from subgraphs.kit.settings import Settings


@dataclass
class TokenMinter:
    keyring: Keyring
    settings: Settings

    async def __call__(
        self, *roles: str, user_id: uuid.UUID | None = None, client_id: uuid.UUID | None = None
    ) -> str:
        key = await self.keyring.active()
        token, _ = issue_access_token(
            key,
            self.settings,
            user_id=user_id or uuid.uuid4(),
            roles=roles,
            session_id=uuid.uuid4(),
            client_id=client_id,
        )
        return token


def minter(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> TokenMinter:
    return TokenMinter(
        Keyring(sessions, access_ttl_seconds=settings.jwt_access_ttl_seconds), settings
    )
