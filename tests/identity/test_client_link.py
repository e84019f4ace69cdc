"""A client account names the client company it acts for; tokens carry it."""

from __future__ import annotations

import uuid

import jwt
import pytest
from sqlalchemy import select

from subgraphs.identity.models import User, UserAudit
from subgraphs.identity.service import accounts
from subgraphs.kit.errors import ServiceError
from tests.identity.conftest import PASSWORD

SET_CLIENT = """
mutation($id: ID!, $client: ID) {
  setUserClient(id: $id, clientId: $client) { user { id clientId } userErrors { field code } }
}"""


async def test_the_access_token_of_a_linked_client_carries_client_id(make_user, login, sessions):
    company = uuid.uuid4()
    user = await make_user("client")
    async with sessions() as session, session.begin():
        await accounts.set_client(session, user.id, company, actor_id=None)

    payload = await login(user.email, PASSWORD)
    claims = jwt.decode(payload["accessToken"], options={"verify_signature": False})

    assert claims["client_id"] == str(company)


async def test_only_client_accounts_can_be_linked_and_nothing_changes(make_user, sessions):
    staff = await make_user("dispatcher")

    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await accounts.set_client(session, staff.id, uuid.uuid4(), actor_id=None)

    assert [(p.code, p.field) for p in caught.value.problems] == [("INVALID", "clientId")]
    async with sessions() as session:
        assert (await session.get(User, staff.id)).client_id is None


async def test_admin_links_a_client_over_http_and_it_is_audited(make_user, login, gql, sessions):
    admin = await make_user("admin")
    client = await make_user("client")
    company = uuid.uuid4()
    token = (await login(admin.email, PASSWORD))["accessToken"]

    linked = (
        await gql(SET_CLIENT, {"id": str(client.id), "client": str(company)}, token=token)
    ).ok()["setUserClient"]

    assert linked == {"user": {"id": str(client.id), "clientId": str(company)}, "userErrors": []}
    async with sessions() as session:
        entry = (
            await session.scalars(
                select(UserAudit).where(
                    UserAudit.user_id == client.id, UserAudit.action == "set_client"
                )
            )
        ).one()
    assert entry.actor_id == admin.id
    assert (entry.before["client_id"], entry.after["client_id"]) == (None, str(company))
