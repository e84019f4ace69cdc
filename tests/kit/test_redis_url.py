"""Redis through a URL that may name a Sentinel: parsing, refusals, and a real Sentinel.

The Sentinel is a real `redis-server --sentinel` watching this test run's Redis;
what goes in through the Sentinel URL (the outbox relay's stream entry and
pub/sub message, a subgraph app's clients) is read back on the direct URL.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import orjson
import pytest
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.asyncio.sentinel import MasterNotFoundError, SentinelConnectionPool
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.embedded import free_port
from db.embedded.binaries import redis_server_binary
from db.embedded.processes import stop_child, wait_until
from protocol.redis_url import (
    DEFAULT_SENTINEL_PORT,
    RedisUrlError,
    SentinelTarget,
    parse_redis_url,
    redis_from_url,
)
from router.config import UnsafeConfigError, load_config, refuse_unsafe_config
from subgraphs.kit.app import create_subgraph_app
from subgraphs.kit.outbox import OutboxRelay, emit, stream
from subgraphs.kit.settings import Settings
from tests.kit import sample_subgraph
from tests.kit.test_outbox import TOPIC, next_message, subscribed
from tests.support.live_server import serve

SERVICE = "athena-test"

# -- parsing -----------------------------------------------------------------


def test_plain_urls_are_single_servers_and_sentinel_urls_name_their_hosts_service_and_db() -> None:
    assert parse_redis_url("redis://127.0.0.1:6379/0") is None
    assert parse_redis_url("rediss://user:pw@cache.example:6380/2") is None
    assert parse_redis_url("unix:///run/redis.sock") is None

    assert parse_redis_url(
        "redis+sentinel://:s%40cret@10.0.0.1:26379,sentinel-b,[::1]:26380/athena/3"
        "?sentinel_password=watch"
    ) == SentinelTarget(
        sentinels=(("10.0.0.1", 26379), ("sentinel-b", DEFAULT_SENTINEL_PORT), ("::1", 26380)),
        service_name="athena",
        db=3,
        password="s@cret",
        sentinel_password="watch",
    )
    tls = parse_redis_url("rediss+sentinel://app:pw@s1:5000/athena")
    assert tls == SentinelTarget(
        sentinels=(("s1", 5000),), service_name="athena", username="app", password="pw", ssl=True
    )


#: (URL, what the refusal says): each names the variable the URL came from.
REFUSED = [
    ("redis+sentinel://s1:26379", "must name the master's service"),
    ("redis+sentinel://s1:26379/", "must name the master's service"),
    ("redis+sentinel://s1:port/athena", "bad port 'port'"),
    ("redis+sentinel://s1:70000/athena", "bad port '70000'"),
    ("redis+sentinel://s1:1,:2/athena", "no host"),
    ("redis+sentinel://[::1/athena", "unclosed '['"),
    ("redis+sentinel://s1/athena/zero", "database 'zero' is not a number"),
    ("redis+sentinel://s1/athena?master=x", "unknown Sentinel URL parameter(s) master"),
    ("redis+cluster://n1:7000,n2:7001", "Redis Cluster (redis+cluster://) is not supported"),
    ("memcached://m1:11211", "unsupported Redis URL (memcached://)"),
    ("127.0.0.1:6379", "unsupported Redis URL (no scheme)"),
]


def test_an_unusable_url_is_refused_naming_the_variable() -> None:
    for url, says in REFUSED:
        with pytest.raises(RedisUrlError) as refused:
            parse_redis_url(url, "ROUTER_REDIS_URL")
        assert str(refused.value).startswith("ROUTER_REDIS_URL: "), url
        assert says in str(refused.value), (url, str(refused.value))


def test_every_process_refuses_to_start_with_an_unusable_url() -> None:
    with pytest.raises(ValidationError, match="REDIS_URL: a Sentinel URL must name"):
        Settings(redis_url="redis+sentinel://127.0.0.1:26379")
    with pytest.raises(ValidationError, match="REDIS_URL: Redis Cluster"):
        Settings(redis_url="redis+cluster://127.0.0.1:7000")

    def router(environ: dict[str, str]) -> None:
        refuse_unsafe_config(load_config([], environ))

    with pytest.raises(UnsafeConfigError, match="REDIS_URL: bad port 'x'"):
        router({"REDIS_URL": "redis+sentinel://127.0.0.1:x/athena"})
    with pytest.raises(UnsafeConfigError, match="ROUTER_REDIS_URL or REDIS_URL: Redis Cluster"):
        router({"REDIS_URL": "redis://ok", "ROUTER_REDIS_URL": "redis+cluster://n:1"})
    router({"REDIS_URL": "redis+sentinel://s1/athena"})


# -- a real Sentinel -----------------------------------------------------------


@contextlib.contextmanager
def sentinel_watching(master_port: int, directory: Path) -> Iterator[int]:
    """`redis-server --sentinel` on a free port, watching 127.0.0.1:`master_port` as SERVICE."""
    port = free_port()
    conf = directory / "sentinel.conf"  # Sentinel rewrites its file: a private, writable one
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndaemonize no\ndir {directory}\n"
        f"sentinel monitor {SERVICE} 127.0.0.1 {master_port} 1\n"
    )
    with (directory / "sentinel.log").open("ab") as log:
        process = subprocess.Popen(
            [redis_server_binary(), str(conf), "--sentinel"], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        assert wait_until(lambda: _answers(port), 10), (directory / "sentinel.log").read_text()
        yield port
    finally:
        stop_child(process, signal.SIGTERM, 10)


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
    return False


@pytest.fixture(scope="module")
def sentinel_url(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    master = parse_port(settings.redis_url)
    with sentinel_watching(master, tmp_path_factory.mktemp("sentinel")) as port:
        yield f"redis+sentinel://127.0.0.1:{port}/{SERVICE}/0"


def parse_port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])


@contextlib.asynccontextmanager
async def client(url: str) -> AsyncIterator[Redis]:
    redis = redis_from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        yield redis
    finally:
        await redis.aclose()


async def test_the_outbox_publishes_through_the_sentinel_to_a_reader_on_the_direct_url(
    sentinel_url: str, settings: Settings, sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    async with client(sentinel_url) as through_sentinel:
        # the Sentinel named the master: this run's Redis
        pool = cast("SentinelConnectionPool", through_sentinel.connection_pool)
        master = await pool.get_master_address()  # type: ignore[no-untyped-call]
        assert master == ("127.0.0.1", parse_port(settings.redis_url))
        relay = OutboxRelay(sessions, sample_subgraph.outbox, through_sentinel, poll_seconds=30)
        async with subscribed(redis) as pubsub:
            async with sessions() as session, session.begin():
                await emit(session, sample_subgraph.outbox, TOPIC, {"seat": "via sentinel"})
            assert await relay.publish_pending() == 1
            message = await next_message(pubsub)

    assert message is not None
    assert message["payload"] == {"seat": "via sentinel"}
    entries: Any = await redis.xrange(stream(TOPIC))
    assert [orjson.loads(fields[b"event"])["payload"] for _, fields in entries] == [
        {"seat": "via sentinel"}
    ]


async def test_a_service_the_sentinel_does_not_watch_is_not_found(sentinel_url: str) -> None:
    other = sentinel_url.replace(f"/{SERVICE}/", "/not-watched/")
    async with client(other) as redis:
        with pytest.raises(MasterNotFoundError):
            await redis.ping()


async def test_a_subgraph_reaches_redis_through_the_sentinel(
    sentinel_url: str, settings: Settings, redis: Redis
) -> None:
    app = create_subgraph_app(
        "kit-sentinel",
        sample_subgraph.schema,
        settings=settings.model_copy(update={"redis_url": sentinel_url, "jobs_enabled": False}),
    )
    async with serve(app) as server, httpx.AsyncClient() as http:
        health = await http.get(f"{server.base_url}/health")
        services = app.state.services
        await services.redis.set("athena-test:sentinel", b"written through the sentinel")

    assert health.json() == {"status": "ok", "subgraph": "kit-sentinel"}
    assert await redis.get("athena-test:sentinel") == b"written through the sentinel"
