"""Which row of each object type each role reaches through the router, stated as data.

The root cells of schema/access_matrix.csv are probed field by field (test_matrix). An
object field with a rule of its own (any cell other than `inherits`) is probed on a row of
its type that the role can reach: `REACH` names, per type and per kind of role, the root
query that reaches such a row and which row of the `World` it asks for. Where a role
reaches no row of a type, `UNREACHED` says why (a root cell that refuses it); a test fails
when a ruled field's type and role have neither (test_object_cells).

`World` is the handful of rows built once per module through the router as an admin
(charters learns clients, agents and vendor links from other subgraphs' events: those are
applied with charters' own handlers, as test_matrix and the portal tests do).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.charters.service import directory, vendor_access
from tests.support.charters_fixtures import (
    CREATE_CHARTER,
    CREATE_TYPE,
    client_event,
    event_now,
)
from tests.support.graphql_client import GraphQLClient
from tests.support.tokens import TokenMinter
from tools import access_matrix as M

STAFF, CLIENT, VENDOR, DRIVER, ANONYMOUS = "staff", "client", "vendor", "driver", "anonymous"


def kind(role: str) -> str:
    """Staff roles reach rows alike; the others each as themselves."""
    return STAFF if role in M.STAFF else role


def reach_for(type_name: str, role: str) -> Reach | None:
    """The role's own entry, else its kind's."""
    kinds = REACH.get(type_name, {})
    return kinds.get(role) or kinds.get(kind(role))


def unreached(type_name: str, role: str) -> str | None:
    return UNREACHED.get((type_name, role)) or UNREACHED.get((type_name, kind(role)))


@dataclass(frozen=True)
class Reach:
    """`root` selects the object (`%s`: the probed fields) from `$id`, the World's `row`."""

    root: str
    row: str | None
    #: The GraphQL type of `$id`.
    variable: str = "ID!"
    #: Names from the root field down to the object (list indices are skipped).
    path: tuple[str, ...] = ()


_CHARTER = Reach("charter(id: $id) { %s }", "charter", path=("charter",))
_VEHICLES = Reach("charter(id: $id) { vehicles { %s } }", "charter", path=("charter", "vehicles"))
_STOPS = Reach("charter(id: $id) { stops { %s } }", "charter", path=("charter", "stops"))
_USER = Reach("user(id: $id) { %s }", "agent", path=("user",))
_ME = Reach("user(id: $id) { %s }", "self", path=("user",))

#: type -> kind of role (or one role) -> how it reaches a row of it. Staff read the world's rows;
#: a client its company's charter, a vendor the charter it is assigned, a driver the
#: charter it drives, a quote-link holder the quote it holds.
REACH: dict[str, dict[str, Reach]] = {
    "Charter": {STAFF: _CHARTER, CLIENT: _CHARTER, VENDOR: _CHARTER, DRIVER: _CHARTER},
    "CharterVehicle": {STAFF: _VEHICLES, CLIENT: _VEHICLES, VENDOR: _VEHICLES, DRIVER: _VEHICLES},
    "Stop": {
        STAFF: _STOPS,
        CLIENT: _STOPS,
        VENDOR: _STOPS,
        DRIVER: _STOPS,
        ANONYMOUS: Reach(
            "quoteByLink(token: $id) { stops { %s } }",
            "quote_token",
            "String!",
            ("quoteByLink", "stops"),
        ),
    },
    "CharterSeries": {
        k: Reach("charterSeries(id: $id) { %s }", "series", path=("charterSeries",))
        for k in (STAFF, CLIENT)
    },
    "Client": {
        k: Reach("client(id: $id) { %s }", "client", path=("client",)) for k in (STAFF, CLIENT)
    },
    # staff read the world's sales agent (a sales agent: itself); the others their own account
    "User": {STAFF: _USER, CLIENT: _ME, VENDOR: _ME, DRIVER: _ME},
    "Vendor": {
        k: Reach("vendor(id: $id) { %s }", "vendor", path=("vendor",)) for k in (STAFF, VENDOR)
    },
    "Invoice": {
        k: Reach("invoice(id: $id) { %s }", "invoice", path=("invoice",))
        for k in ("admin", "manager", "accounting", CLIENT)
    },
    "Payment": {
        **{
            k: Reach("payment(id: $id) { %s }", "payment", path=("payment",))
            for k in ("admin", "manager", "accounting")
        },
        CLIENT: Reach(
            "charter(id: $id) { payments { payment { %s } } }",
            "charter",
            path=("charter", "payments", "payment"),
        ),
    },
    "Tour": {
        k: Reach("tour(id: $id) { %s }", "tour", path=("tour",))
        for k in (STAFF, CLIENT, VENDOR, DRIVER, ANONYMOUS)
    },
    "DepartureSlot": {
        k: Reach("departureSlot(id: $id) { %s }", "slot", path=("departureSlot",))
        for k in (STAFF, CLIENT, VENDOR, DRIVER, ANONYMOUS)
    },
    "TourBlackout": {
        k: Reach("tourBlackouts(includeInactive: false) { %s }", None, path=("tourBlackouts",))
        for k in (STAFF, CLIENT, VENDOR, DRIVER, ANONYMOUS)
    },
}

