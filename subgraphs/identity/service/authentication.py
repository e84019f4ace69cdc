"""Login, refresh and logout, with brute-force limits.

Answers never tell whether an e-mail has an account: an unknown e-mail and
a wrong password give the same error after the same amount of work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from subgraphs.identity import passwords
from subgraphs.identity.error_codes import IdentityErrorCode as Code
from subgraphs.identity.service import mfa
from subgraphs.identity.service.accounts import find_by_email
from subgraphs.identity.service.sessions import TokenPair, open_session
from subgraphs.identity.service.validation import normalise_email
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.identity.keys import ActiveKey
    from subgraphs.identity.rate_limit import Throttle
    from subgraphs.kit.settings import Settings


async def login(
    session: AsyncSession,
    throttle: Throttle,
    key: ActiveKey,
    settings: Settings,
    *,
    email: str,
    password: str,
    otp: str | None,
) -> TokenPair:
    """Check the password, then the second factor; each failure is counted.

    Password failures count against the account from this address and
    against the address; a wrong second factor counts against the account
    (whoever reaches it holds the password) and the pair. See `rate_limit`.
    """
    email = normalise_email(email)
    policy = throttle.policy
    await throttle.refuse_if_reached(policy.login_pair, policy.login_address, account=email)
    await throttle.refuse_unknown_address_if_reached(policy.login_account, account=email)
    user = await find_by_email(session, email)
    verified = await passwords.verify_password(user.password_hash if user else None, password or "")
    if user is None or not verified:
        await throttle.failed(
            policy.login_pair, policy.login_address, policy.login_account, account=email
        )
        raise ServiceError.of(Code.INVALID_CREDENTIALS, "E-mail or password is incorrect.")
    if user.status != "active":
        raise ServiceError.of(Code.ACCOUNT_DISABLED, "This account is disabled.")
    if user.mfa_enabled:
        if not otp:
            raise ServiceError.of(
                Code.MFA_REQUIRED, "Enter the code from your authenticator app.", "otp"
            )
        await mfa.check_second_factor_throttled(session, throttle, user, otp, field="otp")
    await throttle.succeeded(policy.login_pair, account=email)
    return await open_session(session, user, key, settings, ip=throttle.address)
