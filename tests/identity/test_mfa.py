"""mfa: enrol, confirm with a code, then login asks for it; codes are single-use."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import select

from subgraphs.identity.models import AuthSession, RecoveryCode, User
from subgraphs.identity.opaque_tokens import recovery_digest
from subgraphs.identity.service import authentication, mfa
from subgraphs.kit.errors import Problem, ServiceError
from tests.identity.conftest import PASSWORD

INVALID_OTP = (Problem("INVALID_MFA_CODE", "The code is not valid.", "otp"),)


@pytest.fixture
def log_in(sessions, throttle_for, signing_key, settings):
    async def do(email: str, otp: str | None = None):
        async with sessions() as session, session.begin():
            return await authentication.login(
                session,
                throttle_for("203.0.113.9"),
                signing_key,
                settings,
                email=email,
                password=PASSWORD,
                otp=otp,
            )

    return do


@dataclass(frozen=True)
class Enrolled:
    user: User
    totp: pyotp.TOTP
    recovery_codes: list[str]
    confirmation_code: str


async def enrol(sessions, user_id) -> mfa.Enrolment:
    async with sessions() as session, session.begin():
        return await mfa.start_enrolment(session, user_id, impersonator_id=None)


async def confirm(sessions, throttle, user_id, code: str) -> list[str]:
    async with sessions() as session, session.begin():
        return await mfa.confirm_enrolment(session, throttle, user_id, code, impersonator_id=None)


async def stored(sessions, user_id) -> User:
    async with sessions() as session:
        user = await session.get(User, user_id)
    assert user is not None
    return user


async def refused_login(log_in, email: str, otp: str | None) -> tuple[Problem, ...]:
    with pytest.raises(ServiceError) as caught:
        await log_in(email, otp)
    return caught.value.problems


@pytest.fixture
async def enrolled(sessions, make_user, throttle):
    """A user with MFA confirmed."""
    user = await make_user("client", email="mfa@example.com")
    enrolment = await enrol(sessions, user.id)
    totp = pyotp.TOTP(enrolment.secret)
    confirmation_code = totp.now()
    codes = await confirm(sessions, throttle, user.id, confirmation_code)
    return Enrolled(user, totp, codes, confirmation_code)


async def test_enrolment_gives_a_secret_and_uri_but_does_not_enable(sessions, make_user):
    user = await make_user("client", email="mfa@example.com")

    enrolment = await enrol(sessions, user.id)

    uri = urlparse(enrolment.otpauth_uri)
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/Athena:mfa%40example.com")
    assert parse_qs(uri.query) == {"secret": [enrolment.secret], "issuer": ["Athena"]}
    row = await stored(sessions, user.id)
    assert (row.mfa_enabled, row.mfa_secret, row.mfa_pending_secret) == (
        False,
        None,
        enrolment.secret,
    )


async def test_confirmation_with_a_wrong_code_enables_nothing(
    sessions, make_user, count_rows, throttle
):
    user = await make_user("client")
    enrolment = await enrol(sessions, user.id)
    wrong = pyotp.TOTP(enrolment.secret).at(time.time() + 600)

    with pytest.raises(ServiceError) as caught:
        await confirm(sessions, throttle, user.id, wrong)

    assert caught.value.problems == (Problem("INVALID_MFA_CODE", "The code is not valid.", "code"),)
    assert (await stored(sessions, user.id)).mfa_enabled is False
    assert await count_rows(RecoveryCode) == 0


async def test_confirmation_enables_mfa_and_stores_recovery_codes_hashed(enrolled, sessions):
    user, codes = enrolled.user, enrolled.recovery_codes

    row = await stored(sessions, user.id)
    assert (row.mfa_enabled, row.mfa_pending_secret) == (True, None)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    async with sessions() as session:
        hashes = set((await session.scalars(select(RecoveryCode.code_hash))).all())
    assert hashes == {recovery_digest(c) for c in codes}
    assert not hashes & set(codes)


async def test_login_then_needs_the_code(enrolled, log_in, count_rows):
    user = enrolled.user

    problems = await refused_login(log_in, user.email, None)

    assert problems == (
        Problem("MFA_REQUIRED", "Enter the code from your authenticator app.", "otp"),
    )
    assert await count_rows(AuthSession) == 0


async def test_login_with_the_next_totp_code_succeeds(enrolled, log_in):
    user, totp = enrolled.user, enrolled.totp

    pair = await log_in(user.email, totp.at(time.time() + 30))

    assert pair.user.id == user.id


async def test_a_totp_code_cannot_be_replayed(enrolled, log_in, count_rows):
    user, totp = enrolled.user, enrolled.totp
    code = totp.at(time.time() + 30)
    await log_in(user.email, code)

    problems = await refused_login(log_in, user.email, code)

    assert problems == INVALID_OTP
    assert await count_rows(AuthSession) == 1


async def test_the_confirmation_code_cannot_be_replayed_to_log_in(enrolled, log_in, count_rows):
    user = enrolled.user

    problems = await refused_login(log_in, user.email, enrolled.confirmation_code)

    assert problems == INVALID_OTP
    assert await count_rows(AuthSession) == 0


async def test_a_recovery_code_works_once(enrolled, log_in, sessions, count_rows):
    user, codes = enrolled.user, enrolled.recovery_codes

    pair = await log_in(user.email, codes[0].upper())
    problems = await refused_login(log_in, user.email, codes[0])

    assert pair.user.id == user.id
    assert problems == INVALID_OTP
    assert await count_rows(AuthSession) == 1
    async with sessions() as session:
        assert await mfa.remaining_recovery_codes(session, user.id) == 9


async def test_enrolling_again_once_enabled_is_refused(enrolled, sessions):
    user = enrolled.user

    with pytest.raises(ServiceError) as caught:
        await enrol(sessions, user.id)

    assert [p.code for p in caught.value.problems] == ["MFA_ALREADY_ENABLED"]
    assert (await stored(sessions, user.id)).mfa_pending_secret is None
