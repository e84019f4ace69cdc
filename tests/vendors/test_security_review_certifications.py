"""Security review (issue 8), finding 2: a vendor cannot certify itself.

A certification a vendor user records is PENDING_VERIFICATION and counts
for nothing (compliance, bids, assignments) until a manager verifies it;
who and when are recorded. A manager may reject it with a reason the
vendor reads. Managers' (and admins') own entries are verified at once, by
them; other staff's wait like a vendor's.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from subgraphs.vendors.models import Bid, VendorAssignment
from tests.support.vendors_facts import FactCharter, vendor_user

ADD = """
mutation($vendorId: ID!, $input: CertificationInput!) {
  addCertification(vendorId: $vendorId, input: $input) {
    certification { id type status verifiedAt verifiedBy { id } }
    userErrors { field code message }
  }
}"""
VERIFY = """
mutation($id: ID!) {
  verifyCertification(id: $id) {
    certification { id status verifiedAt verifiedBy { id } } userErrors { field code message }
  }
}"""
REJECT = """
mutation($id: ID!, $reason: String!) {
  rejectCertification(id: $id, reason: $reason) {
    certification { id status rejectionReason rejectedAt rejectedBy { id } }
    userErrors { field code message }
  }
}"""
SET_STATUS = """
mutation($id: ID!, $status: CertificationStatus!) {
  setCertificationStatus(id: $id, status: $status) {
    certification { id status verifiedBy { id } } userErrors { field code message }
  }
}"""
MY_VENDOR = """
query {
  myVendor {
    certifications { id type status rejectionReason }
    compliance { isCompliant missing awaitingVerification }
  }
}"""
COMPLIANCE = "query($id: ID!) { vendor(id: $id) { compliance { isCompliant missing } } }"
CREATE_BID = """
mutation($input: CreateBidInput!) {
  createBid(input: $input) { bid { id status } userErrors { field code message } }
}"""
ASSIGN = """
mutation($cv: ID!, $vendor: ID!) {
  assignVendor(charterVehicleId: $cv, vendorId: $vendor, amount: "900.00") {
    assignment { id } userErrors { field code message }
  }
}"""


def insurance(number: str = "COI-1", expires_in: int = 300) -> dict[str, Any]:
    return {
        "type": "INSURANCE",
        "number": number,
        "issuedOn": (date.today() - timedelta(days=10)).isoformat(),
        "expiresOn": (date.today() + timedelta(days=expires_in)).isoformat(),
    }


def bid_on(charter: FactCharter) -> dict[str, Any]:
    return {
        "input": {
            "charterId": str(charter.id),
            "amount": "1400.00",
            "vehicleType": "56-seat coach",
            "validUntil": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        }
    }


async def counts(sessions: Any) -> tuple[int, int]:
    async with sessions() as session:
        bids = await session.scalar(select(func.count()).select_from(Bid))
        assignments = await session.scalar(select(func.count()).select_from(VendorAssignment))
    return int(bids or 0), int(assignments or 0)


async def test_finding_2_a_vendors_own_insurance_is_pending_and_makes_it_eligible_for_nothing(
    make_vendor, vendors_staff, vendors_as, sessions
):
    # An active vendor without insurance: not compliant, so it may neither bid nor be assigned.
    vendor = await make_vendor("Uninsured Coaches", certs=("DOT", "MC"))
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    charter = FactCharter()
    await charter.project(sessions, "booked")

    added = (await portal(ADD, {"vendorId": vendor["id"], "input": insurance()})).ok()[
        "addCertification"
    ]
    compliance = (await vendors_staff(COMPLIANCE, {"id": vendor["id"]})).ok()["vendor"]
    bid = (await portal(CREATE_BID, bid_on(charter))).ok()["createBid"]
    assignment = (
        await vendors_staff(ASSIGN, {"cv": str(charter.vehicle_ids[0]), "vendor": vendor["id"]})
    ).ok()["assignVendor"]

    assert added["userErrors"] == []
    assert added["certification"]["status"] == "PENDING_VERIFICATION"
    assert added["certification"]["verifiedAt"] is None
    assert compliance["compliance"] == {"isCompliant": False, "missing": ["INSURANCE"]}
    assert bid["bid"] is None
    assert bid["userErrors"][0]["code"] == "NOT_ELIGIBLE"
    assert assignment["assignment"] is None
    assert assignment["userErrors"][0]["code"] == "NOT_ELIGIBLE"
    assert await counts(sessions) == (0, 0)


async def test_finding_2_the_vendor_sees_its_certification_awaiting_verification(
    make_vendor, vendors_staff, vendors_as
):
    vendor = await make_vendor("Waiting Coaches", certs=("DOT", "MC"))
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    await portal(ADD, {"vendorId": vendor["id"], "input": insurance()})

    mine = (await portal(MY_VENDOR)).ok()["myVendor"]

    statuses = {c["type"]: c["status"] for c in mine["certifications"]}
    assert statuses == {"DOT": "ACTIVE", "MC": "ACTIVE", "INSURANCE": "PENDING_VERIFICATION"}
    assert mine["compliance"] == {
        "isCompliant": False,
        "missing": ["INSURANCE"],
        "awaitingVerification": ["INSURANCE"],
    }


async def test_finding_2_only_a_manager_verifies_and_who_and_when_are_recorded(
    make_vendor, vendors_staff, vendors_as, sessions
):
    vendor = await make_vendor("Verified Coaches", certs=("DOT", "MC"))
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    charter = FactCharter()
    await charter.project(sessions, "booked")
    cert = (await portal(ADD, {"vendorId": vendor["id"], "input": insurance()})).ok()[
        "addCertification"
    ]["certification"]

    not_allowed = {}
    for role in ("vendor", "dispatcher", "sales_support", "sales_agent", "accounting"):
        other = portal if role == "vendor" else await vendors_as(role)
        not_allowed[role] = await other(VERIFY, {"id": cert["id"]})
    manager_id = uuid.uuid4()
    manager = await vendors_as("manager", user_id=manager_id)
    before = datetime.now(UTC)
    verified = (await manager(VERIFY, {"id": cert["id"]})).ok()["verifyCertification"]
    again = (await manager(VERIFY, {"id": cert["id"]})).ok()["verifyCertification"]
    compliance = (await vendors_staff(COMPLIANCE, {"id": vendor["id"]})).ok()["vendor"]
    bid = (await portal(CREATE_BID, bid_on(charter))).ok()["createBid"]

    for role, answer in not_allowed.items():
        assert answer.error_codes == ["FORBIDDEN"], role
    assert verified["userErrors"] == []
    assert verified["certification"]["status"] == "ACTIVE"
    assert verified["certification"]["verifiedBy"] == {"id": str(manager_id)}
    assert datetime.fromisoformat(verified["certification"]["verifiedAt"]) >= before
    assert again["userErrors"][0]["code"] == "INVALID_TRANSITION"
    assert compliance["compliance"] == {"isCompliant": True, "missing": []}
    assert bid["userErrors"] == []
    assert bid["bid"]["status"] == "SUBMITTED"


async def test_finding_2_a_manager_rejects_with_a_reason_the_vendor_reads(
    make_vendor, vendors_staff, vendors_as
):
    vendor = await make_vendor("Rejected Coaches", certs=("DOT", "MC"))
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    cert = (await portal(ADD, {"vendorId": vendor["id"], "input": insurance("COI-FAKE")})).ok()[
        "addCertification"
    ]["certification"]
    manager_id = uuid.uuid4()
    manager = await vendors_as("manager", user_id=manager_id)

    without_reason = (await manager(REJECT, {"id": cert["id"], "reason": "  "})).ok()[
        "rejectCertification"
    ]
    rejected = (
        await manager(REJECT, {"id": cert["id"], "reason": "The COI names another insured."})
    ).ok()["rejectCertification"]
    verify_after = (await manager(VERIFY, {"id": cert["id"]})).ok()["verifyCertification"]
    mine = (await portal(MY_VENDOR)).ok()["myVendor"]

    assert without_reason["userErrors"][0]["code"] == "REQUIRED"
    assert rejected["userErrors"] == []
    assert rejected["certification"]["status"] == "REJECTED"
    assert rejected["certification"]["rejectedBy"] == {"id": str(manager_id)}
    assert rejected["certification"]["rejectedAt"]
    assert verify_after["userErrors"][0]["code"] == "INVALID_TRANSITION"
    insurance_row = next(c for c in mine["certifications"] if c["type"] == "INSURANCE")
    assert insurance_row == {
        "id": cert["id"],
        "type": "INSURANCE",
        "status": "REJECTED",
        "rejectionReason": "The COI names another insured.",
    }
    assert mine["compliance"]["isCompliant"] is False


async def test_finding_2_a_managers_entry_is_verified_by_it_other_staffs_waits(
    make_vendor, vendors_as
):
    vendor = await make_vendor("Staff Entered Coaches", certs=())
    manager_id, dispatcher_id = uuid.uuid4(), uuid.uuid4()
    manager = await vendors_as("manager", user_id=manager_id)
    dispatcher = await vendors_as("dispatcher", user_id=dispatcher_id)

    by_manager = (
        await manager(ADD, {"vendorId": vendor["id"], "input": {**insurance(), "type": "DOT"}})
    ).ok()["addCertification"]["certification"]
    by_dispatcher = (await dispatcher(ADD, {"vendorId": vendor["id"], "input": insurance()})).ok()[
        "addCertification"
    ]["certification"]

    assert by_manager["status"] == "ACTIVE"
    assert by_manager["verifiedBy"] == {"id": str(manager_id)}
    assert by_manager["verifiedAt"]
    assert by_dispatcher["status"] == "PENDING_VERIFICATION"
    assert by_dispatcher["verifiedBy"] is None


async def test_finding_2_putting_a_suspended_certification_back_in_force_is_a_managers_act(
    make_vendor, vendors_staff, vendors_as
):
    vendor = await make_vendor("Suspended Coaches", certs=())
    cert = (await vendors_staff(ADD, {"vendorId": vendor["id"], "input": insurance()})).ok()[
        "addCertification"
    ]["certification"]
    dispatcher = await vendors_as("dispatcher")
    manager_id = uuid.uuid4()
    manager = await vendors_as("manager", user_id=manager_id)

    suspended = (await dispatcher(SET_STATUS, {"id": cert["id"], "status": "SUSPENDED"})).ok()
    by_dispatcher = (await dispatcher(SET_STATUS, {"id": cert["id"], "status": "ACTIVE"})).ok()
    by_manager = (await manager(SET_STATUS, {"id": cert["id"], "status": "ACTIVE"})).ok()

    assert suspended["setCertificationStatus"]["certification"]["status"] == "SUSPENDED"
    assert by_dispatcher["setCertificationStatus"]["certification"] is None
    assert by_dispatcher["setCertificationStatus"]["userErrors"][0]["code"] == "FORBIDDEN"
    assert by_manager["setCertificationStatus"]["certification"] == {
        "id": cert["id"],
        "status": "ACTIVE",
        "verifiedBy": {"id": str(manager_id)},
    }


async def test_finding_2_a_pending_certification_past_its_date_never_counts(
    make_vendor, vendors_staff, vendors_as
):
    vendor = await make_vendor("Lapsing Coaches", certs=("DOT", "MC"))
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    lapsed = (
        await portal(ADD, {"vendorId": vendor["id"], "input": insurance("COI-OLD", expires_in=-1)})
    ).ok()["addCertification"]["certification"]

    verify = (await vendors_staff(VERIFY, {"id": lapsed["id"]})).ok()["verifyCertification"]
    compliance = (await vendors_staff(COMPLIANCE, {"id": vendor["id"]})).ok()["vendor"]

    assert lapsed["status"] == "EXPIRED"
    assert verify["certification"] is None
    assert verify["userErrors"][0]["code"] == "INVALID_TRANSITION"
    assert compliance["compliance"]["isCompliant"] is False
