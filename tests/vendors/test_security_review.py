"""Security review (issue 8), vendors: findings 1, 6, 8 and 14, and the rating reply.

Each test is written against the public API (HTTP, real PostgreSQL and
Redis) so that it fails on the code the review found (b162b12) and passes
now. The other findings have their own modules: certifications (2), bids
(7, 13), list bounds (11) and the role test of every mutation ("Also").
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.vendors.app import create_app
from subgraphs.vendors.models import OnboardingSubmission, Rating, Vendor
from subgraphs.vendors.service import vendors as vendor_service
from subgraphs.vendors.service.onboarding import sign
from tests.support.live_server import serve
from tests.support.vendors_facts import FactCharter, served, vendor_user

WEBHOOK = "/webhooks/vendor-onboarding"
OLD_DEFAULT_SECRET = "embedded-onboarding-webhook-secret-change-me"


def submission() -> bytes:
    return json.dumps(
        {
            "submissionId": f"form-{uuid.uuid4().hex[:10]}",
            "businessName": "Forged Coaches",
            "vendorType": "fleet_operator",
            "email": "ops@forged.example",
        }
    ).encode()


async def submissions_stored(sessions: Any) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(select(func.count()).select_from(OnboardingSubmission)) or 0
        )


async def post_signed(http_client: Any, base_url: str, secret: str) -> Any:
    body = submission()
    return await http_client.post(
        base_url + WEBHOOK,
        content=body,
        headers={"content-type": "application/json", "x-athena-signature": sign(secret, body)},
    )


# -- finding 1: no usable default secret ---------------------------------------------


async def test_finding_1_a_submission_signed_with_the_old_default_secret_is_refused(
    vendors_server, http_client, sessions
):
    response = await post_signed(http_client, vendors_server.base_url, OLD_DEFAULT_SECRET)

    assert response.status_code == 401
    assert await submissions_stored(sessions) == 0


@pytest.mark.parametrize("configured", ["", OLD_DEFAULT_SECRET], ids=["unset", "old-default"])
async def test_finding_1_without_a_usable_secret_the_webhook_refuses_everything_and_logs_it(
    vendors_settings, http_client, sessions, caplog, configured
):
    settings = vendors_settings.model_copy(update={"onboarding_webhook_secret": configured})
    caplog.set_level(logging.ERROR, logger="subgraphs.vendors.webhooks")

    async with serve(create_app(settings)) as server:
        signed_with_it = await post_signed(http_client, server.base_url, configured)
        unsigned = await http_client.post(
            server.base_url + WEBHOOK,
            content=submission(),
            headers={"content-type": "application/json"},
        )

    assert signed_with_it.status_code == 503
    assert unsigned.status_code == 503
    assert await submissions_stored(sessions) == 0
    assert any(
        r.levelno == logging.ERROR and "ONBOARDING_WEBHOOK_SECRET" in r.getMessage()
        for r in caplog.records
    )


# -- finding 8: a vendor edits contact details and service area only ----------------------

UPDATE = """
mutation($id: ID!, $input: VendorInput!) {
  updateVendor(id: $id, input: $input) {
    vendor { id legalName dotNumber mcNumber paymentTerms phone email city
             serviceArea { radiusMiles states } contacts { kind name } }
    userErrors { field code message }
  }
}"""
REGULATED = {
    "legalName": "Hijacked Holdings LLC",
    "taxId": "11-1111111",
    "paymentTerms": "Due on receipt",
    "dotNumber": "9999999",
    "mcNumber": "888888",
}


async def test_finding_8_a_vendor_user_cannot_change_regulated_or_commercial_fields(
    make_vendor, vendors_staff, vendors_as, sessions
):
    vendor = await make_vendor(
        "Regulated Lines",
        legalName="Regulated Lines LLC",
        taxId="12-3456789",
        paymentTerms="Net 30",
        dotNumber="3141592",
        mcNumber="271828",
    )
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])

    each = {
        field: (await portal(UPDATE, {"id": vendor["id"], "input": {field: value}})).ok()[
            "updateVendor"
        ]
        for field, value in REGULATED.items()
    }
    together = (
        await portal(UPDATE, {"id": vendor["id"], "input": {**REGULATED, "phone": "+1 555 0199"}})
    ).ok()["updateVendor"]

    for field, payload in each.items():
        assert payload["vendor"] is None, field
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, "FORBIDDEN")]
    assert sorted((e["field"], e["code"]) for e in together["userErrors"]) == sorted(
        (field, "FORBIDDEN") for field in REGULATED
    )
    async with sessions() as session:
        row = await session.get(Vendor, uuid.UUID(vendor["id"]))
    assert row is not None
    assert (row.legal_name, row.tax_id, row.payment_terms, row.dot_number, row.mc_number) == (
        "Regulated Lines LLC",
        "12-3456789",
        "Net 30",
        "3141592",
        "271828",
    )
    assert row.phone is None  # refused as a whole: the allowed field did not change either


async def test_after_finding_8_the_vendor_still_edits_contacts_and_service_area(
    make_vendor, vendors_staff, vendors_as
):
    vendor = await make_vendor("Self Service Coaches", taxId="12-3456789")
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])

    own = (
        await portal(
            UPDATE,
            {
                "id": vendor["id"],
                "input": {
                    "phone": "+1 555 0100",
                    "email": "desk@selfservice.example",
                    "city": "Memphis",
                    "serviceRadiusMiles": 250,
                    "serviceStates": ["TN", "ms"],
                    "contacts": [{"kind": "DISPATCH", "name": "Night desk"}],
                },
            },
        )
    ).ok()["updateVendor"]
    by_staff = (
        await vendors_staff(UPDATE, {"id": vendor["id"], "input": {"paymentTerms": "Net 15"}})
    ).ok()["updateVendor"]

    assert own["userErrors"] == []
    assert own["vendor"]["phone"] == "+1 555 0100"
    assert own["vendor"]["serviceArea"] == {"radiusMiles": 250, "states": ["TN", "MS"]}
    assert own["vendor"]["contacts"] == [{"kind": "DISPATCH", "name": "Night desk"}]
    assert by_staff["userErrors"] == []
    assert by_staff["vendor"]["paymentTerms"] == "Net 15"


# -- finding 14: no vendor assigned is not "compliant" -----------------------------------

COMPLIANCE = """
query($reps: [_Any!]!) {
  _entities(representations: $reps) { ... on Charter { vendorCompliance { allVendorsCompliant } } }
}"""
COMPLIANCE_COUNT = """
query($reps: [_Any!]!) {
  _entities(representations: $reps) {
    ... on Charter { vendorCompliance { allVendorsCompliant assignedVendorCount } }
  }
}"""


async def compliance_of(client: Any, charter: FactCharter, query: str = COMPLIANCE) -> Any:
    reps = [{"__typename": "Charter", "id": str(charter.id)}]
    return (await client(query, {"reps": reps})).ok()["_entities"][0]["vendorCompliance"]


async def test_finding_14_a_charter_without_vendors_does_not_read_as_compliant(
    vendors_staff, sessions
):
    charter = FactCharter(vehicle_ids=[uuid.uuid4(), uuid.uuid4()])
    await charter.project(sessions, "booked")

    answer = await compliance_of(vendors_staff, charter)

    assert answer == {"allVendorsCompliant": None}


async def test_finding_14_the_count_says_how_many_vendors_the_answer_is_about(
    make_vendor, vendors_staff, sessions
):
    charter = FactCharter(vehicle_ids=[uuid.uuid4(), uuid.uuid4()])
    await charter.project(sessions, "booked")
    empty = await compliance_of(vendors_staff, charter, COMPLIANCE_COUNT)
    vendor = await make_vendor("Counted Coaches")
    assigned = (
        await vendors_staff(
            """mutation($cv: ID!, $v: ID!) { assignVendor(charterVehicleId: $cv, vendorId: $v,
               amount: "900.00") { userErrors { code } } }""",
            {"cv": str(charter.vehicle_ids[0]), "v": vendor["id"]},
        )
    ).ok()["assignVendor"]

    one = await compliance_of(vendors_staff, charter, COMPLIANCE_COUNT)

    assert empty == {"allVendorsCompliant": None, "assignedVendorCount": 0}
    assert assigned["userErrors"] == []
    assert one == {"allVendorsCompliant": True, "assignedVendorCount": 1}


# -- finding 6: the audit keeps the real actor beside the subject ------------------------

AUDIT = """
query($id: ID!) {
  vendor(id: $id) { auditLog(first: 5) { edges { node { action actor { id } impersonator { id } } } } }
}"""


async def test_finding_6_a_vendor_audit_entry_names_the_impersonator_beside_the_subject(
    make_vendor, vendors_staff, vendors_as, sessions
):
    vendor = await make_vendor("Watched Coaches")
    _, subject_id = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    impersonator_id = uuid.uuid4()
    # Impersonated sessions are read-only over the API (kit guard); the audit must
    # still name the real person for any write made as someone else.
    acting = Viewer(
        user_id=subject_id, roles=frozenset({Role.VENDOR}), impersonator_id=impersonator_id
    )
    async with sessions() as session, session.begin():
        await vendor_service.update(
            session,
            uuid.UUID(vendor["id"]),
            vendor_service.VendorProfile(phone="+1 555 0142"),
            acting,
        )

    log = (await vendors_staff(AUDIT, {"id": vendor["id"]})).ok()["vendor"]["auditLog"]
    latest = log["edges"][0]["node"]

    assert latest["action"] == "update"
    assert latest["actor"] == {"id": str(subject_id)}
    assert latest["impersonator"] == {"id": str(impersonator_id)}
    assert all(e["node"]["impersonator"] is None for e in log["edges"][1:])


# -- Also: only the rated vendor's own users reply to a rating --------------------------

RATE = """
mutation($vendor: ID!, $charter: ID!) {
  rateVendor(vendorId: $vendor, charterId: $charter, input: {overall: 2, vehicleCondition: 3,
    driverProfessionalism: 3, onTime: 1, communication: 2, value: 3, comment: "Late"}) {
    rating { id } userErrors { code }
  }
}"""
RESPOND = """
mutation($id: ID!, $response: String!) {
  respondToRating(id: $id, response: $response) { rating { id response } userErrors { code } }
}"""


async def test_finding_also_staff_cannot_write_the_vendors_reply_to_a_rating(
    make_vendor, vendors_staff, vendors_as, sessions
):
    vendor = await make_vendor("Rated Coaches")
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    charter = FactCharter()
    await charter.project(sessions, "confirmed")
    await served(vendors_staff, portal, charter.vehicle_ids[0], vendor["id"])
    await charter.project(sessions, "completed")
    rating = (await vendors_staff(RATE, {"vendor": vendor["id"], "charter": str(charter.id)})).ok()[
        "rateVendor"
    ]["rating"]

    refused = {}
    for role in ("sales_agent", "sales_support", "dispatcher", "accounting", "manager", "admin"):
        staff = await vendors_as(role)
        refused[role] = await staff(RESPOND, {"id": rating["id"], "response": f"{role} wrote"})
    async with sessions() as session:
        untouched = await session.scalar(select(Rating.response))
    own = (await portal(RESPOND, {"id": rating["id"], "response": "We are sorry."})).ok()

    for role, answer in refused.items():
        assert answer.error_codes == ["FORBIDDEN"], role
    assert untouched is None
    assert own["respondToRating"]["userErrors"] == []
    assert own["respondToRating"]["rating"]["response"] == "We are sorry."
