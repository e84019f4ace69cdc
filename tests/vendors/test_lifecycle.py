"""A vendor's lifecycle: transitions, manager approval, audit, tax id, linked users, bad input."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from subgraphs.vendors.models import Vendor, VendorAudit, VendorUser
from subgraphs.vendors.states import VENDOR
from tests.support.graphql_client import GraphQLClient
from tests.support.vendors_facts import LINK

CREATE = """
mutation($input: VendorInput!) {
  createVendor(input: $input) { vendor { id name status } userErrors { field code message } }
}"""
UPDATE = """
mutation($id: ID!, $input: VendorInput!) {
  updateVendor(id: $id, input: $input) { vendor { id name } userErrors { field code message } }
}"""
SET_STATUS = """
mutation($id: ID!, $status: VendorStatus!, $reason: String) {
  setVendorStatus(id: $id, status: $status, reason: $reason) {
    vendor { id status approvedAt } userErrors { field code message }
  }
}"""
AUDIT = """
query($id: ID!) {
  vendor(id: $id) { auditLog { edges { node { action at actor { id } before after } } } }
}
"""
TAX = "query($id: ID!) { vendor(id: $id) { taxId } }"
MY_VENDOR = "query { myVendor { id name } }"


async def create(client: GraphQLClient, **fields: Any) -> dict[str, Any]:
    data = {"businessName": f"Coaches {uuid.uuid4().hex[:6]}", "vendorType": "BROKER", **fields}
    payload = (await client(CREATE, {"input": data})).ok()["createVendor"]
    assert payload["userErrors"] == [], payload
    return payload["vendor"]  # type: ignore[no-any-return]


async def status_of(sessions: Any, vendor_id: str) -> str:
    async with sessions() as session:
        return str(
            await session.scalar(select(Vendor.status).where(Vendor.id == uuid.UUID(vendor_id)))
        )


async def move(client: GraphQLClient, vendor_id: str, *path: str) -> list[dict[str, Any]]:
    answers = []
    for status in path:
        answers.append(
            (await client(SET_STATUS, {"id": vendor_id, "status": status})).ok()["setVendorStatus"]
        )
    return answers


async def test_a_new_vendor_is_pending_and_a_manager_approves_it(vendors_staff, sessions):
    vendor = await create(vendors_staff)

    [approved] = await move(vendors_staff, vendor["id"], "ACTIVE")

    assert vendor["status"] == "PENDING"
    assert approved["userErrors"] == []
    assert approved["vendor"]["status"] == "ACTIVE"
    assert approved["vendor"]["approvedAt"]


async def test_suspension_and_reactivation_follow_the_table(vendors_staff, sessions):
    vendor = await create(vendors_staff)

    answers = await move(
        vendors_staff, vendor["id"], "ACTIVE", "SUSPENDED", "ACTIVE", "INACTIVE", "BANNED"
    )

    assert [a["userErrors"] for a in answers] == [[]] * 5
    assert await status_of(sessions, vendor["id"]) == "banned"


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        (("SUSPENDED",), "SUSPENDED"),  # pending cannot be suspended
        (("INACTIVE",), "INACTIVE"),
        (("ACTIVE", "PENDING"), "PENDING"),
        (("REJECTED", "ACTIVE"), "ACTIVE"),  # a rejected vendor goes back to pending first
        (("ACTIVE", "BANNED", "ACTIVE"), "ACTIVE"),  # banned is final
    ],
)
async def test_moves_outside_the_table_are_user_errors_that_change_nothing(
    vendors_staff, sessions, path, refused
):
    vendor = await create(vendors_staff)
    *before, last = path
    await move(vendors_staff, vendor["id"], *before)
    status_before = await status_of(sessions, vendor["id"])

    [answer] = await move(vendors_staff, vendor["id"], last)

    assert last == refused
    assert answer["vendor"] is None
    assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [
        ("status", "INVALID_TRANSITION")
    ]
    assert await status_of(sessions, vendor["id"]) == status_before


def test_the_transition_table_reaches_every_status_from_pending():
    reached, frontier = {"pending"}, ["pending"]
    while frontier:
        for nxt in VENDOR.allowed(frontier.pop()):
            if nxt not in reached:
                reached.add(nxt)
                frontier.append(nxt)

    assert reached == VENDOR.states
    assert VENDOR.allowed("banned") == frozenset()


@pytest.mark.parametrize("role", ["sales_support", "dispatcher", "accounting", "vendor"])
async def test_only_managers_approve(vendors_staff, vendors_as, sessions, role):
    vendor = await create(vendors_staff)
    other = await vendors_as(role)

    answer = await other(SET_STATUS, {"id": vendor["id"], "status": "ACTIVE"})

    assert answer.error_codes == ["FORBIDDEN"]
    assert await status_of(sessions, vendor["id"]) == "pending"


async def test_every_status_change_is_audited_with_who_when_before_and_after(vendors_as, sessions):
    manager_id = uuid.uuid4()
    manager = await vendors_as("manager", user_id=manager_id)
    vendor = await create(manager)
    await manager(SET_STATUS, {"id": vendor["id"], "status": "ACTIVE"})
    await manager(SET_STATUS, {"id": vendor["id"], "status": "SUSPENDED", "reason": "Lapsed COI"})

    log = [
        e["node"]
        for e in (await manager(AUDIT, {"id": vendor["id"]})).ok()["vendor"]["auditLog"]["edges"]
    ]

    assert [e["action"] for e in log] == ["status:suspended", "status:active", "create"]
    assert {e["actor"]["id"] for e in log} == {str(manager_id)}
    assert all(e["at"] for e in log)
    suspended, approved, _ = log
    assert approved["before"]["status"] == "pending"
    assert approved["after"]["status"] == "active"
    assert approved["after"]["approved_by"] == str(manager_id)
    assert suspended["before"] == {"status": "active", "status_reason": None}
    assert suspended["after"] == {"status": "suspended", "status_reason": "Lapsed COI"}


async def test_the_audit_log_is_for_staff_only(vendors_staff, vendors_as):
    vendor = await create(vendors_staff)
    user_id = uuid.uuid4()
    await vendors_staff(LINK, {"vendorId": vendor["id"], "userId": str(user_id)})
    portal = await vendors_as("vendor", user_id=user_id)

    answer = await portal(AUDIT, {"id": vendor["id"]})

    assert answer.error_codes == ["FORBIDDEN"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin", "12-3456789"),
        ("accounting", "12-3456789"),
        ("manager", "••••••6789"),
        ("sales_agent", "••••••6789"),
        ("dispatcher", "••••••6789"),
    ],
)
async def test_the_tax_id_is_whole_only_for_admin_and_accounting(
    vendors_staff, vendors_as, role, expected
):
    vendor = await create(vendors_staff, taxId="12-3456789")
    viewer = await vendors_as(role)

    answer = (await viewer(TAX, {"id": vendor["id"]})).ok()

    assert answer["vendor"]["taxId"] == expected


async def test_the_vendor_itself_sees_its_tax_id_masked(vendors_staff, vendors_as):
    vendor = await create(vendors_staff, taxId="12-3456789")
    user_id = uuid.uuid4()
    await vendors_staff(LINK, {"vendorId": vendor["id"], "userId": str(user_id)})
    portal = await vendors_as("vendor", user_id=user_id)

    answer = (await portal(TAX, {"id": vendor["id"]})).ok()

    assert answer["vendor"]["taxId"] == "••••••6789"


async def test_a_linked_vendor_user_finds_its_vendor(vendors_staff, vendors_as, sessions):
    vendor = await create(vendors_staff, businessName="Lakeshore Charter Co")
    user_id = uuid.uuid4()

    linked = (await vendors_staff(LINK, {"vendorId": vendor["id"], "userId": str(user_id)})).ok()
    portal = await vendors_as("vendor", user_id=user_id)
    mine = (await portal(MY_VENDOR)).ok()

    assert linked["linkVendorUser"]["userErrors"] == []
    assert mine["myVendor"] == {"id": vendor["id"], "name": "Lakeshore Charter Co"}
    async with sessions() as session:
        assert (
            await session.scalar(
                select(func.count())
                .select_from(VendorAudit)
                .where(VendorAudit.action == "link_user")
            )
            == 1
        )


async def test_an_unlinked_vendor_user_has_no_vendor(vendors_as):
    portal = await vendors_as("vendor")

    answer = await portal(MY_VENDOR)

    assert answer.error_codes == ["NOT_FOUND"]


async def test_a_user_belongs_to_one_vendor_only(vendors_staff, sessions):
    first = await create(vendors_staff)
    second = await create(vendors_staff)
    user_id = str(uuid.uuid4())
    await vendors_staff(LINK, {"vendorId": first["id"], "userId": user_id})

    again = (await vendors_staff(LINK, {"vendorId": second["id"], "userId": user_id})).ok()

    assert [(e["field"], e["code"]) for e in again["linkVendorUser"]["userErrors"]] == [
        ("userId", "CONFLICT")
    ]
    async with sessions() as session:
        links = (await session.execute(select(VendorUser.vendor_id))).scalars().all()
    assert [str(v) for v in links] == [first["id"]]


async def test_only_managers_link_users(vendors_staff, vendors_as, sessions):
    vendor = await create(vendors_staff)
    support = await vendors_as("sales_support")

    answer = await support(LINK, {"vendorId": vendor["id"], "userId": str(uuid.uuid4())})

    assert answer.error_codes == ["FORBIDDEN"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(VendorUser)) == 0


async def test_linking_to_an_unknown_vendor_is_a_user_error(vendors_staff, sessions):
    answer = (
        await vendors_staff(LINK, {"vendorId": str(uuid.uuid4()), "userId": str(uuid.uuid4())})
    ).ok()

    assert [(e["field"], e["code"]) for e in answer["linkVendorUser"]["userErrors"]] == [
        ("vendorId", "NOT_FOUND")
    ]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(VendorUser)) == 0


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"email": "not-an-email"}, "email", "INVALID"),
        ({"state": "Texas"}, "state", "INVALID"),
        ({"dotNumber": "12AB34"}, "dotNumber", "INVALID"),
        ({"mcNumber": "MC-99"}, "mcNumber", "INVALID"),
        ({"serviceStates": ["TX", "Oklahoma"]}, "serviceStates", "INVALID"),
        ({"businessName": "  "}, "businessName", "REQUIRED"),
        ({"maxPassengerCapacity": 0}, "maxPassengerCapacity", "OUT_OF_RANGE"),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    vendors_staff, sessions, fields, field, code
):
    data = {"businessName": "Bad Input Coaches", "vendorType": "BROKER", **fields}

    answer = (await vendors_staff(CREATE, {"input": data})).ok()["createVendor"]

    assert answer["vendor"] is None
    assert (field, code) in [(e["field"], e["code"]) for e in answer["userErrors"]]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Vendor)) == 0
        assert await session.scalar(select(func.count()).select_from(VendorAudit)) == 0


async def test_bad_input_on_update_leaves_the_vendor_unchanged(vendors_staff, sessions):
    vendor = await create(vendors_staff, email="ops@good.example")

    answer = (
        await vendors_staff(
            UPDATE, {"id": vendor["id"], "input": {"email": "broken@", "dotNumber": "x1"}}
        )
    ).ok()["updateVendor"]

    assert sorted(e["field"] for e in answer["userErrors"]) == ["dotNumber", "email"]
    async with sessions() as session:
        row = await session.scalar(select(Vendor))
        assert (row.email, row.dot_number) == ("ops@good.example", None)


async def test_unknown_vendors_are_user_errors(vendors_staff):
    missing = str(uuid.uuid4())

    update = (await vendors_staff(UPDATE, {"id": missing, "input": {"city": "Austin"}})).ok()
    status = (await vendors_staff(SET_STATUS, {"id": missing, "status": "ACTIVE"})).ok()
    malformed = (await vendors_staff(SET_STATUS, {"id": "nope", "status": "ACTIVE"})).ok()

    assert update["updateVendor"]["userErrors"][0]["code"] == "NOT_FOUND"
    assert status["setVendorStatus"]["userErrors"][0]["code"] == "NOT_FOUND"
    assert malformed["setVendorStatus"]["userErrors"][0] == {
        "field": "id",
        "code": "NOT_FOUND",
        "message": "'nope' is not a known id.",
    }
