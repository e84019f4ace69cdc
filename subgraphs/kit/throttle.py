"""A fixed-window counter in Redis, shared by every replica: "at most N per key per window".

For public, anonymous entry points (the pricing calculator) keyed by the
caller's address as the kit resolves it (`Context.client_ip`, which only
believes forwarding headers from trusted proxies).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis


async def allowed(redis: Redis, key: str, limit: int, window_seconds: int) -> bool:
    """Count one use of `key`; False once more than `limit` fell in the current window."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window_seconds, nx=True)
        count, _ = await pipe.execute()
    return int(count) <= limit