#: (type, kind or role) -> why it reaches no row of the type (its roots refuse it).
UNREACHED: dict[tuple[str, str], str] = {
    **{
        ("Invoice", r): "Query.invoice and Charter.invoices deny it (finance staff, own client)"
        for r in ("sales_agent", "sales_support", "dispatcher", VENDOR, DRIVER, ANONYMOUS)
    },
    **{
        ("Payment", r): "Query.payment(s) deny it; PaymentApplication.payment refuses all "
        "but finance staff and the client that paid"
        for r in ("sales_agent", "sales_support", "dispatcher", VENDOR, DRIVER, ANONYMOUS)
    },
    ("Charter", ANONYMOUS): "Query.charter and every Charter root deny anonymous; "
    "quoteByLink answers a PublicQuote, not a Charter",
    ("CharterVehicle", ANONYMOUS): "reached only through a Charter (anonymous reaches none)",
    ("CharterSeries", VENDOR): "Query.charterSeries denies vendor; Charter.series is client-only",
    ("CharterSeries", DRIVER): "Query.charterSeries denies driver; Charter.series is client-only",
    ("CharterSeries", ANONYMOUS): "Query.charterSeries denies anonymous",
    ("Client", VENDOR): "Query.client, myClient, clients and Charter.client deny vendor",
    ("Client", DRIVER): "Query.client, myClient, clients and Charter.client deny driver",
    ("Client", ANONYMOUS): "Query.client, myClient, clients and Charter.client deny anonymous",
    ("User", ANONYMOUS): "Query.user, me and users deny anonymous",
    ("Vendor", CLIENT): "Query.vendor, myVendor and vendors deny client; "
    "CharterVehicle.vendor is vendor/staff only",
    ("Vendor", DRIVER): "Query.vendor, myVendor and vendors deny driver; "
    "CharterVehicle.vendor is vendor/staff only",
    ("Vendor", ANONYMOUS): "Query.vendor, myVendor and vendors deny anonymous",
}


#: type -> how a staff role reaches its own row where its kind's `REACH` row is another's
#: (staff read the world's sales agent; a person's own account is its own row, e.g.
#: `User.notificationPreferences`: the person and admins). test_object_cells asks a staff
#: role's `own` cells of the type on this row, and on the `REACH` row as refused.
OWN_REACH: dict[str, Reach] = {"User": _ME}


def ruled_fields(matrix: dict[str, M.Row], object_types: set[str]) -> dict[str, M.Row]:
    """Object-type fields whose line states a rule of its own (not all `inherits`)."""
    return {
        key: row
        for key, row in matrix.items()
        if key.split(".", 1)[0] in object_types and set(row.values()) != {M.INHERITS}
    }


