"""The public keys at /.well-known/jwks.json: what other subgraphs verify with."""

from __future__ import annotations

import jwt

from protocol.tokens import RemoteJwks, TokenVerifier
from tests.identity.conftest import claims_of


async def test_jwks_publishes_the_signing_key_without_its_private_part(
    make_user, login, identity, http
):
    user = await make_user("client")
    token = (await login(user.email))["accessToken"]

    response = await http.get(f"{identity.base_url}/.well-known/jwks.json")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=60"
    keys = response.json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    published = next(k for k in keys if k["kid"] == kid)
    assert sorted(published) == ["alg", "crv", "kid", "kty", "use", "x"]
    assert (published["kty"], published["crv"], published["alg"], published["use"]) == (
        "OKP",
        "Ed25519",
        "EdDSA",
        "sig",
    )
    assert all("d" not in k for k in keys)


async def test_a_verifier_using_the_remote_jwks_accepts_identity_tokens(
    make_user, login, identity, settings
):
    user = await make_user("manager")
    token = (await login(user.email))["accessToken"]
    verifier = TokenVerifier(
        RemoteJwks(f"{identity.base_url}/.well-known/jwks.json"),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )

    claims = await verifier.verify(token)

    assert claims == claims_of(token)
    assert claims["sub"] == str(user.id)
