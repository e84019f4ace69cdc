"""Retries of subgraph fetches: queries on connection failures only, never mutations.

The subgraph is a raw TCP server, so a test decides exactly what each
connection gets: dropped after the request arrives (no answer at all), an
HTTP 503, silence (a timeout), or a GraphQL answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import orjson
import pytest

from router.config import Config
from router.execution.breaker import OPEN, Breakers, BreakerSettings
from router.execution.fetcher import Fetcher, FetchError
from router.gateway import Gateway, GraphQLRequest
from router.supergraph.load import load_supergraph
from tests.router_edge.router_harness import SUPERGRAPH_SDL


@dataclass
class Flaky:
    """Answers connection n with `script[n]` ("drop", "503", "hang"), then GraphQL."""

    script: list[str]
    connections: int = 0
    bodies: list[bytes] = field(default_factory=list)
    url: str = ""
    #: set at teardown: a "hang" connection is closed then
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = self.connections
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            body = await reader.readexactly(length)
            self.bodies.append(body)
            what = self.script[n] if n < len(self.script) else "answer"
            if what == "hang":
                await self.done.wait()
            if what in ("drop", "hang"):
                return  # closed without a byte of answer
            if what == "503":
                payload = b"Service Unavailable"
                status = b"503 Service Unavailable"
            else:
                field_name = b"touch" if b"touch" in body else b"hello"
                value = b"1" if field_name == b"touch" else b'"world"'
                payload = b'{"data":{"' + field_name + b'":' + value + b"}}"
                status = b"200 OK"
            writer.write(
                b"HTTP/1.1 "
                + status
                + b"\r\ncontent-type: application/json\r\nconnection: close\r\n"
                + b"content-length: "
                + str(len(payload)).encode()
                + b"\r\n\r\n"
                + payload
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def flaky(*script: str) -> AsyncIterator[Flaky]:
    f = Flaky(list(script))
    server = await asyncio.start_server(f.handle, "127.0.0.1", 0)
    f.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/graphql"
    try:
        yield f
    finally:
        f.done.set()
        server.close()
        await server.wait_closed()


def _fetcher(retries: int = 2, **kw: object) -> Fetcher:
    return Fetcher(5.0, retries=retries, retry_base_seconds=0.001, **kw)  # type: ignore[arg-type]


async def test_a_query_whose_connection_was_dropped_is_retried() -> None:
    async with flaky("drop", "drop") as sub:
        fetcher = _fetcher(retries=2)
        try:
            body = await fetcher.post("accounts", sub.url, {"query": "{ hello }"})
        finally:
            await fetcher.close()
    assert body == {"data": {"hello": "world"}}
    assert sub.connections == 3


async def test_retries_stop_at_the_configured_number() -> None:
    async with flaky("drop", "drop", "drop") as sub:
        fetcher = _fetcher(retries=2)
        try:
            with pytest.raises(FetchError) as failed:
                await fetcher.post("accounts", sub.url, {"query": "{ hello }"})
        finally:
            await fetcher.close()
    assert str(failed.value) == "Subgraph 'accounts' is unavailable."
    assert sub.connections == 3


async def test_a_mutation_is_never_retried() -> None:
    async with flaky("drop") as sub:
        fetcher = _fetcher(retries=2)
        try:
            with pytest.raises(FetchError):
                await fetcher.post(
                    "accounts", sub.url, {"query": "mutation { touch }"}, dedupe=False
                )
        finally:
            await fetcher.close()
    assert sub.connections == 1


async def test_http_errors_and_timeouts_are_not_retried() -> None:
    async with flaky("503") as sub:
        fetcher = _fetcher(retries=2)
        try:
            with pytest.raises(FetchError) as failed:
                await fetcher.post("accounts", sub.url, {"query": "{ hello }"})
        finally:
            await fetcher.close()
    assert failed.value.kind == "http"
    assert sub.connections == 1
    async with flaky("hang") as sub:
        fetcher = Fetcher(0.2, retries=2, retry_base_seconds=0.001)
        try:
            with pytest.raises(FetchError) as failed:
                await fetcher.post("accounts", sub.url, {"query": "{ hello }"})
        finally:
            await fetcher.close()
    assert failed.value.kind == "timeout"
    assert sub.connections == 1


async def test_a_retried_fetch_counts_once_for_the_breaker() -> None:
    breakers = Breakers(BreakerSettings(failures=2))
    async with flaky("drop", "drop", "drop", "drop") as sub:
        fetcher = _fetcher(retries=1, breakers=breakers)
        try:
            with pytest.raises(FetchError):  # two attempts, one failure
                await fetcher.post("accounts", sub.url, {"query": "{ hello }"})
            assert breakers["accounts"].consecutive == 1
            with pytest.raises(FetchError):
                await fetcher.post("accounts", sub.url, {"query": "{ hello }"})
            assert breakers["accounts"].state == OPEN
            with pytest.raises(FetchError) as fast:
                await fetcher.post("accounts", sub.url, {"query": "{ hello }"})
        finally:
            await fetcher.close()
    assert fast.value.kind == "circuit_open"
    assert sub.connections == 4


def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    fetcher = Fetcher(retries=5, retry_base_seconds=0.1, retry_max_seconds=0.3)
    random.seed(17)
    waits = {attempt: [fetcher._backoff(attempt) for _ in range(200)] for attempt in (1, 2, 3)}
    assert all(0 <= w <= 0.1 for w in waits[1])
    assert all(0 <= w <= 0.2 for w in waits[2])
    assert all(0 <= w <= 0.3 for w in waits[3])  # capped
    assert max(waits[3]) > 0.2  # and spread over the whole range


async def test_through_the_gateway_a_query_is_retried_and_a_mutation_is_not() -> None:
    async with flaky("drop", "answer", "drop") as sub:
        sdl = SUPERGRAPH_SDL.replace("{url}", sub.url)
        gw = Gateway(load_supergraph(sdl), Config(fetch_retries=2, fetch_retry_base_seconds=0.001))
        try:
            query = (await gw.execute(GraphQLRequest("{ hello }"))).body
            assert query == {"data": {"hello": "world"}}
            assert sub.connections == 2
            mutation = (await gw.execute(GraphQLRequest("mutation { touch }"))).body
        finally:
            await gw.close()
    assert sub.connections == 3
    assert mutation["errors"][0]["message"] == "Subgraph 'accounts' is unavailable."
    assert orjson.loads(sub.bodies[-1])["query"].startswith("mutation")