def uncovered(matrix: dict[str, M.Row], object_types: set[str]) -> list[str]:
    """`Type.field role` of every ruled cell with neither a reach nor a stated reason."""
    out = []
    for key in ruled_fields(matrix, object_types):
        type_name = key.split(".", 1)[0]
        for role in M.ROLES:
            if reach_for(type_name, role) is None and unreached(type_name, role) is None:
                out.append(f"{key} {role}")
    return out


# --- the rows --------------------------------------------------------------------------------

CREATE_USER = """mutation($input: CreateUserInput!) {
  createUser(input: $input) { user { id } userErrors { field code message } } }"""
CREATE_CLIENT = """mutation($input: CreateClientInput!) {
  createClient(input: $input) { client { id } userErrors { field code message } } }"""
SET_STATUS = """mutation($id: ID!) {
  setCharterStatus(id: $id, status: BOOKED) { userErrors { field code message } } }"""
QUOTE_LINK = """mutation($id: ID!) {
  createQuoteLink(id: $id) { token userErrors { field code message } } }"""
CREATE_VEHICLE = """mutation($plate: String!, $type: ID!) {
  createVehicle(plate: $plate, vehicleTypeId: $type) { vehicle { id } userErrors { code } } }"""
CREATE_DRIVER = """mutation($userId: ID!, $expires: Date!) {
  createDriver(userId: $userId, name: "Dana Probe", licenceClass: "CDL-B",
    licenceExpiresOn: $expires) { driver { id } userErrors { field code message } } }"""
ASSIGN_BUS = """mutation($cv: ID!, $vehicle: ID, $driver: ID) {
  assignCharterVehicle(charterVehicleId: $cv, vehicleId: $vehicle, driverId: $driver) {
    userErrors { field code message } } }"""
CREATE_VENDOR = """mutation($input: VendorInput!) {
  createVendor(input: $input) { vendor { id } userErrors { field code message } } }"""
LINK_VENDOR = """mutation($vendorId: ID!, $userId: ID!) {
  linkVendorUser(vendorId: $vendorId, userId: $userId) { userErrors { field code message } } }"""
SAVE_TEMPLATE = """mutation($id: ID!, $name: String!) {
  saveCharterAsTemplate(charterId: $id, name: $name) {
    template { id } userErrors { field code message } } }"""
CREATE_SERIES = """mutation($input: CreateCharterSeriesInput!) {
  createCharterSeries(input: $input) { series { id } userErrors { field code message } } }"""

CHICAGO = ZoneInfo("America/Chicago")
MEMPHIS = (
    {"latitude": 35.1382, "longitude": -90.0506},
    {"latitude": 35.0477, "longitude": -90.0260},
)


@dataclass
class World:
    """Rows for the probes: `charter` is `client`'s, its agent `agent` (the sales agent's
    own account), assigned to `vendor` (the vendor role's) and driven by the driver role;
    `other_charter` (a quote, `quote_token`'s) is `other_client`'s, sold by `other_agent`."""

    charter: str
    other_charter: str
    client: str
    other_client: str
    agent: str
    other_agent: str
    vendor: str
    series: str
    quote_token: str
    tour: str
    slot: str
    #: `client`'s, for `charter`; `payment` applied to it
    invoice: str
    payment: str
    #: role -> the identity account its token names
    users: dict[str, str] = field(default_factory=dict)
    #: Rows of another owner, and a role's own rows beyond the above (`_more_rows`).
    more: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str | None] = field(default_factory=dict)

    def row(self, name: str | None, role: str) -> str | None:
        if name is None:
            return None
        if name == "self":
            return self.users[role]
        if name == "agent" and role == "sales_agent":
            return self.users[role]
        if name in self.more:
            return self.more[name]
        return str(getattr(self, name))


def _ok(answer: Any, name: str) -> dict[str, Any]:
    payload: dict[str, Any] = answer.ok()[name]
    assert payload.get("userErrors") in (None, []), payload
    return payload


def pickup_local(hours: float) -> str:
    at = datetime.now(UTC).astimezone(CHICAGO) + timedelta(hours=hours)
    return at.replace(second=0, microsecond=0, tzinfo=None).isoformat(timespec="minutes")


