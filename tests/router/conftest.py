"""Real subgraphs on real ports, a hand-composed supergraph, and the router."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from router.config import Config
from router.gateway import Gateway, GraphQLRequest
from router.server.app import create_app
from router.server.holder import GatewayHolder
from router.supergraph.load import load_supergraph
from tests.router.subgraphs import Recorder, app_for

FIXTURES = Path(__file__).parent / "fixtures"
SUBGRAPHS = ("charters", "vendors", "pricing", "sales")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def serve(app: Any, port: int, lifespan: str = "off") -> uvicorn.Server:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    server._task = task  # type: ignore[attr-defined]
    return server


async def stop(server: uvicorn.Server) -> None:
    server.should_exit = True
    await server._task  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def recorders() -> dict[str, Recorder]:
    return {name: Recorder() for name in SUBGRAPHS}


@pytest.fixture(scope="session")
async def supergraph_sdl(recorders: dict[str, Recorder]) -> AsyncIterator[str]:
    servers = []
    urls: dict[str, str] = {}
    for name in SUBGRAPHS:
        port = free_port()
        servers.append(await serve(app_for(name, recorders[name]), port))
        urls[name] = f"http://127.0.0.1:{port}/graphql"
    urls["finance"] = f"http://127.0.0.1:{free_port()}/graphql"  # nothing listens: "down"
    sdl = (FIXTURES / "supergraph.graphql").read_text()
    for name, url in urls.items():
        sdl = sdl.replace("{" + name + "}", url)
    yield sdl
    for s in servers:
        await stop(s)


@pytest.fixture(scope="session")
async def gateway(supergraph_sdl: str) -> AsyncIterator[Gateway]:
    gw = Gateway(load_supergraph(supergraph_sdl), Config(subgraph_timeout=5))
    yield gw
    await gw.close()


@pytest.fixture(scope="session")
async def router_url(
    supergraph_sdl: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    path = tmp_path_factory.mktemp("router") / "supergraph.graphql"
    path.write_text(supergraph_sdl)
    config = Config(supergraph=str(path), subgraph_timeout=5)
    holder = GatewayHolder(config)
    holder.try_load()
    port = free_port()
    server = await serve(create_app(config, holder), port, lifespan="on")
    yield f"http://127.0.0.1:{port}"
    await stop(server)


@pytest.fixture(autouse=True)
def _clear_recorders(recorders: dict[str, Recorder]) -> None:
    for r in recorders.values():
        r.clear()


@pytest.fixture
def run(gateway: Gateway) -> Any:
    async def _run(
        query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
    ) -> dict[str, Any]:
        resp = await gateway.execute(GraphQLRequest(query, variables, operation_name))
        return resp.body

    return _run
