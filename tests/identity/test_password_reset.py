"""password_reset: same answer for everyone, single-use, one hour, stored hashed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from subgraphs.identity import passwords
from subgraphs.identity.models import AuthSession, PasswordResetToken, User, outbox
from subgraphs.identity.opaque_tokens import digest
from subgraphs.identity.service import password_reset
from subgraphs.kit.errors import Problem, ServiceError
from tests.identity.conftest import PASSWORD

NEW_PASSWORD = "a brand new passphrase"
INVALID = (Problem("INVALID_RESET_TOKEN", "The reset link is invalid or has expired.", "token"),)


@pytest.fixture
def request_reset(sessions, settings, throttle):
    async def do(email: str) -> None:
        async with sessions() as session, session.begin():
            await password_reset.request_reset(
                session, throttle, email, ttl_seconds=settings.password_reset_ttl_seconds
            )

    return do


@pytest.fixture
def reset(sessions, throttle, revocations):
    async def do(token: str, new_password: str = NEW_PASSWORD) -> User:
        async with sessions() as session, session.begin():
            return await password_reset.reset_password(
                session, throttle, token, new_password, revocations=revocations
            )

    return do


async def mailed_token(sessions) -> str:
    """The raw token, as the mailer receives it through the outbox."""
    async with sessions() as session:
        query = select(outbox.c.payload).where(outbox.c.topic == password_reset.TOPIC)
        payloads = (await session.execute(query)).scalars().all()
    assert [p["userId"] is not None for p in payloads] == [True]
    return str(payloads[0]["token"])


async def password_of(sessions, user_id) -> str:
    async with sessions() as session:
        return str(await session.scalar(select(User.password_hash).where(User.id == user_id)))


async def refused(reset, token: str, new_password: str = NEW_PASSWORD) -> tuple[Problem, ...]:
    with pytest.raises(ServiceError) as caught:
        await reset(token, new_password)
    return caught.value.problems


async def test_request_for_an_unknown_email_writes_nothing(request_reset, count_rows):
    result = await request_reset("nobody@example.com")

    assert result is None
    assert await count_rows(PasswordResetToken) == 0
    assert await count_rows(outbox) == 0


async def test_request_for_a_malformed_email_answers_the_same(request_reset, count_rows):
    result = await request_reset("not an e-mail")

    assert result is None
    assert await count_rows(PasswordResetToken) == 0


async def test_token_is_stored_hashed_and_expires_in_one_hour(request_reset, make_user, sessions):
    user = await make_user("client")
    before = datetime.now(UTC)

    await request_reset(user.email.upper())

    raw = await mailed_token(sessions)
    async with sessions() as session:
        rows = (await session.scalars(select(PasswordResetToken))).all()
    assert len(rows) == 1
    assert rows[0].user_id == user.id
    assert rows[0].token_hash == digest(raw)
    assert raw not in (rows[0].token_hash, str(rows[0].id))
    assert timedelta(minutes=59) < rows[0].expires_at - before <= timedelta(hours=1, seconds=5)


async def test_reset_sets_the_password_and_revokes_sessions(
    request_reset, reset, make_user, sessions
):
    user = await make_user("client")
    async with sessions() as session, session.begin():
        session.add(AuthSession(user_id=user.id, expires_at=datetime.now(UTC) + timedelta(days=1)))
    await request_reset(user.email)

    await reset(await mailed_token(sessions))

    stored = await password_of(sessions, user.id)
    assert await passwords.verify_password(stored, NEW_PASSWORD)
    assert not await passwords.verify_password(stored, PASSWORD)
    async with sessions() as session:
        reasons = (await session.scalars(select(AuthSession.revoked_reason))).all()
    assert reasons == ["password_reset"]


async def test_token_works_only_once(request_reset, reset, make_user, sessions):
    user = await make_user("client")
    await request_reset(user.email)
    token = await mailed_token(sessions)
    await reset(token)
    after_first = await password_of(sessions, user.id)

    problems = await refused(reset, token, "yet another passphrase")

    assert problems == INVALID
    assert await password_of(sessions, user.id) == after_first


async def test_expired_token_is_refused(request_reset, reset, make_user, sessions):
    user = await make_user("client")
    await request_reset(user.email)
    async with sessions() as session, session.begin():
        await session.execute(
            update(PasswordResetToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    original = await password_of(sessions, user.id)

    problems = await refused(reset, await mailed_token(sessions))

    assert problems == INVALID
    assert await password_of(sessions, user.id) == original
    async with sessions() as session:
        assert (await session.scalars(select(PasswordResetToken.used_at))).all() == [None]


async def test_weak_new_password_does_not_spend_the_token(
    request_reset, reset, make_user, sessions
):
    user = await make_user("client")
    await request_reset(user.email)
    token = await mailed_token(sessions)

    problems = await refused(reset, token, "short")

    assert problems == (
        Problem("WEAK_PASSWORD", "Password needs at least 10 characters.", "newPassword"),
    )
    await reset(token)
    assert await passwords.verify_password(await password_of(sessions, user.id), NEW_PASSWORD)


async def test_made_up_token_is_refused(reset):
    assert await refused(reset, "made-up") == INVALID
