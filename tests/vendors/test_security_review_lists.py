"""Security review (issue 8), finding 11, vendors part: no unbounded list field.

Every list field of the vendors schema is either a Relay connection (its
`edges`, sliced by `first`, at most 100), a list capped by a `first`
argument whose description states the cap, or a small list named below
with the reason it stays small. A new list field fails this test until it
is one of those. Nested connections load through dataloaders: the SQL a
request issues does not grow with the number of vendors listed.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType

from db.engine import record_statements
from subgraphs.vendors.app import schema
from tests.support.vendors_facts import FactCharter, vendor_user

#: Lists that stay small by construction, and why.
SMALL_LISTS = {
    "Vendor.contacts": "at most 20: the profile input is capped (service.vendors.MAX_CONTACTS)",
    "Fleet.vehicleTypes": "at most 20: the profile input is capped",
    "ServiceArea.states": "at most 60: the profile input is capped, state codes only",
    "Compliance.missing": "at most the configured required certification types",
    "Compliance.awaitingVerification": "a subset of `missing`",
    "VendorComplianceEntry.missing": "at most the configured required certification types",
    # Charters caps a charter's vehicles at 50.
    "CharterVendorCompliance.vendors": "one entry per vehicle of one charter at most",
    "BidOpportunity.vehicles": "the vehicles of one charter",
    "AcceptBidPayload.assignments": "one per vehicle of the accepted bid's charter at most",
    "Query._entities": "one per representation the caller sends (federation entity fetch)",
    # Issue 16's report figures: one row per vendor (the operator's affiliates, tens to
    # hundreds), aggregated in SQL, never one per bid or trip.
    "BidAnalytics.vendors": "one per vendor that bid in the window",
    "Query.vendorPerformance": "one per approved vendor",
}
#: Lists cut by a `first` argument with a maximum; the description must state it.
CAPPED = {"Vendor.certifications": 100, "Charter.bids": 100}


def _unwrap(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return type_


def list_fields() -> dict[str, Any]:
    found = {}
    for name, type_ in schema._schema.type_map.items():
        if name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        for field_name, field in type_.fields.items():
            if isinstance(_unwrap(field.type), GraphQLList):
                found[f"{name}.{field_name}"] = (type_, field)
    return found


def is_connection_edges(type_: GraphQLObjectType, field_name: str) -> bool:
    return field_name == "edges" and {"pageInfo", "totalCount"} <= set(type_.fields)


def test_finding_11_no_list_field_of_the_vendors_schema_is_unbounded():
    unbounded = []
    for path, (type_, field) in sorted(list_fields().items()):
        field_name = path.split(".", 1)[1]
        if is_connection_edges(type_, field_name) or path in SMALL_LISTS:
            continue
        if field_name == "userErrors" and type_.name.endswith("Payload"):
            continue  # one per problem with the mutation's own input
        if path in CAPPED:
            cap = CAPPED[path]
            assert "first" in field.args, path
            assert re.search(rf"\bat most {cap}\b", field.description or ""), path
            continue
        unbounded.append(path)

    assert unbounded == []
    assert set(SMALL_LISTS) | set(CAPPED) <= set(list_fields())  # no stale entries


def test_finding_11_lists_that_grow_with_time_are_connections():
    connections = {
        "Query.expiringCertifications",
        "Query.bidOpportunities",
        "Query.myBids",
        "Query.vendors",
        "Query.onboardingSubmissions",
        "Vendor.ratings",
        "Vendor.auditLog",
        "Vendor.documents",
    }
    types = schema._schema.type_map
    for path in sorted(connections):
        type_name, field_name = path.split(".")
        field = types[type_name].fields[field_name]  # type: ignore[attr-defined]
        returned = _unwrap(field.type)
        assert {"edges", "pageInfo", "totalCount"} <= set(returned.fields), path
        assert {"first", "after"} <= set(field.args), path


EXPIRING = """
query($first: Int) {
  expiringCertifications(withinDays: 366, first: $first) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { certification { id } } }
  }
}"""
NESTED = """
query($id: ID!, $first: Int, $after: String) {
  vendor(id: $id) {
    ratings(first: $first) { totalCount }
    auditLog(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { action } } }
    documents(first: $first) { totalCount }
    certifications(first: $first) { id }
  }
}"""
MY_BIDS = "query($first: Int) { myBids(first: $first) { totalCount } }"
OPPORTUNITIES = "query($first: Int) { bidOpportunities(first: $first) { totalCount } }"
CHARTER_BIDS = """
query($reps: [_Any!]!, $first: Int!) {
  _entities(representations: $reps) { ... on Charter { bids(first: $first) { id } } }
}"""


async def test_finding_11_every_list_refuses_more_than_its_cap(
    make_vendor, vendors_staff, vendors_as, sessions
):
    vendor = await make_vendor(
        "Paged Coaches", certs=("DOT", "MC", "INSURANCE"), expires_in_days=20
    )
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    charter = FactCharter()
    await charter.project(sessions, "quote")
    reps = [{"__typename": "Charter", "id": str(charter.id)}]

    page = (await vendors_staff(EXPIRING, {"first": 2})).ok()["expiringCertifications"]
    too_many = [
        await vendors_staff(EXPIRING, {"first": 101}),
        await vendors_staff(NESTED, {"id": vendor["id"], "first": 101}),
        await portal(MY_BIDS, {"first": 101}),
        await portal(OPPORTUNITIES, {"first": 101}),
        await vendors_staff(CHARTER_BIDS, {"reps": reps, "first": 101}),
    ]

    assert page["totalCount"] == 3
    assert len(page["edges"]) == 2
    assert page["pageInfo"]["hasNextPage"] is True
    for answer in too_many:
        assert "BAD_USER_INPUT" in answer.error_codes, answer.body


async def test_finding_11_nested_connections_page_and_add_no_statement_per_vendor(
    make_vendor, vendors_staff
):
    vendor = await make_vendor("Audited Coaches")  # create, 3 certifications, approval
    first = (await vendors_staff(NESTED, {"id": vendor["id"], "first": 2})).ok()["vendor"]
    rest = (
        await vendors_staff(
            NESTED,
            {"id": vendor["id"], "first": 2, "after": first["auditLog"]["pageInfo"]["endCursor"]},
        )
    ).ok()["vendor"]

    listing = """
    query { vendors(first: 50) { edges { node { name
      ratings(first: 3) { totalCount edges { node { id } } }
      auditLog(first: 3) { totalCount edges { node { action } } }
      documents(first: 3) { totalCount edges { node { id } } }
    } } } }"""
    with record_statements() as few:
        one = (await vendors_staff(listing)).ok()
    for _ in range(4):
        await make_vendor()
    with record_statements() as many:
        five = (await vendors_staff(listing)).ok()

    log_size = first["auditLog"]["totalCount"]
    assert log_size >= 4
    assert len(first["auditLog"]["edges"]) == 2
    assert first["auditLog"]["pageInfo"]["hasNextPage"] is True
    actions = [e["node"]["action"] for e in first["auditLog"]["edges"] + rest["auditLog"]["edges"]]
    assert len(actions) == 4
    assert actions[0] == "status:active"  # newest first
    assert len(one["vendors"]["edges"]) == 1
    assert len(five["vendors"]["edges"]) == 5
    assert len(many.statements) == len(few.statements)


ADD = """
mutation($v: ID!, $type: CertificationType!, $expires: Date!) {
  addCertification(vendorId: $v, input: {type: $type, number: "N-1", issuedOn: "2020-01-01",
    expiresOn: $expires}) { userErrors { code } }
}"""


async def test_finding_11_capped_certifications_keep_those_expiring_last(
    make_vendor, vendors_staff
):
    vendor = await make_vendor("Capped Coaches", certs=())
    for cert_type, days in (("DOT", 100), ("MC", 300), ("INSURANCE", 200)):
        expires = (date.today() + timedelta(days=days)).isoformat()
        await vendors_staff(ADD, {"v": vendor["id"], "type": cert_type, "expires": expires})

    two = (await vendors_staff(NESTED, {"id": vendor["id"], "first": 2})).ok()["vendor"]
    none = (await vendors_staff(NESTED, {"id": vendor["id"], "first": 0})).ok()["vendor"]

    types = """query($id: ID!) { vendor(id: $id) { certifications(first: 2) { type } } }"""
    shown = (await vendors_staff(types, {"id": vendor["id"]})).ok()["vendor"]["certifications"]
    assert len(two["certifications"]) == 2
    assert none["certifications"] == []
    assert [c["type"] for c in shown] == ["INSURANCE", "MC"]  # display order: by type