async def _apply(
    sessions: async_sessionmaker[AsyncSession],
    handler: Callable[[AsyncSession, dict[str, Any]], Awaitable[None]],
    event: dict[str, Any],
) -> None:
    """Deliver one event to a projection's handler, as its consumer would."""
    async with sessions() as session, session.begin():
        await handler(session, event)


#: What a module's World holds beyond its charters, clients, agents, vendor and driver:
#: `money` an invoice and a payment, `tours` the tours demo's rows, `more` another owner's
#: row for every own cell (`_more_rows`, which needs the other two), `accounts` an identity
#: account for each staff role but admin (its own `User` row).
PARTS = frozenset({"money", "tours", "more", "accounts"})


async def build_world(
    url: str,
    http: Any,
    mint: TokenMinter,
    sessions: async_sessionmaker[AsyncSession],
    parts: frozenset[str] = PARTS,
) -> World:
    admin = GraphQLClient(url, http, await mint("admin"))
    # accounts the probes read (`user(id)`, a staff role's own: `OWN_REACH`); the admin's
    # token names no account, as in test_matrix
    users = {r: str(uuid.uuid4()) for r in M.STAFF}
    accounts = [r for r in M.STAFF if r != "admin"] if "accounts" in parts else ["sales_agent"]
    for role in (*accounts, "client", "vendor", "driver", "sales_agent#other"):
        name = role.split("#")[0]
        answer = await admin(
            CREATE_USER,
            {
                "input": {
                    "email": f"probe-{uuid.uuid4().hex[:10]}@example.com",
                    "name": f"Probe {name}",
                    "roles": [name.upper()],
                    "password": "correct horse battery staple 1",
                }
            },
        )
        users[role] = _ok(answer, "createUser")["user"]["id"]
    agent, other_agent = users["sales_agent"], users.pop("sales_agent#other")
    for user in (agent, other_agent):
        await _apply(
            sessions,
            directory.apply_user_event,
            event_now({"userId": user, "roles": ["sales_agent"], "active": True}),
        )
    companies = []
    for name, seller in (("Probe Own Co", agent), ("Probe Other Co", other_agent)):
        answer = await admin(
            CREATE_CLIENT, {"input": {"name": name, "type": "CORPORATE", "salesAgentId": seller}}
        )
        company = _ok(answer, "createClient")["client"]["id"]
        await _apply(sessions, directory.apply_client_event, client_event(company, name))
        companies.append(company)
    vtype = _ok(
        await admin(CREATE_TYPE, {"name": f"Coach {uuid.uuid4().hex[:6]}", "capacity": 56}),
        "createVehicleType",
    )["vehicleType"]["id"]

    async def charter(company: str, seller: str, hours: float) -> dict[str, Any]:
        data = {
            "clientId": company,
            "salesAgentId": seller,
            "tripType": "ONE_WAY",
            "passengerCount": 40,
            "pickupLocal": pickup_local(hours),
            "pickupTimeZone": "America/Chicago",
            "stops": [
                # in the vendors' service area (Memphis): the charter is offered to them
                {"type": "PICKUP", "address": "FedExForum, Memphis", **MEMPHIS[0]},
                {"type": "DROPOFF", "address": "Graceland, Memphis", **MEMPHIS[1]},
            ],
            "vehicles": [{"vehicleTypeId": vtype, "cost": "1250.00"}],
        }
        made: dict[str, Any] = _ok(await admin(CREATE_CHARTER, {"input": data}), "createCharter")
        return made["charter"]  # type: ignore[no-any-return]

    own = await charter(companies[0], agent, 24 * 2)  # within the driver's week (myTrips)
    # another client's, another agent's, still a quote: the link's
    other = await charter(companies[1], other_agent, 24 * 21)
    token = _ok(await admin(QUOTE_LINK, {"id": other["id"]}), "createQuoteLink")["token"]
    template = _ok(
        await admin(SAVE_TEMPLATE, {"id": own["id"], "name": f"Probe {uuid.uuid4().hex[:6]}"}),
        "saveCharterAsTemplate",
    )["template"]["id"]
    series = _ok(
        await admin(
            CREATE_SERIES,
            {
                "input": {
                    "name": "Probe weekly",
                    "templateId": template,
                    "rrule": "FREQ=WEEKLY;COUNT=2",
                    "startsLocal": pickup_local(24 * 40),
                    "timeZone": "America/Chicago",
                }
            },
        ),
        "createCharterSeries",
    )["series"]["id"]
    _ok(await admin(SET_STATUS, {"id": own["id"]}), "setCharterStatus")
    # the driver role drives it, in the world's bus
    expires = (datetime.now(UTC).date() + timedelta(days=800)).isoformat()
    driver = _ok(
        await admin(CREATE_DRIVER, {"userId": users["driver"], "expires": expires}),
        "createDriver",
    )["driver"]["id"]
    bus = _ok(
        await admin(CREATE_VEHICLE, {"plate": f"P-{uuid.uuid4().hex[:8]}", "type": vtype}),
        "createVehicle",
    )["vehicle"]["id"]
    _ok(
        await admin(ASSIGN_BUS, {"cv": own["vehicles"][0]["id"], "vehicle": bus, "driver": driver}),
        "assignCharterVehicle",
    )
    # the vendor role works for a vendor that charters knows is assigned to the charter
    vendor = await _vendor(admin, "Probe Coaches")
    _ok(await admin(LINK_VENDOR, {"vendorId": vendor, "userId": users["vendor"]}), "linkVendorUser")
    await _apply(
        sessions,
        vendor_access.apply_vendor_user_event,
        event_now({"userId": users["vendor"], "vendorId": vendor}),
    )
    await _apply(
        sessions,
        vendor_access.apply_access_event,
        event_now(
            {
                "charterId": own["id"],
                "asOf": datetime.now(UTC).isoformat(),
                "vendors": [{"vendorId": vendor, "reasons": ["assignment"]}],
            }
        ),
    )
    invoice = payment = tour = slot = ""
    if "money" in parts:
        invoice, payment = await _money(admin, own["id"], companies[0], sessions)
    if "tours" in parts:
        tour, slot = await _tour_rows(sessions)
    world = World(
        charter=own["id"],
        other_charter=other["id"],
        client=companies[0],
        other_client=companies[1],
        agent=agent,
        other_agent=other_agent,
        vendor=vendor,
        series=series,
        quote_token=token,
        tour=tour,
        slot=slot,
        invoice=invoice,
        payment=payment,
        users=users,
    )
    world.more["driver"], world.more["vehicle_type"] = driver, vtype
    if "more" in parts:
        await _more_rows(admin, world, vtype, companies, mint, sessions)
    for role in M.ROLES:
        if role == M.ANONYMOUS:
            world.tokens[role] = None
            continue
        world.tokens[role] = await mint(
            role,
            user_id=uuid.UUID(users[role]),
            client_id=uuid.UUID(companies[0]) if role == "client" else None,
        )
    return world


