"""Opaque secrets (refresh, reset, recovery): handed out once, stored hashed."""

from __future__ import annotations

import hashlib
import secrets


def new_token(nbytes: int = 32) -> tuple[str, str]:
    """A fresh random token and the hash we store for it."""
    raw = secrets.token_urlsafe(nbytes)
    return raw, digest(raw)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_recovery_code() -> tuple[str, str]:
    raw = "-".join(secrets.token_hex(3) for _ in range(3))
    return raw, digest(raw.replace("-", "").lower())


def recovery_digest(code: str) -> str:
    return digest(code.strip().replace("-", "").replace(" ", "").lower())
