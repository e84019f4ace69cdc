"""Subscriptions over HTTP multipart (Apollo's protocol), through a real router.

The router is configured as `python -m router` configures it from its
environment (a JWKS for tokens, Redis for revoked sessions, a short
heartbeat), over the items/labels subgraphs the other subscription tests
use. Apollo Client itself (tools/graphql-http/apollo.mjs, run by node)
subscribes with nothing but an HttpLink.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from protocol.revocation import revoke_sessions
from router.config import load_config
from router.subscriptions.multipart import MULTIPART, wants_multipart
from tests.router_edge.router_harness import AUDIENCE, ISSUER, Signer, jwks_signer, router
from tests.router_subscriptions.client import TICKS
from tests.router_subscriptions.conftest import FIXTURES, eventually
from tests.router_subscriptions.subgraphs import PROBE, Probe
from tests.support.live_server import LiveServer
from tests.support.node_clients import run_client

#: what Apollo Client 4's HttpLink sends for a subscription
APOLLO_ACCEPT = "multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json"
MULTIPART_TYPE = 'multipart/mixed; boundary="graphql"; subscriptionSpec="1.0"'
HEARTBEAT: dict[str, Any] = {}


@pytest.fixture(scope="module")
async def live(
    subgraph_urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[LiveServer, Signer]]:
    sdl = (FIXTURES / "supergraph.graphql").read_text()
    for name, url in subgraph_urls.items():
        sdl = sdl.replace(f'"{name}"', f'"{url}"')
    path = tmp_path_factory.mktemp("multipart") / "supergraph.graphql"
    path.write_text(sdl)
    async with jwks_signer() as signer:
        config = load_config(
            ["--supergraph", str(path)],
            {
                "ROUTER_JWKS_URL": signer.jwks_url,
                "ROUTER_JWT_ISSUER": ISSUER,
                "ROUTER_JWT_AUDIENCE": AUDIENCE,
                "ROUTER_REDIS_URL": os.environ["REDIS_URL"],
                "ROUTER_REVOCATION_CACHE_SECONDS": "0",
                "ROUTER_SESSION_CHECK_SECONDS": "0.5",
                "ROUTER_SUBGRAPH_TIMEOUT": "5",
                "ROUTER_MULTIPART_HEARTBEAT_SECONDS": "0.1",
            },
        )
        assert config.multipart_heartbeat_seconds == 0.1
        async with router(config) as server:
            yield server, signer


@pytest.fixture
def probe() -> Probe:
    PROBE.clear()
    return PROBE


@pytest.fixture(autouse=True)
async def _upstream_closed(probe: Probe) -> AsyncIterator[None]:
    yield
    # every upstream stream a test opened is closed again, however it ended
    await eventually(lambda: probe.open_streams == 0, wait=5)


def parts(body: bytes) -> list[Any]:
    """The JSON parts of a whole multipart body, checking its framing on the way."""
    assert body.startswith(b"\r\n--graphql\r\n")
    assert body.endswith(b"\r\n--graphql--\r\n")
    chunks = body.split(b"\r\n--graphql")
    assert chunks[0] == b""
    assert chunks[-1] == b"--\r\n"
    out: list[Any] = []
    for chunk in chunks[1:-1]:
        head, sep, payload = chunk.partition(b"\r\n\r\n")
        assert sep
        assert head == b"\r\nContent-Type: application/json"
        out.append(json.loads(payload))
    return out


def events(body: bytes) -> list[Any]:
    return [p for p in parts(body) if p != HEARTBEAT]


def tick(i: int) -> dict[str, Any]:
    return {"data": {"ticks": {"id": f"i{i}", "name": f"item {i}", "label": f"label-i{i}"}}}


async def _post(url: str, variables: dict[str, Any], token: str | None = None) -> httpx.Response:
    headers = {"accept": APOLLO_ACCEPT}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(timeout=10) as c:
        return await c.post(url, json={"query": TICKS, "variables": variables}, headers=headers)


# -- the Accept header and the framing, directly -----------------------------------------------


@pytest.mark.parametrize(
    ("accept", "multipart"),
    [
        (APOLLO_ACCEPT, True),
        ('multipart/mixed; boundary="graphql"; subscriptionSpec="1.0", application/json', True),
        ("text/event-stream, multipart/mixed;subscriptionSpec=1.0", False),
        ("multipart/mixed;subscriptionSpec=1.0, text/event-stream", True),
        ("text/event-stream;q=0.5, multipart/mixed;subscriptionSpec=1.0", True),
        ("multipart/mixed;deferSpec=20220824, application/json", False),
        ("multipart/mixed;subscriptionSpec=1.0;q=0, application/json", False),
        ("application/json", False),
        (None, False),
    ],
)
def test_the_client_chooses_multipart_by_accept(accept: str | None, multipart: bool) -> None:
    assert wants_multipart(accept) is multipart


def test_errors_that_end_the_stream_for_the_caller_are_transport_level() -> None:
    ended = {"message": "expired", "extensions": {"code": "UNAUTHENTICATED"}}
    refused = {"message": "no", "extensions": {"code": "SUBREQUEST_WEBSOCKET_ERROR"}}
    part = b"\r\nContent-Type: application/json\r\n\r\n"
    assert (
        MULTIPART.error([ended])
        == part
        + json.dumps({"payload": None, "errors": [ended]}, separators=(",", ":")).encode()
        + b"\r\n--graphql"
    )
    assert (
        MULTIPART.error([refused])
        == part
        + json.dumps({"payload": {"errors": [refused]}}, separators=(",", ":")).encode()
        + b"\r\n--graphql"
    )
    assert MULTIPART.heartbeat() == part + b"{}\r\n--graphql"


# -- through the router ------------------------------------------------------------------------


async def test_events_arrive_as_parts_then_the_closing_delimiter(
    live: tuple[LiveServer, Signer], probe: Probe
) -> None:
    server, signer = live
    token = signer.token(sid=str(uuid.uuid4()))
    r = await _post(server.graphql_url, {"n": 2}, token)
    assert r.status_code == 200
    assert r.headers["content-type"] == MULTIPART_TYPE
    assert events(r.content) == [{"payload": tick(0)}, {"payload": tick(1)}]
    # the caller's token went upstream, and with every entity fetch
    assert probe.authorizations == [f"Bearer {token}"]
    assert probe.entity_headers == [f"Bearer {token}"] * 2


async def test_a_get_streams_too(live: tuple[LiveServer, Signer]) -> None:
    server, _ = live
    params = {"query": TICKS, "variables": json.dumps({"n": 1})}
    async with httpx.AsyncClient(timeout=10) as c:
        # a GET carries no Content-Type: CSRF prevention wants a preflight header
        r = await c.get(
            server.graphql_url,
            params=params,
            headers={"accept": APOLLO_ACCEPT, "graphql-preflight": "1"},
        )
    assert r.headers["content-type"] == MULTIPART_TYPE
    assert events(r.content) == [{"payload": tick(0)}]


async def test_heartbeats_keep_a_quiet_stream_alive(live: tuple[LiveServer, Signer]) -> None:
    server, _ = live
    # the event comes four heartbeat periods after the subscription starts
    r = await _post(server.graphql_url, {"n": 1, "delay": 0.4})
    received = parts(r.content)
    assert received[0] == HEARTBEAT
    assert [p for p in received if p != HEARTBEAT] == [{"payload": tick(0)}]


async def test_a_stream_that_breaks_ends_with_its_errors_in_the_payload(
    live: tuple[LiveServer, Signer],
) -> None:
    server, _ = live
    r = await _post(server.graphql_url, {"n": 3, "failAt": 1})
    first, broken = events(r.content)
    assert first == {"payload": tick(0)}
    assert broken["payload"]["data"] is None
    assert broken["payload"]["errors"][0]["extensions"]["serviceName"] == "items"


async def test_a_token_that_does_not_verify_is_refused(
    live: tuple[LiveServer, Signer], probe: Probe
) -> None:
    server, _ = live
    r = await _post(server.graphql_url, {"n": 1}, "not-a-token")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/json"
    assert [e["extensions"]["code"] for e in r.json()["errors"]] == ["UNAUTHENTICATED"]
    assert probe.authorizations == []


async def test_the_stream_ends_when_its_session_is_revoked(
    live: tuple[LiveServer, Signer], redis: Redis
) -> None:
    server, signer = live
    sid = str(uuid.uuid4())
    token = signer.token(sid=sid)
    body = {"query": TICKS, "variables": {"n": 10_000, "delay": 0.1}}
    headers = {"accept": APOLLO_ACCEPT, "authorization": f"Bearer {token}"}
    received = b""
    async with (
        httpx.AsyncClient(timeout=10) as c,
        c.stream("POST", server.graphql_url, json=body, headers=headers) as r,
    ):
        revoked = False
        async for chunk in r.aiter_bytes():
            received += chunk
            if not revoked and b'"payload":{' in received:
                await revoke_sessions(redis, [sid], ttl_seconds=60)
                revoked = True
    got = events(received)
    assert got[0] == {"payload": tick(0)}
    # the last part is a transport-level error: no payload, the reason in `errors`
    last = got[-1]
    assert last["payload"] is None
    assert [(e["extensions"]["code"], e["extensions"]["reason"]) for e in last["errors"]] == [
        ("UNAUTHENTICATED", "revoked")
    ]
    assert all("payload" in p and p["payload"] is not None for p in got[:-1])


async def test_a_client_that_goes_away_closes_the_upstream_stream(
    live: tuple[LiveServer, Signer], probe: Probe
) -> None:
    server, _ = live
    body = {"query": TICKS, "variables": {"n": 10_000, "delay": 0.02}}
    async with (
        httpx.AsyncClient(timeout=10) as c,
        c.stream("POST", server.graphql_url, json=body, headers={"accept": APOLLO_ACCEPT}) as r,
    ):
        async for chunk in r.aiter_bytes():
            if b'"payload":{' in chunk:
                break
        assert probe.open_streams == 1
    await eventually(lambda: probe.open_streams == 0 and probe.closed_streams == 1)


async def _apollo(*args: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run apollo.mjs; the events it printed and its closing summary."""
    lines = await run_client("apollo.mjs", *args)
    return lines[:-1], lines[-1]