ASSIGN_VENDOR = """mutation($cv: ID!, $vendor: ID!) {
  assignVendor(charterVehicleId: $cv, vendorId: $vendor, amount: "900.00") {
    assignment { id } userErrors { field code message } } }"""
CREATE_LEAD = """mutation($input: CreateLeadInput!) {
  createLead(input: $input) { lead { id } userErrors { field code message } } }"""
BOOK_TOUR = """mutation($input: BookTourInput!) {
  bookTour(input: $input) { booking { id reference } userErrors { field code message } } }"""


async def trip_within_the_hour(admin: GraphQLClient, world: World) -> dict[str, str]:
    """A booked charter of `client` picking up within the hour, driven by the driver role
    in a bus of its own: a trip its driver may post GPS fixes for. `{"id", "vehicle"}`."""
    data = {
        "clientId": world.client,
        "salesAgentId": world.agent,
        "tripType": "ONE_WAY",
        "passengerCount": 20,
        "pickupLocal": pickup_local(0.75),
        "pickupTimeZone": "America/Chicago",
        "stops": [
            {"type": "PICKUP", "address": "3 Main St, Springfield"},
            {"type": "DROPOFF", "address": "7 Lake Rd, Shelbyville"},
        ],
        "vehicles": [{"vehicleTypeId": world.more["vehicle_type"], "cost": "800.00"}],
    }
    made = _ok(await admin(CREATE_CHARTER, {"input": data}), "createCharter")["charter"]
    _ok(await admin(SET_STATUS, {"id": made["id"]}), "setCharterStatus")
    bus = _ok(
        await admin(
            CREATE_VEHICLE,
            {"plate": f"P-{uuid.uuid4().hex[:8]}", "type": world.more["vehicle_type"]},
        ),
        "createVehicle",
    )["vehicle"]["id"]
    vehicle = made["vehicles"][0]["id"]
    _ok(
        await admin(ASSIGN_BUS, {"cv": vehicle, "vehicle": bus, "driver": world.more["driver"]}),
        "assignCharterVehicle",
    )
    return {"id": made["id"], "vehicle": vehicle}


