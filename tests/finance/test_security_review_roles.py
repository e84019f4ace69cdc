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
from tests.support.roles import ROLES

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
    # Payments (issue 12 sections 1 and 3): clients pay their own and keep their own cards.
    "paymentConfiguration": FINANCE,
    "updatePaymentConfiguration": FINANCE,
    "setPaymentPlan": FINANCE,
    "refundPayment": FINANCE,
    "changePaymentDate": FINANCE,
    "payByCard": FINANCE | {"client"},
    "savePaymentMethod": FINANCE | {"client"},
    "removePaymentMethod": FINANCE | {"client"},
    # The client portal (issue 14 section 2): paying from the plan, autopay.
    "payFromPlan": FINANCE | {"client"},
    "setAutopay": FINANCE | {"client"},
    "disableAutopay": FINANCE | {"client"},
    # The receivables reports (issue 12 section 5): finance staff only, one gate for all.
    "outstandingReceivables": FINANCE,
    "charterPaymentStatus": FINANCE,
    "zeroBalanceCharters": FINANCE,
    "unearnedRevenue": FINANCE,
    "checkLog": FINANCE,
    "upcomingDueDates": FINANCE,
    "departedTripsByAgent": FINANCE,
    "cancellations": FINANCE,
    # Vendor bills (issue 12 section 4): a vendor reads its own; a manager approves.
    "createVendorBill": FINANCE,
    "billAssignment": FINANCE,
    "approveVendorBill": {"admin", "manager"},
    "disputeVendorBill": FINANCE,
    "resolveVendorBillDispute": FINANCE,
    "recordBillPayment": FINANCE,
    "vendorBill": FINANCE | {"vendor"},
    "vendorBills": FINANCE | {"vendor"},
    "apAging": FINANCE,
    "vendorPayables": FINANCE,
    "invoiceClientPeriod": FINANCE,
    # The accounting sync (issue 12 section 6): bookkeeping, finance staff only.
    "syncRecords": FINANCE,
    "syncConflicts": FINANCE,
    "retrySync": FINANCE,
    "resolveSyncConflict": FINANCE,
    # Reports and dashboards (issue 16): the payments report, the operator's month.
    "payments": FINANCE,
    "revenueMonthToDate": FINANCE,
}


def operations() -> dict[str, tuple[str, dict[str, Any]]]:
    some = str(uuid.uuid4())
    out = "{ __typename userErrors { code } }"
    return {
        **_bill_operations(some, out),
        **_payment_operations(some, out),
        **_receivables_report_operations(),
        **_sync_operations(some, out),
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
        "invoiceClientPeriod": (
            "mutation($id: ID!) { invoiceClientPeriod(clientId: $id, "
            f'periodStart: "2026-01-01", periodEnd: "2026-01-31") {out} }}',
            {"id": some},
        ),
    }


