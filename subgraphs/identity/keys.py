"""Token signing keys: Ed25519, kept in identity's schema, rotated in place.

Tokens are signed with the newest key. A rotated-out key stays in the JWKS
until every token it signed has expired, so rotation never logs anyone out.
The keyring is cached for a few seconds so that each request does not read
it; a key id we have not seen forces a reload (another replica rotated).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt import PyJWK
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import or_, select, text, update

from subgraphs.identity.models import SigningKey

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@dataclass(frozen=True)
class ActiveKey:
    kid: str
    private_key: Ed25519PrivateKey


def _new_key_row() -> SigningKey:
    private = Ed25519PrivateKey.generate()
    kid = uuid.uuid4().hex
    jwk: dict[str, Any] = json.loads(OKPAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "alg": "EdDSA", "use": "sig"})
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return SigningKey(kid=kid, private_pem=pem, public_jwk=jwk)


async def ensure_signing_key(session: AsyncSession) -> None:
    """Create the first key once, even when several replicas start together."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('identity.signing_keys'))"))
    exists = await session.scalar(
        select(SigningKey.kid).where(SigningKey.retired_at.is_(None)).limit(1)
    )
    if exists is None:
        session.add(_new_key_row())


async def rotate_signing_key(session: AsyncSession) -> str:
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('identity.signing_keys'))"))
    await session.execute(
        update(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .values(retired_at=datetime.now(UTC))
    )
    row = _new_key_row()
    session.add(row)
    return row.kid


async def published_keys(session: AsyncSession, access_ttl_seconds: int) -> list[SigningKey]:
    """Keys that may have signed a still-valid token, newest first."""
    horizon = datetime.now(UTC) - timedelta(seconds=access_ttl_seconds + 60)
    rows = await session.scalars(
        select(SigningKey)
        .where(or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > horizon))
        .order_by(SigningKey.created_at.desc())
    )
    return list(rows)


class Keyring:
    """The cached keyring of this identity process; also its own `KeySource`."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        access_ttl_seconds: int,
        cache_seconds: float = 5.0,
    ) -> None:
        self.sessions = sessions
        self.access_ttl_seconds = access_ttl_seconds
        self.cache_seconds = cache_seconds
        self._rows: list[SigningKey] = []
        self._private: dict[str, Ed25519PrivateKey] = {}
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def _load(self, force: bool = False) -> list[SigningKey]:
        fresh = time.monotonic() - self._loaded_at < self.cache_seconds
        if self._rows and fresh and not force:
            return self._rows
        async with self._lock:
            async with self.sessions() as session, session.begin():
                rows = await published_keys(session, self.access_ttl_seconds)
                if not rows or rows[0].retired_at is not None:
                    await ensure_signing_key(session)
                    await session.flush()
                    rows = await published_keys(session, self.access_ttl_seconds)
            self._rows = rows
            self._loaded_at = time.monotonic()
        return self._rows

    async def active(self) -> ActiveKey:
        row = (await self._load())[0]
        private = self._private.get(row.kid)
        if private is None:
            loaded = serialization.load_pem_private_key(row.private_pem.encode(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise TypeError(f"signing key {row.kid} is not Ed25519")
            private = self._private[row.kid] = loaded
        return ActiveKey(kid=row.kid, private_key=private)

    async def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(row.public_jwk) for row in await self._load()]}

    async def get_key(self, kid: str) -> PyJWK | None:
        rows = await self._load()
        if not any(r.kid == kid for r in rows):
            rows = await self._load(force=True)
        for row in rows:
            if row.kid == kid:
                return PyJWK(dict(row.public_jwk))
        return None

    def invalidate(self) -> None:
        self._loaded_at = 0.0
