"""Security review (issue 8), "Also": every vendors mutation, for every role.

The expected table is data: which roles pass each mutation's role gate.
For every role (and anonymous) every mutation of the vendors schema is
called over HTTP with harmless arguments (unknown ids): a role not in the
table gets a top-level `FORBIDDEN` (anonymous `UNAUTHENTICATED`) and a role
in it gets past the gate (whatever its business rules then say, as
`userErrors`). A mutation added to the schema without a row here fails.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from subgraphs.vendors.app import schema
from tests.support.graphql_client import GraphQLClient, GraphQLResponse
from tests.support.roles import ROLES

MANAGE = {"admin", "manager"}
STAFF_EDIT = {"admin", "manager", "sales_support", "dispatcher"}
STAFF = {"admin", "manager", "sales_agent", "sales_support", "dispatcher", "accounting"}

#: Who passes each mutation's role gate.
EXPECTED: dict[str, set[str]] = {
    "createVendor": STAFF_EDIT,
    "updateVendor": STAFF_EDIT | {"vendor"},
    "setVendorStatus": MANAGE,
    "linkVendorUser": MANAGE,
    "addCertification": STAFF_EDIT | {"vendor"},
    "verifyCertification": MANAGE,  # seed 000: verification is a manager's act
    "rejectCertification": MANAGE,
    "setCertificationStatus": STAFF_EDIT,
    "uploadVendorDocument": STAFF_EDIT | {"vendor"},
    "assignVendor": STAFF_EDIT,
    "respondToAssignment": STAFF_EDIT | {"vendor"},
    "createBid": STAFF_EDIT | {"vendor"},
    "submitBid": STAFF_EDIT | {"vendor"},
    "withdrawBid": STAFF_EDIT | {"vendor"},
    "reviewBid": STAFF_EDIT,  # issue 9: staff mark a bid under review
    "rejectBid": STAFF_EDIT,
    "acceptBid": STAFF_EDIT,
    "rateVendor": STAFF | {"client"},
    "respondToRating": {"vendor"},  # the rated vendor's own words, never staff's
    "approveOnboardingSubmission": MANAGE,
    "rejectOnboardingSubmission": MANAGE,
}


def _id() -> str:
    return str(uuid.uuid4())


def operations() -> dict[str, tuple[str, dict[str, Any]]]:
    """One call per mutation with harmless arguments (unknown ids, valid shapes)."""
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    payload = "{ __typename }"
    return {
        "createVendor": (
            f'mutation {{ createVendor(input: {{businessName: "Role Probe", '
            f"vendorType: BROKER}}) {payload} }}",
            {},
        ),
        "updateVendor": (
            f'mutation($id: ID!) {{ updateVendor(id: $id, input: {{city: "X"}}) {payload} }}',
            {"id": _id()},
        ),
        "setVendorStatus": (
            f"mutation($id: ID!) {{ setVendorStatus(id: $id, status: ACTIVE) {payload} }}",
            {"id": _id()},
        ),
        "linkVendorUser": (
            f"mutation($v: ID!, $u: ID!) {{ linkVendorUser(vendorId: $v, userId: $u) {payload} }}",
            {"v": _id(), "u": _id()},
        ),
        "addCertification": (
            f"""mutation($v: ID!) {{ addCertification(vendorId: $v, input: {{type: DOT,
            number: "1", issuedOn: "2026-01-01", expiresOn: "2027-01-01"}}) {payload} }}""",
            {"v": _id()},
        ),
        "verifyCertification": (
            f"mutation($id: ID!) {{ verifyCertification(id: $id) {payload} }}",
            {"id": _id()},
        ),
        "rejectCertification": (
            f'mutation($id: ID!) {{ rejectCertification(id: $id, reason: "no") {payload} }}',
            {"id": _id()},
        ),
        "setCertificationStatus": (
            f"mutation($id: ID!) {{ setCertificationStatus(id: $id, status: SUSPENDED) {payload} }}",
            {"id": _id()},
        ),
        "uploadVendorDocument": (
            f"mutation($v: ID!, $file: Upload!) "
            f"{{ uploadVendorDocument(vendorId: $v, file: $file) {payload} }}",
            {"v": _id(), "file": None},
        ),
        "assignVendor": (
            f"""mutation($cv: ID!, $v: ID!) {{ assignVendor(charterVehicleId: $cv, vendorId: $v,
            amount: "1.00") {payload} }}""",
            {"cv": _id(), "v": _id()},
        ),
        "respondToAssignment": (
            f"mutation($id: ID!) {{ respondToAssignment(id: $id, status: CONFIRMED) {payload} }}",
            {"id": _id()},
        ),
        "createBid": (
            f"""mutation($c: ID!, $until: DateTime!) {{ createBid(input: {{charterId: $c,
            amount: "1.00", vehicleType: "coach", validUntil: $until}}) {payload} }}""",
            {"c": _id(), "until": soon},
        ),
        "submitBid": (f"mutation($id: ID!) {{ submitBid(id: $id) {payload} }}", {"id": _id()}),
        "withdrawBid": (f"mutation($id: ID!) {{ withdrawBid(id: $id) {payload} }}", {"id": _id()}),
        "reviewBid": (f"mutation($id: ID!) {{ reviewBid(id: $id) {payload} }}", {"id": _id()}),
        "rejectBid": (f"mutation($id: ID!) {{ rejectBid(id: $id) {payload} }}", {"id": _id()}),
        "acceptBid": (f"mutation($id: ID!) {{ acceptBid(id: $id) {payload} }}", {"id": _id()}),
        "rateVendor": (
            f"""mutation($v: ID!, $c: ID!) {{ rateVendor(vendorId: $v, charterId: $c, input: {{
            overall: 5, vehicleCondition: 5, driverProfessionalism: 5, onTime: 5,
            communication: 5, value: 5}}) {payload} }}""",
            {"v": _id(), "c": _id()},
        ),
        "respondToRating": (
            f'mutation($id: ID!) {{ respondToRating(id: $id, response: "Thanks") {payload} }}',
            {"id": _id()},
        ),
        "approveOnboardingSubmission": (
            f"mutation($id: ID!) {{ approveOnboardingSubmission(id: $id) {payload} }}",
            {"id": _id()},
        ),
        "rejectOnboardingSubmission": (
            f"mutation($id: ID!) {{ rejectOnboardingSubmission(id: $id) {payload} }}",
            {"id": _id()},
        ),
    }


def schema_mutations() -> set[str]:
    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None
    return set(mutation_type.fields)


async def call(client: GraphQLClient, name: str, query: str, variables: Any) -> GraphQLResponse:
    if name != "uploadVendorDocument":
        return await client(query, variables)
    # The GraphQL multipart request spec: the file travels as a part, not as JSON.
    headers = {"authorization": f"Bearer {client.token}"} if client.token else {}
    response = await client.http.post(
        client.url,
        data={
            "operations": json.dumps({"query": query, "variables": variables}),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        files={"0": ("coi.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")},
        headers=headers,
    )
    return GraphQLResponse(response.status_code, response.json())


def test_finding_also_every_vendors_mutation_has_a_row_in_the_role_table():
    assert set(EXPECTED) == schema_mutations()
    assert set(operations()) == schema_mutations()


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
async def test_finding_also_every_vendors_mutation_admits_exactly_its_roles(
    role, vendors_server, http_client, mint
):
    token = await mint(role) if role != "anonymous" else None
    client = GraphQLClient(vendors_server.graphql_url, http_client, token)
    refused_code = "UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"

    wrong = {}
    for name, (query, variables) in sorted(operations().items()):
        answer = await call(client, name, query, variables)
        codes = answer.error_codes
        if role in EXPECTED[name]:
            ok = answer.status_code == 200 and not {"FORBIDDEN", "UNAUTHENTICATED"} & set(codes)
            ok = ok and "BAD_USER_INPUT" not in codes and answer.data and answer.data.get(name)
        else:
            ok = codes == [refused_code] and (answer.data or {}).get(name) is None
        if not ok:
            wrong[name] = (answer.status_code, codes)

    assert wrong == {}
