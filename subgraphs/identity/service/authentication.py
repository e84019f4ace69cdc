"""Login, refresh and logout, with brute-force limits.

Answers never tell whether an e-mail has an account: an unknown e-mail and
a wrong password give the same error after the same amount of work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from subgraphs.identity import passwords
from subgraphs.identity.error_codes import IdentityErrorCode as Code
from subgraphs.identity.rate_limit import LoginLimits, clear_email, is_blocked, record_failure
from subgraphs.identity.service import mfa
from subgraphs.identity.service.accounts import find_by_email
from subgraphs.identity.service.sessions import TokenPair, open_session
from subgraphs.identity.service.validation import normalise_email
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.identity.keys import ActiveKey
    from subgraphs.kit.settings import Settings


def limits_from(settings: Settings) -> LoginLimits:
    return LoginLimits(
        per_email=settings.login_max_failures_per_email,
        per_ip=settings.login_max_failures_per_ip,
        window_seconds=settings.login_failure_window_seconds,
    )


async def login(
    session: AsyncSession,
    redis: Redis,
    key: ActiveKey,
    settings: Settings,
    *,
    email: str,
    password: str,
    otp: str | None,
    ip: str,
) -> TokenPair:
    email = normalise_email(email)
    limits = limits_from(settings)
    if await is_blocked(redis, limits, email=email, ip=ip):
        raise ServiceError.of(
            Code.RATE_LIMITED, "Too many failed attempts. Try again in 15 minutes."
        )
    user = await find_by_email(session, email)
    verified = await passwords.verify_password(user.password_hash if user else None, password or "")
    if user is None or not verified:
        await record_failure(redis, limits, email=email, ip=ip)
        raise ServiceError.of(Code.INVALID_CREDENTIALS, "E-mail or password is incorrect.")
    if user.status != "active":
        raise ServiceError.of(Code.ACCOUNT_DISABLED, "This account is disabled.")
    if user.mfa_enabled:
        if not otp:
            raise ServiceError.of(
                Code.MFA_REQUIRED, "Enter the code from your authenticator app.", "otp"
            )
        if not await mfa.check_second_factor(session, user, otp):
            await record_failure(redis, limits, email=email, ip=ip)
            raise ServiceError.of(Code.INVALID_MFA_CODE, "The code is not valid.", "otp")
    await clear_email(redis, email)
    return await open_session(session, user, key, settings, ip=ip)
