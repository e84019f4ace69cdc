"""Issue 8, finding 5: an ended session's access token stops working at once.

Identity writes each ended session to the kit's revocation set in Redis
(`auth:revoked-session:<sid>`); every subgraph, identity included, then
reads a token of that session as anonymous, so `me` answers UNAUTHENTICATED
although the token itself has not expired.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from protocol.revocation import KEY_PREFIX
from subgraphs.identity.models import outbox
from subgraphs.identity.service.password_reset import TOPIC as RESET_TOPIC
from tests.identity.conftest import ME, PASSWORD, claims_of, refresh

NEW_PASSWORD = "a brand new passphrase"


async def settle(settings) -> None:
    """Outlive the verifiers' few-second cache of "not revoked" (a token used just before)."""
    await asyncio.sleep(settings.revocation_cache_seconds + 0.2)


async def me_codes(gql, token: str) -> list[str | None]:
    response = await gql(ME, token=token)
    return response.error_codes if response.errors else []


async def announced(redis, token: str) -> bool:
    return bool(await redis.exists(f"{KEY_PREFIX}{claims_of(token)['sid']}"))


async def admin_token(make_user, login) -> str:
    admin = await make_user("admin")
    return str((await login(admin.email))["accessToken"])


async def test_finding_5_a_logged_out_token_is_unauthenticated(
    make_user, login, gql, redis, settings
):
    user = await make_user("client")
    token = (await login(user.email))["accessToken"]
    assert await me_codes(gql, token) == []

    logout = (await gql("mutation { logout { ok } }", token=token)).ok()

    assert logout == {"logout": {"ok": True}}
    assert await announced(redis, token)
    await settle(settings)
    assert await me_codes(gql, token) == ["UNAUTHENTICATED"]


async def test_finding_5_a_disabled_users_tokens_are_unauthenticated(make_user, login, gql, redis):
    user = await make_user("driver")
    phone, laptop = (
        (await login(user.email))["accessToken"],
        (await login(user.email))["accessToken"],
    )
    admin = await admin_token(make_user, login)

    disabled = await gql(
        "mutation($id: ID!) { disableUser(id: $id) { userErrors { code } } }",
        {"id": str(user.id)},
        token=admin,
    )

    assert disabled.ok() == {"disableUser": {"userErrors": []}}
    assert [await announced(redis, t) for t in (phone, laptop)] == [True, True]
    assert await me_codes(gql, phone) == ["UNAUTHENTICATED"]
    assert await me_codes(gql, laptop) == ["UNAUTHENTICATED"]


SET_ROLES = """
mutation($id: ID!, $roles: [Role!]!) { setUserRoles(id: $id, roles: $roles) { userErrors { code } } }
"""


async def test_finding_5_a_demoted_users_tokens_are_unauthenticated(make_user, login, gql, redis):
    user = await make_user("manager", "sales_agent")
    token = (await login(user.email))["accessToken"]
    admin = await admin_token(make_user, login)

    demoted = await gql(SET_ROLES, {"id": str(user.id), "roles": ["SALES_AGENT"]}, token=admin)

    assert demoted.ok() == {"setUserRoles": {"userErrors": []}}
    assert await announced(redis, token)
    assert await me_codes(gql, token) == ["UNAUTHENTICATED"]
    fresh = (await login(user.email))["accessToken"]
    assert claims_of(fresh)["roles"] == ["sales_agent"]
    assert await me_codes(gql, fresh) == []


async def test_finding_5_only_adding_a_role_keeps_the_sessions(make_user, login, gql, redis):
    user = await make_user("sales_agent")
    token = (await login(user.email))["accessToken"]
    admin = await admin_token(make_user, login)

    promoted = await gql(
        SET_ROLES, {"id": str(user.id), "roles": ["SALES_AGENT", "MANAGER"]}, token=admin
    )

    assert promoted.ok() == {"setUserRoles": {"userErrors": []}}
    assert not await announced(redis, token)
    assert await me_codes(gql, token) == []


async def test_finding_5_refresh_token_reuse_ends_the_sessions_access_tokens(
    make_user, login, gql, redis, settings
):
    user = await make_user("client")
    pair = await login(user.email)
    rotated = await refresh(gql, pair["refreshToken"])
    assert await me_codes(gql, rotated["accessToken"]) == []

    reused = await refresh(gql, pair["refreshToken"])

    assert reused["userErrors"][0]["code"] == "INVALID_REFRESH_TOKEN"
    assert await announced(redis, rotated["accessToken"])
    await settle(settings)
    assert await me_codes(gql, pair["accessToken"]) == ["UNAUTHENTICATED"]
    assert await me_codes(gql, rotated["accessToken"]) == ["UNAUTHENTICATED"]


async def test_finding_5_stopping_an_impersonation_ends_its_token(
    make_user, login, gql, redis, settings
):
    staff = await make_user("sales_support")
    client = await make_user("client")
    staff_token = (await login(staff.email))["accessToken"]
    started = (
        await gql(
            "mutation($u: ID!) { startImpersonation(userId: $u) { accessToken } }",
            {"u": str(client.id)},
            token=staff_token,
        )
    ).ok()["startImpersonation"]
    token = started["accessToken"]
    assert await me_codes(gql, token) == []

    stopped = (await gql("mutation { stopImpersonation { ok } }", token=token)).ok()

    assert stopped == {"stopImpersonation": {"ok": True}}
    assert await announced(redis, token)
    await settle(settings)
    assert await me_codes(gql, token) == ["UNAUTHENTICATED"]
    assert await me_codes(gql, staff_token) == []


async def test_finding_5_changing_the_password_ends_the_other_sessions(
    make_user, login, gql, redis
):
    user = await make_user("client")
    here, elsewhere = (
        (await login(user.email))["accessToken"],
        (await login(user.email))["accessToken"],
    )

    changed = await gql(
        "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n)"
        " { ok userErrors { code } } }",
        {"c": PASSWORD, "n": NEW_PASSWORD},
        token=here,
    )

    assert changed.ok() == {"changePassword": {"ok": True, "userErrors": []}}
    assert (await announced(redis, here), await announced(redis, elsewhere)) == (False, True)
    assert await me_codes(gql, here) == []
    assert await me_codes(gql, elsewhere) == ["UNAUTHENTICATED"]


async def test_finding_5_a_password_reset_ends_every_session(
    make_user, login, gql, redis, sessions
):
    user = await make_user("client")
    token = (await login(user.email))["accessToken"]
    await gql("mutation($e: String!) { requestPasswordReset(email: $e) { ok } }", {"e": user.email})
    async with sessions() as session:
        payload = await session.scalar(
            select(outbox.c.payload).where(outbox.c.topic == RESET_TOPIC)
        )

    reset = await gql(
        "mutation($t: String!, $n: String!) { resetPassword(token: $t, newPassword: $n)"
        " { ok userErrors { code } } }",
        {"t": payload["token"], "n": NEW_PASSWORD},
    )

    assert reset.ok() == {"resetPassword": {"ok": True, "userErrors": []}}
    assert await announced(redis, token)
    assert await me_codes(gql, token) == ["UNAUTHENTICATED"]
