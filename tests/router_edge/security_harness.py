"""A router over a tiny real subgraph shaped like Athena's, for the security review's tests.

The subgraph (`charters`) has a Relay connection (`charters(first:)` with
`edges { node }`), an `@authenticated` field (`me`), and records every
request it gets (body and headers). With `secrets` it answers only
requests that carry a valid router credential
(`protocol/router_credential.py`), as a production subgraph
does, and refuses the rest with HTTP 401. The router is configured through
`load_config` and environment variables only, so the same test also runs
against routers that predate a setting (it is then simply ignored).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from graphql import build_schema, graphql
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from db.embedded import free_port
from protocol import router_credential
from router.config import load_config
from tests.router_edge.router_harness import AUDIENCE, ISSUER, router
from tests.support.live_server import LiveServer, serve

PROJECT_ROOT = Path(__file__).resolve().parents[2]

SUBGRAPH_SDL = """
type Query {
  hello: String
  me: User
  seenHeaders: [String!]!
  charters(first: Int, after: String): CharterConnection!
}
type User { id: ID! name: String }
type CharterConnection { edges: [CharterEdge!]! pageInfo: PageInfo! totalCount: Int! }
type CharterEdge { cursor: String! node: Charter! }
type PageInfo { hasNextPage: Boolean! endCursor: String }
type Charter { id: ID! reference: String! stops: [Stop!]! }
type Stop { name: String! }
type Mutation { touch: Int }
"""

SUPERGRAPH_SDL = """
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
  @link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY) {
  query: Query
  mutation: Mutation
}

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__field(
  graph: join__Graph
  requires: join__FieldSet
  provides: join__FieldSet
  type: String
  external: Boolean
  override: String
  usedOverridden: Boolean
) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE
directive @join__type(
  graph: join__Graph!
  key: join__FieldSet
  extension: Boolean! = false
  resolvable: Boolean! = true
  isInterfaceObject: Boolean! = false
) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION
scalar join__FieldSet
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM

enum join__Graph {
  CHARTERS @join__graph(name: "charters", url: "{url}")
}

type Query @join__type(graph: CHARTERS) {
  hello: String
  me: User @authenticated
  seenHeaders: [String!]!
  charters(first: Int, after: String): CharterConnection!
}
type User @join__type(graph: CHARTERS) { id: ID! name: String }
type CharterConnection @join__type(graph: CHARTERS) {
  edges: [CharterEdge!]!
  pageInfo: PageInfo!
  totalCount: Int!
}
type CharterEdge @join__type(graph: CHARTERS) { cursor: String! node: Charter! }
type PageInfo @join__type(graph: CHARTERS) { hasNextPage: Boolean! endCursor: String }
type Charter @join__type(graph: CHARTERS) { id: ID! reference: String! stops: [Stop!]! }
type Stop @join__type(graph: CHARTERS) { name: String! }
type Mutation @join__type(graph: CHARTERS) { touch: Int }
"""

TOTAL_CHARTERS = 150


def _charters(info: Any, first: int = 10, after: str | None = None) -> dict[str, Any]:
    rows = [
        {
            "cursor": str(i),
            "node": {
                "id": f"c{i}",
                "reference": f"CH-2026-{i:06d}",
                "stops": [{"name": "Depot"}, {"name": "Venue"}],
            },
        }
        for i in range(min(first, TOTAL_CHARTERS))
    ]
    return {
        "edges": rows,
        "pageInfo": {"hasNextPage": first < TOTAL_CHARTERS, "endCursor": str(len(rows) - 1)},
        "totalCount": TOTAL_CHARTERS,
    }


@dataclass
class Charters:
    """The subgraph and everything it received (refused requests included)."""

    server: LiveServer
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    refused: int = 0

    @property
    def url(self) -> str:
        return self.server.graphql_url

    def clear(self) -> None:
        self.bodies.clear()
        self.headers.clear()
        self.refused = 0


def _app(record: Charters, secrets: Sequence[str]) -> Starlette:
    schema = build_schema(SUBGRAPH_SDL)

    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        headers = dict(request.headers)
        if secrets and not router_credential.verify(
            secrets, request.headers.get(router_credential.HEADER), raw + request.url.query.encode()
        ):
            record.refused += 1
            return JSONResponse(
                {"errors": [{"message": "router only", "extensions": {"code": "UNAUTHENTICATED"}}]},
                status_code=401,
            )
        body = orjson.loads(raw)
        record.bodies.append(body)
        record.headers.append(headers)
        root = {
            "hello": "world",
            "me": {"id": "u1", "name": "Ada"},
            "seenHeaders": sorted(f"{k}={v}" for k, v in headers.items()),
            "charters": _charters,
            "touch": 1,
        }
        result = await graphql(schema, body["query"], root, variable_values=body.get("variables"))
        return JSONResponse(result.formatted)

    return Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])


@contextlib.asynccontextmanager
async def charters_subgraph(secrets: Sequence[str] = ()) -> AsyncIterator[Charters]:
    record = Charters(LiveServer("127.0.0.1", 0))
    async with serve(_app(record, secrets)) as server:
        record.server = server
        yield record


def write_supergraph(directory: Path, url: str) -> Path:
    path = directory / "supergraph.graphql"
    path.write_text(SUPERGRAPH_SDL.replace("{url}", url))
    return path


@contextlib.asynccontextmanager
async def secured_router(
    supergraph: Path, env: Mapping[str, str], jwks_url: str = ""
) -> AsyncIterator[LiveServer]:
    """A router from `python -m router`'s own configuration path (flags and environment)."""
    environ = {
        "ROUTER_JWKS_URL": jwks_url,
        "ROUTER_JWT_ISSUER": ISSUER,
        "ROUTER_JWT_AUDIENCE": AUDIENCE,
        "ROUTER_SUBGRAPH_TIMEOUT": "5",
        **env,
    }
    config = load_config(["--supergraph", str(supergraph)], environ)
    async with router(config) as server:
        yield server


@contextlib.asynccontextmanager
async def router_process(supergraph: Path, env: Mapping[str, str]) -> AsyncIterator[LiveServer]:
    """`python -m router` itself in a child process: the production entry point and server."""
    port = free_port()
    environ = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "ROUTER_JWKS_URL": "",
        "ROUTER_SUBGRAPH_TIMEOUT": "5",
        **env,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "router",
        "--supergraph",
        str(supergraph),
        "--port",
        str(port),
        env=environ,
        cwd=str(PROJECT_ROOT),
    )
    live = LiveServer("127.0.0.1", port)
    try:
        async with httpx.AsyncClient(timeout=1) as client:
            for _ in range(200):
                if proc.returncode is not None:
                    raise RuntimeError(f"the router exited with {proc.returncode}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{live.base_url}/health")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("the router did not become healthy")
        yield live
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
