"""Ended sessions, so that their access tokens stop working before they expire.

Access tokens are stateless for 15 minutes; logging out, disabling or
demoting an account, reusing a refresh token or ending an impersonation
must not leave them usable for that long. Identity writes each ended
session id (`sid`) to Redis before its transaction commits (a revocation
of a rolled-back change only ends a session early, which is safe); the
router and every subgraph check the id of each verified token here, with a
cache of a few seconds so a request does not pay a Redis round trip.

An entry lives as long as the longest access token could (`ttl_seconds`,
the access-token lifetime plus clock skew): after that, no token that
names the session can verify anyway.

When Redis cannot answer, the check fails open (logged): Redis is also
what the rate limits and persisted queries use, and a short outage must
not log everyone out; a token still expires within its lifetime.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

KEY_PREFIX = "auth:revoked-session:"
#: Seconds added to the token lifetime: verifiers accept a little clock skew.
SKEW_SECONDS = 60


def _key(session_id: uuid.UUID | str) -> str:
    return f"{KEY_PREFIX}{session_id}"


async def revoke_sessions(
    redis: Redis, session_ids: Iterable[uuid.UUID | str], *, ttl_seconds: int
) -> None:
    """Mark sessions as ended for every verifier (router and subgraphs)."""
    ids = list(session_ids)
    if not ids:
        return
    async with redis.pipeline(transaction=False) as pipe:
        for sid in ids:
            pipe.set(_key(sid), b"1", ex=ttl_seconds + SKEW_SECONDS)
        await pipe.execute()


class RevocationList:
    """Answers "has this session ended?", cached per process for a few seconds.

    A revoked answer is kept (until the cache is cleared for size): a
    session never comes back once ended.
    """

    def __init__(self, redis: Redis, *, cache_seconds: float = 2.0, max_entries: int = 50_000):
        self.redis = redis
        self.cache_seconds = cache_seconds
        self.max_entries = max_entries
        self._cache: dict[str, tuple[float, bool]] = {}

    async def is_revoked(self, session_id: uuid.UUID | str | None) -> bool:
        if session_id is None:
            return False
        sid = str(session_id)
        now = time.monotonic()
        cached = self._cache.get(sid)
        if cached is not None and (cached[1] or now - cached[0] < self.cache_seconds):
            return cached[1]
        try:
            revoked = bool(await self.redis.exists(_key(sid)))
        except (RedisError, OSError) as exc:
            log.error("revocation check failed open (Redis unavailable): %s", exc)
            return False
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[sid] = (now, revoked)
        return revoked
