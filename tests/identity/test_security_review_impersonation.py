"""Issue 8, finding 6: "view as client" is scoped by a rule and cannot write.

Who may start it is `service/access.py`'s `IMPERSONATION_SCOPE`: admins,
managers and sales support for any client; a sales agent only for its own
clients, and since client ownership does not exist yet (issue 10), not at
all for now. An impersonated session's mutations are refused by the kit
(`NOT_ALLOWED_WHILE_IMPERSONATING`), except stopImpersonation and logout.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from subgraphs.identity.models import ImpersonationLog, UserAudit
from subgraphs.identity.service import accounts

START = """
mutation($u: ID!) {
  startImpersonation(userId: $u, reason: "support call") { accessToken userErrors { code } }
}
"""


async def start(gql, staff_token: str, client_id) -> dict:
    return (await gql(START, {"u": str(client_id)}, token=staff_token)).ok()["startImpersonation"]


async def impersonated_token(make_user, login, gql, client) -> str:
    staff = await make_user("manager")
    started = await start(gql, (await login(staff.email))["accessToken"], client.id)
    assert started["userErrors"] == []
    return str(started["accessToken"])


async def test_finding_6_a_sales_agent_cannot_start_impersonation(
    make_user, login, gql, count_rows
):
    agent = await make_user("sales_agent")
    client = await make_user("client")
    token = (await login(agent.email))["accessToken"]

    response = await gql(START, {"u": str(client.id)}, token=token)

    assert response.data is None
    assert response.error_codes == ["FORBIDDEN"]
    assert await count_rows(ImpersonationLog) == 0


@pytest.mark.parametrize("role", ["admin", "manager", "sales_support"])
async def test_finding_6_managers_admins_and_sales_support_may_view_any_client(
    make_user, login, gql, role
):
    staff = await make_user(role)
    client = await make_user("client")

    started = await start(gql, (await login(staff.email))["accessToken"], client.id)

    assert started["userErrors"] == []
    assert started["accessToken"]


async def test_finding_6_an_impersonated_session_cannot_change_the_password(make_user, login, gql):
    client = await make_user("client")
    token = await impersonated_token(make_user, login, gql, client)

    response = await gql(
        'mutation { changePassword(currentPassword: "correct horse battery",'
        ' newPassword: "another long one") { ok userErrors { code } } }',
        token=token,
    )

    assert response.data is None
    assert response.error_codes == ["NOT_ALLOWED_WHILE_IMPERSONATING"]


async def test_finding_6_an_impersonated_session_cannot_disable_mfa(make_user, login, gql):
    client = await make_user("client")
    token = await impersonated_token(make_user, login, gql, client)

    response = await gql(
        'mutation { disableMfa(code: "123456") { userErrors { code } } }', token=token
    )

    assert response.data is None
    assert response.error_codes == ["NOT_ALLOWED_WHILE_IMPERSONATING"]


async def test_finding_6_the_account_audit_names_the_impersonator_beside_the_actor(
    make_user, sessions, gql, login
):
    staff = await make_user("admin")
    client = await make_user("client")
    async with sessions() as session, session.begin():
        await accounts.update_profile(
            session,
            client.id,
            name="Renamed",
            phone=None,
            actor_id=client.id,
            impersonator_id=staff.id,
        )

    async with sessions() as session:
        entry = await session.scalar(select(UserAudit).where(UserAudit.action == "update_profile"))
    log = (
        await gql(
            "query($u: ID!) { userAuditLog(userId: $u) { edges { node { action actorId impersonatorId } } } }",
            {"u": str(client.id)},
            token=(await login(staff.email))["accessToken"],
        )
    ).ok()["userAuditLog"]["edges"]

    assert (entry.actor_id, entry.impersonator_id) == (client.id, staff.id)
    assert log[0]["node"] == {
        "action": "update_profile",
        "actorId": str(client.id),
        "impersonatorId": str(staff.id),
    }
