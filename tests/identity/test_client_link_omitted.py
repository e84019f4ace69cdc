"""`setUserClient` without `clientId` unlinks, as `clientId: null` does (the service's None)."""

from __future__ import annotations

import uuid

from subgraphs.identity.models import User
from subgraphs.identity.service import accounts
from tests.identity.conftest import PASSWORD

UNLINK = """
mutation($id: ID!) {
  setUserClient(id: $id) { user { id clientId } userErrors { field code } }
}"""


async def test_leaving_client_id_out_unlinks_the_account(make_user, login, gql, sessions):
    admin = await make_user("admin")
    client = await make_user("client")
    async with sessions() as session, session.begin():
        await accounts.set_client(session, client.id, uuid.uuid4(), actor_id=None)
    token = (await login(admin.email, PASSWORD))["accessToken"]

    unlinked = (await gql(UNLINK, {"id": str(client.id)}, token=token)).ok()["setUserClient"]

    assert unlinked == {"user": {"id": str(client.id), "clientId": None}, "userErrors": []}
    async with sessions() as session:
        assert (await session.get(User, client.id)).client_id is None
