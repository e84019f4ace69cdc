"""GraphiQL served by the real router, in headless Chromium, offline.

The page's introspection and the operation go through the whole edge
(CSRF prevention, limits, the gateway) to a real subgraph. A missing
browser or asset fails with the fix (`_browser_and_assets`), never skips.
"""

from __future__ import annotations

import json
from pathlib import Path

import websockets

from tests.router_edge.router_harness import base_config, router, subgraph, write_supergraph
from tests.router_edge.test_graphiql_browser import (
    RESULT,
    DevTools,
    _browser_and_assets,  # noqa: F401 - the autouse fixture: fail, never skip
    chromium,
)


async def test_graphiql_runs_a_query_through_the_router(tmp_path: Path) -> None:
    async with subgraph() as accounts:
        config = base_config(write_supergraph(tmp_path, accounts.url))
        async with router(config) as server:
            with chromium(server.graphql_url) as ws_url:
                async with websockets.connect(ws_url, max_size=None) as ws:
                    dt = DevTools(ws)
                    await dt.call("Runtime.enable")
                    await dt.wait_for("!!document.querySelector('.graphiql-execute-button')")
                    await dt.js(
                        "document.querySelector('.graphiql-query-editor .CodeMirror')"
                        ".CodeMirror.setValue('query Greeting { hello users(first: 1) { name } }')"
                    )
                    await dt.js("document.querySelector('.graphiql-execute-button').click()")
                    await dt.wait_for(f"{RESULT}.includes('user0')")
                    text = await dt.js(RESULT)
        assert json.loads(text) == {"data": {"hello": "world", "users": [{"name": "user0"}]}}
        # GraphiQL's introspection is answered by the router itself: one subgraph call
        assert len(accounts.bodies) == 1
        assert "users(first: 1)" in accounts.bodies[0]["query"]
    exceptions = [e for e in dt.events if e.get("method") == "Runtime.exceptionThrown"]
    assert exceptions == []
