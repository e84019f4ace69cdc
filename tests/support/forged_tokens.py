"""Tokens an attacker could send: unsigned, wrongly signed, tampered.

PyJWT refuses to build some of these (an HMAC key that looks like a public
key), so they are assembled here by hand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def claims(issuer: str, audience: str, *, ttl: int = 900, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": str(uuid.uuid4()),
        "iat": now,
        "exp": now + ttl,
        "sid": str(uuid.uuid4()),
        "roles": ["client"],
        "scopes": ["role:client"],
    }
    values.update(extra)
    return values


def signed(private_key: Ed25519PrivateKey, kid: str, payload: dict[str, Any]) -> str:
    return jwt.encode(payload, private_key, algorithm="EdDSA", headers={"kid": kid})


def unsigned(kid: str, payload: dict[str, Any]) -> str:
    """`alg: none` with an empty signature."""
    return f"{b64url_json({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{b64url_json(payload)}."


def public_pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def hs256_with_public_key(private_key: Ed25519PrivateKey, kid: str, payload: dict[str, Any]) -> str:
    """The algorithm-confusion attack: HMAC keyed with the published public key."""
    signing_input = (
        f"{b64url_json({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{b64url_json(payload)}"
    )
    mac = hmac.new(public_pem(private_key), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def tampered(token: str, **changes: Any) -> str:
    """The same header and signature over a payload with `changes` applied."""
    header, payload, signature = token.split(".")
    padded = payload + "=" * (-len(payload) % 4)
    values = json.loads(base64.urlsafe_b64decode(padded))
    values.update(changes)
    return f"{header}.{b64url_json(values)}.{signature}"