ADD_CERT = """mutation($vendorId: ID!, $input: CertificationInput!) {
  addCertification(vendorId: $vendorId, input: $input) { userErrors { field code message } } }"""
ACTIVATE = """mutation($id: ID!) {
  setVendorStatus(id: $id, status: ACTIVE) { userErrors { field code message } } }"""


async def _vendor(admin: GraphQLClient, name: str) -> str:
    """An active, certified vendor (one a charter vehicle can be assigned to)."""
    data = {
        "businessName": f"{name} {uuid.uuid4().hex[:6]}",
        "vendorType": "FLEET_OPERATOR",
        "baseLatitude": 35.1495,
        "baseLongitude": -90.049,
        "serviceRadiusMiles": 150,
    }
    vendor: str = _ok(await admin(CREATE_VENDOR, {"input": data}), "createVendor")["vendor"]["id"]
    today = datetime.now(UTC).date()
    for cert in ("DOT", "MC", "INSURANCE"):
        held = {
            "type": cert,
            "number": f"{cert}-{uuid.uuid4().hex[:6]}",
            "issuedOn": (today - timedelta(days=30)).isoformat(),
            "expiresOn": (today + timedelta(days=365)).isoformat(),
        }
        _ok(await admin(ADD_CERT, {"vendorId": vendor, "input": held}), "addCertification")
    _ok(await admin(ACTIVATE, {"id": vendor}), "setVendorStatus")
    return vendor


