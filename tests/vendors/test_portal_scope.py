"""The vendor portal's scope: with a second vendor's token, another vendor's data is never returned.

Every vendor-facing field of the vendors schema is asked for as vendor B
about vendor A's data: queries, entity references (`Vendor`,
`CharterVehicle`, `Charter`), nested relations, mutations and the
document download. Staff and A itself are checked alongside so a test
cannot pass by returning nothing to everyone.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from subgraphs.vendors.models import Bid, Certification, Vendor
from tests.support.graphql_client import GraphQLClient
from tests.support.vendors_facts import FactCharter, served, vendor_user

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
VENDOR_FIELDS = """
  id name legalName vendorType status email phone addressLine city state postalCode dotNumber
  mcNumber paymentTerms preferred approvedAt taxId
  fleet { vehicleCount vehicleTypes maxPassengerCapacity }
  serviceArea { baseLatitude baseLongitude radiusMiles states }
  contacts { kind name email phone }
  certifications { id type number expiresOn status daysUntilExpiration document { id downloadPath } }
  compliance { isCompliant missing }
  ratingSummary { count }
  ratings { edges { node { id } } }
"""
VENDOR = f"query($id: ID!) {{ vendor(id: $id) {{ {VENDOR_FIELDS} }} }}"
MY_VENDOR = f"query {{ myVendor {{ {VENDOR_FIELDS} }} }}"
VENDORS = "query { vendors { totalCount edges { node { id name } } } }"
EXPIRING = (
    "query { expiringCertifications(withinDays: 366) "
    "{ edges { node { certification { id } vendor { id } } } } }"
)
SUBMISSIONS = "query { onboardingSubmissions { totalCount } }"
MY_BIDS = "query { myBids { edges { node { id amount vendor { id } } } } }"
OPPORTUNITIES = "query($v: ID) { bidOpportunities(vendorId: $v) { edges { node { reference } } } }"
ENTITIES = f"""
query($reps: [_Any!]!) {{
  _entities(representations: $reps) {{
    ... on Vendor {{ {VENDOR_FIELDS} }}
    ... on CharterVehicle {{ id vendor {{ id name }} vendorAssignment {{ id amount status vendor {{ id }} }} }}
    ... on Charter {{
      id
      vendorCompliance {{ allVendorsCompliant vendors {{ vendor {{ id name }} isCompliant missing }} }}
      bids {{ id amount vendor {{ id name }} charterVehicle {{ id }} }}
    }}
  }}
}}"""
UPDATE = """
mutation($id: ID!) { updateVendor(id: $id, input: {city: "Hijacked"}) { vendor { id } userErrors { code } } }"""
ADD_CERT = """
mutation($v: ID!) { addCertification(vendorId: $v, input: {type: DOT, number: "1",
  issuedOn: "2026-01-01", expiresOn: "2027-01-01"}) { certification { id } userErrors { code } } }"""
RESPOND = """
mutation($id: ID!, $status: AssignmentStatus!) {
  respondToAssignment(id: $id, status: $status, reason: "no") { assignment { id } userErrors { code } } }"""
CREATE_BID = """
mutation($input: CreateBidInput!) { createBid(input: $input) { bid { id vendor { id } } userErrors { field code message } } }"""
WITHDRAW = "mutation($id: ID!) { withdrawBid(id: $id) { bid { id } userErrors { code } } }"
UPLOAD = """
mutation($vendorId: ID!, $file: Upload!) {
  uploadVendorDocument(vendorId: $vendorId, file: $file) {
    document { id downloadPath } userErrors { field code message } } }"""
LINK_CERT_DOC = """
mutation($v: ID!, $doc: ID!) { addCertification(vendorId: $v, input: {type: SAFETY_INSPECTION,
  number: "SI-1", issuedOn: "2026-01-01", expiresOn: "2030-01-01", documentId: $doc}) {
  certification { id } userErrors { code } } }"""


async def upload(client: GraphQLClient, vendor_id: str) -> dict[str, Any]:
    operations = {"query": UPLOAD, "variables": {"vendorId": vendor_id, "file": None}}
    response = await client.http.post(
        client.url,
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("coi.pdf", PDF, "application/pdf")},
        headers={"authorization": f"Bearer {client.token}"},
    )
    return response.json()  # type: ignore[no-any-return]


class World:
    """Vendor A with everything a vendor can have; vendor B with a login and nothing of A's."""

    a: dict[str, Any]
    b: dict[str, Any]
    a_portal: GraphQLClient
    b_portal: GraphQLClient
    charter: FactCharter
    open_charter: FactCharter
    assignment_id: str
    bid_id: str
    document: dict[str, Any]


