"""Impersonation over HTTP: the token carries `act.sub`; `me` is the client."""

from __future__ import annotations

from sqlalchemy import select

from subgraphs.identity.models import ImpersonationLog
from tests.identity.conftest import ME, claims_of

START = """
mutation Start($userId: ID!) {
  startImpersonation(userId: $userId, reason: "support call") {
    accessToken refreshToken
    user { id }
    userErrors { field code message }
  }
}
"""
STOP = "mutation { stopImpersonation { ok userErrors { code } } }"


async def start(gql, staff_token: str, client_id) -> dict:
    return (await gql(START, {"userId": str(client_id)}, token=staff_token)).ok()[
        "startImpersonation"
    ]


async def test_impersonation_token_carries_the_staff_member_and_me_is_the_client(
    make_user, login, gql
):
    staff = await make_user("sales_support")
    client = await make_user("client")
    staff_token = (await login(staff.email))["accessToken"]

    payload = await start(gql, staff_token, client.id)

    assert payload["userErrors"] == []
    claims = claims_of(payload["accessToken"])
    assert (claims["sub"], claims["act"]) == (str(client.id), {"sub": str(staff.id)})
    me = (await gql(ME, token=payload["accessToken"])).ok()["me"]
    assert (me["id"], me["roles"]) == (str(client.id), ["CLIENT"])


async def test_a_staff_target_is_a_user_error(make_user, login, gql, count_rows):
    staff = await make_user("manager")
    other = await make_user("accounting")
    staff_token = (await login(staff.email))["accessToken"]

    payload = await start(gql, staff_token, other.id)

    assert payload["accessToken"] is None
    assert payload["userErrors"] == [
        {
            "field": "userId",
            "code": "NOT_A_CLIENT",
            "message": "Only client accounts can be viewed as.",
        }
    ]
    assert await count_rows(ImpersonationLog) == 0


async def test_a_dispatcher_is_forbidden(make_user, login, gql, count_rows):
    dispatcher = await make_user("dispatcher")
    client = await make_user("client")
    token = (await login(dispatcher.email))["accessToken"]

    response = await gql(START, {"userId": str(client.id)}, token=token)

    assert response.data is None
    assert response.error_codes == ["FORBIDDEN"]
    assert await count_rows(ImpersonationLog) == 0


async def test_the_impersonated_session_cannot_change_the_password(make_user, login, gql):
    staff = await make_user("admin")
    client = await make_user("client")
    token = (await start(gql, (await login(staff.email))["accessToken"], client.id))["accessToken"]

    response = await gql(
        'mutation { changePassword(currentPassword: "correct horse battery",'
        ' newPassword: "another long one") { ok userErrors { code } } }',
        token=token,
    )

    # The kit refuses an impersonated session's mutations before they run.
    assert response.data is None
    assert response.error_codes == ["NOT_ALLOWED_WHILE_IMPERSONATING"]


async def test_the_impersonated_session_cannot_enrol_mfa(make_user, login, gql):
    staff = await make_user("admin")
    client = await make_user("client")
    token = (await start(gql, (await login(staff.email))["accessToken"], client.id))["accessToken"]

    response = await gql("mutation { enrollMfa { secret userErrors { code } } }", token=token)

    assert response.data is None
    assert response.error_codes == ["NOT_ALLOWED_WHILE_IMPERSONATING"]


async def test_stop_is_logged_and_ends_the_session(make_user, login, gql, sessions):
    staff = await make_user("admin")
    client = await make_user("client")
    payload = await start(gql, (await login(staff.email))["accessToken"], client.id)

    stopped = (await gql(STOP, token=payload["accessToken"])).ok()

    assert stopped == {"stopImpersonation": {"ok": True, "userErrors": []}}
    async with sessions() as session:
        entries = (await session.scalars(select(ImpersonationLog))).all()
    assert [(e.staff_user_id, e.client_user_id, e.reason) for e in entries] == [
        (staff.id, client.id, "support call")
    ]
    assert entries[0].ended_at is not None
    refreshed = (
        await gql(
            "mutation($t: String!) { refreshToken(refreshToken: $t) { userErrors { code } } }",
            {"t": payload["refreshToken"]},
        )
    ).ok()
    assert refreshed == {"refreshToken": {"userErrors": [{"code": "INVALID_REFRESH_TOKEN"}]}}
