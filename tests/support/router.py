"""The real router over subgraphs the test started: the checked-in supergraph, re-pointed.

Subgraphs a test did not start point at a closed port, so a plan that
needs one fails the way a down subgraph does.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

from router.config import Config
from router.server.app import create_app
from router.server.holder import GatewayHolder
from tests.support.live_server import LiveServer, serve

SUPERGRAPH = Path(__file__).parents[2] / "schema" / "supergraph.graphql"
NOWHERE = "http://127.0.0.1:9/graphql"


def rewrite(sdl: str, urls: dict[str, str]) -> str:
    return re.sub(
        r'@join__graph\(name: "(\w+)", url: "[^"]*"\)',
        lambda m: f'@join__graph(name: "{m[1]}", url: "{urls.get(m[1], NOWHERE)}")',
        sdl,
    )


@contextlib.asynccontextmanager
async def serve_router(
    jwks_url: str, urls: dict[str, str], directory: Path
) -> AsyncIterator[LiveServer]:
    (directory / "supergraph.graphql").write_text(rewrite(SUPERGRAPH.read_text(), urls))
    config = Config(
        supergraph=str(directory / "supergraph.graphql"), subgraph_timeout=10, jwks_url=jwks_url
    )
    holder = GatewayHolder(config)
    holder.try_load()
    async with serve(create_app(config, holder)) as router:
        yield router