@pytest.fixture
async def world(sessions, make_vendor, vendors_staff, vendors_as) -> World:
    w = World()
    w.a = await make_vendor(
        "Alpha Coaches", taxId="98-7654321", email="alpha@example.com", city="Austin"
    )
    w.b = await make_vendor("Bravo Buses")
    w.a_portal, _ = await vendor_user(vendors_staff, vendors_as, w.a["id"])
    w.b_portal, _ = await vendor_user(vendors_staff, vendors_as, w.b["id"])
    # A serves a confirmed charter's vehicle, and bids on an open charter.
    w.charter = FactCharter()
    await w.charter.project(sessions, "confirmed")
    w.assignment_id = await served(vendors_staff, w.a_portal, w.charter.vehicle_ids[0], w.a["id"])
    w.open_charter = FactCharter()
    await w.open_charter.project(sessions, "booked")
    bid = (
        await w.a_portal(
            CREATE_BID,
            {
                "input": {
                    "charterId": str(w.open_charter.id),
                    "amount": "1500.00",
                    "vehicleType": "Coach",
                    "validUntil": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
                }
            },
        )
    ).ok()["createBid"]
    assert bid["userErrors"] == [], bid
    w.bid_id = bid["bid"]["id"]
    uploaded = await upload(w.a_portal, w.a["id"])
    w.document = uploaded["data"]["uploadVendorDocument"]["document"]
    linked = (await vendors_staff(LINK_CERT_DOC, {"v": w.a["id"], "doc": w.document["id"]})).ok()
    assert linked["addCertification"]["userErrors"] == []
    return w


def ids_in(value: Any) -> set[str]:
    """Every `id` anywhere in a response, to prove A's never appears."""
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "id" and isinstance(v, str):
                found.add(v)
            found |= ids_in(v)
    elif isinstance(value, list):
        for v in value:
            found |= ids_in(v)
    return found


def text_of(value: Any) -> str:
    return json.dumps(value)


async def test_vendor_by_id_answers_only_for_your_own_vendor(world: World, vendors_staff):
    theirs = await world.b_portal(VENDOR, {"id": world.a["id"]})
    own = (await world.a_portal(VENDOR, {"id": world.a["id"]})).ok()
    staff = (await vendors_staff(VENDOR, {"id": world.a["id"]})).ok()

    assert theirs.data is None
    assert theirs.error_codes == ["NOT_FOUND"]
    assert "Alpha" not in text_of(theirs.body)
    assert own["vendor"]["name"] == "Alpha Coaches"
    assert own["vendor"]["certifications"][-1]["document"]["id"] == world.document["id"]
    assert staff["vendor"]["name"] == "Alpha Coaches"


async def test_my_vendor_is_your_own(world: World):
    mine = (await world.b_portal(MY_VENDOR)).ok()["myVendor"]

    assert mine["id"] == world.b["id"]
    assert world.a["id"] not in ids_in(mine)
    assert "Alpha" not in text_of(mine)


@pytest.mark.parametrize("query", [VENDORS, EXPIRING, SUBMISSIONS])
async def test_staff_lists_are_forbidden_to_vendors(world: World, query):
    answer = await world.b_portal(query)

    assert answer.error_codes == ["FORBIDDEN"]
    assert answer.data is None


async def test_vendor_entities_of_another_vendor_resolve_to_null(world: World):
    reps = [
        {"__typename": "Vendor", "id": world.a["id"]},
        {"__typename": "Vendor", "id": world.b["id"]},
    ]

    answer = (await world.b_portal(ENTITIES, {"reps": reps})).ok()["_entities"]

    assert answer[0] is None
    assert answer[1]["id"] == world.b["id"]


