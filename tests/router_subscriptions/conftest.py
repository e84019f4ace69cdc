"""Real subgraphs (items, labels) on real ports and the router with the
subscription routes mounted, the way the server mounts them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from router.config import Config
from router.server.app import create_app
from router.server.holder import GatewayHolder
from router.subscriptions import SubscriptionRegistry, subscription_routes
from tests.router_subscriptions.subgraphs import PROBE, Probe, items_app, labels_app
from tests.support.live_server import serve

FIXTURES = Path(__file__).parent / "fixtures"
INIT_TIMEOUT = 0.5


@dataclass
class Router:
    url: str
    ws_url: str
    registry: SubscriptionRegistry


@pytest.fixture(scope="session")
async def subgraph_urls() -> AsyncIterator[dict[str, str]]:
    # Strawberry's ASGI app speaks no lifespan protocol
    async with (
        serve(_no_lifespan(items_app())) as items,
        serve(_no_lifespan(labels_app())) as labels,
    ):
        yield {"ITEMS_URL": items.graphql_url, "LABELS_URL": labels.graphql_url}


def _no_lifespan(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await app(scope, receive, send)

    return wrapped


async def _forbid(authorization: str | None) -> bool:
    return authorization != "Bearer forbidden"


@pytest.fixture(scope="session")
async def router(
    subgraph_urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Router]:
    sdl = (FIXTURES / "supergraph.graphql").read_text()
    for name, url in subgraph_urls.items():
        sdl = sdl.replace(f'"{name}"', f'"{url}"')
    path = tmp_path_factory.mktemp("subs") / "supergraph.graphql"
    path.write_text(sdl)
    config = Config(supergraph=str(path), subgraph_timeout=5)
    holder = GatewayHolder(config)
    holder.try_load()
    registry = SubscriptionRegistry()
    app = create_app(config, holder)
    app.router.routes[0:0] = subscription_routes(
        holder, config, registry, init_timeout=INIT_TIMEOUT, authorize=_forbid
    )
    async with serve(app) as live:
        yield Router(live.graphql_url, live.ws_url, registry)
        await registry.close_all()


@pytest.fixture
def probe() -> Probe:
    PROBE.clear()
    return PROBE


async def eventually(check: Callable[[], bool], wait: float = 3.0) -> None:
    """Wait until `check()` holds; cleanup after a close is asynchronous."""
    deadline = asyncio.get_running_loop().time() + wait
    # polling counters other tasks change; no event to wait on
    while not check() and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    assert check()
