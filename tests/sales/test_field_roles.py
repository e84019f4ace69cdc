"""Every sales field, asked by every role (issue 10 §7): the expected answers are data.

The selections are generated from the served schema (sales' own Strawberry
schema): each root query asks every field reachable from it (three levels
deep, lists and connections included), so a field added to sales is asked
here without anyone writing a query for it. A root query without a row in
`EXPECTED` fails the test. One world is built through the API: a client
owned by an agent, with contacts; a lead of that client owned by the same
agent, with an activity; that agent in the queue. Then each persona reads:

- a root it may not use answers a top-level FORBIDDEN (anonymous:
  UNAUTHENTICATED), or NOT_FOUND where an id names something it may not
  see (no oracle);
- a root it may use answers every field asked, with no error except the
  field-level denials `DENIED` states, and the rows it may see (`ROWS`).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    is_leaf_type,
)

from subgraphs.sales.app import schema
from tests.sales.conftest import CREATE_LEAD, lead_input

GRAPH = schema._schema
PERSONAS = (
    "admin",
    "manager",
    "sales_support",
    "owner_agent",
    "other_agent",
    "dispatcher",
    "accounting",
    "own_client",
    "other_client",
    "vendor",
    "driver",
    "anonymous",
)
ANY_LEAD = {"admin", "manager", "sales_support"}
STAFF = {*ANY_LEAD, "owner_agent", "other_agent", "dispatcher", "accounting"}


def expect(allowed: set[str], *, missing: str = "FORBIDDEN") -> dict[str, str]:
    """`ok` for the allowed personas; the others FORBIDDEN (or `missing`), anonymous UNAUTHENTICATED."""
    return {
        p: "ok" if p in allowed else ("UNAUTHENTICATED" if p == "anonymous" else missing)
        for p in PERSONAS
    }


def by_id(allowed: set[str], gate: set[str]) -> dict[str, str]:
    """A root taking an id: past the role gate but not allowed to see it is NOT_FOUND."""
    out = expect(allowed)
    for p in gate - allowed:
        out[p] = "NOT_FOUND"
    return out


#: root query -> persona -> "ok" | error code.
EXPECTED: dict[str, dict[str, str]] = {
    "lead": by_id({*ANY_LEAD, "owner_agent"}, {*ANY_LEAD, "owner_agent", "other_agent"}),
    "leads": expect({*ANY_LEAD, "owner_agent", "other_agent"}),
    "myLeads": expect({*ANY_LEAD, "owner_agent", "other_agent"}),
    "recentLeads": expect({*ANY_LEAD, "owner_agent", "other_agent"}),
    "followUpsDue": expect({*ANY_LEAD, "owner_agent", "other_agent"}),
    "leadPipeline": expect({*ANY_LEAD, "owner_agent", "other_agent"}),
    "unassignedLeads": expect(ANY_LEAD),
    "leadQueue": expect(ANY_LEAD),
    "client": by_id({*STAFF, "own_client"}, {*STAFF, "own_client", "other_client"}),
    "myClient": by_id({"own_client"}, {"own_client", "other_client"}),
    "clients": expect(STAFF),
    "salesTeam": expect(ANY_LEAD),
}
#: Rows each persona sees in a connection or list root (others: the `ok` answer's own count).
ROWS: dict[str, dict[str, int]] = {
    "leads": {p: 1 if p in {*ANY_LEAD, "owner_agent"} else 0 for p in PERSONAS},
    "myLeads": {p: 1 if p == "owner_agent" else 0 for p in PERSONAS},
    "recentLeads": {p: 1 if p in {*ANY_LEAD, "owner_agent"} else 0 for p in PERSONAS},
    "unassignedLeads": dict.fromkeys(PERSONAS, 0),
    "clients": dict.fromkeys(PERSONAS, 1),
    "leadQueue": dict.fromkeys(PERSONAS, 1),
    "salesTeam": dict.fromkeys(PERSONAS, 2),  # the owner and the other agent
}
#: Field-level denials inside an allowed answer: (persona, type, field).
DENIED = {
    ("own_client", "Client", "notes"),
    # An agent's figures: the agent itself and sales management only.
    *(
        (p, "User", "salesDashboard")
        for p in (
            "other_agent",
            "dispatcher",
            "accounting",
            "own_client",
            "other_client",
            "vendor",
            "driver",
        )
    ),
}
#: Fields that may be null in the world below (nothing set them): not a denial.
UNSET = {
    ("PageInfo", "startCursor"),  # an empty page
    ("PageInfo", "endCursor"),
    ("Lead", "lostReason"),
    ("Lead", "convertedAt"),
    ("Lead", "charter"),
    ("LeadActivity", "fromStatus"),
    ("LeadActivity", "toStatus"),
    ("LeadQueueEntry", "lastAssignedAt"),
    ("LeadQueueEntry", "maxLeadsPerDay"),
    ("Client", "creditLimit"),
    ("ClientContact", "title"),
    ("ClientContact", "phone"),
}


def selection(type_: GraphQLObjectType, depth: int) -> str:
    parts = []
    for name, field in type_.fields.items():
        if name.startswith("__") or any(
            isinstance(arg.type, GraphQLNonNull) and arg.default_value is None
            for arg in field.args.values()
        ):
            continue
        named = get_named_type(field.type)
        if is_leaf_type(named):
            parts.append(name)
        elif isinstance(named, GraphQLObjectType) and depth > 0:
            inner = selection(named, depth - 1)
            if inner:
                parts.append(f"{name} {{ {inner} }}")
    return " ".join(parts)


ARGS = {
    "lead": "(id: $lead)",
    "client": "(id: $client)",
    "leads": "(first: 5)",
    "myLeads": "(first: 5)",
    "recentLeads": "(first: 5)",
    "followUpsDue": "(first: 5)",
    "unassignedLeads": "(first: 5)",
    "clients": "(first: 5)",
}


def operation(root: str) -> str:
    field = GRAPH.query_type.fields[root]
    named = get_named_type(field.type)
    assert isinstance(named, GraphQLObjectType)
    variables = {"lead": "$lead: ID!", "client": "$client: ID!"}.get(root, "")
    header = f"query({variables})" if variables else "query"
    return f"{header} {{ {root}{ARGS.get(root, '')} {{ {selection(named, 3)} }} }}"


def roots() -> list[str]:
    return [name for name in GRAPH.query_type.fields if not name.startswith("_")]


def test_every_root_query_has_a_row():
    assert sorted(roots()) == sorted(EXPECTED)


def _nulls(value: Any, type_: Any, path: tuple[str, ...], out: list[tuple[str, str, str]]) -> None:
    """(type, field, path) of every null field in an answer, typed by the schema."""
    named = get_named_type(type_)
    if value is None or not isinstance(named, GraphQLObjectType):
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _nulls(item, named, (*path, str(i)), out)
        return
    for key, item in value.items():
        field = named.fields[key]
        if item is None:
            out.append((named.name, key, ".".join((*path, key))))
        elif isinstance(get_named_type(field.type), GraphQLObjectType):
            inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            _nulls(
                item, inner.of_type if isinstance(inner, GraphQLList) else inner, (*path, key), out
            )


def _field_failures(
    persona: str, answer: Any, value: Any, type_: Any, path: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    """What is wrong in an allowed answer: a null nobody explains, or errors not in `DENIED`."""
    denied = {(t, f) for p, t, f in DENIED if p == persona}
    failures: list[tuple[Any, ...]] = []
    nulls: list[tuple[str, str, str]] = []
    _nulls(value, type_, path, nulls)
    for type_name, field, where in nulls:
        if (type_name, field) not in UNSET and (type_name, field) not in denied:
            failures.append((persona, "unexpected null", where))
    errors = [(".".join(map(str, e["path"])), e["extensions"]["code"]) for e in answer.errors]
    expected = sorted((where, "FORBIDDEN") for t, f, where in nulls if (t, f) in denied)
    if sorted(errors) != expected:
        failures.append((persona, "errors", errors, expected))
    return failures


def _rows(answer: Any) -> int:
    if isinstance(answer, list):
        return len(answer)
    return len(answer["edges"])


@pytest.fixture
async def world(sales_as, known_agent, make_client, sales_manager) -> dict[str, Any]:
    owner, other = uuid.uuid4(), uuid.uuid4()
    await known_agent(owner, name="Olive Owner")
    await known_agent(other, name="Otto Other")
    owner_client = await sales_as("sales_agent", user_id=owner)
    client = await make_client(
        "Lakeside",
        by=owner_client,
        notes="pays late",
        billingAddress={
            "line1": "1 Main",
            "line2": "Suite 2",
            "city": "Memphis",
            "region": "TN",
            "postalCode": "38103",
            "country": "US",
        },
    )
    email = client["contacts"][0]["email"]
    trip = {
        "email": email,
        "phone": "901-555-0142",
        "company": "Lakeside",
        "tripDate": "2027-03-01",
        "origin": "Memphis",
        "destination": "Nashville",
        "passengers": 45,
        "vehicleType": "motorcoach",
        "notes": "Team travel",
    }
    lead = (await owner_client(CREATE_LEAD, {"input": lead_input(**trip)})).ok()["createLead"]
    assert lead["userErrors"] == []
    lead_id = lead["lead"]["id"]
    called = await owner_client(
        "mutation($id: ID!) { logLeadActivity(leadId: $id, input: {type: CALL, notes: "
        '"Rang", nextFollowUpAt: "2027-01-05T15:00:00+00:00"}) { userErrors { code } } }',
        {"id": lead_id},
    )
    assert called.ok()["logLeadActivity"]["userErrors"] == []
    queued = await sales_manager(
        "mutation($a: ID!) { setLeadQueueEntry(input: {agentId: $a, position: 1, weight: 1}) { userErrors { code } } }",
        {"a": str(owner)},
    )
    assert queued.ok()["setLeadQueueEntry"]["userErrors"] == []
    callers = {
        "admin": await sales_as("admin"),
        "manager": sales_manager,
        "sales_support": await sales_as("sales_support"),
        "owner_agent": owner_client,
        "other_agent": await sales_as("sales_agent", user_id=other),
        "dispatcher": await sales_as("dispatcher"),
        "accounting": await sales_as("accounting"),
        "own_client": await sales_as("client", client_id=uuid.UUID(client["id"])),
        "other_client": await sales_as("client", client_id=uuid.uuid4()),
        "vendor": await sales_as("vendor"),
        "driver": await sales_as("driver"),
        "anonymous": sales_manager.as_user(None),
    }
    return {"callers": callers, "lead": lead_id, "client": client["id"], "owner": str(owner)}


@pytest.mark.parametrize("root", sorted(EXPECTED))
async def test_every_field_of_every_root_as_every_role(root, world):
    query = operation(root)
    variables = {"lead": world["lead"], "client": world["client"]}
    field_type = GRAPH.query_type.fields[root].type
    failures = []
    for persona, caller in world["callers"].items():
        answer = await caller(query, {k: v for k, v in variables.items() if f"${k}" in query})
        expected = EXPECTED[root][persona]
        if expected != "ok":
            if answer.error_codes != [expected] or (answer.data or {}).get(root) is not None:
                failures.append((persona, expected, answer.error_codes))
            continue
        failures += _field_failures(persona, answer, answer.data[root], field_type, (root,))
        if root in ROWS and _rows(answer.data[root]) != ROWS[root][persona]:
            failures.append((persona, "rows", _rows(answer.data[root])))

    assert failures == [], f"{root}: {operation(root)}\n" + "\n".join(map(str, failures))


#: Entity references (how the router reaches sales from other subgraphs): who gets the object.
#: (Field-level denials inside are `DENIED`, as for root queries.)
ENTITY_READERS = {
    "Client": {*STAFF, "own_client"},
    "Lead": {*ANY_LEAD, "owner_agent"},
    "User": set(PERSONAS) - {"anonymous"},
    "Charter": set(PERSONAS),  # a reference stub: it echoes the id it was given, nothing more
}


def test_every_entity_type_has_a_row():
    entities = {t.name for t in GRAPH.get_type("_Entity").types}
    assert entities == set(ENTITY_READERS)


@pytest.mark.parametrize("type_name", sorted(ENTITY_READERS))
async def test_every_field_of_every_entity_as_every_role(type_name, world):
    type_ = GRAPH.get_type(type_name)
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) { "
        f"... on {type_name} {{ {selection(type_, 2)} }} }} }}"
    )
    ids = {
        "Client": world["client"],
        "Lead": world["lead"],
        "User": world["owner"],
        "Charter": str(uuid.uuid4()),
    }
    failures = []
    for persona, caller in world["callers"].items():
        answer = await caller(query, {"r": [{"__typename": type_name, "id": ids[type_name]}]})
        if persona == "anonymous" and persona not in ENTITY_READERS[type_name]:
            if answer.error_codes != ["UNAUTHENTICATED"] and answer.data["_entities"] != [None]:
                failures.append((persona, answer.body))
            continue
        [entity] = answer.data["_entities"]
        if persona not in ENTITY_READERS[type_name]:
            if entity is not None or answer.errors:
                failures.append((persona, "read", entity, answer.errors))
            continue
        if entity is None:
            failures.append((persona, "missing"))
            continue
        failures += _field_failures(persona, answer, entity, type_, ("_entities", "0"))

    assert failures == [], "\n".join(map(str, failures))
