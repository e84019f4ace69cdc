"""“View as client”: staff act as a client, with both identities on record."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from protocol.roles import STAFF_ROLES, Role
from subgraphs.identity.error_codes import IdentityErrorCode as Code
from subgraphs.identity.models import ImpersonationLog
from subgraphs.identity.service.access import (
    ClientScope,
    ensure_may_impersonate,
    impersonation_scope,
)
from subgraphs.identity.service.accounts import get_user
from subgraphs.identity.service.client_agents import owns_client
from subgraphs.identity.service.sessions import (
    Revocations,
    TokenPair,
    open_session,
    revoke_session,
)
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.identity.keys import ActiveKey
    from subgraphs.kit.settings import Settings


async def start(
    session: AsyncSession,
    key: ActiveKey,
    settings: Settings,
    *,
    staff_id: uuid.UUID,
    staff_roles: frozenset[Role],
    already_impersonating: bool,
    client_user_id: uuid.UUID,
    reason: str | None,
    ip: str | None,
) -> TokenPair:
    if already_impersonating:
        raise ServiceError.of(
            Code.NOT_ALLOWED_WHILE_IMPERSONATING, "An impersonated session cannot impersonate."
        )
    # Who may view as whom is `access.IMPERSONATION_SCOPE`; a refusal is FORBIDDEN,
    # before the account is looked up (an agent learns nothing of others' accounts).
    scope = impersonation_scope(staff_roles)
    owned = scope is ClientScope.OWN and await owns_client(session, staff_id, client_user_id)
    ensure_may_impersonate(scope, owns_client=owned)
    if reason and len(reason) > 500:
        raise ServiceError.of(Code.TOO_LONG, "Reason is longer than 500 characters.", "reason")
    client = await get_user(session, client_user_id)
    if "client" not in client.roles or {Role(r) for r in client.roles} & STAFF_ROLES:
        raise ServiceError.of(Code.NOT_A_CLIENT, "Only client accounts can be viewed as.", "userId")
    if client.status != "active":
        raise ServiceError.of(Code.ACCOUNT_DISABLED, "This account is disabled.", "userId")
    pair = await open_session(session, client, key, settings, ip=ip, impersonator_id=staff_id)
    session.add(
        ImpersonationLog(
            staff_user_id=staff_id,
            client_user_id=client.id,
            session_id=pair.session_id,
            reason=(reason or "").strip() or None,
        )
    )
    return pair


async def stop(
    session: AsyncSession, *, session_id: uuid.UUID | None, revocations: Revocations
) -> bool:
    """End the impersonated session the caller is in; False if it was not one.

    Its access tokens stop working at once (the session is announced revoked).
    """
    if session_id is None:
        return False
    entry = await session.scalar(
        select(ImpersonationLog).where(
            ImpersonationLog.session_id == session_id, ImpersonationLog.ended_at.is_(None)
        )
    )
    if entry is None:
        return False
    await session.execute(
        update(ImpersonationLog).where(ImpersonationLog.id == entry.id).values(ended_at=func.now())
    )
    await revoke_session(session, revocations, session_id, "impersonation_ended")
    return True
