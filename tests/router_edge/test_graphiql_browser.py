"""GraphiQL in a real headless Chromium: loads offline from the router, runs a query.

Needs Debian's `chromium` package (`apt-get install -y chromium`) and the
npm assets (`npm ci --prefix router/graphiql`, both done by
`scripts/bootstrap.sh`); without either the tests fail saying so, they are
never skipped. Chromium is driven over the DevTools protocol.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets
from graphql import build_schema, graphql, parse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db.embedded import free_port
from router.graphiql import page
from router.graphiql.page import graphiql_response, graphiql_routes, wants_graphiql
from router.guard.csrf import check_csrf
from router.guard.limits import check_limits
from tests.support.threaded_server import threaded_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = Path("/work/scratch/graphiql.png")


@pytest.fixture(autouse=True)
def _browser_and_assets() -> None:
    """A missing browser or asset is a failure with the fix, not a silent skip."""
    if CHROMIUM is None:
        pytest.fail("needs Debian's chromium package: apt-get install -y chromium")
    if page.missing_assets():
        pytest.fail(f"GraphiQL assets missing: {page.INSTALL_HINT}")


SCHEMA = build_schema("type Query { hello: String }")


def make_app(seen: list[dict[str, str]]) -> Starlette:
    async def endpoint(request: Request) -> Response:
        if wants_graphiql(request.method, request.headers, request.query_params):
            return graphiql_response("/graphql")
        refusal = check_csrf(request.method, request.headers)
        if refusal:
            return Response(orjson.dumps({"errors": [{"message": refusal}]}), 400)
        body = orjson.loads(await request.body())
        seen.append(
            {
                "content-type": request.headers.get("content-type", ""),
                "graphql-preflight": request.headers.get("graphql-preflight", ""),
                **body,
            }
        )
        errors = check_limits(parse(body["query"]), body.get("operationName"), SCHEMA)
        if errors:
            return Response(orjson.dumps({"errors": errors}), media_type="application/json")
        result = await graphql(
            SCHEMA,
            body["query"],
            root_value={"hello": "world from the router"},
            variable_values=body.get("variables"),
            operation_name=body.get("operationName"),
        )
        return Response(orjson.dumps(result.formatted), media_type="application/json")

    return Starlette(
        routes=[Route("/graphql", endpoint, methods=["GET", "POST"]), *graphiql_routes()]
    )


@contextlib.contextmanager
def chromium(url: str) -> Iterator[str]:
    """Start headless Chromium on `url`; yields the page's DevTools websocket URL."""
    assert CHROMIUM is not None
    port = free_port()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,800",
                f"--user-data-dir={profile}",
                f"--remote-debugging-port={port}",
                url,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its helpers share the group: stop them all with it
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=1).json()
                    pages = [t for t in targets if t.get("type") == "page"]
                    if pages:
                        yield pages[0]["webSocketDebuggerUrl"]
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("chromium did not start")
                time.sleep(0.1)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


class DevTools:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        my_id = self.next_id
        await self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(await self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(msg["error"])
                result: dict[str, Any] = msg["result"]
                return result
            self.events.append(msg)

    async def js(self, expression: str) -> Any:
        r = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return r["result"].get("value")

    async def wait_for(self, expression: str, seconds: float = 15) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = await self.js(expression)
            if value:
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out waiting for: {expression}")


def save_screenshot(png: bytes) -> None:
    """For a human to look at; /work/scratch is outside the repository."""
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.write_bytes(png)


RESULT = (
    "(() => { const cm = document.querySelector('.result-window .CodeMirror');"
    " return cm ? cm.CodeMirror.getValue() : ''; })()"
)


async def test_graphiql_loads_offline_runs_a_query_and_shows_the_result():
    seen: list[dict[str, str]] = []
    with (
        threaded_server(make_app(seen)) as server,
        chromium(f"http://127.0.0.1:{server.port}/graphql") as ws_url,
    ):
        async with websockets.connect(ws_url, max_size=None) as ws:
            dt = DevTools(ws)
            await dt.call("Runtime.enable")
            await dt.wait_for("!!document.querySelector('.graphiql-execute-button')")
            await dt.js(
                "document.querySelector('.graphiql-query-editor .CodeMirror')"
                ".CodeMirror.setValue('query Greeting { hello }')"
            )
            await dt.js("document.querySelector('.graphiql-execute-button').click()")
            result = await dt.wait_for(f"{RESULT}.includes('world from the router')")
            assert result is True
            text = await dt.js(RESULT)
            shot = await dt.call("Page.captureScreenshot", format="png")

    assert json.loads(text) == {"data": {"hello": "world from the router"}}
    save_screenshot(base64.b64decode(shot["data"]))
    shapes = [
        (s["content-type"], s["graphql-preflight"], s["query"].split("{")[0].strip()) for s in seen
    ]
    assert shapes == [
        ("application/json", "1", "query IntrospectionQuery"),  # limits let GraphiQL's through
        # a JSON POST with a preflight header: any CSRF rule lets it through
        ("application/json", "1", "query Greeting"),
    ]
    exceptions = [e for e in dt.events if e.get("method") == "Runtime.exceptionThrown"]
    assert exceptions == []
