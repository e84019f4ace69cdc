"""An ASGI app served by uvicorn in a background thread with its own loop.

For synchronous tools such as schemathesis, which drive a server from the
test's thread and cannot share the test session's event loop.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from db.embedded import free_port
from tests.support.live_server import LiveServer


@contextlib.contextmanager
def threaded_server(app: ASGIApp) -> Iterator[LiveServer]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("threaded server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer("127.0.0.1", port)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