def _payment_operations(some: str, out: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Ids that are not ids, where a client's own is needed: the gate is passed, the input
    refused; who may act for which client is tested in test_saved_methods/test_card_payments."""
    return {
        "paymentConfiguration": ("{ paymentConfiguration { depositPercent } }", {}),
        "updatePaymentConfiguration": (
            f"mutation {{ updatePaymentConfiguration(input: {{autopayAllowed: true}}) {out} }}",
            {},
        ),
        "setPaymentPlan": (
            "mutation($id: ID!) { setPaymentPlan(charterId: $id, instalments: "
            f'[{{amount: "1.00", dueOn: "2099-01-01"}}]) {out} }}',
            {"id": some},
        ),
        "refundPayment": (
            "mutation($id: ID!) { refundPayment(input: {paymentId: $id, charterId: $id, "
            f'amount: "1.00", reason: "x", idempotencyKey: "k"}}) {out} }}',
            {"id": some},
        ),
        "changePaymentDate": (
            'mutation($id: ID!) { changePaymentDate(id: $id, receivedOn: "2026-01-01", '
            f'reason: "x") {out} }}',
            {"id": some},
        ),
        "payByCard": (
            'mutation { payByCard(input: {charterId: "not-an-id", amount: "1.00", '
            f'idempotencyKey: "k", paymentMethodToken: "pm_card_visa"}}) {out} }}',
            {},
        ),
        "savePaymentMethod": (
            'mutation { savePaymentMethod(input: {clientId: "not-an-id", '
            f'providerToken: "pm_card_visa"}}) {out} }}',
            {},
        ),
        "removePaymentMethod": (
            f"mutation($id: ID!) {{ removePaymentMethod(id: $id) {out} }}",
            {"id": some},
        ),
        "payFromPlan": (
            'mutation { payFromPlan(input: {charterId: "not-an-id", part: DEPOSIT, '
            f'idempotencyKey: "k", paymentMethodToken: "pm_card_visa"}}) {out} }}',
            {},
        ),
        "setAutopay": (
            f'mutation {{ setAutopay(clientId: "not-an-id", savedMethodId: "not-an-id") {out} }}',
            {},
        ),
        "disableAutopay": (f'mutation {{ disableAutopay(clientId: "not-an-id") {out} }}', {}),
    }


def _bill_operations(some: str, out: str) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        "createVendorBill": (
            'mutation($id: ID!) { createVendorBill(input: {vendorId: $id, amount: "1.00", '
            'billDate: "2026-01-01"}) { bill { id } userErrors { code } } }',
            {"id": some},
        ),
        "billAssignment": (
            "mutation($id: ID!) { billAssignment(assignmentId: $id) "
            "{ bill { id } userErrors { code } } }",
            {"id": some},
        ),
        "approveVendorBill": (
            "mutation($id: ID!) { approveVendorBill(id: $id) { bill { id } userErrors { code } } }",
            {"id": some},
        ),
        "disputeVendorBill": (
            'mutation($id: ID!) { disputeVendorBill(id: $id, reason: "x") '
            "{ bill { id } userErrors { code } } }",
            {"id": some},
        ),
        "resolveVendorBillDispute": (
            'mutation($id: ID!) { resolveVendorBillDispute(id: $id, resolution: "x") '
            "{ bill { id } userErrors { code } } }",
            {"id": some},
        ),
        "recordBillPayment": (
            'mutation($id: ID!) { recordBillPayment(input: {billId: $id, amount: "1.00", '
            'paidOn: "2026-01-01", method: ACH, idempotencyKey: "k"}) '
            f"{out} }}",
            {"id": some},
        ),
        "vendorBill": ("query($id: ID!) { vendorBill(id: $id) { id } }", {"id": some}),
        "vendorBills": ("{ vendorBills(first: 5) { totalCount } }", {}),
        "apAging": ("{ apAging { asOf } }", {}),
        "vendorPayables": ("{ vendorPayables { totalOwed } }", {}),
    }


def _sync_operations(some: str, out: str) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        "syncRecords": ("{ syncRecords(first: 5) { totalCount } }", {}),
        "syncConflicts": ("{ syncConflicts { id } }", {}),
        "retrySync": (f"mutation($id: ID!) {{ retrySync(id: $id) {out} }}", {"id": some}),
        "resolveSyncConflict": (
            f'mutation($id: ID!) {{ resolveSyncConflict(id: $id, resolution: "x") {out} }}',
            {"id": some},
        ),
    }


def _receivables_report_operations() -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        "outstandingReceivables": ("{ outstandingReceivables { asOf } }", {}),
        "charterPaymentStatus": ("{ charterPaymentStatus { asOf } }", {}),
        "zeroBalanceCharters": ("{ zeroBalanceCharters { asOf } }", {}),
        "unearnedRevenue": ("{ unearnedRevenue { total } }", {}),
        "checkLog": ("{ checkLog { total } }", {}),
        "upcomingDueDates": ("{ upcomingDueDates { total } }", {}),
        "departedTripsByAgent": ("{ departedTripsByAgent { to } }", {}),
        "cancellations": ("{ cancellations { to } }", {}),
        "payments": ("{ payments(first: 1) { totalCount } }", {}),
        "revenueMonthToDate": ("{ revenueMonthToDate { booked } }", {}),
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
