"""The onboarding webhook: signed JSON in, stored once; managers approve or reject."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from subgraphs.vendors.models import OnboardingSubmission, Vendor
from subgraphs.vendors.service.onboarding import sign

URL_PATH = "/webhooks/vendor-onboarding"

SUBMISSIONS = """
query { onboardingSubmissions { totalCount edges { node { id submissionId status businessName email vendor { id } } } } }
"""
APPROVE = """
mutation($id: ID!) {
  approveOnboardingSubmission(id: $id) {
    submission { id status vendor { id name status } }
    vendor { id name status vendorType dotNumber state email }
    userErrors { field code message }
  }
}"""
REJECT = """
mutation($id: ID!) {
  rejectOnboardingSubmission(id: $id) { submission { id status } userErrors { field code message } }
}"""


def form(**overrides: Any) -> dict[str, Any]:
    return {
        "submissionId": f"form-{uuid.uuid4().hex[:10]}",
        "businessName": "Prairie Wind Coaches",
        "legalName": "Prairie Wind Coaches LLC",
        "vendorType": "fleet_operator",
        "email": "ops@prairiewind.example",
        "phone": "+1 312 555 0100",
        "state": "il",
        "dotNumber": "3141592",
        "mcNumber": "271828",
        "vehicleCount": 12,
        "serviceStates": ["IL", "wi"],
        **overrides,
    }


@pytest.fixture
def post(vendors_server: Any, http_client: Any, subgraph_settings: Any) -> Any:
    secret = subgraph_settings.onboarding_webhook_secret

    async def send(
        body: dict[str, Any] | bytes, *, signature: str | None = "sign", **headers: str
    ) -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {"content-type": "application/json", **headers}
        if signature == "sign":
            sent["x-athena-signature"] = sign(secret, raw)
        elif signature is not None:
            sent["x-athena-signature"] = signature
        return await http_client.post(vendors_server.base_url + URL_PATH, content=raw, headers=sent)

    return send


async def stored(sessions: Any) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(select(func.count()).select_from(OnboardingSubmission)) or 0
        )


async def test_a_signed_submission_is_stored_and_listed_for_managers(post, vendors_staff, sessions):
    body = form()

    response = await post(body)
    listed = (await vendors_staff(SUBMISSIONS)).ok()["onboardingSubmissions"]

    assert response.status_code == 201
    assert response.json()["submissionId"] == body["submissionId"]
    assert response.json()["status"] == "RECEIVED"
    assert listed["totalCount"] == 1
    node = listed["edges"][0]["node"]
    assert (node["submissionId"], node["status"], node["businessName"], node["vendor"]) == (
        body["submissionId"],
        "RECEIVED",
        "Prairie Wind Coaches",
        None,
    )


async def test_the_same_submission_id_again_is_answered_from_what_was_stored(post, sessions):
    body = form()
    first = await post(body)

    again = await post(body)
    changed = await post({**body, "businessName": "Someone Else"})

    assert first.status_code == 201
    assert again.status_code == 200
    assert changed.status_code == 200
    assert again.json() == first.json() == changed.json()
    assert await stored(sessions) == 1
    async with sessions() as session:
        assert (await session.scalar(select(OnboardingSubmission.payload)))["businessName"] == (
            "Prairie Wind Coaches"
        )


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=" + "0" * 64,
        "sha1=abcdef",
        "not-a-signature",
    ],
)
async def test_a_missing_or_bad_signature_gets_401_and_stores_nothing(post, sessions, signature):
    response = await post(form(), signature=signature)

    assert response.status_code == 401
    assert await stored(sessions) == 0


async def test_a_signature_over_other_bytes_or_with_another_secret_is_refused(post, sessions):
    body = json.dumps(form()).encode()

    tampered = await post(
        body + b" ", signature=sign("embedded-onboarding-webhook-secret-change-me", body)
    )
    other_secret = await post(body, signature=sign("another secret", body))

    assert tampered.status_code == 401
    assert other_secret.status_code == 401
    assert await stored(sessions) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        ({"businessName": "No Id", "vendorType": "broker", "email": "a@b.example"}, "submissionId"),
        (form(businessName=""), "businessName"),
        (form(email="not-an-email"), "email"),
        (form(vendorType="airline"), "vendorType"),
        (form(state="Illinois"), "state"),
        (form(dotNumber="DOT12"), "dotNumber"),
        (form(vehicleCount="twelve"), "vehicleCount"),
        (form(serviceStates="IL"), "serviceStates"),
    ],
)
async def test_malformed_bodies_get_400_and_store_nothing(post, sessions, body, field):
    response = await post(body)

    assert response.status_code == 400
    if field is not None:
        assert field in [p["field"] for p in response.json()["problems"]]
    assert await stored(sessions) == 0


async def test_an_oversized_body_is_refused(post, sessions):
    response = await post(form(notes="x" * 70_000))

    assert response.status_code == 413
    assert await stored(sessions) == 0


async def test_a_manager_approves_a_submission_into_a_pending_vendor_once(
    post, vendors_staff, sessions
):
    created = (await post(form())).json()

    approved = (await vendors_staff(APPROVE, {"id": created["id"]})).ok()[
        "approveOnboardingSubmission"
    ]
    twice = (await vendors_staff(APPROVE, {"id": created["id"]})).ok()[
        "approveOnboardingSubmission"
    ]

    assert approved["userErrors"] == []
    vendor = approved["vendor"]
    assert (vendor["name"], vendor["status"], vendor["vendorType"]) == (
        "Prairie Wind Coaches",
        "PENDING",
        "FLEET_OPERATOR",
    )
    assert (vendor["dotNumber"], vendor["state"], vendor["email"]) == (
        "3141592",
        "IL",
        "ops@prairiewind.example",
    )
    assert approved["submission"]["status"] == "APPROVED"
    assert approved["submission"]["vendor"]["id"] == vendor["id"]
    assert twice["vendor"] is None
    assert twice["userErrors"][0]["code"] == "INVALID_TRANSITION"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Vendor)) == 1


async def test_a_rejected_submission_cannot_be_approved(post, vendors_staff, sessions):
    created = (await post(form())).json()

    rejected = (await vendors_staff(REJECT, {"id": created["id"]})).ok()
    approve = (await vendors_staff(APPROVE, {"id": created["id"]})).ok()

    assert rejected["rejectOnboardingSubmission"]["submission"]["status"] == "REJECTED"
    assert approve["approveOnboardingSubmission"]["userErrors"][0]["code"] == "INVALID_TRANSITION"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Vendor)) == 0


async def test_only_managers_see_and_decide_submissions(post, vendors_as, sessions):
    created = (await post(form())).json()
    support = await vendors_as("sales_support")
    vendor = await vendors_as("vendor")

    listed = await support(SUBMISSIONS)
    by_support = await support(APPROVE, {"id": created["id"]})
    by_vendor = await vendor(APPROVE, {"id": created["id"]})

    assert listed.error_codes == ["FORBIDDEN"]
    assert by_support.error_codes == ["FORBIDDEN"]
    assert by_vendor.error_codes == ["FORBIDDEN"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Vendor)) == 0


async def test_approving_an_unknown_submission_is_a_user_error(vendors_staff):
    answer = (await vendors_staff(APPROVE, {"id": str(uuid.uuid4())})).ok()

    assert [
        (e["field"], e["code"]) for e in answer["approveOnboardingSubmission"]["userErrors"]
    ] == [("id", "NOT_FOUND")]
