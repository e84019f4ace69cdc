"""Failed-login counters in Redis, shared by every identity replica.

A fixed 15-minute window per e-mail and per client address; the e-mail key
is hashed so Redis never holds the address book.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis


def _email_key(email: str) -> str:
    return "identity:login-failures:email:" + hashlib.sha256(email.lower().encode()).hexdigest()


def _ip_key(ip: str) -> str:
    return f"identity:login-failures:ip:{ip}"


@dataclass(frozen=True)
class LoginLimits:
    per_email: int
    per_ip: int
    window_seconds: int


async def is_blocked(redis: Redis, limits: LoginLimits, *, email: str, ip: str) -> bool:
    by_email, by_ip = await redis.mget(_email_key(email), _ip_key(ip))
    return int(by_email or 0) >= limits.per_email or int(by_ip or 0) >= limits.per_ip


async def record_failure(redis: Redis, limits: LoginLimits, *, email: str, ip: str) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        for key in (_email_key(email), _ip_key(ip)):
            pipe.incr(key)
            pipe.expire(key, limits.window_seconds, nx=True)
        await pipe.execute()


async def clear_email(redis: Redis, email: str) -> None:
    await redis.delete(_email_key(email))
