"""The generated field-policy test (issue 9): every governed field, asked by every persona.

The fields come from the served schema (the charters app's own Strawberry
schema), so a field added to `Charter`, `CharterVehicle`, `Stop` or
`CharterSeries` without a line in `visibility.FIELDS` fails here. Then one
charter with everything set (a series instance, booked, its vehicle driven
by a fleet driver and assigned to a vendor through vendors' events) is read
over HTTP, all governed fields in one operation, as: a client of the charter
and of another company, the assigned vendor and another vendor, the assigned
driver and another driver, and each staff role. Whatever the table states is
what each persona must get: the value (equal to a manager's), or null with
`FORBIDDEN` at that path and the rest intact, or no charter at all.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from graphql import GraphQLObjectType, get_named_type, is_list_type, is_non_null_type
from sqlalchemy import select

from subgraphs.charters.app import schema
from subgraphs.charters.models import VendorAccount
from subgraphs.charters.service.visibility import (
    FIELDS,
    Audience,
    may_read,
)
from tests.charters.ops import ASSIGN, book, fleet_vehicle
from tests.charters.series_ops import create_series, generate, next_weekday, save_template
from tests.charters.test_portal_drivers import INSTRUCT, linked_driver
from tests.portals.test_portals_through_the_router import vendor_login
from tests.support.graphql_client import GraphQLClient, GraphQLResponse

GRAPH = schema._schema
GOVERNED = ("Charter", "CharterVehicle", "Stop", "CharterSeries")
#: Governed object fields read in full (lists of governed objects); others as `{ id }`.
EXPANDED = {("Charter", "stops"), ("Charter", "vehicles")}
#: Who can reach an object of each type at all (the rest get no object, see below).
REACHABLE = {
    "Charter": {Audience.CLIENT, Audience.VENDOR, Audience.DRIVER},
    "CharterVehicle": {Audience.CLIENT, Audience.VENDOR, Audience.DRIVER},
    "Stop": {Audience.CLIENT, Audience.VENDOR, Audience.DRIVER, Audience.QUOTE_LINK},
    # `series_audience_of`: staff and the series' own client only.
    "CharterSeries": {Audience.CLIENT},
}
STAFF_ROLES = ("admin", "manager", "sales_agent", "sales_support", "dispatcher", "accounting")
#: Fields of the test charter a manager reads as null: only what cannot be set together
#: with the rest (a cancelled or split charter, a template's own fields).
UNSET = {
    ("Charter", "cancellation"),
    ("Charter", "splitFrom"),
    ("Charter", "templateName"),
}

DAY = (date.today() + timedelta(days=30)).isoformat()
MEMPHIS = [
    {
        "type": "PICKUP",
        "address": "FedExForum, Memphis, TN",
        "latitude": 35.1382,
        "longitude": -90.0506,
        "plannedDeparture": f"{DAY}T15:00:00+00:00",
        "notes": "Gate B",
    },
    {
        "type": "DROPOFF",
        "address": "Graceland, Memphis, TN",
        "latitude": 35.0477,
        "longitude": -90.026,
        "plannedArrival": f"{DAY}T16:00:00+00:00",
        "notes": "Coach lot",
    },
]


def fields_of(type_name: str) -> dict[str, Any]:
    graph_type = GRAPH.get_type(type_name)
    assert isinstance(graph_type, GraphQLObjectType), type_name
    return {name: f for name, f in graph_type.fields.items() if not name.startswith("_")}


def selection(type_name: str) -> str:
    """Every field of the type; governed lists in full, other objects by id."""
    parts = []
    for name, field in fields_of(type_name).items():
        named = get_named_type(field.type)
        if (type_name, name) in EXPANDED:
            parts.append(f"{name} {{ {selection(named.name)} }}")
        elif isinstance(named, GraphQLObjectType):
            inner = "id" if "id" in named.fields else "__typename"
            parts.append(f"{name} {{ {inner} }}")
        else:
            parts.append(name)
    return " ".join(parts)


CHARTER = f"query($id: ID!) {{ charter(id: $id) {{ {selection('Charter')} }} }}"
SERIES = f"query($id: ID!) {{ charterSeries(id: $id) {{ {selection('CharterSeries')} }} }}"


def test_every_governed_field_is_in_the_table_and_nothing_else():
    assert set(FIELDS) == set(GOVERNED)
    for type_name in GOVERNED:
        served = set(fields_of(type_name))
        listed = set(FIELDS[type_name])
        assert served - listed == set(), f"{type_name} fields missing from visibility.FIELDS"
        assert listed - served == set(), f"{type_name} fields in FIELDS the schema lacks"


def test_every_field_a_portal_may_be_refused_is_nullable():
    """A refused field is null: were it non-null, the null would bubble (a list item, the answer)."""
    bubbling = [
        f"{type_name}.{name}: {field.type}"
        for type_name in GOVERNED
        for name, field in fields_of(type_name).items()
        if is_non_null_type(field.type)
        and any(not may_read(type_name, name, a) for a in REACHABLE[type_name])
    ]
    assert bubbling == []


def test_types_only_staff_and_clients_reach_refuse_everything_to_the_others():
    """Vendors and drivers never reach a series: the table must not pretend they read one."""
    for audience in (Audience.VENDOR, Audience.DRIVER):
        assert audience not in REACHABLE["CharterSeries"]
        assert [n for n in FIELDS["CharterSeries"] if may_read("CharterSeries", n, audience)] == []


# --- the world: one charter with everything set, and its readers ---------------------------


@dataclass
class Persona:
    name: str
    client: GraphQLClient
    #: The audience the table applies to this reader for the test charter (None: no relation).
    audience: Audience | None
    series_audience: Audience | None
    #: What a reader with no access to the series gets at the root: NOT_FOUND, or FORBIDDEN
    #: when its role may not ask `charterSeries` at all (vendors, drivers).
    no_series: str = "NOT_FOUND"


async def wait_for_account(sessions: Any, user_id: uuid.UUID, within: float = 10.0) -> None:
    """Charters knows which vendor the account works for (vendors' link event arrived)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        async with sessions() as session:
            if await session.scalar(
                select(VendorAccount.vendor_id).where(VendorAccount.user_id == user_id)
            ):
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"charters never learned the vendor of {user_id}")


