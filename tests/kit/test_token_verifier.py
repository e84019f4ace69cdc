"""TokenVerifier: only EdDSA tokens signed by a published key, for us, from identity."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.tokens import InvalidTokenError, TokenVerifier, bearer_token
from tests.kit.conftest import KID, StaticKeys
from tests.support import forged_tokens as forge


@pytest.fixture
def verifier(key_source, settings) -> TokenVerifier:
    return TokenVerifier(key_source, issuer=settings.jwt_issuer, audience=settings.jwt_audience)


@pytest.fixture
def payload(settings) -> dict:
    return forge.claims(settings.jwt_issuer, settings.jwt_audience)


async def rejected(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(InvalidTokenError) as caught:
        await verifier.verify(token)
    return str(caught.value)


async def test_a_genuine_token_gives_its_claims(verifier, private_key, payload):
    claims = await verifier.verify(forge.signed(private_key, KID, payload))

    assert claims == payload


async def test_another_ed25519_key_under_the_same_kid_is_rejected(verifier, payload):
    token = forge.signed(Ed25519PrivateKey.generate(), KID, payload)

    assert await rejected(verifier, token) == "Signature verification failed"


async def test_an_unknown_kid_is_rejected(verifier, private_key, payload):
    token = forge.signed(private_key, "some-other-kid", payload)

    assert await rejected(verifier, token) == "unknown signing key"


async def test_alg_none_is_rejected(verifier, payload):
    assert await rejected(verifier, forge.unsigned(KID, payload)) == "algorithm not accepted"


async def test_hs256_keyed_with_the_public_key_is_rejected(verifier, private_key, payload):
    token = forge.hs256_with_public_key(private_key, KID, payload)

    assert await rejected(verifier, token) == "algorithm not accepted"


async def test_an_expired_token_is_rejected(verifier, private_key, payload):
    payload.update(iat=int(time.time()) - 1000, exp=int(time.time()) - 1)

    assert await rejected(verifier, forge.signed(private_key, KID, payload)) == (
        "Signature has expired"
    )


async def test_a_token_for_another_audience_is_rejected(verifier, private_key, payload):
    payload["aud"] = "another-system"

    assert (
        await rejected(verifier, forge.signed(private_key, KID, payload))
        == "Audience doesn't match"
    )


async def test_a_token_from_another_issuer_is_rejected(verifier, private_key, payload):
    payload["iss"] = "https://evil.example/identity"

    assert await rejected(verifier, forge.signed(private_key, KID, payload)) == "Invalid issuer"


async def test_a_tampered_payload_is_rejected(verifier, private_key, payload):
    token = forge.tampered(forge.signed(private_key, KID, payload), roles=["admin"])

    assert await rejected(verifier, token) == "Signature verification failed"


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "iss", "aud"])
async def test_a_token_missing_a_required_claim_is_rejected(verifier, private_key, payload, claim):
    del payload[claim]

    assert await rejected(verifier, forge.signed(private_key, KID, payload)) == (
        f'Token is missing the "{claim}" claim'
    )


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "...."])
async def test_garbage_is_rejected(verifier, token):
    assert await rejected(verifier, token) == "malformed token"


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer   abc ", "abc"),
        ("Basic dXNlcg==", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token_reads_only_the_bearer_scheme(header, token):
    assert bearer_token(header) == token


async def test_an_invalid_token_over_http_is_anonymous(gql, private_key, payload):
    token = forge.tampered(forge.signed(private_key, KID, payload), roles=["admin"])

    response = await gql("{ whoAmI { userId } }", token=token)

    assert response.error_codes == ["UNAUTHENTICATED"]


async def test_a_token_verified_once_is_not_verified_again_until_its_time_is_up(
    verifier, private_key, payload, monkeypatch
):
    """The signature check is skipped for a token already verified by the same key; `exp` is not."""
    import protocol.tokens as tokens

    decoded: list[str] = []
    real_decode = tokens.jwt.decode

    def counting(token: str, **kwargs):
        decoded.append(token)
        return real_decode(token, **kwargs)

    monkeypatch.setattr(tokens.jwt, "decode", counting)
    token = forge.signed(private_key, KID, payload)
    first = await verifier.verify(token)
    first["roles"] = ["tampered by the caller"]
    assert await verifier.verify(token) == payload  # the cache hands out copies
    assert len(decoded) == 1

    later = payload["exp"] + 1
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    await verifier.verify(token)  # past `exp` by our clock: PyJWT decides again, on its own
    assert len(decoded) == 2


def test_the_time_claims_are_checked_as_pyjwt_checks_them():
    from protocol.tokens import _current

    assert _current({"exp": 100}, 99.5)
    assert not _current({"exp": 100}, 100)
    assert not _current({"exp": 100, "nbf": 50}, 49)
    assert _current({"exp": 100, "nbf": 50}, 50)


async def test_a_cached_token_is_verified_again_when_its_key_changes(
    settings, private_key, payload
):
    keys = StaticKeys({KID: private_key})
    verifier = TokenVerifier(keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    token = forge.signed(private_key, KID, payload)
    await verifier.verify(token)
    keys.keys.update(StaticKeys({KID: Ed25519PrivateKey.generate()}).keys)  # the kid: another key

    assert await rejected(verifier, token) == "Signature verification failed"


async def test_the_verified_tokens_are_bounded(verifier, private_key, payload):
    verifier.VERIFIED_CACHE_SIZE = 3
    for n in range(5):
        await verifier.verify(forge.signed(private_key, KID, {**payload, "n": n}))

    assert len(verifier._verified) == 3
