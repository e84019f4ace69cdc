"""An ASGI app served by uvicorn on a real port inside the test's event loop.

Serving in-process keeps the SQL statement recorder able to see the app's
queries while the test still talks real HTTP and WebSocket to it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from db.embedded import free_port


@dataclass
class LiveServer:
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/graphql"


@contextlib.asynccontextmanager
async def serve(app: ASGIApp, port: int | None = None) -> AsyncIterator[LiveServer]:
    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_level="warning",
        loop="none",
        # A request still running at teardown must not hold the suite (a CI run waited 300 s).
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped before starting")
        await asyncio.sleep(0.01)
    try:
        yield LiveServer("127.0.0.1", port)
    finally:
        server.should_exit = True
        await task
