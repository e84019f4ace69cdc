"""A subgraph that is down costs only the data that depends on it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from router.config import Config
from router.gateway import Gateway, GraphQLRequest
from router.supergraph.load import load_supergraph


async def test_down_subgraph_gives_partial_data(run: Any) -> None:
    body = await run("{ charters { reference balance } }")
    assert body["data"] == {
        "charters": [
            {"reference": "CH-1", "balance": None},
            {"reference": "CH-2", "balance": None},
            {"reference": "CH-3", "balance": None},
        ]
    }
    (err,) = body["errors"]
    assert err["message"] == "Subgraph 'finance' is unavailable."
    assert err["extensions"]["serviceName"] == "finance"
    assert err["extensions"]["code"] == "SUBREQUEST_HTTP_ERROR"


async def test_parallel_root_fields_survive_a_failure_elsewhere(run: Any) -> None:
    body = await run('{ pricingVersion charter(id: "c1") { reference balance } }')
    assert body["data"] == {
        "pricingVersion": "1",
        "charter": {"reference": "CH-1", "balance": None},
    }


async def test_hanging_subgraph_times_out_into_partial_data(supergraph_sdl: str) -> None:
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    finance = next(line for line in supergraph_sdl.splitlines() if "FINANCE @join__graph" in line)
    url = finance.split('url: "')[1].split('"')[0]
    sdl = supergraph_sdl.replace(url, f"http://127.0.0.1:{port}/graphql")
    gw = Gateway(load_supergraph(sdl), Config(subgraph_timeouts={"finance": 0.2}))
    started = time.monotonic()
    try:
        body = (
            await gw.execute(GraphQLRequest('{ charter(id: "c1") { reference balance } }'))
        ).body
    finally:
        await gw.close()
        server.close()
    assert time.monotonic() - started < 2
    assert body["data"] == {"charter": {"reference": "CH-1", "balance": None}}
    assert body["errors"][0]["message"] == "Subgraph 'finance' timed out."
    assert body["errors"][0]["path"] == ["charter"]
