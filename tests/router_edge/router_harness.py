"""A real router over a real (tiny) subgraph, for the serving-layer tests.

The subgraph is a plain GraphQL-over-HTTP app on its own port that records
every request it receives (body and headers), so tests can prove what
reached it and what never did. The supergraph is written by hand in the
shape federation composition produces, with `@authenticated` and
`@requiresScopes` linked `for: SECURITY`. Tokens are signed with a test key
whose JWKS another tiny app serves, so verification runs exactly as in
production (remote JWKS, issuer, audience, EdDSA).
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from graphql import build_schema, graphql
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from router.config import Config
from router.server.app import create_app
from router.server.holder import GatewayHolder
from tests.support.live_server import LiveServer, serve

ISSUER = "https://issuer.test"
AUDIENCE = "athena-test"
KID = "edge-test-key"

SUBGRAPH_SDL = """
type Query {
  hello: String
  me: User
  secret: Int
  users(first: Int): [User!]!
  seenHeaders: [String!]!
}
type User {
  id: ID!
  name: String
  email: String
  friends(first: Int): [User!]!
}
type Mutation { touch: Int }
"""

SUPERGRAPH_SDL = """
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
  @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)
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
directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
scalar requiresScopes__Scope
directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM

enum join__Graph {
  ACCOUNTS @join__graph(name: "accounts", url: "{url}")
}

type Query @join__type(graph: ACCOUNTS) {
  hello: String
  me: User @authenticated
  secret: Int @requiresScopes(scopes: [["read:secret"], ["admin"]])
  users(first: Int): [User!]!
  seenHeaders: [String!]!
}

type User @join__type(graph: ACCOUNTS) {
  id: ID!
  name: String
  email: String @requiresScopes(scopes: [["read:email"]])
  friends(first: Int): [User!]!
}

type Mutation @join__type(graph: ACCOUNTS) {
  touch: Int
}
"""

PEOPLE = [{"id": str(i), "name": f"user{i}", "email": f"u{i}@example.com"} for i in range(3)]


def _person(p: dict[str, Any]) -> dict[str, Any]:
    return {**p, "friends": lambda info, first=10: [_person(q) for q in PEOPLE[:first]]}


@dataclass
class Subgraph:
    """The `accounts` subgraph and everything it received."""

    server: LiveServer
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.graphql_url

    def clear(self) -> None:
        self.bodies.clear()
        self.headers.clear()


def _subgraph_app(record: Subgraph) -> Starlette:
    schema = build_schema(SUBGRAPH_SDL)

    async def endpoint(request: Request) -> Response:
        body = await request.json()
        headers = dict(request.headers)
        record.bodies.append(body)
        record.headers.append(headers)
        root = {
            "hello": "world",
            "me": _person(PEOPLE[0]),
            "secret": 42,
            "users": lambda info, first=10: [_person(p) for p in PEOPLE[:first]],
            "seenHeaders": sorted(f"{k}={v}" for k, v in headers.items()),
            "touch": 1,
        }
        result = await graphql(schema, body["query"], root, variable_values=body.get("variables"))
        return JSONResponse(result.formatted)

    return Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])


@contextlib.asynccontextmanager
async def subgraph() -> AsyncIterator[Subgraph]:
    record = Subgraph(LiveServer("127.0.0.1", 0))
    async with serve(_subgraph_app(record)) as server:
        record.server = server
        yield record


@dataclass
class Signer:
    """Signs tokens with a test key; `jwks_url` serves its public half."""

    private: Ed25519PrivateKey
    jwks_url: str

    def token(self, scopes: tuple[str, ...] = (), **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": str(uuid.uuid4()),
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 300,
            "scopes": list(scopes),
            **overrides,
        }
        return jwt.encode(claims, self.private, algorithm="EdDSA", headers={"kid": KID})


@contextlib.asynccontextmanager
async def jwks_signer() -> AsyncIterator[Signer]:
    private = Ed25519PrivateKey.generate()
    public = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private.public_key()))
    public.update(kid=KID, alg="EdDSA", use="sig")

    async def jwks(request: Request) -> Response:
        return JSONResponse({"keys": [public]})

    app = Starlette(routes=[Route("/.well-known/jwks.json", jwks)])
    async with serve(app) as server:
        yield Signer(private, f"{server.base_url}/.well-known/jwks.json")


def write_supergraph(directory: Path, url: str) -> Path:
    path = directory / "supergraph.graphql"
    path.write_text(SUPERGRAPH_SDL.replace("{url}", url))
    return path


def base_config(supergraph: Path, jwks_url: str | None = "", **changes: Any) -> Config:
    config = Config(
        supergraph=str(supergraph),
        subgraph_timeout=5,
        jwks_url=jwks_url,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )
    return replace(config, **changes)


@contextlib.asynccontextmanager
async def router(config: Config) -> AsyncIterator[LiveServer]:
    """The router app, served by uvicorn on a real port, lifespan and all."""
    holder = GatewayHolder(config)
    holder.try_load()
    async with serve(create_app(config, holder)) as server:
        yield server