async def test_apollo_client_receives_the_events_over_its_http_link(
    live: tuple[LiveServer, Signer], probe: Probe
) -> None:
    server, signer = live
    token = signer.token(sid=str(uuid.uuid4()))
    received, summary = await _apollo(
        "subscribe", server.graphql_url, TICKS, json.dumps({"n": 3}), f"Bearer {token}"
    )
    # Apollo Client asks for __typename (its cache does); the rest is each event as sent
    assert received == [
        {"data": {"ticks": {**tick(i)["data"]["ticks"], "__typename": "Item"}}} for i in range(3)
    ]
    assert summary["end"] == "complete"
    # it used its default multipart transport: one POST, accepting subscription parts
    assert [s["method"] for s in summary["sent"]] == ["POST"]
    assert "subscriptionSpec=1.0" in summary["accept"][0]
    assert probe.authorizations == [f"Bearer {token}"]


async def test_apollo_client_gets_the_refusal_of_a_token_that_does_not_verify(
    live: tuple[LiveServer, Signer], probe: Probe
) -> None:
    server, _ = live
    received, summary = await _apollo(
        "subscribe", server.graphql_url, TICKS, json.dumps({"n": 1}), "Bearer not-a-token"
    )
    # Apollo Client 4 delivers the failure as a result carrying the error, then ends
    assert received == [
        {"data": None, "error": "Response not successful: Received status code 401", "codes": []}
    ]
    assert summary["end"] == "complete"
    assert probe.authorizations == []
