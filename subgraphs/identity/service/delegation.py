"""Delegation grants: a user lets a service act as them, read-only, until revoked.

A scheduled report runs as its owner every morning, long after the owner's
own tokens expired, and reports holds no token of its own (issue 16 §3).
So the owner, while signed in, grants reports a standing permission; at
each run reports exchanges it (grant id + secret, over the internal route
that only the router credential reaches) for an access token of the owner:

- with the owner's CURRENT roles, so a demotion shows in the next run;
- living 5 minutes, carrying `act: {"sub": <service>}`, so every subgraph
  knows a service is acting (`Viewer.delegate`) and refuses it any mutation;
- with the grant's id as its session id (`sid`): revoking the grant
  announces that id revoked, so tokens already issued stop at once.

The secret is handed out once and only its SHA-256 kept (it is 32 random
bytes: nothing to brute-force, so no slow hash is needed). A revoked grant
stays revoked; disabling the user revokes every grant it gave.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from protocol.roles import STAFF_ROLES, Role
from protocol.viewer import DELEGATES
from subgraphs.identity.access_tokens import issue_access_token
from subgraphs.identity.error_codes import IdentityErrorCode as Code
from subgraphs.identity.models import DelegationGrant, User
from subgraphs.identity.opaque_tokens import digest, new_token
from subgraphs.identity.service import audit
from subgraphs.identity.service.access import may_revoke_others_grants
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.identity.keys import ActiveKey
    from subgraphs.identity.service.sessions import Revocations
    from subgraphs.kit.settings import Settings

#: The one service users delegate to, today.
REPORTS = "reports"
#: Lifetime of a delegated access token: one report run, not a working day.
TOKEN_TTL_SECONDS = 5 * 60
MAX_PURPOSE = 200


@dataclass(frozen=True)
class IssuedGrant:
    grant: DelegationGrant
    #: Shown once: only its hash is stored.
    secret: str


@dataclass(frozen=True)
class DelegatedToken:
    access_token: str
    expires_at: datetime
    user_id: uuid.UUID


class Refusal(StrEnum):
    """Why an exchange was refused; told only to a caller that proved the secret."""

    #: Unknown grant or wrong secret: the same answer, so neither is told apart.
    INVALID_GRANT = "invalid_grant"
    GRANT_REVOKED = "grant_revoked"
    ACCOUNT_DISABLED = "account_disabled"


class GrantRefused(Exception):
    def __init__(self, reason: Refusal, message: str) -> None:
        self.reason = reason
        super().__init__(message)


def _facts(grant: DelegationGrant) -> dict[str, Any]:
    return {
        "grant_id": str(grant.id),
        "audience": grant.audience,
        "purpose": grant.purpose,
        "revoked": grant.revoked_at is not None,
    }


async def create_grant(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    purpose: str,
    audience: str = REPORTS,
) -> IssuedGrant:
    """A grant of the caller's own account (never another's: `user_id` is the token's)."""
    text = " ".join((purpose or "").split())
    if not text:
        raise ServiceError.of(Code.REQUIRED, "Say what the grant is for.", "purpose")
    if len(text) > MAX_PURPOSE:
        raise ServiceError.of(
            Code.TOO_LONG, f"Purpose is longer than {MAX_PURPOSE} characters.", "purpose"
        )
    if audience not in DELEGATES:
        raise ServiceError.of(Code.INVALID, "No such service to delegate to.", "audience")
    user = await session.scalar(select(User).where(User.id == user_id))
    if user is None or user.status != "active":
        raise ServiceError.of(Code.ACCOUNT_DISABLED, "This account is disabled.")
    if not set(user.roles) & {r.value for r in STAFF_ROLES}:
        raise ServiceError.of(Code.FORBIDDEN, "Only staff accounts delegate to services.")
    secret, hashed = new_token()
    grant = DelegationGrant(user_id=user.id, audience=audience, purpose=text, secret_hash=hashed)
    session.add(grant)
    await session.flush()
    await session.refresh(grant)
    audit.record(
        session,
        user_id=user.id,
        actor_id=user.id,
        action="delegation_grant:create",
        before=None,
        after=_facts(grant),
    )
    return IssuedGrant(grant=grant, secret=secret)


async def user_grants(
    session: AsyncSession, user_id: uuid.UUID, *, include_revoked: bool = False
) -> list[DelegationGrant]:
    stmt = select(DelegationGrant).where(DelegationGrant.user_id == user_id)
    if not include_revoked:
        stmt = stmt.where(DelegationGrant.revoked_at.is_(None))
    rows = await session.scalars(
        stmt.order_by(DelegationGrant.created_at.desc(), DelegationGrant.id)
    )
    return list(rows)


