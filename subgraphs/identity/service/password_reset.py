"""Password reset by e-mailed token: single use, one hour, stored hashed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from subgraphs.identity import passwords
from subgraphs.identity.error_codes import IdentityErrorCode as Code
from subgraphs.identity.models import PasswordResetToken, User, outbox
from subgraphs.identity.opaque_tokens import digest, new_token
from subgraphs.identity.service import audit
from subgraphs.identity.service.accounts import find_by_email, revoke_all_sessions
from subgraphs.identity.service.validation import normalise_email, password_problems, raise_if
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

TOPIC = "identity.password_reset_requested"


async def request_reset(session: AsyncSession, email: str, *, ttl_seconds: int) -> None:
    """Queue a reset e-mail if the account exists; the caller answers the same either way."""
    try:
        address = normalise_email(email)
    except ServiceError:
        return
    user = await find_by_email(session, address)
    if user is None or user.status != "active":
        return
    raw, hashed = new_token()
    expires = datetime.now(UTC) + timedelta(seconds=ttl_seconds)
    session.add(PasswordResetToken(user_id=user.id, token_hash=hashed, expires_at=expires))
    # The mailer needs the raw token; it lives in the outbox only until sent.
    await emit(
        session,
        outbox,
        TOPIC,
        {"userId": str(user.id), "email": user.email, "token": raw, "expiresAt": expires},
    )


async def reset_password(session: AsyncSession, token: str, new_password: str) -> User:
    raise_if(password_problems(new_password, "newPassword"))
    claimed = await session.scalar(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.token_hash == digest(token or ""),
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > func.now(),
        )
        .values(used_at=func.now())
        .returning(PasswordResetToken.user_id)
    )
    if claimed is None:
        raise ServiceError.of(
            Code.INVALID_RESET_TOKEN, "The reset link is invalid or has expired.", "token"
        )
    user = (await session.scalars(select(User).where(User.id == claimed).with_for_update())).one()
    user.password_hash = await passwords.hash_password(new_password)
    user.password_changed_at = datetime.now(UTC)
    await revoke_all_sessions(session, user.id, reason="password_reset")
    audit.record(
        session, user_id=user.id, actor_id=user.id, action="password_reset", before=None, after=None
    )
    return user


async def change_password(
    session: AsyncSession,
    user_id: object,
    *,
    current_password: str,
    new_password: str,
    impersonating: bool,
) -> User:
    if impersonating:
        raise ServiceError.of(
            Code.NOT_ALLOWED_WHILE_IMPERSONATING,
            "The password cannot be changed while impersonating.",
        )
    raise_if(password_problems(new_password, "newPassword"))
    user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise ServiceError.of(Code.NOT_FOUND, "User was not found.")
    if not await passwords.verify_password(user.password_hash, current_password or ""):
        raise ServiceError.of(
            Code.INVALID_CREDENTIALS, "The current password is incorrect.", "currentPassword"
        )
    user.password_hash = await passwords.hash_password(new_password)
    user.password_changed_at = datetime.now(UTC)
    audit.record(
        session,
        user_id=user.id,
        actor_id=user.id,
        action="password_change",
        before=None,
        after=None,
    )
    return user
