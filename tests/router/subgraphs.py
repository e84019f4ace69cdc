"""Four tiny Strawberry federation subgraphs shaped like Athena's domain.

They are composed by hand in fixtures/supergraph.graphql (a fifth graph,
finance, is declared there but never started: it stands for a subgraph that
is down). Every app records the requests it receives, so tests can count
fetches and look at what the router sent.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Annotated, Any

import strawberry
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL

# -- data ----------------------------------------------------------------------

CHARTERS = {
    "c1": {"reference": "CH-1", "status": "BOOKED", "vehicles": ["v1", "v2"], "client": "k1"},
    "c2": {"reference": "CH-2", "status": "QUOTE", "vehicles": ["v3"], "client": "k2"},
    "c3": {"reference": "CH-3", "status": "BOOKED", "vehicles": ["v4", "v5", "v6"], "client": "k1"},
}
CAPACITY = {"v1": 50, "v2": 30, "v3": 56, "v4": 12, "v5": 20, "v6": 50}
VEHICLE_VENDOR = {"v1": "a", "v2": "a", "v3": "b", "v4": "b", "v5": None, "v6": "a"}
VENDORS = {"a": ("Alpha Coaches", 4.5), "b": ("Beta Bus", None)}  # b's rating fails
CLIENTS = {"k1": ("Acme Corp", 1000), "k2": ("Globex", 2000)}
DOCUMENTS = [
    {"__typename": "InsuranceDoc", "id": "d1", "title": "COI 2026", "insurer": "Lloyds"},
    {"__typename": "DotDoc", "id": "d2", "title": "DOT permit", "dotNumber": "123"},
]


@dataclass
class Recorder:
    """Requests one subgraph received, in order."""

    bodies: list[dict[str, Any]] = field(default_factory=list)

    def entity_calls(self) -> list[dict[str, Any]]:
        return [b for b in self.bodies if "_entities" in b.get("query", "")]

    def clear(self) -> None:
        self.bodies.clear()


#: mutation call order across subgraphs
CALL_LOG: list[str] = []


def recording(app: ASGIApp, recorder: Recorder) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            msg = await receive()
            chunks.append(msg.get("body", b""))
            more = msg.get("more_body", False)
        body = b"".join(chunks)
        recorder.bodies.append(json.loads(body))
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    return wrapped


# -- charters ------------------------------------------------------------------


@strawberry.enum
class CharterStatus(enum.Enum):
    QUOTE = "QUOTE"
    BOOKED = "BOOKED"


@strawberry.federation.type(keys=["id"])
class CharterVehicle:
    id: strawberry.ID
    capacity: int

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> CharterVehicle:
        return CharterVehicle(id=id, capacity=CAPACITY[id])


@strawberry.federation.type(keys=["id"])
class Client:
    id: strawberry.ID
    name: str = strawberry.federation.field(external=True)


@strawberry.federation.type(keys=["id"])
class Charter:
    id: strawberry.ID
    reference: str
    status: CharterStatus
    internal_note: str | None = strawberry.federation.field(inaccessible=True, default="secret")

    @strawberry.field
    def vehicle_count(self) -> int:
        return len(CHARTERS[self.id]["vehicles"])  # type: ignore[arg-type]

    @strawberry.field
    def vehicles(self) -> list[CharterVehicle]:
        return [CharterVehicle.resolve_reference(v) for v in CHARTERS[self.id]["vehicles"]]

    @strawberry.federation.field(provides=["name"])
    def client(self) -> Client | None:
        cid = str(CHARTERS[self.id]["client"])
        return Client(id=strawberry.ID(cid), name=CLIENTS[cid][0])

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Charter:
        return _charter(id)


def _charter(cid: str) -> Charter:
    c = CHARTERS[cid]
    return Charter(
        id=strawberry.ID(cid),
        reference=str(c["reference"]),
        status=CharterStatus(c["status"]),
    )


@strawberry.type
class ChartersQuery:
    @strawberry.field
    def charters(self) -> list[Charter]:
        return [_charter(c) for c in CHARTERS]

    @strawberry.field
    def charter(self, id: strawberry.ID) -> Charter | None:
        return _charter(id) if id in CHARTERS else None


@strawberry.type(name="Mutation")
class ChartersMutation:
    @strawberry.mutation
    def rename(self, id: strawberry.ID, reference: str) -> Charter | None:
        CALL_LOG.append(f"charters.rename:{reference}")
        if id not in CHARTERS:
            return None
        CHARTERS[id]["reference"] = reference
        return _charter(id)


charters_schema = strawberry.federation.Schema(
    query=ChartersQuery, mutation=ChartersMutation, federation_version="2.9"
)

# -- vendors -------------------------------------------------------------------


@strawberry.enum
class CertificationType(enum.Enum):
    DOT = "DOT"
    MC = "MC"
    INSURANCE = "INSURANCE"


@strawberry.type
class Certification:
    type: CertificationType
    number: str


@strawberry.federation.type(keys=["id"])
class Vendor:
    id: strawberry.ID
    name: str

    @strawberry.field
    def rating(self) -> float:
        value = VENDORS[self.id][1]
        if value is None:
            raise ValueError("rating service unavailable")
        return value

    @strawberry.field
    def certifications(self) -> list[Certification]:
        return [
            Certification(type=CertificationType.DOT, number=f"DOT-{self.id}"),
            Certification(type=CertificationType.INSURANCE, number=f"INS-{self.id}"),
        ]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Vendor:
        return Vendor(id=id, name=VENDORS[id][0])


@strawberry.federation.type(keys=["id"], name="CharterVehicle")
class VendorVehicle:
    id: strawberry.ID

    @strawberry.field
    def vendor(self) -> Vendor | None:
        vid = VEHICLE_VENDOR[self.id]
        return Vendor.resolve_reference(strawberry.ID(vid)) if vid else None

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> VendorVehicle:
        return VendorVehicle(id=id)


@strawberry.federation.interface(keys=["id"])
class Document:
    id: strawberry.ID
    title: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Document:
        return _document(id)


@strawberry.federation.type(keys=["id"])
class InsuranceDoc(Document):
    insurer: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Document:
        return _document(id)


@strawberry.federation.type(keys=["id"])
class DotDoc(Document):
    dot_number: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Document:
        return _document(id)


def _document(did: str) -> Document:
    d = next(x for x in DOCUMENTS if x["id"] == did)
    if d["__typename"] == "InsuranceDoc":
        return InsuranceDoc(id=strawberry.ID(did), title=d["title"], insurer=d["insurer"])
    return DotDoc(id=strawberry.ID(did), title=d["title"], dot_number=d["dotNumber"])


SearchHit = Annotated[Vendor | VendorVehicle, strawberry.union("SearchHit")]


@strawberry.type
class VendorsQuery:
    @strawberry.field
    def search(self) -> list[SearchHit]:
        return [Vendor.resolve_reference(strawberry.ID("a")), VendorVehicle(id=strawberry.ID("v3"))]

    @strawberry.field
    def vendors(self) -> list[Vendor]:
        return [Vendor.resolve_reference(strawberry.ID(v)) for v in VENDORS]

    @strawberry.field
    def documents(self) -> list[Document]:
        return [_document(d["id"]) for d in DOCUMENTS]


vendors_schema = strawberry.federation.Schema(
    query=VendorsQuery,
    types=[VendorVehicle, InsuranceDoc, DotDoc],
    federation_version="2.9",
)

# -- pricing -------------------------------------------------------------------


@strawberry.type
class Quote:
    total: str


@strawberry.federation.type(keys=["id"], name="Charter")
class PricedCharter:
    id: strawberry.ID
    vehicle_count: int = strawberry.federation.field(external=True)

    @strawberry.federation.field(requires=["vehicleCount"])
    def quote(self) -> Quote:
        return Quote(total=f"{self.vehicle_count * 1000}.00")

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, vehicleCount: int = 0) -> PricedCharter:
        return PricedCharter(id=id, vehicle_count=vehicleCount)


@strawberry.federation.interface_object(keys=["id"], name="Document")
class DocumentObject:
    id: strawberry.ID

    @strawberry.field
    def archived(self) -> bool:
        return self.id == "d2"

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> DocumentObject:
        return DocumentObject(id=id)


@strawberry.type
class PricingQuery:
    @strawberry.field
    def pricing_version(self) -> str:
        return "1"


pricing_schema = strawberry.federation.Schema(
    query=PricingQuery, types=[PricedCharter, DocumentObject], federation_version="2.9"
)

# -- sales ---------------------------------------------------------------------


@strawberry.federation.type(keys=["id"], name="Client")
class SalesClient:
    id: strawberry.ID
    name: str
    credit_limit: int

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> SalesClient:
        name, limit = CLIENTS[id]
        return SalesClient(id=id, name=name, credit_limit=limit)


@strawberry.type
class SalesQuery:
    @strawberry.field
    def clients(self) -> list[SalesClient]:
        return [SalesClient.resolve_reference(strawberry.ID(k)) for k in CLIENTS]


@strawberry.type(name="Mutation")
class SalesMutation:
    @strawberry.mutation
    def rename_client(self, id: strawberry.ID, name: str) -> SalesClient | None:
        CALL_LOG.append(f"sales.renameClient:{name}")
        if id not in CLIENTS:
            return None
        CLIENTS[id] = (name, CLIENTS[id][1])
        return SalesClient.resolve_reference(id)


sales_schema = strawberry.federation.Schema(
    query=SalesQuery, mutation=SalesMutation, federation_version="2.9"
)

SCHEMAS: dict[str, strawberry.federation.Schema] = {
    "charters": charters_schema,
    "vendors": vendors_schema,
    "pricing": pricing_schema,
    "sales": sales_schema,
}


def app_for(name: str, recorder: Recorder) -> ASGIApp:
    return recording(GraphQL(SCHEMAS[name], graphql_ide=None), recorder)
