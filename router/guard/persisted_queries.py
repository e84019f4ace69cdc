"""Automatic persisted queries (Apollo's APQ protocol), shared across replicas.

Clients send `extensions.persistedQuery = {version: 1, sha256Hash}` without
the query text; the first time, the router answers PersistedQueryNotFound
and the client retries with the text, which the router verifies and keeps.
An in-process LRU answers the hot path without I/O; Redis (optional) makes
a query registered on one replica known to all of them. Redis is a cache
here, never a dependency: when it fails the router keeps serving from the
LRU, logs the outage once, and tries Redis again after a pause.

With `only_persisted`, the router runs only operations that are already
known (registered ahead of time with `register`/`load_manifest`, or earlier
through APQ): a safelist against arbitrary operations in production.

Trusted documents (`trusted_documents.py`) plug into the same machinery: a
manifest's documents are found by hash before the APQ store, and by
`documentId`; with `trusted_only` the safelist is the manifest alone (the
APQ store, which other replicas write to, no longer counts).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # redis is imported on first use: it costs ~0.4 s of router start-up
    from redis.asyncio import Redis

    from router.guard.trusted_documents import TrustedDocuments

log = logging.getLogger(__name__)

__all__ = ["ApqOutcome", "PersistedQueries", "sha256_hex"]

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def sha256_hex(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


@dataclass(slots=True)
class ApqOutcome:
    """The query text to run, or the errors to answer with (never both)."""

    query: str | None
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Lru:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[str, str] = OrderedDict()

    def get(self, key: str) -> str | None:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: str, value: str) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


class PersistedQueries:
    def __init__(
        self,
        *,
        redis_url: str | None = None,
        redis: Redis | None = None,
        key_prefix: str = "athena:apq:",
        ttl_seconds: int = 7 * 24 * 3600,
        lru_size: int = 2000,
        only_persisted: bool = False,
        retry_after_seconds: float = 30.0,
        redis_timeout_seconds: float = 0.5,
        trusted: TrustedDocuments | None = None,
        trusted_only: bool = False,
    ) -> None:
        """`redis` (a client the caller owns) wins over `redis_url` (a client we own).

        `trusted`: a trusted documents manifest; `trusted_only`: run nothing
        outside it (needs `trusted`).
        """
        if trusted_only and trusted is None:
            raise ValueError("trusted_only needs a trusted documents manifest")
        self.key_prefix = key_prefix
        self.ttl_seconds = ttl_seconds
        self.trusted = trusted
        self.trusted_only = trusted_only
        self.only_persisted = only_persisted or trusted_only
        #: the refusal's message: the mode's own words, the same code
        self._only_message = (
            "Only operations in the trusted documents manifest are accepted."
            if trusted_only
            else "Only persisted operations are accepted."
        )
        self.retry_after_seconds = retry_after_seconds
        self._lru = _Lru(lru_size)
        self._owns_redis = redis is None and redis_url is not None
        self._redis: Redis | None = redis
        self._redis_url = redis_url if redis is None else None
        self._redis_timeout = redis_timeout_seconds
        self._down_until = 0.0
        self._outage_logged = False

    async def close(self) -> None:
        if self._owns_redis and self._redis is not None:
            await self._redis.aclose()

    # -- storage -------------------------------------------------------------

    def _usable_redis(self) -> Redis | None:
        """The Redis client, unless absent or paused after a failure."""
        if self._redis is None and self._redis_url:
            from protocol.redis_url import redis_from_url

            self._redis = redis_from_url(
                self._redis_url,
                socket_timeout=self._redis_timeout,
                socket_connect_timeout=self._redis_timeout,
            )
        if self._redis is None or time.monotonic() < self._down_until:
            return None
        return self._redis

    def _redis_failed(self, exc: BaseException) -> None:
        self._down_until = time.monotonic() + self.retry_after_seconds
        if not self._outage_logged:
            self._outage_logged = True
            log.warning("APQ: Redis unavailable, using the in-process cache only: %s", exc)

    def _redis_ok(self) -> None:
        if self._outage_logged:
            self._outage_logged = False
            log.warning("APQ: Redis is reachable again")

    async def lookup(self, sha256: str) -> str | None:
        if self.trusted is not None:
            known = self.trusted.by_sha256(sha256)
            if known is not None or self.trusted_only:
                return known
        query = self._lru.get(sha256)
        redis = self._usable_redis()
        if query is not None or redis is None:
            return query
        from redis.exceptions import RedisError

        try:
            raw = await redis.get(self.key_prefix + sha256)
        except (RedisError, OSError, TimeoutError) as exc:
            self._redis_failed(exc)
            return None
        self._redis_ok()
        if raw is None:
            return None
        query = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        if sha256_hex(query) != sha256:
            return None  # a foreign or corrupted entry under our prefix: ignore it
        self._lru.put(sha256, query)
        return query

    async def store(self, sha256: str, query: str) -> None:
        self._lru.put(sha256, query)
        redis = self._usable_redis()
        if redis is None:
            return
        from redis.exceptions import RedisError

        try:
            await redis.set(self.key_prefix + sha256, query, ex=self.ttl_seconds)
        except (RedisError, OSError, TimeoutError) as exc:
            self._redis_failed(exc)
        else:
            self._redis_ok()

    async def register(self, query: str) -> str:
        """Persist an operation ahead of time (for `only_persisted`); returns its hash."""
        digest = sha256_hex(query)
        await self.store(digest, query)
        return digest

    async def load_manifest(self, queries: Iterable[str]) -> None:
        for q in queries:
            await self.register(q)

    # -- the protocol --------------------------------------------------------

    async def resolve(
        self,
        query: str | None,
        extensions: Mapping[str, Any] | None,
        document_id: str | None = None,
    ) -> ApqOutcome:
        """Turn a request's query and extensions into the query text to run.

        Never raises for bad input: malformed extensions become BAD_REQUEST
        errors; the caller answers with `errors` and runs nothing.
        `document_id`: the request's `documentId` (or `doc_id`).
        """
        if document_id is not None:
            return await self._by_document_id(query, document_id)
        pq = extensions.get("persistedQuery") if isinstance(extensions, Mapping) else None
        if pq is None:
            if not self.only_persisted or query is None:
                return ApqOutcome(query)
            if await self.lookup(sha256_hex(query)) is not None:
                return ApqOutcome(query)
            return ApqOutcome(None, [_error(self._only_message, "PERSISTED_QUERY_ONLY")])
        if not isinstance(pq, Mapping):
            return ApqOutcome(None, [_error("Invalid persistedQuery extension.", "BAD_REQUEST")])
        if pq.get("version") != 1:
            return ApqOutcome(None, [_error("Unsupported persisted query version.", "BAD_REQUEST")])
        digest = pq.get("sha256Hash")
        if not isinstance(digest, str) or not _HEX64.match(digest.lower()):
            return ApqOutcome(
                None,
                [_error("persistedQuery.sha256Hash must be a sha256 hex digest.", "BAD_REQUEST")],
            )
        digest = digest.lower()
        if query is None:
            known = await self.lookup(digest)
            if known is None:
                return ApqOutcome(
                    None, [_error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")]
                )
            return ApqOutcome(known)
        if sha256_hex(query) != digest:
            return ApqOutcome(
                None,
                [_error("provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH")],
            )
        if self.only_persisted:
            if await self.lookup(digest) is None:
                return ApqOutcome(None, [_error(self._only_message, "PERSISTED_QUERY_ONLY")])
            return ApqOutcome(query)
        if self._lru.get(digest) is None:
            await self.store(digest, query)
        return ApqOutcome(query)

    async def _by_document_id(self, query: str | None, document_id: str) -> ApqOutcome:
        """A persisted document named by id: the manifest's, else (by hash) APQ's store."""
        if query is not None:
            return ApqOutcome(
                None, [_error("Send either documentId or query, not both.", "BAD_REQUEST")]
            )
        found = self.trusted.by_document_id(document_id) if self.trusted is not None else None
        if found is None and not self.trusted_only:
            digest = document_id.removeprefix("sha256:").lower()
            if _HEX64.match(digest):
                found = await self.lookup(digest)
        if found is None:
            return ApqOutcome(
                None,
                [
                    _error(
                        f"Persisted document {document_id!r} not found.",
                        "PERSISTED_QUERY_NOT_FOUND",
                    )
                ],
            )
        return ApqOutcome(found)
