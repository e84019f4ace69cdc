"""Our router and Hive Gateway over the same supergraph and subgraphs.

The four Strawberry subgraphs of tests/router run in-process on real ports
(the fifth graph of the supergraph, finance, is down on purpose); our router
runs in-process too (Starlette app under uvicorn), Hive Gateway as a Node
subprocess. Every operation goes to both once per session (`answers`), so
each test only compares two stored answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from db.embedded import free_port
from router.config import Config
from router.server.app import create_app
from router.server.holder import GatewayHolder
from tests.router.subgraphs import Recorder, app_for
from tests.router_diff import hive
from tests.router_diff.generate import Operation
from tests.router_diff.operations import OPERATION_NAMES, SUPERGRAPH_TEMPLATE, all_operations
from tests.support.live_server import serve

SUBGRAPHS = ("charters", "vendors", "pricing", "sales")
CONCURRENCY = 8

OPERATIONS: list[Operation] = all_operations()


def _with_lifespan(app: ASGIApp) -> ASGIApp:
    """Answers uvicorn's lifespan events, which the Strawberry apps refuse."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            event = await receive()
            kind = event["type"].rsplit(".", 1)[-1]  # startup / shutdown
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return

    return wrapped


@pytest.fixture(scope="session")
async def diff_supergraph(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Path]:
    """The fixture supergraph pointed at live subgraphs, written to a file."""
    if not hive.installed():
        pytest.fail("Hive Gateway is missing: run `make install` (tools/hive-gateway)")
    async with contextlib.AsyncExitStack() as stack:
        sdl = SUPERGRAPH_TEMPLATE.read_text()
        for name in SUBGRAPHS:
            live = await stack.enter_async_context(serve(_with_lifespan(app_for(name, Recorder()))))
            sdl = sdl.replace("{" + name + "}", live.graphql_url)
        sdl = sdl.replace("{finance}", f"http://127.0.0.1:{free_port()}/graphql")  # down
        path = tmp_path_factory.mktemp("router_diff") / "supergraph.graphql"
        path.write_text(sdl)
        yield path


@pytest.fixture(scope="session")
async def ours_url(diff_supergraph: Path) -> AsyncIterator[str]:
    config = Config(supergraph=str(diff_supergraph), subgraph_timeout=5, csrf_required_headers=None)
    holder = GatewayHolder(config)
    holder.try_load()
    async with serve(create_app(config, holder)) as live:
        yield live.graphql_url


@pytest.fixture(scope="session")
async def hive_url(diff_supergraph: Path) -> AsyncIterator[str]:
    async with hive.running(diff_supergraph, free_port()) as url:
        yield f"{url}/graphql"


async def _post(client: httpx.AsyncClient, url: str, op: Operation) -> dict[str, Any]:
    body: dict[str, Any] = {"query": op.query}
    if op.variables is not None:
        body["variables"] = op.variables
    if op.id in OPERATION_NAMES:
        body["operationName"] = OPERATION_NAMES[op.id]
    resp = await client.post(url, json=body, headers={"accept": "application/json"})
    answer: dict[str, Any] = resp.json()
    return answer


@pytest.fixture(scope="session")
async def answers(ours_url: str, hive_url: str) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """op id -> (our answer, Hive Gateway's answer), all sent once."""
    gate = asyncio.Semaphore(CONCURRENCY)
    out: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    async with httpx.AsyncClient(timeout=10) as client:

        async def one(op: Operation) -> None:
            async with gate:
                ours, theirs = await asyncio.gather(
                    _post(client, ours_url, op), _post(client, hive_url, op)
                )
                out[op.id] = (ours, theirs)

        mutations = [op for op in OPERATIONS if op.query.lstrip().startswith("mutation")]
        await asyncio.gather(*(one(op) for op in OPERATIONS if op not in mutations))
        for op in mutations:  # one at a time: the subgraphs' state changes
            await one(op)
    return out