@pytest.fixture
async def world(
    staff,
    known_client,
    vehicle_type,
    known_agent,
    charters_server,
    http_client,
    mint,
    projected,
    vendors_staff,
    make_vendor,
    vendor_may_read,
    sessions,
) -> dict[str, Any]:
    company = await known_client()
    agent = await known_agent()
    vtype = await vehicle_type()
    source = (
        await staff(
            """mutation($input: CreateCharterInput!) {
              createCharter(input: $input) { charter { id } userErrors { field code message } } }""",
            {
                "input": {
                    "clientId": company,
                    "tripType": "ROUND_TRIP",
                    "passengerCount": 40,
                    "pickupLocal": f"{DAY}T09:00",
                    "pickupTimeZone": "America/Chicago",
                    "notes": "Internal: VIP client, watch the margin.",
                    "endsAt": f"{DAY}T23:00:00+00:00",
                    "requiresSecondDriver": True,
                    "estimatedMiles": "212.5",
                    "salesAgentId": agent,
                    "stops": MEMPHIS,
                    "vehicles": [
                        {
                            "vehicleTypeId": vtype["id"],
                            "cost": "1250.00",
                            "pickupAddress": "FedExForum, Memphis, TN",
                            "dropoffAddress": "Graceland, Memphis, TN",
                            "specialRequirements": "Wheelchair lift",
                        }
                    ],
                }
            },
        )
    ).ok()["createCharter"]
    assert source["userErrors"] == [], source
    template = await save_template(staff, source["charter"]["id"], "Memphis game night")
    monday = next_weekday(0, after_days=10)
    series = await create_series(
        staff,
        name="Memphis game nights",
        templateId=template["id"],
        rrule="FREQ=WEEKLY;COUNT=1",
        startsLocal=f"{monday.isoformat()}T17:30",
        timeZone="America/Chicago",
        exceptionDates=[(monday + timedelta(days=14)).isoformat()],
        description="Every home game.",
    )
    created = (await generate(staff, series["id"]))["created"] or [
        edge["node"] for edge in series["instances"]["edges"]
    ]
    charter = created[0]
    revised = (
        await staff(
            "mutation($id: ID!) { reviseQuote(id: $id) { userErrors { code } } }",
            {"id": charter["id"]},
        )
    ).ok()["reviseQuote"]
    assert revised["userErrors"] == [], revised
    await book(staff, charter["id"])
    instructed = (
        await staff(
            INSTRUCT,
            {
                "id": charter["id"],
                "input": {
                    "pickupContactName": "Pat Lee",
                    "pickupContactPhone": "+1 901 555 0100",
                    "driverInstructions": "Use the north gate.",
                    "vendorInstructions": "Invoice within 7 days.",
                },
            },
        )
    ).ok()["setCharterInstructions"]
    assert instructed["userErrors"] == [], instructed
    (vehicle,) = charter["vehicles"]
    bus = await fleet_vehicle(staff, vehicle["vehicleType"]["id"])
    driver_user, other_driver_user = uuid.uuid4(), uuid.uuid4()
    driver_id = await linked_driver(staff, driver_user)
    await linked_driver(staff, other_driver_user)
    assigned = (
        await staff(ASSIGN, {"cv": vehicle["id"], "vehicle": bus["id"], "driver": driver_id})
    ).ok()["assignCharterVehicle"]
    assert assigned["userErrors"] == [], assigned

    # The vendors side: the charter reaches vendors, a vendor is assigned, charters learns it.
    await projected(vehicle["id"])
    vendor, vendor_user = await vendor_login(vendors_staff, make_vendor)
    assigned = (
        await vendors_staff(
            """mutation($cv: ID!, $vendor: ID!) {
              assignVendor(charterVehicleId: $cv, vendorId: $vendor, amount: "850.00") {
                assignment { id } userErrors { field code message } } }""",
            {"cv": vehicle["id"], "vendor": vendor["id"]},
        )
    ).ok()["assignVendor"]
    assert assigned["userErrors"] == [], assigned
    await vendor_may_read(vendor_user, charter["id"])
    # Recovery (issue 13): the driver reported sick, dispatch looks for another one.
    recovering = (
        await staff(
            """mutation($cv: ID!) {
              openDriverRecovery(charterVehicleId: $cv, reason: DRIVER_UNAVAILABLE) {
                userErrors { field code message } } }""",
            {"cv": vehicle["id"]},
        )
    ).ok()["openDriverRecovery"]
    assert recovering["userErrors"] == [], recovering
    # Readiness (issue 13): the driver and the vendor confirmed, the bus reported a position.
    await _confirmed_and_located(staff, sessions, charter["id"], vehicle["id"])
    # Issue 13 §2, §6: an instruction for both the driver and the vendor (so each reads
    # the manager's list), and the route optimised (so `route` has a value).
    instructed_and_routed = (
        await staff(
            """mutation($id: ID!) {
              addSpecialInstruction(charterId: $id, input: {kind: SAFETY, priority: CRITICAL,
                text: "Low bridge on Union Ave", visibleToDriver: true, visibleToVendor: true}) {
                userErrors { field code message } }
              optimizeRoute(charterId: $id) { userErrors { field code message } } }""",
            {"id": charter["id"]},
        )
    ).ok()
    assert instructed_and_routed["addSpecialInstruction"]["userErrors"] == []
    assert instructed_and_routed["optimizeRoute"]["userErrors"] == []
    # Another vendor, based in Seattle: neither assigned nor offered the Memphis charter.
    _, other_vendor_user = await vendor_login(
        vendors_staff, make_vendor, baseLatitude=47.6, baseLongitude=-122.3, serviceRadiusMiles=50
    )
    await wait_for_account(sessions, other_vendor_user)

    async def reader(*roles: str, **token: Any) -> GraphQLClient:
        return GraphQLClient(charters_server.graphql_url, http_client, await mint(*roles, **token))

    S, C, V, D = Audience.STAFF, Audience.CLIENT, Audience.VENDOR, Audience.DRIVER
    F = "FORBIDDEN"
    personas = [
        Persona(role, await reader(role), S, S) for role in STAFF_ROLES
    ] + [
        Persona("client of the charter", await reader("client", client_id=uuid.UUID(company)), C, C),
        Persona("client of another company", await reader("client", client_id=uuid.uuid4()), None, None),
        Persona("assigned vendor", await reader("vendor", user_id=vendor_user), V, None, F),
        Persona("another vendor", await reader("vendor", user_id=other_vendor_user), None, None, F),
        Persona("assigned driver", await reader("driver", user_id=driver_user), D, None, F),
        Persona("another driver", await reader("driver", user_id=other_driver_user), None, None, F),
    ]  # fmt: skip
    return {"charter": charter["id"], "series": series["id"], "personas": personas}


