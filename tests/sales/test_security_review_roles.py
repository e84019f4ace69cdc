"""Every sales mutation, for every role: the expected role table is data.

A role not in a mutation's row gets a top-level `FORBIDDEN` (anonymous
`UNAUTHENTICATED`); a role in it gets past the gate (whatever the business
rules then say, as `userErrors`). A mutation added without a row fails here.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from subgraphs.sales.app import schema
from tests.support.roles import ROLES

EDIT = {"admin", "manager", "sales_support", "sales_agent"}

EXPECTED: dict[str, set[str]] = {
    "createClient": EDIT,
    "updateClient": EDIT,
    "setClientStatus": EDIT,
    "addClientContact": EDIT,
    "updateClientContact": EDIT,
    "removeClientContact": EDIT,
    "setPrimaryContact": EDIT,
    "createLead": EDIT,
    "updateLead": EDIT,
    "setLeadStatus": EDIT,
    "logLeadActivity": EDIT,
    "markLeadHot": EDIT,
    "setLeadQueueEntry": {"admin", "manager"},
    "removeLeadQueueEntry": {"admin", "manager"},
    "assignLead": {"admin", "manager", "sales_support"},
    "convertLead": EDIT,
}


def operations() -> dict[str, tuple[str, dict[str, Any]]]:
    """One call per mutation with harmless arguments (unknown ids, invalid input)."""
    out = "{ __typename userErrors { code } }"
    some = str(uuid.uuid4())
    return {
        "createClient": (
            f'mutation {{ createClient(input: {{name: " ", type: PERSONAL}}) {out} }}',
            {},
        ),
        "updateClient": (
            f'mutation($id: ID!) {{ updateClient(id: $id, input: {{name: "X"}}) {out} }}',
            {"id": some},
        ),
        "setClientStatus": (
            f"mutation($id: ID!) {{ setClientStatus(id: $id, status: INACTIVE) {out} }}",
            {"id": some},
        ),
        "addClientContact": (
            f'mutation($id: ID!) {{ addClientContact(clientId: $id, input: {{name: "X"}}) {out} }}',
            {"id": some},
        ),
        "updateClientContact": (
            f'mutation($id: ID!) {{ updateClientContact(id: $id, input: {{name: "X"}}) {out} }}',
            {"id": some},
        ),
        "removeClientContact": (
            f"mutation($id: ID!) {{ removeClientContact(id: $id) {out} }}",
            {"id": some},
        ),
        "setPrimaryContact": (
            f"mutation($id: ID!) {{ setPrimaryContact(id: $id) {out} }}",
            {"id": some},
        ),
        "createLead": (
            "mutation { createLead(input: "
            f'{{source: WEB, firstName: " ", lastName: "X", email: "x@example.com"}}) {out} }}',
            {},
        ),
        "updateLead": (
            f"mutation($id: ID!) {{ updateLead(id: $id, input: {{passengers: 5}}) {out} }}",
            {"id": some},
        ),
        "setLeadStatus": (
            f"mutation($id: ID!) {{ setLeadStatus(id: $id, status: CONTACTED) {out} }}",
            {"id": some},
        ),
        "logLeadActivity": (
            f"mutation($id: ID!) {{ logLeadActivity(leadId: $id, input: {{type: CALL}}) {out} }}",
            {"id": some},
        ),
        "markLeadHot": (
            f"mutation($id: ID!) {{ markLeadHot(id: $id, hot: true) {out} }}",
            {"id": some},
        ),
        "setLeadQueueEntry": (
            "mutation($id: ID!) { setLeadQueueEntry(input: "
            f"{{agentId: $id, position: 1}}) {out} }}",
            {"id": some},
        ),
        "removeLeadQueueEntry": (
            f"mutation($id: ID!) {{ removeLeadQueueEntry(agentId: $id) {out} }}",
            {"id": some},
        ),
        "assignLead": (
            f"mutation($id: ID!) {{ assignLead(id: $id, agentId: $id) {out} }}",
            {"id": some},
        ),
        "convertLead": (
            "mutation($id: ID!) { convertLead(id: $id, input: "
            f'{{idempotencyKey: "security-review"}}) {out} }}',
            {"id": some},
        ),
    }


def test_the_table_names_every_mutation_of_the_schema():
    fields = set(schema._schema.mutation_type.fields)  # type: ignore[union-attr]
    assert fields == set(EXPECTED) == set(operations())


@pytest.mark.parametrize("role", [*ROLES, None])
async def test_every_mutation_as_every_role(role, sales_as, sales_server, http_client):
    from tests.support.graphql_client import GraphQLClient

    caller = (
        await sales_as(role, client_id=uuid.uuid4() if role == "client" else None)
        if role
        else GraphQLClient(sales_server.graphql_url, http_client)
    )
    for name, (query, variables) in operations().items():
        answer = await caller(query, variables)
        if role is None:
            assert answer.error_codes == ["UNAUTHENTICATED"], (name, answer.body)
        elif role in EXPECTED[name]:
            assert answer.errors == [], (name, role, answer.body)
            assert answer.data[name]["userErrors"], (name, role)  # refused by the rules
        else:
            assert answer.error_codes == ["FORBIDDEN"], (name, role, answer.body)
