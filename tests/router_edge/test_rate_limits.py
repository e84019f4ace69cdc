"""Rate limits: token buckets in the test session's Redis, through real routers over HTTP.

Every test draws from buckets no other test touches (a fresh address in
`X-Forwarded-For`, which the router believes from its loopback peer as it
believes a trusted proxy, or a fresh token subject), so tests sharing Redis
never count against each other.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from db.embedded import free_port
from router.config import load_config
from router.guard.rate_limit import (
    RateLimit,
    RateLimiter,
    caller_address,
    parse_networks,
    parse_rate_limit,
)
from router.server.edge import Edge
from tests.router_edge.router_harness import (
    Signer,
    Subgraph,
    base_config,
    jwks_signer,
    router,
    subgraph,
    write_supergraph,
)

QUERY = {"query": "{ hello }"}
TWO_PER_MINUTE = RateLimit(2, 60.0, 2)


@pytest.fixture(scope="module")
async def accounts() -> AsyncIterator[Subgraph]:
    async with subgraph() as s:
        yield s


@pytest.fixture(scope="module")
async def signer() -> AsyncIterator[Signer]:
    async with jwks_signer() as s:
        yield s


def _address() -> dict[str, str]:
    """A caller address no other test uses (random in the IPv6 documentation prefix).

    The router's peer is 127.0.0.1, a trusted proxy by default, so the
    rightmost hop is believed: that hop is the caller.
    """
    n = uuid.uuid4().int
    return {"x-forwarded-for": f"192.0.2.1, 2001:db8::{n % 0xFFFF:x}:{(n >> 16) % 0xFFFF:x}"}


def _bearer(signer: Signer) -> dict[str, str]:
    return {"authorization": f"Bearer {signer.token()}"}


def _limited(resp: httpx.Response) -> None:
    assert resp.status_code == 429, resp.text
    retry_after = resp.headers["retry-after"]
    assert retry_after.isdigit()
    assert 1 <= int(retry_after) <= 60
    (err,) = resp.json()["errors"]
    assert err["extensions"]["code"] == "RATE_LIMITED"
    assert err["extensions"]["retryAfter"] == int(retry_after)


# -- configuration and the caller's address ---------------------------------


def test_rates_parse_with_optional_burst_and_refuse_nonsense() -> None:
    assert parse_rate_limit("") is None
    assert parse_rate_limit("120/60s") == RateLimit(120, 60.0, 120)
    assert parse_rate_limit("120/1m burst=200") == RateLimit(120, 60.0, 200)
    assert parse_rate_limit("5/s,burst=7") == RateLimit(5, 1.0, 7)
    assert parse_rate_limit("10/2h") == RateLimit(10, 7200.0, 10)
    for bad in ("120", "0/60s", "12/60x", "12/60s burst=x", "12/60s flurry=3"):
        with pytest.raises(ValueError):
            parse_rate_limit(bad)


def test_load_config_reads_the_limits_and_refuses_a_bad_one() -> None:
    env = {
        "ROUTER_RATE_LIMIT_USER": "120/60s burst=150",
        "ROUTER_RATE_LIMIT_ADDRESS": "60/60s",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "TRUSTED_PROXIES": "10.0.0.0/8",
    }
    config = load_config([], env)
    assert config.rate_limit_user == RateLimit(120, 60.0, 150)
    assert config.rate_limit_address == RateLimit(60, 60.0, 60)
    assert config.trusted_proxies == "10.0.0.0/8"
    off = load_config([], {})
    assert off.rate_limit_user is None
    assert off.rate_limit_address is None
    with pytest.raises(SystemExit):
        load_config([], {"ROUTER_RATE_LIMIT_ADDRESS": "60 a minute"})


def test_limits_without_redis_are_off_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(
        ["--supergraph", str(tmp_path / "none.graphql")], {"ROUTER_RATE_LIMIT_ADDRESS": "60/60s"}
    )
    assert config.rate_limit_address == RateLimit(60, 60.0, 60)
    assert Edge(config).rate_limiter is None
    assert "rate limits are configured but no Redis is" in caplog.text


def test_the_caller_is_the_rightmost_hop_no_trusted_proxy_wrote() -> None:
    trusted = parse_networks("127.0.0.1/32,10.0.0.0/8")
    # the client wrote 6.6.6.6 itself; the proxy at 10.1.1.1 saw 203.0.113.9
    assert caller_address("6.6.6.6, 203.0.113.9, 10.1.1.1, 127.0.0.1", trusted) == "203.0.113.9"
    # an untrusted peer's header is never believed
    assert caller_address("6.6.6.6, 203.0.113.9", trusted) == "203.0.113.9"
    assert caller_address("6.6.6.6, 198.51.100.1", parse_networks("")) == "198.51.100.1"
    assert caller_address("127.0.0.1", trusted) == "127.0.0.1"
    assert caller_address(None, trusted) == "unknown"


# -- through real routers ----------------------------------------------------


async def test_an_anonymous_caller_is_limited_by_address_with_retry_after(
    accounts: Subgraph, tmp_path: Path
) -> None:
    config = base_config(
        write_supergraph(tmp_path, accounts.url),
        redis_url=os.environ["REDIS_URL"],
        rate_limit_address=TWO_PER_MINUTE,
    )
    me, other = _address(), _address()
    async with router(config) as r, httpx.AsyncClient(timeout=10) as http:
        for _ in range(2):
            ok = await http.post(r.graphql_url, json=QUERY, headers=me)
            assert ok.json() == {"data": {"hello": "world"}}
        seen = len(accounts.bodies)
        _limited(await http.post(r.graphql_url, json=QUERY, headers=me))
        # SSE (and GET) are HTTP too: the same 429, before any event stream starts
        _limited(
            await http.post(
                r.graphql_url, json=QUERY, headers={**me, "accept": "text/event-stream"}
            )
        )
        assert len(accounts.bodies) == seen  # refused before reaching the subgraph
        # another address has its own bucket
        ok = await http.post(r.graphql_url, json=QUERY, headers=other)
        assert ok.json() == {"data": {"hello": "world"}}
        metrics = (await http.get(f"{r.base_url}/metrics")).text
    assert 'router_rate_limited_total{scope="address"} 2.0' in metrics


async def test_users_have_their_own_buckets_whatever_their_address(
    accounts: Subgraph, signer: Signer, tmp_path: Path
) -> None:
    config = base_config(
        write_supergraph(tmp_path, accounts.url),
        jwks_url=signer.jwks_url,
        redis_url=os.environ["REDIS_URL"],
        rate_limit_user=TWO_PER_MINUTE,
        rate_limit_address=RateLimit(1, 60.0, 1),
    )
    one, two = _bearer(signer), _bearer(signer)
    shared = _address()  # both users behind one NAT: the address limit is not theirs
    async with router(config) as r, httpx.AsyncClient(timeout=10) as http:
        for _ in range(2):
            ok = await http.post(r.graphql_url, json=QUERY, headers={**one, **shared})
            assert ok.json() == {"data": {"hello": "world"}}
        _limited(await http.post(r.graphql_url, json=QUERY, headers={**one, **shared}))
        ok = await http.post(r.graphql_url, json=QUERY, headers={**two, **shared})
        assert ok.json() == {"data": {"hello": "world"}}
        metrics = (await http.get(f"{r.base_url}/metrics")).text
    assert 'router_rate_limited_total{scope="user"} 1.0' in metrics


async def test_two_routers_sharing_redis_share_a_bucket(accounts: Subgraph, tmp_path: Path) -> None:
    config = base_config(
        write_supergraph(tmp_path, accounts.url),
        redis_url=os.environ["REDIS_URL"],
        rate_limit_address=TWO_PER_MINUTE,
    )
    me = _address()
    async with router(config) as one, router(config) as two, httpx.AsyncClient() as http:
        assert (await http.post(one.graphql_url, json=QUERY, headers=me)).status_code == 200
        assert (await http.post(two.graphql_url, json=QUERY, headers=me)).status_code == 200
        _limited(await http.post(one.graphql_url, json=QUERY, headers=me))
        _limited(await http.post(two.graphql_url, json=QUERY, headers=me))


async def test_a_websocket_subscribe_over_the_limit_gets_an_error_not_a_closed_socket(
    accounts: Subgraph, tmp_path: Path
) -> None:
    config = base_config(
        write_supergraph(tmp_path, accounts.url),
        redis_url=os.environ["REDIS_URL"],
        rate_limit_address=RateLimit(1, 60.0, 1),
    )
    async with (
        router(config) as r,
        connect(
            r.ws_url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            additional_headers=_address(),
        ) as ws,
    ):
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        answers: dict[str, list[dict[str, Any]]] = {}
        for op_id in ("1", "2"):
            await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": QUERY}))
            while True:
                m = json.loads(await ws.recv())
                answers.setdefault(m["id"], []).append(m)
                if m["type"] in ("error", "complete"):
                    break
        assert [m["type"] for m in answers["1"]] == ["next", "complete"]
        (refused,) = answers["2"]
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
        # the connection is still there for the client's next operation
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await ws.recv()) == {"type": "pong"}


async def test_redis_down_fails_open_logged_and_counted(
    accounts: Subgraph, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = base_config(
        write_supergraph(tmp_path, accounts.url),
        redis_url=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        rate_limit_address=RateLimit(1, 60.0, 1),
    )
    me = _address()
    async with router(config) as r, httpx.AsyncClient(timeout=10) as http:
        for _ in range(3):  # over the limit, but nobody can count: let through
            ok = await http.post(r.graphql_url, json=QUERY, headers=me)
            assert ok.json() == {"data": {"hello": "world"}}
        metrics = (await http.get(f"{r.base_url}/metrics")).text
    assert "router_rate_limit_unchecked_total 3.0" in metrics
    assert "rate limits: Redis unavailable" in caplog.text


async def test_the_bucket_refills_at_its_rate() -> None:
    """One per minute: drained, the wait is the minute; half a minute later, half of it.

    Time passes by moving the bucket's last update back in Redis, not by sleeping.
    """
    from redis.asyncio import Redis

    limiter = RateLimiter(
        user=None, address=RateLimit(1, 60.0, 1), redis_url=os.environ["REDIS_URL"]
    )
    me = _address()["x-forwarded-for"]
    key = f"athena:ratelimit:address:{me.rsplit(',', 1)[1].strip()}"
    redis = Redis.from_url(os.environ["REDIS_URL"])

    async def age(seconds: float) -> None:
        ts = float(await redis.hget(key, "ts"))  # type: ignore[misc]
        await redis.hset(key, "ts", str(ts - seconds))  # type: ignore[misc]

    try:
        assert await limiter.check(None, me) is None
        drained = await limiter.check(None, me)
        assert drained is not None
        assert drained.retry_after == 60  # rounded up
        await age(30)
        half = await limiter.check(None, me)
        assert half is not None
        assert half.retry_after == 30
        await age(30)
        assert await limiter.check(None, me) is None
        again = await limiter.check(None, me)
        assert again is not None
        assert again.scope == "address"
    finally:
        await limiter.close()
        await redis.aclose()