async def _confirmed_and_located(
    staff: GraphQLClient, sessions: Any, charter_id: str, vehicle_id: str
) -> None:
    """Confirmations by the driver and the vendor (once vendors' assignment reached
    charters), and a latest position, so the board's fields have values."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from subgraphs.charters.models import LatestPosition, VendorAssignmentFact

    for _ in range(500):
        async with sessions() as session:
            if await session.scalar(
                select(VendorAssignmentFact.assignment_id).where(
                    VendorAssignmentFact.charter_vehicle_id == uuid.UUID(vehicle_id)
                )
            ):
                break
        await asyncio.sleep(0.02)
    for party in ("DRIVER", "VENDOR"):
        recorded = (
            await staff(
                """mutation($input: RecordConfirmationInput!) {
                  recordConfirmation(input: $input) { userErrors { field code message } } }""",
                {"input": {"charterVehicleId": vehicle_id, "party": party, "method": "PHONE"}},
            )
        ).ok()["recordConfirmation"]
        assert recorded["userErrors"] == [], recorded
    async with sessions() as session, session.begin():
        session.add(
            LatestPosition(
                charter_vehicle_id=uuid.UUID(vehicle_id),
                charter_id=uuid.UUID(charter_id),
                latitude=Decimal("35.1382"),
                longitude=Decimal("-90.0506"),
                speed_kph=Decimal("40"),
                heading=Decimal("90"),
                accuracy_m=Decimal("5"),
                recorded_at=datetime.now(UTC),
            )
        )


# --- the checks ------------------------------------------------------------------------------


def errors_by_path(response: GraphQLResponse) -> dict[tuple[Any, ...], str | None]:
    found: dict[tuple[Any, ...], str | None] = {}
    for error in response.errors:
        assert error.get("path"), error
        found[tuple(error["path"])] = (error.get("extensions") or {}).get("code")
    return found


def check_object(
    type_name: str,
    got: Mapping[str, Any],
    reference: Mapping[str, Any],
    path: tuple[Any, ...],
    audience: Audience,
    errors: dict[tuple[Any, ...], str | None],
    problems: list[str],
) -> None:
    """Each field: the manager's value and no error, or null with FORBIDDEN at its path."""
    for name, field in fields_of(type_name).items():
        at = (*path, name)
        where = ".".join(map(str, at))
        value = got.get(name, "<absent>")
        if not may_read(type_name, name, audience):
            code = errors.pop(at, None)
            if value is not None or code != "FORBIDDEN":
                problems.append(f"{where}: refused to {audience} but got {value!r} / {code}")
            continue
        if at in errors:
            problems.append(f"{where}: readable by {audience} but {errors.pop(at)}")
            continue
        if (type_name, name) in EXPANDED:
            assert is_list_type(field.type.of_type), name
            inner = get_named_type(field.type).name
            if not isinstance(value, list) or len(value) != len(reference[name]):
                problems.append(f"{where}: {value!r} is not the manager's {reference[name]!r}")
                continue
            for i, (one, ref) in enumerate(zip(value, reference[name], strict=True)):
                check_object(inner, one, ref, (*at, i), audience, errors, problems)
        elif value != reference[name]:
            problems.append(f"{where}: {audience} got {value!r}, a manager {reference[name]!r}")


