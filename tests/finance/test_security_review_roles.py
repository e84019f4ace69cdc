"""Every finance mutation and root query, for every role: the expected table is data.

A role not in a row gets a top-level `FORBIDDEN` (anonymous
`UNAUTHENTICATED`); a role in it gets past the gate (whatever the business
rules then say, as `userErrors`). A field added without a row fails here.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from subgraphs.finance.app import schema
from tests.support.graphql_client import GraphQLClient

ROLES = (
    "admin",
    "manager",
    "sales_agent",
    "sales_support",
    "dispatcher",
    "accounting",
    "client",
    "vendor",
    "driver",
)
FINANCE = {"admin", "manager", "accounting"}

EXPECTED: dict[str, set[str]] = {
    "recordPayment": FINANCE,
    "applyPayment": FINANCE,
    "unapplyPayment": FINANCE,
    "payment": FINANCE,
    "arAging": FINANCE,
    "invoiceCharter": FINANCE,
    "sendInvoice": FINANCE,
    "voidInvoice": FINANCE,
    "invoice": FINANCE | {"client"},
}


def operations() -> dict[str, tuple[str, dict[str, Any]]]:
    some = str(uuid.uuid4())
    out = "{ __typename userErrors { code } }"
    return {
        "recordPayment": (
            'mutation($id: ID!) { recordPayment(input: {clientId: $id, amount: "1.00", '
            f'receivedOn: "2026-01-01", method: CASH}}) {out} }}',
            {"id": some},
        ),
        "applyPayment": (
            "mutation($id: ID!) { applyPayment(input: {paymentId: $id, charterId: $id, "
            f'amount: "1.00", idempotencyKey: "k"}}) {out} }}',
            {"id": some},
        ),
        "unapplyPayment": (
            f'mutation($id: ID!) {{ unapplyPayment(id: $id, reason: "x") {out} }}',
            {"id": some},
        ),
        "payment": ("query($id: ID!) { payment(id: $id) { id } }", {"id": some}),
        "arAging": ("{ arAging { asOf } }", {}),
        "invoice": ("query($id: ID!) { invoice(id: $id) { id } }", {"id": some}),
        "invoiceCharter": (
            f"mutation($id: ID!) {{ invoiceCharter(charterId: $id) {out} }}",
            {"id": some},
        ),
        "sendInvoice": (f"mutation($id: ID!) {{ sendInvoice(id: $id) {out} }}", {"id": some}),
        "voidInvoice": (
            f'mutation($id: ID!) {{ voidInvoice(id: $id, reason: "x") {out} }}',
            {"id": some},
        ),
    }


def test_the_table_names_every_mutation_and_query_of_the_schema():
    graph = schema._schema
    fields = set(graph.mutation_type.fields) | {  # type: ignore[union-attr]
        name for name in graph.query_type.fields if not name.startswith("_")
    }
    assert fields == set(EXPECTED) == set(operations())


@pytest.mark.parametrize("role", [*ROLES, None])
async def test_every_finance_operation_as_every_role(role, finance_server, http_client, mint):
    token = await mint(role, client_id=uuid.uuid4() if role == "client" else None) if role else None
    caller = GraphQLClient(finance_server.graphql_url, http_client, token)
    for name, (query, variables) in operations().items():
        answer = await caller(query, variables)
        if role is None:
            assert answer.error_codes == ["UNAUTHENTICATED"], (name, answer.body)
        elif role in EXPECTED[name]:
            assert "FORBIDDEN" not in answer.error_codes, (name, role, answer.body)
            assert "UNAUTHENTICATED" not in answer.error_codes, (name, role, answer.body)
        else:
            assert answer.error_codes == ["FORBIDDEN"], (name, role, answer.body)
