"""An invalid bearer token means anonymous: `me` answers UNAUTHENTICATED."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from subgraphs.identity.access_tokens import issue_access_token
from tests.identity.conftest import ME
from tests.support import forged_tokens as forge


@pytest.fixture
async def account(make_user, login):
    """A real user, and a valid token of theirs to compare against."""
    user = await make_user("admin")
    return user, (await login(user.email))["accessToken"]


def payload_for(user, settings, **changes):
    return forge.claims(
        settings.jwt_issuer, settings.jwt_audience, sub=str(user.id), roles=["admin"], **changes
    )


async def assert_anonymous(gql, token: str) -> None:
    response = await gql(ME, token=token)
    assert response.status_code == 200
    assert response.data is None
    assert response.error_codes == ["UNAUTHENTICATED"]


async def test_the_genuine_token_is_accepted(account, gql):
    user, token = account

    assert (await gql(ME, token=token)).ok()["me"]["id"] == str(user.id)


async def test_a_token_signed_with_another_key_under_the_real_kid_is_refused(
    account, gql, signing_key, settings
):
    user, _token = account
    other = Ed25519PrivateKey.generate()

    await assert_anonymous(gql, forge.signed(other, signing_key.kid, payload_for(user, settings)))


async def test_an_unsigned_token_is_refused(account, gql, signing_key, settings):
    user, _token = account

    await assert_anonymous(gql, forge.unsigned(signing_key.kid, payload_for(user, settings)))


async def test_hs256_keyed_with_the_public_key_is_refused(account, gql, signing_key, settings):
    user, _token = account
    token = forge.hs256_with_public_key(
        signing_key.private_key, signing_key.kid, payload_for(user, settings)
    )

    await assert_anonymous(gql, token)


async def test_an_expired_token_is_refused(account, gql, signing_key, settings):
    user, _token = account
    token = forge.signed(
        signing_key.private_key,
        signing_key.kid,
        payload_for(user, settings, iat=int(time.time()) - 1000, exp=int(time.time()) - 60),
    )

    await assert_anonymous(gql, token)


async def test_a_token_for_another_audience_is_refused(account, gql, signing_key, settings):
    user, _token = account
    other = settings.model_copy(update={"jwt_audience": "someone-else"})
    token, _ = issue_access_token(
        signing_key, other, user_id=user.id, roles=["admin"], session_id=user.id
    )

    await assert_anonymous(gql, token)


async def test_a_token_from_another_issuer_is_refused(account, gql, signing_key, settings):
    user, _token = account
    other = settings.model_copy(update={"jwt_issuer": "https://evil.example/identity"})
    token, _ = issue_access_token(
        signing_key, other, user_id=user.id, roles=["admin"], session_id=user.id
    )

    await assert_anonymous(gql, token)


async def test_a_tampered_payload_is_refused(account, make_user, gql):
    _user, token = account
    victim = await make_user("client")

    await assert_anonymous(gql, forge.tampered(token, sub=str(victim.id)))


@pytest.mark.parametrize("header", ["Bearer", "Bearer not.a.jwt", "Basic abc", "Bearer a.b"])
async def test_a_malformed_authorization_header_is_anonymous(gql, header):
    response = await gql(ME, headers={"authorization": header})

    assert response.status_code == 200
    assert response.error_codes == ["UNAUTHENTICATED"]
