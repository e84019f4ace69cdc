"""One refresh token raced by ten requests: at most one new pair, then the session ends."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from subgraphs.identity.models import AuthSession
from tests.identity.conftest import INVALID_REFRESH as INVALID
from tests.identity.conftest import refresh


async def test_ten_concurrent_refreshes_yield_one_pair_and_revoke_the_session(
    make_user, login, gql, sessions
):
    user = await make_user("client")
    pair = await login(user.email)

    answers = await asyncio.gather(*(refresh(gql, pair["refreshToken"]) for _ in range(10)))

    winners = [a for a in answers if a["refreshToken"] is not None]
    losers = [a for a in answers if a["refreshToken"] is None]
    assert len(winners) == 1
    assert [a["userErrors"] for a in losers] == [INVALID] * 9
    assert (await refresh(gql, winners[0]["refreshToken"]))["userErrors"] == INVALID
    async with sessions() as session:
        reasons = (await session.scalars(select(AuthSession.revoked_reason))).all()
    assert reasons == ["refresh_token_reuse"]
