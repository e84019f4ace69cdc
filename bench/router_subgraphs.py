"""Three cheap federation subgraphs for bench/router_throughput.py.

charters (root field, Charter, Vehicle.capacity) -> fleet (Vehicle.vendor)
-> vendors (Vendor.name/country/certifications): an entity chain of depth
three. The data is precomputed; each app answers through Strawberry once per
distinct request body and then from a bytes -> bytes cache, so after the
warm-up a subgraph costs little more than uvicorn's HTTP handling and the
routers are the bottleneck (the benchmark prints the subgraphs' own rate).

    python -m bench.router_subgraphs NAME PORT
"""

from __future__ import annotations

import sys
from collections.abc import MutableMapping
from typing import Any

import strawberry
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL

OFFSETS = 64
VENDORS = 20
PER_PAGE = 50


def vendor_of(vehicle_id: str) -> str:
    return f"w{sum(map(ord, vehicle_id)) % VENDORS}"


# -- charters --------------------------------------------------------------------


@strawberry.federation.type(keys=["id"], name="Vehicle")
class ChartersVehicle:
    id: strawberry.ID
    capacity: int


@strawberry.federation.type(keys=["id"])
class Charter:
    id: strawberry.ID
    reference: str
    vehicles: list[ChartersVehicle]


def _charter(n: int) -> Charter:
    return Charter(
        id=strawberry.ID(f"c{n}"),
        reference=f"CH-{n:05d}",
        vehicles=[
            ChartersVehicle(id=strawberry.ID(f"v{n}-{k}"), capacity=20 + (n + k) % 37)
            for k in range(3)
        ],
    )


@strawberry.type
class ChartersQuery:
    @strawberry.field
    def charters(self, first: int, offset: int = 0) -> list[Charter]:
        return [_charter(n) for n in range(offset, offset + first)]


# -- fleet -----------------------------------------------------------------------


@strawberry.federation.type(keys=["id"], name="Vendor")
class FleetVendor:
    id: strawberry.ID


@strawberry.federation.type(keys=["id"], name="Vehicle")
class FleetVehicle:
    id: strawberry.ID

    @strawberry.field
    def vendor(self) -> FleetVendor:
        return FleetVendor(id=strawberry.ID(vendor_of(self.id)))

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> FleetVehicle:
        return FleetVehicle(id=id)


@strawberry.type
class FleetQuery:
    @strawberry.field
    def fleet_version(self) -> str:
        return "1"


# -- vendors ---------------------------------------------------------------------


@strawberry.type
class Certification:
    type: str
    number: str
    valid_until: str


@strawberry.federation.type(keys=["id"])
class Vendor:
    id: strawberry.ID
    name: str
    country: str
    certifications: list[Certification]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Vendor:
        return _VENDORS[id]


_VENDORS = {
    f"w{i}": Vendor(
        id=strawberry.ID(f"w{i}"),
        name=f"Vendor number {i} Coaches",
        country="US",
        certifications=[
            Certification(type=t, number=f"{t}-{i:04d}-{j}", valid_until=f"2027-0{j + 1}-15")
            for j, t in enumerate(("DOT", "MC", "INSURANCE", "ADA"))
        ],
    )
    for i in range(VENDORS)
}


@strawberry.type
class VendorsQuery:
    @strawberry.field
    def vendor_count(self) -> int:
        return VENDORS


SCHEMAS = {
    "charters": strawberry.federation.Schema(query=ChartersQuery, types=[Charter]),
    "fleet": strawberry.federation.Schema(query=FleetQuery, types=[FleetVehicle]),
    "vendors": strawberry.federation.Schema(query=VendorsQuery, types=[Vendor]),
}

SUPERGRAPH = """
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
{ query: Query }

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

scalar join__FieldSet
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }

enum join__Graph {
  CHARTERS @join__graph(name: "charters", url: "{charters}")
  FLEET @join__graph(name: "fleet", url: "{fleet}")
  VENDORS @join__graph(name: "vendors", url: "{vendors}")
}

type Query
  @join__type(graph: CHARTERS) @join__type(graph: FLEET) @join__type(graph: VENDORS)
{
  charters(first: Int!, offset: Int! = 0): [Charter!]! @join__field(graph: CHARTERS)
  fleetVersion: String! @join__field(graph: FLEET)
  vendorCount: Int! @join__field(graph: VENDORS)
}

type Charter @join__type(graph: CHARTERS, key: "id") {
  id: ID!
  reference: String!
  vehicles: [Vehicle!]!
}

type Vehicle @join__type(graph: CHARTERS, key: "id") @join__type(graph: FLEET, key: "id") {
  id: ID!
  capacity: Int! @join__field(graph: CHARTERS)
  vendor: Vendor! @join__field(graph: FLEET)
}

type Vendor @join__type(graph: FLEET, key: "id") @join__type(graph: VENDORS, key: "id") {
  id: ID!
  name: String! @join__field(graph: VENDORS)
  country: String! @join__field(graph: VENDORS)
  certifications: [Certification!]! @join__field(graph: VENDORS)
}

type Certification @join__type(graph: VENDORS) {
  type: String!
  number: String!
  validUntil: String!
}
"""


def cached(app: ASGIApp) -> ASGIApp:
    """Answer a POST body seen before from memory; otherwise ask `app` and keep it."""
    memo: dict[bytes, tuple[int, list[tuple[bytes, bytes]], bytes]] = {}

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        chunks = []
        more = True
        while more:
            msg = await receive()
            chunks.append(msg.get("body", b""))
            more = msg.get("more_body", False)
        body = b"".join(chunks)
        hit = memo.get(body)
        if hit is None:
            hit = await _record(app, scope, body)
            if hit[0] == 200:
                memo[body] = hit
        status, headers, payload = hit
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    return wrapped


async def _record(
    app: ASGIApp, scope: Scope, body: bytes
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    sent = False
    start: dict[str, Any] = {}
    parts: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        else:
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    payload = b"".join(parts)
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length",)]
    headers.append((b"content-length", str(len(payload)).encode()))
    return int(start.get("status", 500)), headers, payload


def main() -> None:
    import uvicorn

    name, port = sys.argv[1], int(sys.argv[2])
    app = cached(GraphQL(SCHEMAS[name], graphql_ide=None))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