async def _revoke(
    session: AsyncSession,
    revocations: Revocations,
    grant: DelegationGrant,
    *,
    actor_id: uuid.UUID | None,
    impersonator_id: uuid.UUID | None = None,
    reason: str,
) -> DelegationGrant:
    if grant.revoked_at is not None:
        return grant
    before = _facts(grant)
    # Announced before the commit, as sessions are: a rolled-back revocation only
    # ends the grant's outstanding tokens early.
    await revocations.announce([grant.id])
    grant.revoked_at = datetime.now(UTC)
    await session.flush()
    audit.record(
        session,
        user_id=grant.user_id,
        actor_id=actor_id,
        impersonator_id=impersonator_id,
        action=f"delegation_grant:revoke:{reason}",
        before=before,
        after=_facts(grant),
    )
    return grant


async def revoke_grant(
    session: AsyncSession,
    revocations: Revocations,
    grant_id: uuid.UUID,
    *,
    actor_id: uuid.UUID,
    actor_roles: Iterable[Role],
    impersonator_id: uuid.UUID | None = None,
) -> DelegationGrant:
    """Its owner or an admin; anyone else is told it does not exist (NOT_FOUND on `id`)."""
    grant = await session.scalar(
        select(DelegationGrant).where(DelegationGrant.id == grant_id).with_for_update()
    )
    if grant is None or not (grant.user_id == actor_id or may_revoke_others_grants(actor_roles)):
        raise ServiceError.of(Code.NOT_FOUND, "No such delegation grant.", "id")
    return await _revoke(
        session,
        revocations,
        grant,
        actor_id=actor_id,
        impersonator_id=impersonator_id,
        reason="by_user" if grant.user_id == actor_id else "by_admin",
    )


async def revoke_user_grants(
    session: AsyncSession, revocations: Revocations, user_id: uuid.UUID
) -> list[uuid.UUID]:
    """Every live grant of a user (disabled account): ids announced, so tokens stop too."""
    ended = list(
        await session.scalars(
            update(DelegationGrant)
            .where(DelegationGrant.user_id == user_id, DelegationGrant.revoked_at.is_(None))
            .values(revoked_at=func.now())
            .returning(DelegationGrant.id)
        )
    )
    await revocations.announce(ended)
    return ended


async def _proven(
    session: AsyncSession, grant_id: uuid.UUID, secret: str, *, lock: bool = False
) -> DelegationGrant:
    """The grant, if `secret` is its secret; INVALID_GRANT for anything else."""
    stmt = select(DelegationGrant).where(DelegationGrant.id == grant_id)
    if lock:
        stmt = stmt.with_for_update()
    grant = await session.scalar(stmt)
    offered = digest(secret or "")
    stored = grant.secret_hash if grant is not None else digest(uuid.uuid4().hex)
    if not hmac.compare_digest(offered, stored) or grant is None:
        raise GrantRefused(Refusal.INVALID_GRANT, "The delegation grant is not valid.")
    return grant


async def exchange(
    session: AsyncSession,
    key: ActiveKey,
    settings: Settings,
    *,
    grant_id: uuid.UUID,
    secret: str,
    now: datetime | None = None,
) -> DelegatedToken:
    """A 5-minute access token of the grant's user, with its current roles.

    Refused (GrantRefused) for an unknown grant or a wrong secret alike, then
    for a revoked grant or a disabled account. Every token issued is audited.
    """
    grant = await _proven(session, grant_id, secret)
    if grant.revoked_at is not None:
        raise GrantRefused(Refusal.GRANT_REVOKED, "The delegation grant was revoked.")
    user = await session.scalar(select(User).where(User.id == grant.user_id))
    if user is None or user.status != "active":
        raise GrantRefused(Refusal.ACCOUNT_DISABLED, "The account that granted it is disabled.")
    issued = now or datetime.now(UTC)
    token, expires = issue_access_token(
        key,
        settings,
        user_id=user.id,
        roles=user.roles,
        session_id=grant.id,
        client_id=user.client_id,
        now=issued,
        delegate=grant.audience,
        ttl_seconds=TOKEN_TTL_SECONDS,
    )
    grant.last_used_at = issued
    audit.record(
        session,
        user_id=user.id,
        actor_id=None,
        action="delegation_grant:token",
        before=None,
        after={**_facts(grant), "roles": sorted(user.roles), "expires_at": expires.isoformat()},
    )
    return DelegatedToken(access_token=token, expires_at=expires, user_id=user.id)


async def revoke_with_secret(
    session: AsyncSession, revocations: Revocations, *, grant_id: uuid.UUID, secret: str
) -> DelegationGrant:
    """The holder gives a grant up (a schedule disabled or handed to a new owner)."""
    grant = await _proven(session, grant_id, secret, lock=True)
    return await _revoke(session, revocations, grant, actor_id=None, reason=grant.audience)
