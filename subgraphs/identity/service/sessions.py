"""Sessions and their token pairs: the one place tokens are minted."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from protocol.revocation import revoke_sessions
from subgraphs.identity.access_tokens import issue_access_token
from subgraphs.identity.error_codes import IdentityErrorCode as Code
from subgraphs.identity.models import AuthSession, RefreshToken, User
from subgraphs.identity.opaque_tokens import digest, new_token
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.identity.keys import ActiveKey
    from subgraphs.identity.rate_limit import Throttle
    from subgraphs.kit.settings import Settings


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    session_id: uuid.UUID
    user: User


async def open_session(
    session: AsyncSession,
    user: User,
    key: ActiveKey,
    settings: Settings,
    *,
    ip: str | None,
    impersonator_id: uuid.UUID | None = None,
) -> TokenPair:
    auth = AuthSession(
        user_id=user.id,
        impersonator_id=impersonator_id,
        ip_address=ip,
        expires_at=datetime.now(UTC) + timedelta(seconds=settings.jwt_refresh_ttl_seconds),
    )
    session.add(auth)
    await session.flush()
    return await _issue_pair(session, auth, user, key, settings)


async def _issue_pair(
    session: AsyncSession, auth: AuthSession, user: User, key: ActiveKey, settings: Settings
) -> TokenPair:
    raw, hashed = new_token()
    session.add(RefreshToken(session_id=auth.id, token_hash=hashed))
    access, expires = issue_access_token(
        key,
        settings,
        user_id=user.id,
        roles=user.roles,
        session_id=auth.id,
        impersonator_id=auth.impersonator_id,
        client_id=user.client_id,
    )
    return TokenPair(access, expires, raw, auth.id, user)


@dataclass(frozen=True)
class Revocations:
    """Where ended sessions are announced, so their access tokens stop at once.

    Access tokens live for minutes and are checked by every subgraph and
    the router without asking identity; the kit's revocation set in Redis
    is what they consult (issue 8, finding 5). Identity announces an ended
    session *before* its transaction commits: if the commit then fails, the
    session merely ended early, which is safe; the other order would leave
    a window in which a revoked token still works.
    """

    redis: Redis
    ttl_seconds: int

    async def announce(self, session_ids: Iterable[uuid.UUID]) -> None:
        await revoke_sessions(self.redis, session_ids, ttl_seconds=self.ttl_seconds)


async def revoke_session(
    session: AsyncSession, revocations: Revocations, session_id: uuid.UUID, reason: str
) -> None:
    await revocations.announce([session_id])
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=func.now(), revoked_reason=reason)
    )


async def revoke_user_sessions(
    session: AsyncSession,
    revocations: Revocations,
    user_id: uuid.UUID,
    *,
    reason: str,
    keep: uuid.UUID | None = None,
) -> None:
    """End every open session of a user (but `keep`, the caller's own, if given)."""
    stmt = (
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=func.now(), revoked_reason=reason)
        .returning(AuthSession.id)
    )
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    ended = list(await session.scalars(stmt))
    await revocations.announce(ended)


async def rotate_refresh_token(
    session: AsyncSession,
    refresh_token: str,
    key: ActiveKey,
    settings: Settings,
    *,
    revocations: Revocations,
    throttle: Throttle,
) -> TokenPair:
    """Trade a refresh token for a new pair, within the per-address failure limit.

    Refresh tokens are too long to guess; the limit keeps one address from
    hammering the endpoint (each failed attempt counts, aliases included).
    """
    limit = throttle.policy.refresh_address
    await throttle.refuse_if_reached(limit)
    try:
        return await _rotate(session, refresh_token, key, settings, revocations)
    except ServiceError:
        await throttle.failed(limit)
        raise


async def _rotate(
    session: AsyncSession,
    refresh_token: str,
    key: ActiveKey,
    settings: Settings,
    revocations: Revocations,
) -> TokenPair:
    """Trade a refresh token for a new pair; a reused token ends its session.

    The conditional update lets exactly one of many concurrent uses win. A
    token that was already used means it leaked (or a client raced itself):
    the whole session is revoked and that revocation is committed even
    though this call fails.
    """
    invalid = ServiceError.of(
        Code.INVALID_REFRESH_TOKEN, "The refresh token is not valid.", "refreshToken"
    )
    hashed = digest(refresh_token or "")
    claimed = await session.scalar(
        update(RefreshToken)
        .where(RefreshToken.token_hash == hashed, RefreshToken.used_at.is_(None))
        .values(used_at=func.now())
        .returning(RefreshToken.session_id)
    )
    if claimed is None:
        reused = await session.scalar(
            select(RefreshToken.session_id).where(RefreshToken.token_hash == hashed)
        )
        if reused is not None:
            await revoke_session(session, revocations, reused, "refresh_token_reuse")
            await session.commit()
        raise invalid
    auth = await session.scalar(select(AuthSession).where(AuthSession.id == claimed))
    if auth is None or auth.revoked_at is not None or auth.expires_at <= datetime.now(UTC):
        raise invalid
    user = await session.scalar(select(User).where(User.id == auth.user_id))
    if user is None or user.status != "active":
        await revoke_session(session, revocations, auth.id, "account_disabled")
        await session.commit()
        raise invalid
    return await _issue_pair(session, auth, user, key, settings)


async def is_session_active(session: AsyncSession, session_id: uuid.UUID | None) -> bool:
    if session_id is None:
        return False
    row = (
        await session.execute(
            select(AuthSession.revoked_at, AuthSession.expires_at).where(
                AuthSession.id == session_id
            )
        )
    ).first()
    return row is not None and row.revoked_at is None and row.expires_at > datetime.now(UTC)
