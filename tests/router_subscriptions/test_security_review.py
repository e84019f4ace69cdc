"""Issue 8 (security review), the router's part, for subscriptions.

A real router (its own subscription routes and token check) over the
items/labels subgraphs, tokens signed by a test key served as a JWKS, and
the session revocation list in the suite's Redis. Each test fails on the
router as it was before the fix (b162b12): streams outlived their token
and their session, and upstream sockets carried no router credential.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from protocol.revocation import revoke_sessions
from router.config import load_config
from subgraphs.kit.auth.router_gate import RouterOnly
from tests.router_edge.router_harness import AUDIENCE, ISSUER, Signer, jwks_signer, router
from tests.router_subscriptions.client import TICKS, recv, send, subscribe, ws_client
from tests.router_subscriptions.conftest import FIXTURES, _no_lifespan, eventually
from tests.router_subscriptions.subgraphs import PROBE, Probe, items_app, labels_app
from tests.support.live_server import LiveServer, serve

SSE = {"accept": "text/event-stream"}
SECRET = secrets.token_urlsafe(32)
#: a stream long enough to outlive every test here
ENDLESS = {"n": 10_000, "delay": 0.1}


@pytest.fixture(scope="module")
async def signer() -> AsyncIterator[Signer]:
    async with jwks_signer() as s:
        yield s


@pytest.fixture(scope="module")
async def guarded_urls() -> AsyncIterator[dict[str, str]]:
    """items and labels answering only requests signed with the router's credential."""
    async with (
        serve(RouterOnly(_no_lifespan(items_app()), secrets=[SECRET])) as items,
        serve(RouterOnly(_no_lifespan(labels_app()), secrets=[SECRET])) as labels,
    ):
        yield {"ITEMS_URL": items.graphql_url, "LABELS_URL": labels.graphql_url}


@contextlib.asynccontextmanager
async def _served_router(
    urls: dict[str, str], signer: Signer, directory: Path
) -> AsyncIterator[LiveServer]:
    """The router as `python -m router` configures it from its environment."""
    sdl = (FIXTURES / "supergraph.graphql").read_text()
    for name, url in urls.items():
        sdl = sdl.replace(f'"{name}"', f'"{url}"')
    path = directory / "supergraph.graphql"
    path.write_text(sdl)
    config = load_config(
        ["--supergraph", str(path)],
        {
            "ROUTER_JWKS_URL": signer.jwks_url,
            "ROUTER_JWT_ISSUER": ISSUER,
            "ROUTER_JWT_AUDIENCE": AUDIENCE,
            "ROUTER_REDIS_URL": os.environ["REDIS_URL"],
            "ROUTER_REVOCATION_CACHE_SECONDS": "0",
            "ROUTER_SESSION_CHECK_SECONDS": "0.5",
            "ROUTER_SECRETS": SECRET,
            "ROUTER_SUBGRAPH_TIMEOUT": "5",
        },
    )
    async with router(config) as server:
        yield server


