"""schema/access_matrix.csv's `own` root cells, proved through the router both ways.

test_matrix calls every root cell with an id that exists nowhere, which proves only that an
`own` cell gives a stranger nothing. Here each `own` query cell is asked, as its role, on
the role's own row of the module's `World` (tests/access/reach.py) and on another owner's:

- one row (`charter(id)`, `invoice(id)` ...): its own row reads, with no error; another's
  gives no data (NOT_FOUND or FORBIDDEN; null where the field is nullable: `tourBooking`);
- a list (`myCharters`, `leads` ...): holds its own row and not another's.

`OWN_QUERIES` states the probes as data; `NOT_PROBED` names each `own` root cell (query
or mutation) this file does not call, with why. The coverage test fails when a cell is
`own` in the matrix and is in neither (or a probe names a role the cell is not `own` for).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.access import reach as R
from tests.access.probe import AUTH_CODES, post_operations
from tests.support.live_server import LiveServer
from tools import access_matrix as M


def _edges(*path: str) -> Callable[[Any], list[str]]:
    def ids(data: Any) -> list[str]:
        for name in path:
            data = data[name]
        nodes = [e["node"] for e in data["edges"]] if isinstance(data, dict) else data
        return [n["id"] for n in nodes]

    return ids


@dataclass(frozen=True)
class OwnProbe:
    """`document` asks `$id` (a World row: `mine` for its own, `theirs` for another's).

    A one-row probe (`ids` None) expects `mine` to read and `theirs` refused. A list probe
    (`ids`: the row ids of the answer) asks once, with `$id` bound to `scope` if given, and
    expects `mine` among the ids and `theirs` not (a second call with `other_scope`, if
    given, expects `theirs` absent there too).
    """

    key: str
    roles: tuple[str, ...]
    document: str
    mine: str
    theirs: str
    ids: Callable[[Any], list[str]] | None = None
    scope: str | None = None
    other_scope: str | None = None


PORTALS = ("client", "vendor", "driver")

OWN_QUERIES: tuple[OwnProbe, ...] = (
    OwnProbe(
        "Query.charter",
        PORTALS,
        "query($id: ID!) { r: charter(id: $id) { id } }",
        "charter",
        "third_charter",
    ),
    OwnProbe(
        "Query.charterSeries",
        ("client",),
        "query($id: ID!) { r: charterSeries(id: $id) { id } }",
        "series",
        "other_series",
    ),
    OwnProbe(
        "Query.charters",
        ("sales_agent",),
        "query($id: ID) { r: charters(first: 100, where: {clientId: $id}) "
        "{ edges { node { id } } } }",
        "charter",
        "third_charter",
        _edges("r"),
        scope="client",
        other_scope="other_client",
    ),
    OwnProbe(
        "Query.client",
        ("client",),
        "query($id: ID!) { r: client(id: $id) { id } }",
        "client",
        "other_client",
    ),
    OwnProbe(
        "Query.invoice",
        ("client",),
        "query($id: ID!) { r: invoice(id: $id) { id } }",
        "invoice",
        "other_invoice",
    ),
    OwnProbe(
        "Query.lead",
        ("sales_agent",),
        "query($id: ID!) { r: lead(id: $id) { id } }",
        "lead",
        "other_lead",
    ),
    OwnProbe(
        "Query.leads",
        ("sales_agent",),
        "{ r: leads(first: 100) { edges { node { id } } } }",
        "lead",
        "other_lead",
        _edges("r"),
    ),
    OwnProbe(
        "Query.myAssignments",
        ("vendor",),
        "{ r: myAssignments(window: PENDING, first: 100) { edges { node { id } } } }",
        "assignment",
        "other_assignment",
        _edges("r"),
    ),
    OwnProbe(
        "Query.myBids",
        ("vendor",),
        "{ r: myBids(first: 100) { edges { node { id } } } }",
        "bid",
        "other_bid",
        _edges("r"),
    ),
    OwnProbe(
        "Query.myCharters",
        ("client",),
        "{ r: myCharters(first: 100) { edges { node { id } } } }",
        "charter",
        "third_charter",
        _edges("r"),
    ),
    OwnProbe(
        "Query.myClient",
        ("client",),
        "{ r: myClient { id } }",
        "client",
        "other_client",
        lambda d: [d["r"]["id"]],
    ),
    OwnProbe(
        "Query.myTourBookings",
        PORTALS,
        "{ r: myTourBookings { id } }",
        "booking:{role}",
        "booking:other",
        _edges("r"),
    ),
    OwnProbe(
        "Query.myTrips",
        ("driver",),
        "{ r: myTrips { id } }",
        "vehicle",
        "third_vehicle",
        _edges("r"),
    ),
    OwnProbe(
        "Query.myVendor",
        ("vendor",),
        "{ r: myVendor { id } }",
        "vendor",
        "other_vendor",
        lambda d: [d["r"]["id"]],
    ),
    OwnProbe(
        "Query.tourBooking",
        PORTALS,
        "query($id: ID!) { r: tourBooking(id: $id) { id } }",
        "booking:{role}",
        "booking:other",
    ),
    OwnProbe(
        "Query.trip",
        ("driver",),
        "query($id: ID!) { r: trip(id: $id) { id } }",
        "vehicle",
        "third_vehicle",
    ),
    OwnProbe("Query.user", PORTALS, "query($id: ID!) { r: user(id: $id) { id } }", "self", "agent"),
    OwnProbe(
        "Query.vendor",
        ("vendor",),
        "query($id: ID!) { r: vendor(id: $id) { id } }",
        "vendor",
        "other_vendor",
    ),
)

#: `own` root cells not called here, each with why.
NOT_PROBED: dict[str, str] = {
    **{
        f"Mutation.{name} {role}": "needs a tour waitlist entry (a sold-out departure): "
        "not built by the World"
        for name in ("acceptTourWaitlistOffer", "cancelTourWaitlistEntry")
        for role in PORTALS
    },
    **{
        f"Query.myTourWaitlistEntries {role}": "needs a tour waitlist entry (a sold-out "
        "departure): not built by the World"
        for role in PORTALS
    },
    "Mutation.createBid vendor": "the bid's vendor is the caller's own (from its token): "
    "no argument names another vendor's row",
    "Query.vendorBill vendor": "needs vendor bills (finance bills a completed assignment): "
    "not built by the World",
    "Query.vendorBills vendor": "needs vendor bills: not built by the World",
    "Mutation.removePaymentMethod client": "needs another client's saved card (a payment "
    "provider token): not built by the World",
    "Mutation.respondToRating vendor": "needs a rating of another vendor: not built by the World",
    "Mutation.startImpersonation sales_agent": "own means its own clients' accounts: needs a "
    "client user tied to another agent's client; not built by the World",
    "Mutation.uploadCharterDocumentVersion client": "needs another client's document: not "
    "built by the World",
    "Mutation.uploadCharterDocumentVersion vendor": "needs another vendor's document: not "
    "built by the World",
}


def own_cells(matrix: dict[str, M.Row]) -> set[str]:
    return {
        f"{key} {role}"
        for key, row in matrix.items()
        if key.split(".", 1)[0] in ("Query", "Mutation")
        for role, cell in row.items()
        if cell == M.OWN
    }


#: One worker runs the module: its World is built once (pytest -n with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("access_own_cells")


@pytest.fixture(autouse=True)
def _isolate(module_isolation: None) -> None:
    """The module's World is built once: tables are emptied after the module, not each test."""


@pytest.fixture(scope="module")
def matrix() -> dict[str, M.Row]:
    return M.read_matrix()


def test_every_own_root_cell_has_a_probe_or_a_stated_reason(matrix: dict[str, M.Row]) -> None:
    probed = {f"{p.key} {r}" for p in OWN_QUERIES for r in p.roles}
    probed |= {
        f"Mutation.{n} {r}"
        for n in OTHERS_ROW
        for r in M.ROLES
        if matrix[f"Mutation.{n}"][r] == M.OWN
    }
    cells = own_cells(matrix)
    assert probed <= cells, probed - cells
    assert set(NOT_PROBED) <= cells, set(NOT_PROBED) - cells
    assert not probed & set(NOT_PROBED)
    assert sorted(cells - probed - set(NOT_PROBED)) == []


def _ops(p: OwnProbe, world: R.World, role: str) -> list[dict[str, Any]]:
    if p.ids is None:
        return [
            {"query": p.document, "variables": {"id": world.row(p.mine.format(role=role), role)}},
            {"query": p.document, "variables": {"id": world.row(p.theirs, role)}},
        ]
    scopes: list[str | None] = [s for s in (p.scope, p.other_scope) if s] or [None]
    return [
        {"query": p.document, "variables": {"id": world.row(s, role)} if s else {}} for s in scopes
    ]


def _judge(p: OwnProbe, world: R.World, role: str, bodies: list[dict[str, Any]]) -> str | None:
    mine, theirs = world.row(p.mine.format(role=role), role), world.row(p.theirs, role)
    if p.ids is None:
        own, other = bodies
        got = (own.get("data") or {}).get("r")
        if own.get("errors") or not got or got.get("id") != mine:
            return f"{p.key} {role}: its own row answered {own}"
        # refused (NOT_FOUND, FORBIDDEN) or, where the field is nullable, null
        if (other.get("data") or {}).get("r"):
            return f"{p.key} {role}: another's row answered {other}"
        return None
    seen = []
    for body in bodies:
        if body.get("errors") or not body.get("data"):
            return f"{p.key} {role}: answered {body}"
        seen.append(p.ids(body["data"]))
    if mine not in seen[0]:
        return f"{p.key} {role}: its own row {mine} is not in {seen[0]}"
    if any(theirs in ids for ids in seen):
        return f"{p.key} {role}: another's row {theirs} is in {seen}"
    return None


async def test_every_own_query_cell_reads_its_own_row_and_not_another_s(
    graph: LiveServer, http_client: httpx.AsyncClient, world: R.World, matrix: dict[str, M.Row]
) -> None:
    wrong = []
    for role in M.ROLES:
        probes = [p for p in OWN_QUERIES if role in p.roles]
        if not probes:
            continue
        plan = [(p, _ops(p, world, role)) for p in probes]
        items = [op for _, ops in plan for op in ops]
        bodies = await post_operations(http_client, graph.graphql_url, world.tokens[role], items)
        at = 0
        for p, ops in plan:
            assert matrix[p.key][role] == M.OWN
            why = _judge(p, world, role, bodies[at : at + len(ops)])
            at += len(ops)
            if why:
                wrong.append(why)
    assert wrong == [], "\n".join(wrong)


#: Each `own` mutation, called as its role on another owner's row: argument (or
#: `argument.inputField`) -> the World row named there; the rest minimal literals.
OTHERS_ROW: dict[str, dict[str, str]] = {
    "acceptQuote": {"charterId": "other_charter"},
    "addCertification": {"vendorId": "other_vendor"},
    "addTripNote": {"tripId": "third_vehicle"},
    "cancelCharter": {"id": "third_charter"},
    "cancelTourBooking": {"input.reference": "booking_ref:other"},
    "completeTrip": {"id": "third_vehicle"},
    "confirmTrip": {"id": "third_vehicle"},
    "convertLead": {"id": "other_lead"},
    "disableAutopay": {"clientId": "other_client"},
    "logLeadActivity": {"leadId": "other_lead"},
    "markLeadHot": {"id": "other_lead"},
    "modifyTourBooking": {"input.reference": "booking_ref:other"},
    "payByCard": {"input.charterId": "third_charter"},
    "payFromPlan": {"input.charterId": "third_charter"},
    "postPositions": {"tripId": "third_vehicle", "positions.recordedAt": "=now"},
    "rateVendor": {"charterId": "third_charter", "vendorId": "other_vendor"},
    "respondToAssignment": {"id": "other_assignment"},
    "savePaymentMethod": {"input.clientId": "other_client"},
    "setAutopay": {"clientId": "other_client"},
    # a move the charter's state allows (booked -> confirmed): only ownership refuses it
    "setCharterStatus": {"id": "third_charter", "status": "!CONFIRMED"},
    "setLeadStatus": {"id": "other_lead"},
    "startTrip": {"id": "third_vehicle"},
    "updateCharter": {"id": "third_charter"},
    "updateClient": {"id": "other_client"},
    "updateClientNotificationPreferences": {"clientId": "other_client"},
    "updateLead": {"id": "other_lead"},
    "updateVendor": {"id": "other_vendor"},
    "submitBid": {"id": "other_bid"},
    "withdrawBid": {"id": "other_bid"},
    # a category the role uploads (charters' DOCUMENT_UPLOADS): only the owner check refuses
    "uploadCharterDocument": {"charterId": "third_charter", "category": "!{category}"},
    "uploadVendorDocument": {"vendorId": "other_vendor"},
    "arriveAtStop": {"tripId": "third_vehicle"},
    "departStop": {"tripId": "third_vehicle"},
    "completeChecklistItem": {"tripId": "third_vehicle"},
    "uploadTripPhoto": {"tripId": "third_vehicle"},
}


def _mutation(api: Any, name: str, rows: dict[str, str]) -> str:
    """`m: name(...) { __typename }`, `rows` (argument path -> an id literal) bound."""
    from graphql import GraphQLInputObjectType, GraphQLNonNull, get_named_type, is_leaf_type
    from graphql.pyutils import Undefined

    from tests.access.probe import literal

    field = api.mutation_type.fields[name]
    args = []
    uploads = [a for a, x in field.args.items() if get_named_type(x.type).name == "Upload"]
    for arg, a in field.args.items():
        if arg in uploads:
            args.append(f"{arg}: ${arg}")
            continue
        if arg in rows:
            value = rows[arg]
            args.append(f"{arg}: {value[1:]}" if value.startswith("!") else f'{arg}: "{value}"')
            continue
        inner = {k.split(".", 1)[1]: v for k, v in rows.items() if k.startswith(f"{arg}.")}
        t = get_named_type(a.type)
        if inner and isinstance(t, GraphQLInputObjectType):
            parts = [f'{k}: "{v}"' for k, v in inner.items()]
            parts += [
                f"{k}: {literal(f.type)}"
                for k, f in t.fields.items()
                if k not in inner
                and isinstance(f.type, GraphQLNonNull)
                and f.default_value is Undefined
            ]
            args.append(f"{arg}: {{{', '.join(parts)}}}")
        elif isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined:
            args.append(f"{arg}: {literal(a.type)}")
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    if selection and "userErrors" in get_named_type(field.type).fields:
        selection = " { __typename userErrors { code field } }"
    head = "mutation" + (f"({', '.join(f'${u}: Upload!' for u in uploads)})" if uploads else "")
    return f"{head} {{ m: {name}({', '.join(args)}){selection} }}"


#: A file the document and photo checks accept, so that the question asked is whose row.
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


#: The document category each role uploads (charters' `access.DOCUMENT_UPLOADS`).
UPLOAD_CATEGORY = {"client": "CLIENT_DOCUMENT", "vendor": "VENDOR_BID"}


def _bound(world: R.World, value: str, role: str) -> str:
    """A World row's id, `=now` (the current instant) or `!literal` (GraphQL, as it is)."""
    value = value.format(role=role, category=UPLOAD_CATEGORY.get(role, ""))
    if value == "=now":
        return datetime.now(UTC).isoformat()
    if value.startswith("!"):
        return value
    return str(world.row(value, role))


async def _upload(http: httpx.AsyncClient, url: str, token: str | None, query: str) -> Any:
    """The GraphQL multipart request (what apollo-upload-client sends), one file."""
    headers = {"apollo-require-preflight": "true"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await http.post(
        url,
        data={
            "operations": json.dumps({"query": query, "variables": {"file": None}}),
            "map": json.dumps({"1": ["variables.file"]}),
        },
        files={"1": ("probe.pdf", PDF, "application/pdf")},
        headers=headers,
    )
    assert response.status_code < 500, response.text
    return response.json()


#: userErrors that name the row (`id`, `vendorId`) rather than the argument holding it.
ROW_FIELDS: dict[str, set[str]] = {"logLeadActivity": {"id"}, "updateVendor": {"vendorId"}}


def _refused(body: dict[str, Any], rows: dict[str, str], name: str) -> bool:
    """An auth error, or NOT_FOUND naming the argument that holds another's row (not an
    unknown id among the minimal literals)."""
    codes = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or []}
    payload = (body.get("data") or {}).get("m") or {}
    named = {k.rsplit(".", 1)[-1] for k in rows} | {None} | ROW_FIELDS.get(name, set())
    for u in payload.get("userErrors") or []:
        if u.get("code") in AUTH_CODES or (
            u.get("code") == "NOT_FOUND" and u.get("field") in named
        ):
            codes.add("FORBIDDEN")
    return bool(codes & (AUTH_CODES | {"NOT_FOUND"}))


async def _call(
    graph: LiveServer,
    http_client: httpx.AsyncClient,
    world: R.World,
    api: Any,
    role: str,
    names: list[str],
    row_of: Callable[[str], str],
) -> list[tuple[str, str, Any]]:
    """Each named mutation called as `role` on the rows `row_of` picks: (name, query, answer).

    Batched in one POST, but for uploads, which go as multipart requests of their own.
    """
    queries = []
    for name in names:
        rows = {k: _bound(world, row_of(v), role) for k, v in OTHERS_ROW[name].items()}
        queries.append(_mutation(api, name, rows))
    token = world.tokens[role]
    posted = [{"query": q} for q in queries if "Upload!" not in q]
    answers = iter(await post_operations(http_client, graph.graphql_url, token, posted))
    bodies = [
        await _upload(http_client, graph.graphql_url, token, q) if "Upload!" in q else next(answers)
        for q in queries
    ]
    return list(zip(names, queries, bodies, strict=True))


async def test_every_own_mutation_cell_refuses_another_owner_s_row(
    graph: LiveServer, http_client: httpx.AsyncClient, world: R.World, matrix: dict[str, M.Row]
) -> None:
    api = M.api_schema()
    wrong = []
    for role in M.ROLES:
        names = sorted(n for n in OTHERS_ROW if matrix[f"Mutation.{n}"][role] == M.OWN)
        if not names:
            continue
        called = await _call(graph, http_client, world, api, role, names, lambda row: row)
        for name, query, body in called:
            if not _refused(body, OTHERS_ROW[name], name):
                wrong.append(f"Mutation.{name} {role}: {query} answered {body}")
    assert wrong == [], "\n".join(wrong)


#: Another owner's row -> the role's own row of the same kind (the World's).
OWN_ROW = {
    "other_charter": "charter",
    "third_charter": "charter",
    "third_vehicle": "vehicle",
    "other_vendor": "vendor",
    "other_lead": "lead",
    "other_client": "client",
    "other_assignment": "assignment",
    "booking_ref:other": "booking_ref:{role}",
    "other_bid": "bid",
}


async def test_every_own_mutation_cell_reaches_its_own_row(
    graph: LiveServer, http_client: httpx.AsyncClient, world: R.World, matrix: dict[str, M.Row]
) -> None:
    """The same calls on the role's own rows get past the owner check: no auth error and no
    NOT_FOUND on that argument (a state or input userError is the row's own answer). Last in
    the module: these may change the World's rows."""
    api = M.api_schema()
    wrong = []
    # the portals first: a sales agent's own calls cancel the World's charter
    for role in (*PORTALS, *(r for r in M.ROLES if r not in PORTALS)):
        names = sorted(n for n in OTHERS_ROW if matrix[f"Mutation.{n}"][role] == M.OWN)
        if not names:
            continue
        own_row = lambda row: OWN_ROW.get(row, row)  # noqa: E731
        for name, query, body in await _call(graph, http_client, world, api, role, names, own_row):
            if _refused(body, OTHERS_ROW[name], name):
                wrong.append(f"Mutation.{name} {role}: {query} answered {body}")
    assert wrong == [], "\n".join(wrong)