async def test_charter_vehicle_vendor_and_assignment_are_hidden_from_another_vendor(
    world: World, vendors_staff
):
    reps = [{"__typename": "CharterVehicle", "id": str(world.charter.vehicle_ids[0])}]

    theirs = (await world.b_portal(ENTITIES, {"reps": reps})).ok()["_entities"][0]
    own = (await world.a_portal(ENTITIES, {"reps": reps})).ok()["_entities"][0]

    assert theirs["vendor"] is None
    assert theirs["vendorAssignment"] is None
    assert own["vendor"]["id"] == world.a["id"]
    assert own["vendorAssignment"]["id"] == world.assignment_id


async def test_charter_compliance_and_bids_show_another_vendor_nothing(world: World, vendors_staff):
    reps = [
        {"__typename": "Charter", "id": str(world.charter.id)},
        {"__typename": "Charter", "id": str(world.open_charter.id)},
    ]

    theirs = (await world.b_portal(ENTITIES, {"reps": reps})).ok()["_entities"]
    own = (await world.a_portal(ENTITIES, {"reps": reps})).ok()["_entities"]
    staff = (await vendors_staff(ENTITIES, {"reps": reps})).ok()["_entities"]

    assert theirs[0]["vendorCompliance"] == {"allVendorsCompliant": None, "vendors": []}
    assert theirs[1]["bids"] == []
    assert world.a["id"] not in ids_in(theirs)
    assert world.bid_id not in ids_in(theirs)
    assert [e["vendor"]["id"] for e in own[0]["vendorCompliance"]["vendors"]] == [world.a["id"]]
    assert [b["id"] for b in own[1]["bids"]] == [world.bid_id]
    assert [b["id"] for b in staff[1]["bids"]] == [world.bid_id]


async def test_my_bids_and_opportunities_are_your_own(world: World):
    bids = (await world.b_portal(MY_BIDS)).ok()["myBids"]["edges"]
    others = await world.b_portal(OPPORTUNITIES, {"v": world.a["id"]})
    own = [e["node"] for e in (await world.a_portal(MY_BIDS)).ok()["myBids"]["edges"]]

    assert bids == []
    assert others.data is None
    assert others.error_codes == ["NOT_FOUND"]
    assert [b["id"] for b in own] == [world.bid_id]


async def test_another_vendors_document_cannot_be_downloaded(
    world: World, http_client, vendors_server
):
    url = vendors_server.base_url + world.document["downloadPath"]

    theirs = await http_client.get(url, headers={"authorization": f"Bearer {world.b_portal.token}"})
    own = await http_client.get(url, headers={"authorization": f"Bearer {world.a_portal.token}"})

    assert theirs.status_code == 404
    assert PDF not in theirs.content
    assert own.status_code == 200
    assert own.content == PDF


async def test_another_vendor_cannot_change_anything_of_yours(world: World, sessions):
    answers = {
        "updateVendor": (await world.b_portal(UPDATE, {"id": world.a["id"]})).ok(),
        "addCertification": (await world.b_portal(ADD_CERT, {"v": world.a["id"]})).ok(),
        "respondToAssignment": (
            await world.b_portal(
                RESPOND, {"id": world.assignment_id, "status": "RECOVERY_REQUESTED"}
            )
        ).ok(),
        "withdrawBid": (await world.b_portal(WITHDRAW, {"id": world.bid_id})).ok(),
        "uploadVendorDocument": (await upload(world.b_portal, world.a["id"]))["data"],
    }
    bid_for_a = (
        await world.b_portal(
            CREATE_BID,
            {
                "input": {
                    "charterId": str(world.open_charter.id),
                    "amount": "1.00",
                    "vehicleType": "Coach",
                    "validUntil": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
                    "vendorId": world.a["id"],
                }
            },
        )
    ).ok()["createBid"]

    for name, answer in answers.items():
        payload = answer[name]
        assert [e["code"] for e in payload["userErrors"]][:1] == ["FORBIDDEN"], name
    assert bid_for_a["bid"] is None
    assert bid_for_a["userErrors"][0]["code"] == "FORBIDDEN"
    async with sessions() as session:
        vendor_a = await session.get(Vendor, uuid.UUID(world.a["id"]))
        assert vendor_a is not None
        assert vendor_a.city == "Austin"
        assert (
            await session.scalar(
                select(func.count())
                .select_from(Certification)
                .where(Certification.vendor_id == vendor_a.id)
            )
            == 4
        )
        assert (
            await session.scalar(select(Bid.status).where(Bid.id == uuid.UUID(world.bid_id)))
            == "submitted"
        )
