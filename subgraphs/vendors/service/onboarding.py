"""External onboarding form submissions: received once, approved or rejected by staff.

The webhook (`subgraphs/vendors/webhooks.py`) verifies the sender's HMAC
signature and hands the parsed body here. A submission is stored once per
`submissionId` (a unique column decides, whatever the concurrency); the
same id again answers with the stored submission and writes nothing. A
manager approves a submission into a PENDING vendor (through
`vendors.create`, so the usual validation and audit apply) or rejects it.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.vendors.error_codes import VendorErrorCode as Code
from subgraphs.vendors.models import OnboardingSubmission, Vendor
from subgraphs.vendors.service import audit, vendors
from subgraphs.vendors.service.access import MANAGE, ensure_role

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

SIGNATURE_HEADER = "x-athena-signature"
SIGNATURE_PREFIX = "sha256="
MAX_BODY_BYTES = 64 * 1024

#: Body keys (camelCase, as the form sends them) -> VendorProfile fields.
PROFILE_KEYS: dict[str, str] = {
    "businessName": "business_name",
    "legalName": "legal_name",
    "vendorType": "vendor_type",
    "email": "email",
    "phone": "phone",
    "addressLine": "address_line",
    "city": "city",
    "state": "state",
    "postalCode": "postal_code",
    "dotNumber": "dot_number",
    "mcNumber": "mc_number",
    "taxId": "tax_id",
    "vehicleCount": "vehicle_count",
    "vehicleTypes": "vehicle_types",
    "maxPassengerCapacity": "max_passenger_capacity",
    "serviceRadiusMiles": "service_radius_miles",
    "serviceStates": "service_states",
    "paymentTerms": "payment_terms",
}
REQUIRED_KEYS = ("submissionId", "businessName", "vendorType", "email")
_STRINGS = {k for k, v in PROFILE_KEYS.items()} - {
    "vehicleCount",
    "maxPassengerCapacity",
    "serviceRadiusMiles",
    "vehicleTypes",
    "serviceStates",
}


#: Secrets that shipped as defaults once: public, so never accepted (review finding 1).
KNOWN_DEFAULT_SECRETS = frozenset({"embedded-onboarding-webhook-secret-change-me"})


def secret_usable(secret: str) -> bool:
    """A configured secret that is not a published default: else the webhook is off."""
    return bool(secret) and secret not in KNOWN_DEFAULT_SECRETS


def sign(secret: str, body: bytes) -> str:
    """The header value a sender puts on `body`: `sha256=<hex HMAC-SHA256>`."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of the signature header; no usable secret = nothing passes."""
    if not secret_usable(secret) or not header:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


@dataclass(frozen=True)
class Received:
    submission: OnboardingSubmission
    created: bool


def body_problems(body: Any) -> list[Problem]:
    """What is wrong with a submission body; empty when it can be stored."""
    if not isinstance(body, dict):
        return [Problem(Code.INVALID, "The body must be a JSON object.")]
    problems = [
        Problem(Code.REQUIRED, f"`{key}` is required.", key)
        for key in REQUIRED_KEYS
        if not (isinstance(body.get(key), str) and body[key].strip())
    ]
    submission_id = body.get("submissionId")
    if isinstance(submission_id, str) and len(submission_id) > 100:
        problems.append(
            Problem(Code.TOO_LONG, "`submissionId` is longer than 100.", "submissionId")
        )
    for key in _STRINGS:
        if key in body and body[key] is not None and not isinstance(body[key], str):
            problems.append(Problem(Code.INVALID, f"`{key}` must be a string.", key))
    for key in ("vehicleCount", "maxPassengerCapacity", "serviceRadiusMiles"):
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append(Problem(Code.INVALID, f"`{key}` must be a whole number.", key))
    for key in ("vehicleTypes", "serviceStates"):
        value = body.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            problems.append(Problem(Code.INVALID, f"`{key}` must be a list of strings.", key))
    if problems:
        return problems
    # The same rules as a vendor created by staff, so approval cannot fail on them later.
    return vendors.profile_problems(profile_of(body), creating=True)


def profile_of(body: dict[str, Any]) -> vendors.VendorProfile:
    values = {
        field: body.get(key) for key, field in PROFILE_KEYS.items() if body.get(key) is not None
    }
    if isinstance(values.get("vendor_type"), str):
        values["vendor_type"] = values["vendor_type"].strip().lower()
    if isinstance(values.get("state"), str):
        values["state"] = values["state"].strip().upper()
    if isinstance(values.get("service_states"), list):
        values["service_states"] = [s.strip().upper() for s in values["service_states"]]
    return vendors.VendorProfile(**values)


async def receive(session: AsyncSession, body: dict[str, Any]) -> Received:
    """Store a (valid) submission once; the same id again returns the stored one."""
    problems = body_problems(body)
    if problems:
        raise ServiceError(problems)
    submission_id = body["submissionId"].strip()
    inserted = await session.scalar(
        insert(OnboardingSubmission)
        .values(id=uuid.uuid4(), submission_id=submission_id, payload=body, status="received")
        .on_conflict_do_nothing(index_elements=[OnboardingSubmission.submission_id])
        .returning(OnboardingSubmission.id)
    )
    row = await session.scalar(
        select(OnboardingSubmission)
        .where(OnboardingSubmission.submission_id == submission_id)
        .execution_options(populate_existing=True)
    )
    if row is None:  # cannot happen: inserted now or by an earlier delivery
        raise RuntimeError(f"submission {submission_id} vanished")
    return Received(row, created=inserted is not None)


async def _get(session: AsyncSession, submission_id: uuid.UUID) -> OnboardingSubmission:
    row = await session.scalar(
        select(OnboardingSubmission)
        .where(OnboardingSubmission.id == submission_id)
        .with_for_update()
    )
    if row is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Submission {submission_id} does not exist.", "id")
    return row


def _ensure_undecided(row: OnboardingSubmission) -> None:
    if row.status != "received":
        raise ServiceError.of(
            Code.INVALID_TRANSITION, f"This submission is already {row.status}.", "id"
        )


async def approve(
    session: AsyncSession, submission_id: uuid.UUID, actor: Viewer
) -> tuple[OnboardingSubmission, Vendor]:
    """A manager turns the submission into a PENDING vendor (approving twice is an error)."""
    ensure_role(actor, MANAGE, "approve onboarding submissions")
    row = await _get(session, submission_id)
    _ensure_undecided(row)
    vendor = await vendors.create(session, profile_of(row.payload), actor)
    row.status = "approved"
    row.vendor_id = vendor.id
    row.decided_by = actor.user_id
    audit.record(
        session,
        vendor_id=vendor.id,
        entity="onboarding",
        entity_id=row.id,
        action="onboarding:approve",
        actor=actor,
        before={"status": "received"},
        after={"status": "approved", "submission_id": row.submission_id},
    )
    return row, vendor


async def reject(
    session: AsyncSession, submission_id: uuid.UUID, actor: Viewer
) -> OnboardingSubmission:
    """A manager turns the submission down; it keeps who decided (no vendor to audit against)."""
    ensure_role(actor, MANAGE, "reject onboarding submissions")
    row = await _get(session, submission_id)
    _ensure_undecided(row)
    row.status = "rejected"
    row.decided_by = actor.user_id
    return row