@pytest.fixture(scope="module")
async def live(
    subgraph_urls: dict[str, str], signer: Signer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    """Over the suite's plain items/labels subgraphs (they check no credential)."""
    async with _served_router(subgraph_urls, signer, tmp_path_factory.mktemp("subs")) as server:
        yield server


@pytest.fixture(scope="module")
async def guarded_live(
    guarded_urls: dict[str, str], signer: Signer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    """Over items/labels that answer only the router."""
    async with _served_router(guarded_urls, signer, tmp_path_factory.mktemp("guarded")) as server:
        yield server


@pytest.fixture
def probe() -> Probe:
    PROBE.clear()
    return PROBE


@pytest.fixture(autouse=True)
async def _upstream_closed(probe: Probe) -> AsyncIterator[None]:
    yield
    # every upstream stream the test opened is closed again, however it ended
    await eventually(lambda: probe.open_streams == 0, wait=5)


def _unauthenticated(message: dict[str, Any]) -> bool:
    return message["type"] == "error" and [e["extensions"]["code"] for e in message["payload"]] == [
        "UNAUTHENTICATED"
    ]


async def _until_closed(ws: ClientConnection, wait: float) -> tuple[list[dict[str, Any]], int]:
    """Every message until the router closes the socket, and the close code."""
    messages: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(wait):
            while True:
                messages.append(json.loads(await ws.recv()))
    except ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd is not None else -1
        return messages, code
    except TimeoutError:
        kinds = [m["type"] for m in messages]
        raise AssertionError(f"still open after {wait}s; received {kinds}") from None


# -- finding 5: subscriptions end with their token -------------------------------------------


async def test_finding_5_ws_subscription_ends_when_its_token_expires(
    live: LiveServer, signer: Signer, probe: Probe
) -> None:
    expires = int(time.time()) + 3
    token = signer.token(sid=str(uuid.uuid4()), exp=expires)
    async with ws_client(live.ws_url, {"Authorization": f"Bearer {token}"}) as ws:
        await subscribe(ws, "a", TICKS, ENDLESS)
        first = await recv(ws)
        assert first["type"] == "next"
        assert first["payload"]["data"]["ticks"]["label"] == "label-i0"
        messages, code = await _until_closed(ws, wait=10)
    ended_at = time.time()
    assert code == 4401
    assert [m["type"] for m in messages[:-1]] == ["next"] * (len(messages) - 1)
    assert messages[-1]["id"] == "a"
    assert _unauthenticated(messages[-1])
    assert messages[-1]["payload"][0]["extensions"]["reason"] == "expired"
    assert expires <= ended_at < expires + 3


async def test_finding_5_ws_subscriptions_end_when_their_session_is_revoked(
    live: LiveServer, signer: Signer, probe: Probe, redis: Redis
) -> None:
    sid = str(uuid.uuid4())
    token = signer.token(sid=sid)
    async with ws_client(live.ws_url, {"Authorization": f"Bearer {token}"}) as ws:
        await subscribe(ws, "a", TICKS, ENDLESS)
        await subscribe(ws, "b", TICKS, ENDLESS)
        seen: set[str] = set()
        while seen != {"a", "b"}:
            m = await recv(ws)
            assert m["type"] == "next"
            seen.add(m["id"])
        await revoke_sessions(redis, [sid], ttl_seconds=60)
        revoked_at = time.time()
        messages, code = await _until_closed(ws, wait=8)
    assert code == 4401
    errors = [m for m in messages if m["type"] == "error"]
    assert sorted(m["id"] for m in errors) == ["a", "b"]
    assert all(_unauthenticated(m) for m in errors)
    assert all(m["payload"][0]["extensions"]["reason"] == "revoked" for m in errors)
    # nothing arrives for an operation after its error
    for op in ("a", "b"):
        last = max(i for i, m in enumerate(messages) if m.get("id") == op)
        assert messages[last]["type"] == "error"
    assert time.time() - revoked_at < 5


async def test_finding_5_each_operation_gets_one_error_when_its_own_check_races_the_watcher(
    live: LiveServer, signer: Signer, probe: Probe, redis: Redis
) -> None:
    """Fast streams see the revocation in their own per-event check while the connection's
    watcher ends the session: each operation still gets exactly one error (a CI run once
    saw two for one operation)."""
    sid = str(uuid.uuid4())
    token = signer.token(sid=sid)
    ids = [f"op{i}" for i in range(12)]
    async with ws_client(live.ws_url, {"Authorization": f"Bearer {token}"}) as ws:
        for op in ids:
            await subscribe(ws, op, TICKS, {"n": 100_000, "delay": 0.002})
        seen: set[str] = set()
        while seen != set(ids):
            seen.add((await recv(ws))["id"])
        await revoke_sessions(redis, [sid], ttl_seconds=60)
        messages, code = await _until_closed(ws, wait=8)
    assert code == 4401
    errors = sorted(m["id"] for m in messages if m["type"] == "error")
    assert errors == sorted(ids)


async def test_finding_5_ws_connection_with_a_revoked_session_is_refused(
    live: LiveServer, signer: Signer, redis: Redis
) -> None:
    sid = str(uuid.uuid4())
    await revoke_sessions(redis, [sid], ttl_seconds=60)
    token = signer.token(sid=sid)
    async with connect(live.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await send(ws, {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        with pytest.raises(ConnectionClosed) as closed:
            await recv(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


def _events(lines: list[str]) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    kind: str | None = None
    for line in lines:
        if line.startswith("event: "):
            kind = line[len("event: ") :]
        elif line.startswith("data: ") and kind is not None:
            data = line[len("data: ") :].strip()
            events.append((kind, json.loads(data) if data else None))
            kind = None
    return events


async def _sse(
    url: str, token: str, on_first: Any = None, wait: float = 10
) -> list[tuple[str, Any]]:
    """The whole event stream of one subscription; `on_first` runs after the first event."""
    lines: list[str] = []
    async with (
        httpx.AsyncClient(timeout=wait) as c,
        c.stream(
            "POST",
            url,
            json={"query": TICKS, "variables": ENDLESS},
            headers={**SSE, "authorization": f"Bearer {token}"},
        ) as r,
    ):
        assert r.status_code == 200
        async with asyncio.timeout(wait):
            async for line in r.aiter_lines():
                lines.append(line)
                if on_first is not None and line.startswith("data: "):
                    await on_first()
                    on_first = None
    return _events(lines)


def _sse_ended(events: list[tuple[str, Any]], reason: str) -> None:
    assert [k for k, _ in events[:-2]] == ["next"] * (len(events) - 2)
    kind, last = events[-2]
    assert kind == "next"
    assert [e["extensions"]["code"] for e in last["errors"]] == ["UNAUTHENTICATED"]
    assert last["errors"][0]["extensions"]["reason"] == reason
    assert events[-1] == ("complete", None)


async def test_finding_5_sse_subscription_ends_when_its_token_expires(
    live: LiveServer, signer: Signer, probe: Probe
) -> None:
    expires = int(time.time()) + 3
    token = signer.token(sid=str(uuid.uuid4()), exp=expires)
    events = await _sse(live.graphql_url, token)
    assert time.time() >= expires
    assert events[0][0] == "next"
    assert events[0][1]["data"]["ticks"]["label"] == "label-i0"
    _sse_ended(events, "expired")


async def test_finding_5_sse_subscription_ends_when_its_session_is_revoked(
    live: LiveServer, signer: Signer, probe: Probe, redis: Redis
) -> None:
    sid = str(uuid.uuid4())
    token = signer.token(sid=sid)

    async def revoke() -> None:
        await revoke_sessions(redis, [sid], ttl_seconds=60)

    started = time.time()
    events = await _sse(live.graphql_url, token, on_first=revoke, wait=8)
    assert time.time() - started < 6
    _sse_ended(events, "revoked")


async def test_finding_5_sse_with_a_revoked_session_is_refused(
    live: LiveServer, signer: Signer, redis: Redis
) -> None:
    sid = str(uuid.uuid4())
    await revoke_sessions(redis, [sid], ttl_seconds=60)
    async with httpx.AsyncClient(timeout=5) as c:
        r = await c.post(
            live.graphql_url,
            json={"query": TICKS, "variables": {"n": 2}},
            headers={**SSE, "authorization": f"Bearer {signer.token(sid=sid)}"},
        )
    assert r.status_code == 401
    assert [e["extensions"]["code"] for e in r.json()["errors"]] == ["UNAUTHENTICATED"]


# -- finding 10: upstream sockets and entity fetches carry the router's credential -------------


async def test_finding_10_subscriptions_reach_subgraphs_that_answer_only_the_router(
    guarded_live: LiveServer, guarded_urls: dict[str, str], probe: Probe
) -> None:
    async with ws_client(guarded_live.ws_url) as ws:
        await subscribe(ws, "a", TICKS, {"n": 2})
        got = [await recv(ws) for _ in range(3)]
    assert [m["type"] for m in got] == ["next", "next", "complete"]
    assert got[1]["payload"] == {
        "data": {"ticks": {"id": "i1", "name": "item 1", "label": "label-i1"}}
    }
    # an unsigned socket straight to the subgraph is refused at the upgrade
    items_ws = guarded_urls["ITEMS_URL"].replace("http://", "ws://")
    with pytest.raises(InvalidStatus):
        async with connect(items_ws, subprotocols=[Subprotocol("graphql-transport-ws")]):
            pass


# -- finding 9: entity fetches of subscription events carry the caller's address --------------


async def test_finding_9_subscription_entity_fetches_carry_x_forwarded_for(
    live: LiveServer, probe: Probe
) -> None:
    async with ws_client(live.ws_url) as ws:
        await subscribe(ws, "a", TICKS, {"n": 1})
        assert (await recv(ws))["type"] == "next"
    assert probe.entity_forwarded_for == ["127.0.0.1"]
