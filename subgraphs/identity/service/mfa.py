"""TOTP second factor: enrolment, confirmation, checking, recovery codes."""

from __future__ import annotations

import hmac
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyotp
from sqlalchemy import delete, func, select, update

from subgraphs.identity.error_codes import IdentityErrorCode as Code
from subgraphs.identity.models import RecoveryCode, User, outbox
from subgraphs.identity.opaque_tokens import new_recovery_code, recovery_digest
from subgraphs.identity.service import audit
from subgraphs.identity.service.accounts import get_user
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.identity.rate_limit import Throttle

ISSUER_NAME = "Athena"
RECOVERY_CODES = 10
STEP_SECONDS = 30
#: Announced when an owner confirms enrolment; notifications tells them (issue 14 §1).
MFA_ENROLLED = "identity.mfa_enrolled"


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str


def _refuse_if_impersonated(impersonator_id: uuid.UUID | None) -> None:
    if impersonator_id is not None:
        raise ServiceError.of(
            Code.NOT_ALLOWED_WHILE_IMPERSONATING,
            "Two-factor settings cannot be changed while impersonating.",
        )


async def start_enrolment(
    session: AsyncSession, user_id: uuid.UUID, *, impersonator_id: uuid.UUID | None
) -> Enrolment:
    _refuse_if_impersonated(impersonator_id)
    user = await get_user(session, user_id, lock=True)
    if user.mfa_enabled:
        raise ServiceError.of(Code.MFA_ALREADY_ENABLED, "Two-factor login is already enabled.")
    secret = pyotp.random_base32()
    user.mfa_pending_secret = secret
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER_NAME)
    return Enrolment(secret=secret, otpauth_uri=uri)


def matching_step(
    secret: str, code: str, *, after_step: int | None, now: float | None = None
) -> int | None:
    """The time step whose code matches, allowing one step of clock drift.

    A step at or before `after_step` was already used: refusing it stops a
    code seen over a shoulder from being replayed within its 30 seconds.
    """
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int((now if now is not None else time.time()) // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


async def confirm_enrolment(
    session: AsyncSession,
    throttle: Throttle,
    user_id: uuid.UUID,
    code: str,
    *,
    impersonator_id: uuid.UUID | None,
) -> list[str]:
    """Enable MFA and hand out recovery codes, shown this once only."""
    _refuse_if_impersonated(impersonator_id)
    user = await get_user(session, user_id, lock=True)
    if not user.mfa_pending_secret:
        raise ServiceError.of(Code.MFA_NOT_ENROLLED, "Start two-factor enrolment first.")
    limits = (throttle.policy.mfa_pair, throttle.policy.mfa_account)
    await throttle.refuse_if_reached(*limits, account=str(user.id))
    step = matching_step(user.mfa_pending_secret, code, after_step=None)
    if step is None:
        await throttle.failed(*limits, account=str(user.id))
        raise ServiceError.of(Code.INVALID_MFA_CODE, "The code is not valid.", "code")
    before = audit.snapshot(user)
    user.mfa_secret, user.mfa_pending_secret = user.mfa_pending_secret, None
    user.mfa_enabled = True
    user.mfa_last_step = step
    codes = await _replace_recovery_codes(session, user.id)
    audit.record(
        session,
        user_id=user.id,
        actor_id=user.id,
        action="mfa_enable",
        before=before,
        after=audit.snapshot(user),
    )
    # The owner hears of it (notifications): if it was not them, someone has their password.
    await emit(
        session,
        outbox,
        MFA_ENROLLED,
        {"userId": str(user.id), "email": user.email, "at": datetime.now(UTC).isoformat()},
    )
    return codes


async def _replace_recovery_codes(session: AsyncSession, user_id: uuid.UUID) -> list[str]:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw, hashed = new_recovery_code()
        session.add(RecoveryCode(user_id=user_id, code_hash=hashed))
        codes.append(raw)
    return codes


async def disable(
    session: AsyncSession,
    throttle: Throttle,
    user_id: uuid.UUID,
    code: str,
    *,
    impersonator_id: uuid.UUID | None,
) -> User:
    _refuse_if_impersonated(impersonator_id)
    user = await get_user(session, user_id, lock=True)
    if not user.mfa_enabled:
        raise ServiceError.of(Code.MFA_NOT_ENROLLED, "Two-factor login is not enabled.")
    await check_second_factor_throttled(session, throttle, user, code, field="code")
    before = audit.snapshot(user)
    user.mfa_enabled, user.mfa_secret, user.mfa_last_step = False, None, None
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(
        session,
        user_id=user.id,
        actor_id=user.id,
        action="mfa_disable",
        before=before,
        after=audit.snapshot(user),
    )
    return user


async def check_second_factor_throttled(
    session: AsyncSession, throttle: Throttle, user: User, code: str, *, field: str
) -> None:
    """Check a code within the MFA limits; after a few failures even the right one is refused.

    Without this, 60 guesses followed by the right code were accepted
    (issue 8, finding 9): a TOTP code has only a million values.
    """
    limits = (throttle.policy.mfa_pair, throttle.policy.mfa_account)
    await throttle.refuse_if_reached(*limits, account=str(user.id))
    if not await check_second_factor(session, user, code):
        await throttle.failed(*limits, account=str(user.id))
        raise ServiceError.of(Code.INVALID_MFA_CODE, "The code is not valid.", field)


async def check_second_factor(session: AsyncSession, user: User, code: str) -> bool:
    """Accept a current TOTP code or an unused recovery code (then spent)."""
    if user.mfa_secret:
        step = matching_step(user.mfa_secret, code, after_step=user.mfa_last_step)
        if step is not None:
            # Conditional so two concurrent logins cannot both spend one step.
            won = await session.scalar(
                update(User)
                .where(
                    User.id == user.id,
                    (User.mfa_last_step.is_(None)) | (User.mfa_last_step < step),
                )
                .values(mfa_last_step=step)
                .returning(User.id)
            )
            return won is not None
    spent = await session.scalar(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == recovery_digest(code or ""),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=func.now())
        .returning(RecoveryCode.id)
    )
    return spent is not None


async def remaining_recovery_codes(session: AsyncSession, user_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    )
    return int(count or 0)