async def eventually_ok(ask: Any, name: str, within: float = 15.0) -> dict[str, Any]:
    """A mutation that waits on another subgraph's projection (an event through the outbox
    and Redis): asked again until it has no userErrors."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        payload: dict[str, Any] = (await ask()).ok()[name]
        if not payload["userErrors"] or loop.time() > deadline:
            assert payload["userErrors"] == [], payload
            return payload
        await asyncio.sleep(0.1)


async def _more_rows(
    admin: GraphQLClient,
    world: World,
    vtype: str,
    companies: list[str],
    mint: TokenMinter,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Another owner's row for each own root cell, and the own rows they are told from:
    a third charter (the other client's and agent's, booked, driven by another driver and
    assigned to another vendor), the world's charter assigned to the world's vendor, leads
    of both agents, the other client's invoice and series, tour bookings of each portal role
    and of another client's account."""
    more = world.more
    data = {
        "clientId": companies[1],
        "salesAgentId": world.other_agent,
        "tripType": "ONE_WAY",
        "passengerCount": 30,
        "pickupLocal": pickup_local(24 * 3),
        "pickupTimeZone": "America/Chicago",
        "stops": [
            {"type": "PICKUP", "address": "2 Main St, Springfield"},
            {"type": "DROPOFF", "address": "8 Lake Rd, Shelbyville"},
        ],
        "vehicles": [{"vehicleTypeId": vtype, "cost": "1000.00"}],
    }
    third = _ok(await admin(CREATE_CHARTER, {"input": data}), "createCharter")["charter"]
    more["third_charter"] = third["id"]
    more["third_vehicle"] = third["vehicles"][0]["id"]
    _ok(await admin(SET_STATUS, {"id": third["id"]}), "setCharterStatus")
    expires = (datetime.now(UTC).date() + timedelta(days=800)).isoformat()
    driver = _ok(
        await admin(CREATE_DRIVER, {"userId": str(uuid.uuid4()), "expires": expires}),
        "createDriver",
    )["driver"]["id"]
    bus = _ok(
        await admin(CREATE_VEHICLE, {"plate": f"P-{uuid.uuid4().hex[:8]}", "type": vtype}),
        "createVehicle",
    )["vehicle"]["id"]
    _ok(
        await admin(ASSIGN_BUS, {"cv": more["third_vehicle"], "vehicle": bus, "driver": driver}),
        "assignCharterVehicle",
    )
    other_vendor = await _vendor(admin, "Other Coaches")
    more["other_vendor"] = other_vendor
    own_cv = await admin(
        "query($id: ID!) { charter(id: $id) { vehicles { id } } }", {"id": world.charter}
    )
    more["vehicle"] = own_cv.ok()["charter"]["vehicles"][0]["id"]
    for cv, vendor, key in (
        (more["vehicle"], world.vendor, "assignment"),
        (more["third_vehicle"], other_vendor, "other_assignment"),
    ):
        assigned = await eventually_ok(
            lambda cv=cv, vendor=vendor: admin(ASSIGN_VENDOR, {"cv": cv, "vendor": vendor}),
            "assignVendor",
        )
        more[key] = assigned["assignment"]["id"]
    for agent, key in ((world.agent, "lead"), (world.other_agent, "other_lead")):
        lead = {
            "source": "PHONE",
            "firstName": "Pat",
            "lastName": "Probe",
            "email": f"lead-{uuid.uuid4().hex[:8]}@example.com",
            "agentId": agent,
        }
        more[key] = _ok(await admin(CREATE_LEAD, {"input": lead}), "createLead")["lead"]["id"]
    from subgraphs.finance.service.facts import apply_quote_accepted

    await _apply(
        sessions,
        apply_quote_accepted,
        event_now({"charterId": third["id"], "clientId": companies[1], "total": "1000.00"}),
    )
    more["other_invoice"] = _ok(await admin(INVOICE, {"id": third["id"]}), "invoiceCharter")[
        "invoice"
    ]["id"]
    template = _ok(
        await admin(SAVE_TEMPLATE, {"id": third["id"], "name": f"Probe {uuid.uuid4().hex[:6]}"}),
        "saveCharterAsTemplate",
    )["template"]["id"]
    series = {
        "name": "Other weekly",
        "templateId": template,
        "rrule": "FREQ=WEEKLY;COUNT=2",
        "startsLocal": pickup_local(24 * 41),
        "timeZone": "America/Chicago",
    }
    more["other_series"] = _ok(
        await admin(CREATE_SERIES, {"input": series}), "createCharterSeries"
    )["series"]["id"]
    await _bids(world, admin, mint)
    await _bookings(world, companies, mint, admin, sessions)


CREATE_BID = """mutation($input: CreateBidInput!) {
  createBid(input: $input, submit: false) { bid { id } userErrors { field code message } } }"""


async def _bids(world: World, admin: GraphQLClient, mint: TokenMinter) -> None:
    """A draft bid of each vendor on `other_charter` (a quote offered to both): the vendor
    role's (`bid`) and the other vendor's (`other_bid`, as an account linked to it)."""
    other_user = uuid.uuid4()
    _ok(
        await admin(
            LINK_VENDOR, {"vendorId": world.more["other_vendor"], "userId": str(other_user)}
        ),
        "linkVendorUser",
    )
    bidders = {
        "bid": await mint("vendor", user_id=uuid.UUID(world.users["vendor"])),
        "other_bid": await mint("vendor", user_id=other_user),
    }
    for key, token in bidders.items():
        bid = {
            "charterId": world.other_charter,
            "amount": "900.00",
            "vehicleType": "56-seat coach",
            "vehicleCount": 1,
        }
        made = await eventually_ok(
            lambda token=token, bid=bid: admin.as_user(token)(CREATE_BID, {"input": bid}),
            "createBid",
        )
        world.more[key] = made["bid"]["id"]


