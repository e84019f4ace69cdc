"""Key rotation: new tokens use the new key; tokens of the previous key stay valid."""

from __future__ import annotations

import jwt

from protocol.tokens import RemoteJwks, TokenVerifier
from subgraphs.identity.keys import rotate_signing_key
from tests.identity.conftest import ME


async def rotate(sessions, keyring) -> str:
    async with sessions() as session, session.begin():
        kid = await rotate_signing_key(session)
    keyring.invalidate()
    return kid


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def test_tokens_of_the_previous_key_stay_valid_and_new_ones_use_the_new_kid(
    make_user, login, gql, sessions, identity_keyring
):
    user = await make_user("client")
    old_token = (await login(user.email))["accessToken"]

    new_kid = await rotate(sessions, identity_keyring)
    new_token = (await login(user.email))["accessToken"]

    assert kid_of(old_token) != new_kid
    assert kid_of(new_token) == new_kid
    assert (await gql(ME, token=old_token)).ok()["me"]["id"] == str(user.id)
    assert (await gql(ME, token=new_token)).ok()["me"]["id"] == str(user.id)


async def test_jwks_publishes_both_keys_after_rotation_newest_first(
    make_user, login, sessions, identity_keyring, identity, http
):
    user = await make_user("client")
    old_kid = kid_of((await login(user.email))["accessToken"])

    new_kid = await rotate(sessions, identity_keyring)

    keys = (await http.get(f"{identity.base_url}/.well-known/jwks.json")).json()["keys"]
    kids = [k["kid"] for k in keys]
    assert kids[:2] == [new_kid, old_kid]


async def test_a_remote_verifier_refreshes_its_cache_on_an_unknown_kid(
    make_user, login, sessions, identity_keyring, identity, settings
):
    user = await make_user("client")
    verifier = TokenVerifier(
        RemoteJwks(f"{identity.base_url}/.well-known/jwks.json", min_refresh_seconds=0),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    old_token = (await login(user.email))["accessToken"]
    assert (await verifier.verify(old_token))["sub"] == str(user.id)

    await rotate(sessions, identity_keyring)
    new_token = (await login(user.email))["accessToken"]

    assert (await verifier.verify(new_token))["sub"] == str(user.id)
    assert (await verifier.verify(old_token))["sub"] == str(user.id)
