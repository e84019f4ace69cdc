"""authentication.login: the rules, called directly with a session."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from subgraphs.identity.models import AuthSession, RefreshToken
from subgraphs.identity.opaque_tokens import digest
from subgraphs.identity.service import accounts, authentication
from subgraphs.kit.errors import Problem, ServiceError
from tests.identity.conftest import PASSWORD, claims_of

IP = "203.0.113.7"


@pytest.fixture
def log_in(sessions, throttle_for, signing_key, settings):
    async def do(email: str, password: str = PASSWORD, otp: str | None = None):
        async with sessions() as session, session.begin():
            return await authentication.login(
                session,
                throttle_for(IP),
                signing_key,
                settings,
                email=email,
                password=password,
                otp=otp,
            )

    return do


async def refused(log_in, email: str, password: str = PASSWORD) -> tuple[Problem, ...]:
    with pytest.raises(ServiceError) as caught:
        await log_in(email, password)
    return caught.value.problems


async def test_login_opens_a_session_with_a_signed_pair(log_in, make_user, sessions, settings):
    user = await make_user("dispatcher", "manager")

    pair = await log_in(user.email.upper())

    claims = claims_of(pair.access_token)
    assert claims["sub"] == str(user.id)
    assert claims["sid"] == str(pair.session_id)
    assert claims["roles"] == ["dispatcher", "manager"]
    assert claims["scopes"] == ["role:dispatcher", "role:manager", "staff"]
    assert (claims["iss"], claims["aud"]) == (settings.jwt_issuer, settings.jwt_audience)
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert "act" not in claims
    async with sessions() as session:
        auth = await session.get(AuthSession, pair.session_id)
        hashes = (await session.scalars(select(RefreshToken.token_hash))).all()
    assert (auth.user_id, auth.ip_address, auth.revoked_at) == (user.id, IP, None)
    assert hashes == [digest(pair.refresh_token)]


async def test_wrong_password_is_invalid_credentials_and_opens_no_session(
    log_in, make_user, count_rows
):
    user = await make_user("client")

    problems = await refused(log_in, user.email, "not the password")

    assert problems == (Problem("INVALID_CREDENTIALS", "E-mail or password is incorrect."),)
    assert await count_rows(AuthSession) == 0


async def test_unknown_email_answers_exactly_like_a_wrong_password(log_in, make_user, count_rows):
    user = await make_user("client")

    wrong = await refused(log_in, user.email, "not the password")
    unknown = await refused(log_in, "nobody@example.com", "not the password")

    assert unknown == wrong
    assert await count_rows(AuthSession) == 0


async def test_disabled_account_cannot_log_in(log_in, make_user, sessions, count_rows, revocations):
    user = await make_user("client")
    async with sessions() as session, session.begin():
        await accounts.set_status(
            session, user.id, "disabled", actor_id=None, revocations=revocations
        )

    problems = await refused(log_in, user.email)

    assert problems == (Problem("ACCOUNT_DISABLED", "This account is disabled."),)
    assert await count_rows(AuthSession) == 0


async def test_malformed_email_names_the_field(log_in, count_rows):
    problems = await refused(log_in, "not-an-email")

    assert [(p.code, p.field) for p in problems] == [("INVALID_EMAIL", "email")]
    assert await count_rows(AuthSession) == 0


async def test_a_successful_login_resets_the_email_failure_count(log_in, make_user):
    user = await make_user("client")
    for _ in range(4):
        await refused(log_in, user.email, "not the password")
    await log_in(user.email)

    for _ in range(4):
        await refused(log_in, user.email, "not the password")
    pair = await log_in(user.email)

    assert claims_of(pair.access_token)["sub"] == str(user.id)


async def test_five_failures_block_the_email_even_with_the_right_password(
    log_in, make_user, count_rows
):
    user = await make_user("client")
    for _ in range(5):
        await refused(log_in, user.email, "not the password")

    problems = await refused(log_in, user.email)

    assert problems == (
        Problem("RATE_LIMITED", "Too many failed attempts. Try again in 15 minutes."),
    )
    assert await count_rows(AuthSession) == 0
