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

import asyncio
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
        #: sessions asked about since the last round trip, answered together by one MGET
        self._waiting: dict[str, asyncio.Future[bool]] = {}
        self._flush: asyncio.Task[None] | None = None

    async def is_revoked(self, session_id: uuid.UUID | str | None) -> bool:
        """Whether the session has ended.

        Every check of one event-loop turn shares ONE Redis round trip: a board
        event reaching a thousand subscriptions, each checking its token, used to
        be a thousand concurrent commands, more than the connection pool holds,
        and each refused one failed open.
        """
        if session_id is None:
            return False
        sid = str(session_id)
        cached = self._cache.get(sid)
        if cached is not None and (cached[1] or time.monotonic() - cached[0] < self.cache_seconds):
            return cached[1]
        loop = asyncio.get_running_loop()
        if self._flush is not None and self._flush.get_loop() is not loop:
            self._waiting, self._flush = {}, None  # a batch of a loop that is gone (tests)
        answer = self._waiting.get(sid)
        if answer is None:
            answer = self._waiting[sid] = loop.create_future()
            if self._flush is None:
                self._flush = asyncio.ensure_future(self._ask_redis())
        # shielded: a caller that goes away must not cancel the answer others wait for
        return await asyncio.shield(answer)

    async def _ask_redis(self) -> None:
        await asyncio.sleep(0)  # let this turn's other checks join the batch
        waiting, self._waiting = self._waiting, {}
        self._flush = None
        sids = list(waiting)
        try:
            values = await self.redis.mget([_key(sid) for sid in sids])
        except (RedisError, OSError) as exc:
            log.error(
                "revocation check of %d session(s) failed open (Redis unavailable): %s",
                len(sids),
                exc,
            )
            values = [None] * len(sids)
            remember = False
        else:
            remember = True
        now = time.monotonic()
        if remember and len(self._cache) + len(sids) > self.max_entries:
            self._cache.clear()
        for sid, value in zip(sids, values, strict=True):
            revoked = value is not None
            if remember:
                self._cache[sid] = (now, revoked)
            if not waiting[sid].done():
                waiting[sid].set_result(revoked)
