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
from subgraphs.identity.service.accounts import find_by_email
from subgraphs.identity.service.sessions import Revocations, revoke_user_sessions
from subgraphs.identity.service.validation import normalise_email, password_problems, raise_if
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.identity.rate_limit import Throttle

TOPIC = "identity.password_reset_requested"


async def request_reset(
    session: AsyncSession, throttle: Throttle, email: str, *, ttl_seconds: int
) -> None:
    """Queue a reset e-mail if the account exists; the caller answers the same either way.

    Every request counts against its address and its e-mail address (known
    or not, so a refusal tells nothing about which accounts exist): without
    that, one request of 20 aliases queued 20 mails (issue 8, finding 9).
    """
    try:
        address = normalise_email(email)
    except ServiceError:
        address = (email or "").strip().lower()
        await throttle.attempt(throttle.policy.reset_request_address, account=address)
        return
    policy = throttle.policy
    await throttle.attempt(
        policy.reset_request_address, policy.reset_request_account, account=address
    )
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


async def reset_password(
    session: AsyncSession,
    throttle: Throttle,
    token: str,
    new_password: str,
    *,
    revocations: Revocations,
) -> User:
    """Set a new password with a mailed token; every session of the account ends.

    Wrong tokens count against the caller's address.
    """
    raise_if(password_problems(new_password, "newPassword"))
    limit = throttle.policy.reset_address
    await throttle.refuse_if_reached(limit)
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
        await throttle.failed(limit)
        raise ServiceError.of(
            Code.INVALID_RESET_TOKEN, "The reset link is invalid or has expired.", "token"
        )
    user = (await session.scalars(select(User).where(User.id == claimed).with_for_update())).one()
    user.password_hash = await passwords.hash_password(new_password)
    user.password_changed_at = datetime.now(UTC)
    await revoke_user_sessions(session, revocations, user.id, reason="password_reset")
    audit.record(
        session, user_id=user.id, actor_id=user.id, action="password_reset", before=None, after=None
    )
    return user


async def change_password(
    session: AsyncSession,
    throttle: Throttle,
    user_id: uuid.UUID,
    *,
    current_password: str,
    new_password: str,
    impersonating: bool,
    revocations: Revocations,
    current_session_id: uuid.UUID | None,
) -> User:
    """Change a password knowing the current one; the user's other sessions end.

    Someone who changes a password usually suspects it leaked: every other
    session (another browser, a stolen refresh token) ends, the caller's
    own stays. Wrong current passwords count against the account from this
    address and against the address, like login failures.
    """
    if impersonating:
        raise ServiceError.of(
            Code.NOT_ALLOWED_WHILE_IMPERSONATING,
            "The password cannot be changed while impersonating.",
        )
    raise_if(password_problems(new_password, "newPassword"))
    policy = throttle.policy
    limits = (policy.change_password_pair, policy.change_password_address)
    await throttle.refuse_if_reached(*limits, account=str(user_id))
    user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise ServiceError.of(Code.NOT_FOUND, "User was not found.")
    if not await passwords.verify_password(user.password_hash, current_password or ""):
        await throttle.failed(*limits, account=str(user_id))
        raise ServiceError.of(
            Code.INVALID_CREDENTIALS, "The current password is incorrect.", "currentPassword"
        )
    user.password_hash = await passwords.hash_password(new_password)
    user.password_changed_at = datetime.now(UTC)
    await revoke_user_sessions(
        session, revocations, user.id, reason="password_changed", keep=current_session_id
    )
    audit.record(
        session,
        user_id=user.id,
        actor_id=user.id,
        action="password_change",
        before=None,
        after=None,
    )
    return user