def set_fields(type_name: str, reference: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The fields with a value (in some item, for the objects of a list)."""
    found = set()
    for name in fields_of(type_name):
        value = reference[name]
        if (type_name, name) in EXPANDED:
            inner = get_named_type(fields_of(type_name)[name].type).name
            for one in value:
                found |= set_fields(inner, one)
        if value is not None and value != []:
            found.add((type_name, name))
    return found


def unset_fields(type_name: str, reference: Mapping[str, Any]) -> set[tuple[str, str]]:
    every = {(t, n) for t in GOVERNED for n in fields_of(t)}
    reached = {type_name} | {
        get_named_type(fields_of(t)[n].type).name for t, n in EXPANDED if t == type_name
    }
    return {(t, n) for t, n in every if t in reached} - set_fields(type_name, reference)


async def test_every_persona_reads_exactly_what_the_table_states(world, staff):
    charter_ref = (await staff(CHARTER, {"id": world["charter"]})).ok()["charter"]
    series_ref = (await staff(SERIES, {"id": world["series"]})).ok()["charterSeries"]
    # The charter has everything set that can be set together, so a value is a value.
    assert unset_fields("Charter", charter_ref) | unset_fields("CharterSeries", series_ref) == UNSET

    problems: list[str] = []
    for persona in world["personas"]:
        asked = [
            ("charter", CHARTER, world["charter"], "Charter", charter_ref, persona.audience,
             "NOT_FOUND"),
            ("charterSeries", SERIES, world["series"], "CharterSeries", series_ref,
             persona.series_audience, persona.no_series),
        ]  # fmt: skip
        for root, query, key, type_name, reference, audience, nothing in asked:
            answer = await persona.client(query, {"id": key})
            label = f"{persona.name} ({root})"
            if answer.status_code != 200:
                problems.append(f"{label}: HTTP {answer.status_code} {answer.body}")
                continue
            if audience is None:
                # No relation to it: for this reader the charter (series) does not exist.
                if answer.data is not None or answer.error_codes != [nothing]:
                    problems.append(f"{label}: expected {nothing}, got {answer.body}")
                continue
            errors = errors_by_path(answer)
            if not answer.data or not answer.data.get(root):
                problems.append(f"{label}: no {root} in {answer.body}")
                continue
            found: list[str] = []
            check_object(type_name, answer.data[root], reference, (root,), audience, errors, found)
            problems += [f"{persona.name}: {p}" for p in found]
            problems += [f"{label}: unexpected error at {p}: {c}" for p, c in errors.items()]

    assert problems == [], "\n".join(problems)
