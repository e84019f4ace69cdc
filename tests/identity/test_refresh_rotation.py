"""sessions.rotate_refresh_token: each refresh token works once; reuse ends the session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from subgraphs.identity.models import AuthSession, RefreshToken
from subgraphs.identity.service import accounts
from subgraphs.identity.service.sessions import open_session, rotate_refresh_token
from subgraphs.kit.errors import Problem, ServiceError
from tests.identity.conftest import claims_of

INVALID = (Problem("INVALID_REFRESH_TOKEN", "The refresh token is not valid.", "refreshToken"),)


@pytest.fixture
def start_session(sessions, signing_key, settings):
    async def do(user):
        async with sessions() as session, session.begin():
            return await open_session(session, user, signing_key, settings, ip=None)

    return do


@pytest.fixture
def rotate(sessions, signing_key, settings, throttle, revocations):
    async def do(token: str):
        async with sessions() as session, session.begin():
            return await rotate_refresh_token(
                session, token, signing_key, settings, revocations=revocations, throttle=throttle
            )

    return do


async def refused(rotate, token: str) -> tuple[Problem, ...]:
    with pytest.raises(ServiceError) as caught:
        await rotate(token)
    return caught.value.problems


async def session_row(sessions, session_id) -> AuthSession:
    async with sessions() as session:
        row = await session.get(AuthSession, session_id)
    assert row is not None
    return row


async def test_rotation_gives_a_new_pair_in_the_same_session(
    start_session, rotate, make_user, sessions
):
    user = await make_user("client")
    first = await start_session(user)

    second = await rotate(first.refresh_token)

    assert second.session_id == first.session_id
    assert second.refresh_token != first.refresh_token
    assert claims_of(second.access_token)["sid"] == str(first.session_id)
    async with sessions() as session:
        used = dict(
            (await session.execute(select(RefreshToken.token_hash, RefreshToken.used_at))).all()
        )
    assert len(used) == 2
    assert sorted(v is None for v in used.values()) == [False, True]


async def test_reusing_a_used_token_revokes_the_session(start_session, rotate, make_user, sessions):
    user = await make_user("client")
    first = await start_session(user)
    second = await rotate(first.refresh_token)

    problems = await refused(rotate, first.refresh_token)

    assert problems == INVALID
    row = await session_row(sessions, first.session_id)
    assert row.revoked_reason == "refresh_token_reuse"
    assert row.revoked_at is not None
    assert await refused(rotate, second.refresh_token) == INVALID


async def test_unknown_token_is_refused_and_revokes_nothing(
    start_session, rotate, make_user, sessions
):
    user = await make_user("client")
    pair = await start_session(user)

    problems = await refused(rotate, "not-a-token")

    assert problems == INVALID
    assert (await session_row(sessions, pair.session_id)).revoked_at is None
    assert (await rotate(pair.refresh_token)).session_id == pair.session_id


async def test_expired_session_cannot_be_refreshed(start_session, rotate, make_user, sessions):
    user = await make_user("client")
    pair = await start_session(user)
    async with sessions() as session, session.begin():
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id == pair.session_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    assert await refused(rotate, pair.refresh_token) == INVALID


async def test_disabled_account_cannot_refresh(
    start_session, rotate, make_user, sessions, revocations
):
    user = await make_user("client")
    pair = await start_session(user)
    async with sessions() as session, session.begin():
        await accounts.set_status(
            session, user.id, "disabled", actor_id=None, revocations=revocations
        )

    assert await refused(rotate, pair.refresh_token) == INVALID
    assert (await session_row(sessions, pair.session_id)).revoked_reason == "account_disabled"
