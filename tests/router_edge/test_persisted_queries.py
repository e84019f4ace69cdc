import hashlib
import logging
import os

import pytest
from redis.asyncio import Redis

from db.embedded import free_port
from router.guard.persisted_queries import ApqOutcome, PersistedQueries

QUERY = "{ hello }"
HASH = hashlib.sha256(QUERY.encode()).hexdigest()


def ext(h: str = HASH, version: int = 1) -> dict:
    return {"persistedQuery": {"version": version, "sha256Hash": h}}


NOT_FOUND = ApqOutcome(
    None,
    [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}],
)


async def test_round_trip_in_process():
    apq = PersistedQueries()

    assert await apq.resolve(None, ext()) == NOT_FOUND
    assert await apq.resolve(QUERY, ext()) == ApqOutcome(QUERY)
    assert await apq.resolve(None, ext()) == ApqOutcome(QUERY)
    assert await apq.resolve(None, ext(HASH.upper())) == ApqOutcome(QUERY)


async def test_plain_requests_pass_through():
    apq = PersistedQueries()
    assert await apq.resolve(QUERY, None) == ApqOutcome(QUERY)
    assert await apq.resolve(QUERY, {"other": 1}) == ApqOutcome(QUERY)
    assert await apq.resolve(None, None) == ApqOutcome(None)


async def test_a_hash_that_does_not_match_the_query_is_refused_and_not_stored():
    apq = PersistedQueries()
    wrong = "0" * 64

    assert await apq.resolve(QUERY, ext(wrong)) == ApqOutcome(
        None,
        [
            {
                "message": "provided sha does not match query",
                "extensions": {"code": "PERSISTED_QUERY_HASH_MISMATCH"},
            }
        ],
    )
    assert await apq.resolve(None, ext(wrong)) == NOT_FOUND


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        (ext(version=2), "Unsupported persisted query version."),
        (ext("abc"), "persistedQuery.sha256Hash must be a sha256 hex digest."),
        ({"persistedQuery": "x"}, "Invalid persistedQuery extension."),
    ],
)
async def test_malformed_extensions_are_bad_requests(extensions, message):
    outcome = await PersistedQueries().resolve(QUERY, extensions)
    assert outcome == ApqOutcome(
        None, [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]
    )


async def test_only_persisted_refuses_unknown_operations_in_every_form():
    apq = PersistedQueries(only_persisted=True)
    only = ApqOutcome(
        None,
        [
            {
                "message": "Only persisted operations are accepted.",
                "extensions": {"code": "PERSISTED_QUERY_ONLY"},
            }
        ],
    )

    assert await apq.resolve(QUERY, None) == only
    assert await apq.resolve(QUERY, ext()) == only
    assert await apq.resolve(None, ext()) == NOT_FOUND

    assert await apq.register(QUERY) == HASH
    assert await apq.resolve(QUERY, None) == ApqOutcome(QUERY)
    assert await apq.resolve(QUERY, ext()) == ApqOutcome(QUERY)
    assert await apq.resolve(None, ext()) == ApqOutcome(QUERY)
    assert await apq.resolve("{ other }", None) == only


async def test_two_replicas_share_queries_through_redis(redis: Redis):
    url = os.environ["REDIS_URL"]
    a = PersistedQueries(redis_url=url, key_prefix="test:apq:", ttl_seconds=60)
    b = PersistedQueries(redis_url=url, key_prefix="test:apq:", ttl_seconds=60)
    try:
        assert await b.resolve(None, ext()) == NOT_FOUND
        assert await a.resolve(QUERY, ext()) == ApqOutcome(QUERY)

        assert await b.resolve(None, ext()) == ApqOutcome(QUERY)
        assert await redis.get(f"test:apq:{HASH}") == QUERY.encode()
        assert 0 < await redis.ttl(f"test:apq:{HASH}") <= 60
    finally:
        await a.close()
        await b.close()


async def test_a_foreign_value_under_the_prefix_is_ignored(redis: Redis):
    await redis.set(f"test:apq:{HASH}", "{ somethingElse }")
    apq = PersistedQueries(redis=redis, key_prefix="test:apq:")
    assert await apq.resolve(None, ext()) == NOT_FOUND


async def test_redis_down_degrades_to_the_lru_and_logs_once(caplog):
    apq = PersistedQueries(redis_url=f"redis://127.0.0.1:{free_port()}/0", retry_after_seconds=0)
    caplog.set_level(logging.WARNING, logger="router.guard.persisted_queries")
    try:
        assert await apq.resolve(None, ext()) == NOT_FOUND
        assert await apq.resolve(QUERY, ext()) == ApqOutcome(QUERY)
        assert await apq.resolve(None, ext()) == ApqOutcome(QUERY)
        assert await apq.resolve(None, ext("1" * 64)) == NOT_FOUND
    finally:
        await apq.close()
    outage = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(outage) == 1


async def test_the_lru_evicts_the_least_recently_used():
    apq = PersistedQueries(lru_size=2)
    queries = ["{ a }", "{ b }", "{ c }"]
    hashes = [await apq.register(q) for q in queries]
    assert await apq.lookup(hashes[0]) is None
    assert await apq.lookup(hashes[2]) == "{ c }"