async def _bookings(
    world: World,
    companies: list[str],
    mint: TokenMinter,
    admin: GraphQLClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A tour booking of each portal role's own account, and one of another client's."""
    from subgraphs.tours.models import DepartureSlot

    async with sessions() as session:
        slot = await session.scalar(
            select(DepartureSlot.id)
            .where(
                DepartureSlot.starts_at > datetime.now(UTC) + timedelta(days=3),
                DepartureSlot.seats_available >= 8,
                DepartureSlot.available.is_(True),
                DepartureSlot.cancelled_at.is_(None),
            )
            .order_by(DepartureSlot.starts_at)
            .limit(1)
        )
    assert slot is not None
    bookers = {
        r: (uuid.UUID(world.users[r]), uuid.UUID(companies[0]) if r == "client" else None)
        for r in ("client", "vendor", "driver")
    }
    bookers["other"] = (uuid.uuid4(), uuid.UUID(companies[1]))
    for who, (user, company) in bookers.items():
        token = await mint(
            "vendor" if who == "vendor" else "driver" if who == "driver" else "client",
            user_id=user,
            client_id=company,
        )
        booked = _ok(
            await admin.as_user(token)(
                BOOK_TOUR,
                {
                    "input": {
                        "slotId": str(slot),
                        "adults": 1,
                        "customerName": f"Probe {who}",
                        "customerEmail": f"{who}-{uuid.uuid4().hex[:6]}@example.com",
                    }
                },
            ),
            "bookTour",
        )["booking"]
        world.more[f"booking:{who}"] = booked["id"]
        world.more[f"booking_ref:{who}"] = booked["reference"]


INVOICE = """mutation($id: ID!) {
  invoiceCharter(charterId: $id) { invoice { id } userErrors { field code message } } }"""
RECORD_PAYMENT = """mutation($input: RecordPaymentInput!) {
  recordPayment(input: $input) { payment { id } userErrors { field code message } } }"""
APPLY_PAYMENT = """mutation($input: ApplyPaymentInput!) {
  applyPayment(input: $input) { userErrors { field code message } } }"""


async def _money(
    admin: GraphQLClient, charter: str, client: str, sessions: async_sessionmaker[AsyncSession]
) -> tuple[str, str]:
    """An invoice of the charter and a payment applied to it (pricing's acceptance, which
    finance invoices from, applied with finance's own handler)."""
    from subgraphs.finance.service.facts import apply_quote_accepted

    await _apply(
        sessions,
        apply_quote_accepted,
        event_now({"charterId": charter, "clientId": client, "total": "1250.00"}),
    )
    invoice = _ok(await admin(INVOICE, {"id": charter}), "invoiceCharter")["invoice"]["id"]
    recorded = {
        "clientId": client,
        "amount": "100.00",
        "receivedOn": datetime.now(CHICAGO).date().isoformat(),  # the operator's day
        "method": "ACH",
    }
    payment = _ok(await admin(RECORD_PAYMENT, {"input": recorded}), "recordPayment")
    applied = {
        "paymentId": payment["payment"]["id"],
        "charterId": charter,
        "amount": "100.00",
        "idempotencyKey": uuid.uuid4().hex,
    }
    _ok(await admin(APPLY_PAYMENT, {"input": applied}), "applyPayment")
    return invoice, payment["payment"]["id"]


async def _tour_rows(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
    """The tours demo (loaded once, idempotent): a tour, one of its departures, a blackout."""
    from db.demo import tours as tours_demo
    from subgraphs.tours.models import BlackoutDate, DepartureSlot

    async with sessions() as session, session.begin():
        await tours_demo.load(session, now=datetime.now(UTC))
    async with sessions() as session:
        assert await session.scalar(select(BlackoutDate.id).limit(1))
        slot = (
            await session.execute(select(DepartureSlot.id, DepartureSlot.tour_id).limit(1))
        ).one()
    return str(slot.tour_id), str(slot.id)
