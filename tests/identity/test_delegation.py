"""Delegation grants (issue 16 §3): reports acts as a schedule's owner, read-only, until revoked.

Every caller of the internal route is tried: the holder of grant id and
secret (a token of the owner, current roles, 5 minutes, `act: reports`), a
stolen grant id without the secret, anyone without the router credential,
a revoked grant, a disabled owner; and what the token then may do.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from protocol import router_credential
from subgraphs.identity.app import create_app
from subgraphs.identity.models import DelegationGrant, User, UserAudit
from subgraphs.identity.service import accounts, delegation
from tests.identity.conftest import claims_of
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import serve

CREATE = """
mutation Grant($purpose: String!) {
  createDelegationGrant(purpose: $purpose) {
    grant { id audience purpose revokedAt }
    secret
    userErrors { field code message }
  }
}"""
REVOKE = """
mutation Revoke($id: ID!) {
  revokeDelegationGrant(id: $id) {
    grant { id revokedAt }
    userErrors { field code message }
  }
}"""
MINE = "{ myDelegationGrants(includeRevoked: true) { id purpose revokedAt lastUsedAt } }"


@pytest.fixture
async def owner(make_user: Any, login: Any) -> dict[str, Any]:
    """A signed-in manager with a grant for reports."""
    user = await make_user("manager")
    token = (await login(user.email))["accessToken"]
    return {"user": user, "token": token}


async def _grant(gql: GraphQLClient, token: str, purpose: str = "report schedule x") -> Any:
    payload = (await gql(CREATE, {"purpose": purpose}, token=token)).ok()["createDelegationGrant"]
    assert payload["userErrors"] == []
    return payload


async def _exchange(
    http: httpx.AsyncClient, base_url: str, grant_id: str, secret: str, **headers: str
) -> httpx.Response:
    return await http.post(
        f"{base_url}/internal/delegated-token",
        json={"grantId": grant_id, "secret": secret},
        headers=headers,
    )


async def test_the_holder_gets_a_five_minute_read_only_token_of_the_owner_with_current_roles(
    identity, gql, http, owner, sessions, revocations
):
    made = await _grant(gql, owner["token"])
    grant_id, secret = made["grant"]["id"], made["secret"]
    assert made["grant"]["audience"] == "reports"
    async with sessions() as session:
        row = await session.get(DelegationGrant, uuid.UUID(grant_id))
    assert row is not None
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()  # only the hash kept

    answer = await _exchange(http, identity.base_url, grant_id, secret)
    assert answer.status_code == 200, answer.text
    token = answer.json()["accessToken"]
    claims = claims_of(token)
    assert claims["sub"] == str(owner["user"].id)
    assert claims["act"] == {"sub": "reports"}
    assert claims["sid"] == grant_id
    assert claims["exp"] - claims["iat"] == delegation.TOKEN_TTL_SECONDS
    assert claims["roles"] == ["manager"]

    # It reads as the owner ...
    me = (await gql("{ me { id } }", token=token)).ok()["me"]
    assert me["id"] == str(owner["user"].id)
    # ... and writes nothing, not even a grant of its own.
    refused = await gql(CREATE, {"purpose": "more"}, token=token)
    assert refused.error_codes == ["FORBIDDEN"]

    # A change of roles shows in the next token.
    async with sessions() as session, session.begin():
        await accounts.set_roles(
            session, owner["user"].id, ["sales_agent"], actor_id=None, revocations=revocations
        )
    again = await _exchange(http, identity.base_url, grant_id, secret)
    assert claims_of(again.json()["accessToken"])["roles"] == ["sales_agent"]

    async with sessions() as session:
        actions = list(
            await session.scalars(
                select(UserAudit.action).where(UserAudit.user_id == owner["user"].id)
            )
        )
        used = await session.get(DelegationGrant, uuid.UUID(grant_id))
    assert actions.count("delegation_grant:create") == 1
    assert actions.count("delegation_grant:token") == 2
    assert used is not None
    assert used.last_used_at is not None


async def test_a_stolen_grant_id_without_its_secret_learns_nothing(identity, gql, http, owner):
    made = await _grant(gql, owner["token"])
    wrong = await _exchange(http, identity.base_url, made["grant"]["id"], "guessed")
    unknown = await _exchange(http, identity.base_url, str(uuid.uuid4()), made["secret"])
    assert wrong.status_code == unknown.status_code == 403
    assert (
        wrong.json()
        == unknown.json()
        == {
            "error": "invalid_grant",
            "message": "The delegation grant is not valid.",
        }
    )
    garbled = await http.post(f"{identity.base_url}/internal/delegated-token", content=b"{")
    assert garbled.status_code == 400


async def test_a_revoked_grant_gives_no_token_and_its_tokens_stop_at_once(
    identity, gql, http, owner, make_user, login
):
    made = await _grant(gql, owner["token"])
    grant_id, secret = made["grant"]["id"], made["secret"]
    token = (await _exchange(http, identity.base_url, grant_id, secret)).json()["accessToken"]

    # Another staff member is told the grant does not exist; its owner revokes it.
    other = await make_user("manager")
    other_token = (await login(other.email))["accessToken"]
    theirs = (await gql(REVOKE, {"id": grant_id}, token=other_token)).ok()
    assert [e["code"] for e in theirs["revokeDelegationGrant"]["userErrors"]] == ["NOT_FOUND"]
    mine = (await gql(REVOKE, {"id": grant_id}, token=owner["token"])).ok()
    assert mine["revokeDelegationGrant"]["grant"]["revokedAt"] is not None

    refused = await _exchange(http, identity.base_url, grant_id, secret)
    assert refused.status_code == 403
    assert refused.json()["error"] == "grant_revoked"
    assert (await gql("{ me { id } }", token=token)).error_codes == ["UNAUTHENTICATED"]
    listed = (await gql(MINE, token=owner["token"])).ok()["myDelegationGrants"]
    assert [g["id"] for g in listed] == [grant_id]
    assert "secret" not in listed[0]


async def test_an_admin_revokes_anyones_grant(identity, gql, owner, make_user, login):
    made = await _grant(gql, owner["token"])
    admin = await make_user("admin")
    admin_token = (await login(admin.email))["accessToken"]
    done = (await gql(REVOKE, {"id": made["grant"]["id"]}, token=admin_token)).ok()
    assert done["revokeDelegationGrant"]["userErrors"] == []
    assert done["revokeDelegationGrant"]["grant"]["revokedAt"] is not None


async def test_disabling_the_owner_revokes_its_grants_and_their_tokens(
    identity, gql, http, owner, sessions, revocations
):
    made = await _grant(gql, owner["token"])
    grant_id, secret = made["grant"]["id"], made["secret"]
    token = (await _exchange(http, identity.base_url, grant_id, secret)).json()["accessToken"]

    async with sessions() as session, session.begin():
        await accounts.set_status(
            session, owner["user"].id, "disabled", actor_id=None, revocations=revocations
        )
    refused = await _exchange(http, identity.base_url, grant_id, secret)
    assert refused.status_code == 403
    assert refused.json()["error"] == "grant_revoked"
    assert (await gql("{ me { id } }", token=token)).error_codes == ["UNAUTHENTICATED"]


async def test_a_disabled_owner_is_refused_even_with_a_live_grant(
    identity, gql, http, owner, sessions
):
    """Belt and braces: the account's status is checked at every exchange, not only at disabling."""
    made = await _grant(gql, owner["token"])
    async with sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.id == owner["user"].id).values(status="disabled")
        )
    refused = await _exchange(http, identity.base_url, made["grant"]["id"], made["secret"])
    assert refused.status_code == 403
    assert refused.json()["error"] == "account_disabled"


