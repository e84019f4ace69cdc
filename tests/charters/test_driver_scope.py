"""A driver's scope, field by field, generated from the served schema (issue 13 §5).

A driver sees only the trips it is assigned to, never money, never another
driver's trip. The fields come from the charters schema itself: a money
field added anywhere a `Trip` reaches outside the portals' field gate fails
the first test; every field of the `Charter` and `CharterVehicle` behind a
trip is read as the driver and must answer exactly as `visibility.FIELDS`
says for drivers (money: null with FORBIDDEN); another driver gets nothing.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import (
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
    get_named_type,
    is_non_null_type,
)

from subgraphs.charters.app import schema
from subgraphs.charters.service.visibility import FIELDS, Audience, may_read
from tests.charters.driver_app_ops import driver_trips

GRAPH = schema._schema
#: Types the field gate governs (`field_policy.py`): their fields are judged per reader.
GOVERNED = frozenset(FIELDS)
#: Entities other subgraphs own and resolve (identity's users): nothing of ours inside.
FOREIGN = frozenset({"User"})
MONEY_WORDS = re.compile(r"cost|price|quote|balance|amount|fee|payment|margin|invoice", re.I)


def fields_of(type_name: str) -> dict[str, Any]:
    graph_type = GRAPH.get_type(type_name)
    assert isinstance(graph_type, GraphQLObjectType), type_name
    return {name: f for name, f in graph_type.fields.items() if not name.startswith("_")}


def ungated_fields(root: str) -> list[tuple[str, str, Any]]:
    """Every (type, field, field definition) a `root` reaches without the field gate."""
    seen, found, todo = {root}, [], [root]
    while todo:
        type_name = todo.pop()
        for name, field in fields_of(type_name).items():
            found.append((type_name, name, field))
            named = get_named_type(field.type)
            if (
                isinstance(named, GraphQLObjectType)
                and named.name not in GOVERNED | FOREIGN
                and named.name not in seen
            ):
                seen.add(named.name)
                todo.append(named.name)
    return found


def money_fields(type_name: str) -> set[str]:
    return {
        name
        for name, field in fields_of(type_name).items()
        if (isinstance(t := get_named_type(field.type), GraphQLScalarType) and t.name == "Money")
        or MONEY_WORDS.search(name)
    }


def selection(type_name: str) -> str:
    """Every field without required arguments; objects as `{ __typename }`."""
    parts = []
    for name, field in fields_of(type_name).items():
        if any(
            is_non_null_type(a.type) and a.default_value is Undefined for a in field.args.values()
        ):
            continue
        named = get_named_type(field.type)
        parts.append(f"{name} {{ __typename }}" if isinstance(named, GraphQLObjectType) else name)
    return " ".join(parts)


TRIP_ONLY = f"""query($id: ID!) {{ trip(id: $id) {{ {selection("Trip")} }} }}"""
TRIP = "query($id: ID!) { trip(id: $id) { id } }"


def test_nothing_a_trip_reaches_outside_the_field_gate_is_money():
    reached = ungated_fields("Trip")
    assert {t for t, _n, _f in reached} >= {"Trip", "TripStop", "TripPhoto", "Vehicle"}
    money = [
        f"{t}.{n}"
        for t, n, f in reached
        if MONEY_WORDS.search(n)
        or (isinstance(s := get_named_type(f.type), GraphQLScalarType) and s.name == "Money")
    ]
    assert money == []
    # What a trip does reach of the gated types: a driver's reading of them is tested below.
    gated = {get_named_type(f.type).name for _t, _n, f in reached} & GOVERNED
    assert gated == {"Charter", "CharterVehicle"}


def test_the_table_never_lets_a_driver_read_money():
    for type_name in ("Charter", "CharterVehicle"):
        money = money_fields(type_name)
        assert money, type_name  # the detector sees the money that is there (cost, totalCost)
        readable = {m for m in money if may_read(type_name, m, Audience.DRIVER)}
        assert readable == set(), f"{type_name}: a driver may read {readable}"


async def test_a_driver_reads_its_trip_field_by_field_as_the_table_says(
    staff, bookable_charter, as_role
):
    (trip,) = await driver_trips(staff, bookable_charter, as_role)
    wrong: list[str] = []

    own = await trip.driver(TRIP_ONLY, {"id": trip.trip_id})
    assert own.errors == [], own.body
    for key, type_name in (("charter", "Charter"), ("charterVehicle", "CharterVehicle")):
        for name, field in fields_of(type_name).items():
            if any(
                is_non_null_type(a.type) and a.default_value is Undefined
                for a in field.args.values()
            ):
                continue
            named = get_named_type(field.type)
            asked = f"{name} {{ __typename }}" if isinstance(named, GraphQLObjectType) else name
            answer = await trip.driver(
                f"query($id: ID!) {{ trip(id: $id) {{ {key} {{ {asked} }} }} }}",
                {"id": trip.trip_id},
            )
            got = [
                (".".join(str(p) for p in e["path"]), e["extensions"]["code"])
                for e in answer.errors
            ]
            value = (answer.data["trip"][key] or {}).get(name)
            if may_read(type_name, name, Audience.DRIVER):
                if got:
                    wrong.append(f"{type_name}.{name} refused: {got}")
            elif got != [(f"trip.{key}.{name}", "FORBIDDEN")] or value is not None:
                wrong.append(f"{type_name}.{name} not refused: {got}, {value!r}")

    assert wrong == []
    # A manager reads the money a driver was refused: the refusals are the driver's only.
    managed = await staff(
        "query($id: ID!) { trip(id: $id) { charterVehicle { cost } charter { totalCost } } }",
        {"id": trip.trip_id},
    )
    assert managed.ok()["trip"] == {
        "charterVehicle": {"cost": "1250.00"},
        "charter": {"totalCost": "1250.00"},
    }


async def test_another_driver_reads_nothing_of_the_trip(staff, bookable_charter, as_role):
    (trip,), (other,) = (
        await driver_trips(staff, bookable_charter, as_role),
        await driver_trips(staff, bookable_charter, as_role),
    )

    by_trip = await other.driver(TRIP, {"id": trip.trip_id})
    by_charter = await other.driver(
        "query($id: ID!) { charter(id: $id) { id } }", {"id": trip.charter["id"]}
    )
    by_entity = await other.driver(
        """query($r: [_Any!]!) { _entities(representations: $r) {
          ... on CharterVehicle { id cost } } }""",
        {"r": [{"__typename": "CharterVehicle", "id": trip.trip_id}]},
    )
    mine = await other.driver("{ myTrips { id } }")

    assert by_trip.error_codes == ["NOT_FOUND"]
    assert by_charter.error_codes == ["NOT_FOUND"]
    assert by_entity.error_codes == ["FORBIDDEN"]
    assert [t["id"] for t in mine.ok()["myTrips"]] == [other.trip_id]
