"""argon2id password hashing, off the event loop (a hash costs tens of ms)."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from subgraphs.kit.settings import get_settings

#: Verified against when the e-mail is unknown, so timing does not tell.
_DUMMY_PASSWORD = "not-a-real-password"  # noqa: S105


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    settings = get_settings()
    return PasswordHasher(
        time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib
    )


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash(_DUMMY_PASSWORD)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher().hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    target = password_hash or _dummy_hash()

    def check() -> bool:
        try:
            return _hasher().verify(target, password)
        except (VerificationError, InvalidHashError):
            return False

    ok = await asyncio.to_thread(check)
    return ok and password_hash is not None
