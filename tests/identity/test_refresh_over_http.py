"""refreshToken over HTTP: a new pair each time; a reused token ends the session."""

from __future__ import annotations

from tests.identity.conftest import INVALID_REFRESH as INVALID
from tests.identity.conftest import ME, claims_of, refresh


async def test_refresh_returns_a_new_pair_for_the_same_session(make_user, login, gql):
    user = await make_user("client")
    first = await login(user.email)

    second = await refresh(gql, first["refreshToken"])

    assert second["userErrors"] == []
    assert second["user"] == {"id": str(user.id)}
    assert second["refreshToken"] != first["refreshToken"]
    assert second["accessToken"] != first["accessToken"]
    assert claims_of(second["accessToken"])["sid"] == claims_of(first["accessToken"])["sid"]
    me = (await gql(ME, token=second["accessToken"])).ok()["me"]
    assert me["id"] == str(user.id)


async def test_reusing_the_old_refresh_token_fails_and_revokes_the_session(make_user, login, gql):
    user = await make_user("client")
    first = await login(user.email)
    second = await refresh(gql, first["refreshToken"])

    reused = await refresh(gql, first["refreshToken"])
    later = await refresh(gql, second["refreshToken"])

    assert reused == {
        "accessToken": None,
        "refreshToken": None,
        "user": None,
        "userErrors": INVALID,
    }
    assert later == reused


async def test_logout_revokes_the_session(make_user, login, gql):
    user = await make_user("client")
    pair = await login(user.email)

    out = (
        await gql("mutation { logout { ok userErrors { code } } }", token=pair["accessToken"])
    ).ok()

    assert out == {"logout": {"ok": True, "userErrors": []}}
    assert (await refresh(gql, pair["refreshToken"]))["userErrors"] == INVALID


async def test_logout_ends_only_its_own_session(make_user, login, gql):
    user = await make_user("client")
    kept = await login(user.email)
    ended = await login(user.email)

    await gql("mutation { logout { ok } }", token=ended["accessToken"])

    assert (await refresh(gql, kept["refreshToken"]))["userErrors"] == []


async def test_logout_needs_a_login(gql):
    response = await gql("mutation { logout { ok } }")

    assert response.data is None
    assert response.error_codes == ["UNAUTHENTICATED"]