async def test_grants_are_for_staff_accounts_only(identity, gql, make_user, login):
    for role in ("client", "vendor", "driver"):
        outsider = await make_user(role)
        token = (await login(outsider.email))["accessToken"]
        assert (await gql(CREATE, {"purpose": "x"}, token=token)).error_codes == ["FORBIDDEN"]
        assert (await gql(MINE, token=token)).error_codes == ["FORBIDDEN"], role
    assert (await gql(MINE)).error_codes == ["UNAUTHENTICATED"]


async def test_without_the_router_credential_nothing_is_heard(settings, sessions, make_user, http):
    """With ROUTER_SECRETS set, only a fresh signature of the very body gets a token."""
    user = await make_user("manager")
    async with sessions() as session, session.begin():
        issued = await delegation.create_grant(session, user_id=user.id, purpose="schedule")
    secret_of_router = "router-secret-for-this-test"
    app = create_app(settings.model_copy(update={"router_secrets": secret_of_router}))
    body = f'{{"grantId": "{issued.grant.id}", "secret": "{issued.secret}"}}'.encode()
    async with serve(app) as server:
        url = f"{server.base_url}/internal/delegated-token"
        bare = await http.post(url, content=body)
        forged = await http.post(
            url,
            content=body,
            headers={router_credential.HEADER: router_credential.sign("guess", body)},
        )
        other_body = await http.post(
            url,
            content=body.replace(b"schedule", b"x") + b" ",
            headers={router_credential.HEADER: router_credential.sign(secret_of_router, body)},
        )
        signed = await http.post(
            url,
            content=body,
            headers={router_credential.HEADER: router_credential.sign(secret_of_router, body)},
        )
    assert bare.status_code == forged.status_code == other_body.status_code == 401
    assert signed.status_code == 200, signed.text
    assert claims_of(signed.json()["accessToken"])["sub"] == str(user.id)


async def test_without_router_secrets_only_a_loopback_peer_not_relayed_is_heard(
    settings, identity, http, owner, gql
):
    made = await _grant(gql, owner["token"])
    # A proxy on this machine relaying someone else's request is not "inside".
    relayed = await _exchange(
        http,
        identity.base_url,
        made["grant"]["id"],
        made["secret"],
        **{"x-forwarded-for": "1.2.3.4"},
    )
    assert relayed.status_code == 401
    # A peer on another address is refused before anything is read.
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://identity") as remote:
        answer = await remote.post(
            "/internal/delegated-token",
            json={"grantId": made["grant"]["id"], "secret": made["secret"]},
        )
    assert answer.status_code == 401
