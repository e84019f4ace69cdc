"""Security review (issue 8), finding 11, charters part: no unbounded list.

Every list field of the charters schema either takes `first` (a Relay
connection, or a capped list whose `first` has a maximum) or is a naturally
small list whose description states its cap ("at most ..."). The few lists
bounded by something else are named here with the reason.
"""

from __future__ import annotations

from graphql import GraphQLNonNull, GraphQLObjectType, is_list_type

from subgraphs.charters.app import schema
from tests.charters.ops import book

#: Lists bounded by what the caller sent or by the schema itself, not by data.
BOUNDED_ELSEWHERE = {
    "Query._entities": "one entry per representation the router sends",
    "DispatchBoardEvent.changes": "names of the changed parts of one charter",
    "VehicleUtilisation.vehicles": "the operator's own fleet, vehicles staff created; staff only",
    "VehicleUtilisation.byType": "one row per type of that fleet",
}


def _list_fields() -> dict[str, object]:
    found = {}
    for type_name, kind in schema._schema.type_map.items():
        if type_name.startswith("__") or not isinstance(kind, GraphQLObjectType):
            continue
        for field_name, field in kind.fields.items():
            shape = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            if is_list_type(shape):
                found[f"{type_name}.{field_name}"] = field
    return found


def test_finding_11_no_list_field_in_the_charters_schema_is_unbounded():
    unbounded = []
    for name, field in _list_fields().items():
        type_name, field_name = name.split(".")
        if "first" in field.args or name in BOUNDED_ELSEWHERE:
            continue
        if type_name.endswith("Connection") and field_name == "edges":
            continue  # a connection's page: its field takes `first`
        if field_name == "userErrors":
            continue  # one per problem with the caller's input
        if "at most" not in (field.description or "").lower():
            unbounded.append(name)

    assert unbounded == []


def test_finding_11_the_lists_the_review_named_are_connections():
    fields = _list_fields()
    connections = {
        "Charter": ("auditLog", "changeCases"),
        "CharterSeries": ("instances",),
        "Query": ("charterTemplates", "blackoutDates", "vehicles", "drivers"),
    }

    for type_name, names in connections.items():
        kind = schema._schema.type_map[type_name]
        for name in names:
            field = kind.fields[name]
            assert f"{type_name}.{name}" not in fields
            assert {"first", "after"} <= set(field.args), name
            # Nullable where a portal may not read it (issue 9: FORBIDDEN at that path only).
            assert str(field.type).rstrip("!").endswith("Connection"), name


async def test_finding_11_first_has_a_maximum(staff, bookable_charter):
    charter = await bookable_charter()
    await book(staff, charter["id"])

    too_many = await staff(
        "query($id: ID!) { charter(id: $id) { auditLog(first: 101) { totalCount } } }",
        {"id": charter["id"]},
    )
    page = (
        await staff(
            """query($id: ID!) { charter(id: $id) { auditLog(first: 1) {
              totalCount pageInfo { hasNextPage endCursor } edges { node { action } } } } }""",
            {"id": charter["id"]},
        )
    ).ok()["charter"]["auditLog"]
    rest = (
        await staff(
            """query($id: ID!, $after: String) { charter(id: $id) {
              auditLog(first: 100, after: $after) { edges { node { action } } } } }""",
            {"id": charter["id"], "after": page["pageInfo"]["endCursor"]},
        )
    ).ok()["charter"]["auditLog"]
    types = await staff("{ vehicleTypes(first: 101) { id } }")

    assert too_many.error_codes == ["BAD_USER_INPUT"]
    assert [e["node"]["action"] for e in page["edges"]] == ["status:booked"]
    assert page["pageInfo"]["hasNextPage"] is True
    assert len(rest["edges"]) == page["totalCount"] - 1
    assert types.error_codes == ["BAD_USER_INPUT"]
