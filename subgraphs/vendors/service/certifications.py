"""Certifications (DOT, MC, insurance, ...) and what makes a vendor compliant.

A certification counts only once a manager has checked it (seed 000:
verification is a manager's act). One recorded by a vendor user, or by
staff who may not verify, is `pending_verification` until a role in
`VERIFY_CERTIFICATIONS` verifies it (-> `active`, with who and when) or
rejects it with a reason (-> `rejected`). One recorded by a manager or an
admin is verified at once, by them: they are the people who would verify
it. Compliance, eligibility to bid and to be assigned count only `active`
(verified) certifications that are not past their expiry date.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.vendors import states
from subgraphs.vendors.error_codes import VendorErrorCode as Code
from subgraphs.vendors.models import CERTIFICATION_TYPES, Certification, Document
from subgraphs.vendors.service import audit
from subgraphs.vendors.service.access import (
    STAFF_EDIT,
    VERIFY_CERTIFICATIONS,
    ensure_role,
    ensure_vendor_scope,
)
from subgraphs.vendors.service.vendors import get as get_vendor

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer


@dataclass(frozen=True)
class NewCertification:
    cert_type: str
    number: str
    issued_on: date
    expires_on: date
    document_id: uuid.UUID | None = None
    notes: str | None = None


MAX_REASON = 500
#: Statuses set only through verify/reject, never through `set_status`.
DECIDED_BY_VERIFICATION = ("active", "rejected")


@dataclass(frozen=True)
class Compliance:
    is_compliant: bool
    missing: tuple[str, ...]
    #: Required types that are missing but have a certification awaiting verification.
    awaiting_verification: tuple[str, ...] = ()


def compliance_of(
    certifications: Iterable[Certification], required: Sequence[str], today: date
) -> Compliance:
    """Compliant: every required type held verified (`active`) and unexpired today."""
    rows = list(certifications)
    held = {c.cert_type for c in rows if c.status == "active" and c.expires_on >= today}
    pending = {
        c.cert_type for c in rows if c.status == "pending_verification" and c.expires_on >= today
    }
    missing = tuple(t for t in required if t not in held)
    return Compliance(
        is_compliant=not missing,
        missing=missing,
        awaiting_verification=tuple(t for t in missing if t in pending),
    )


async def certifications_of(session: AsyncSession, vendor_id: uuid.UUID) -> list[Certification]:
    rows = await session.scalars(
        select(Certification)
        .where(Certification.vendor_id == vendor_id)
        .order_by(Certification.cert_type, Certification.expires_on)
    )
    return list(rows)


def _problems(data: NewCertification) -> list[Problem]:
    problems = []
    if data.cert_type not in CERTIFICATION_TYPES:
        problems.append(
            Problem(Code.INVALID, f"Unknown certification type {data.cert_type!r}.", "type")
        )
    if not data.number.strip() or len(data.number) > 100:
        problems.append(Problem(Code.INVALID, "Number must be 1 to 100 characters.", "number"))
    if data.expires_on < data.issued_on:
        problems.append(
            Problem(Code.INVALID, "The certification expires before it was issued.", "expiresOn")
        )
    return problems


def _initial_status(data: NewCertification, actor: Viewer, today: date) -> str:
    if data.expires_on < today:
        return "expired"
    return "active" if actor.has_any_role(*VERIFY_CERTIFICATIONS) else "pending_verification"


async def add(
    session: AsyncSession, vendor_id: uuid.UUID, data: NewCertification, actor: Viewer
) -> Certification:
    """Staff or the vendor itself record a certification.

    See the module docstring for when it counts: a manager's is verified at
    once, anyone else's waits for a manager.
    """
    vendor = await get_vendor(session, vendor_id)
    await ensure_vendor_scope(session, actor, vendor.id, staff_roles=STAFF_EDIT)
    problems = _problems(data)
    if problems:
        raise ServiceError(problems)
    if data.document_id is not None:
        document = await session.get(Document, data.document_id)
        if document is None or document.vendor_id != vendor.id:
            raise ServiceError.of(Code.NOT_FOUND, "Unknown document for this vendor.", "documentId")
    now = datetime.now(UTC)
    status = _initial_status(data, actor, now.date())
    row = Certification(
        vendor_id=vendor.id,
        cert_type=data.cert_type,
        number=data.number.strip(),
        issued_on=data.issued_on,
        expires_on=data.expires_on,
        status=status,
        verified_by=actor.user_id if status == "active" else None,
        verified_at=now if status == "active" else None,
        document_id=data.document_id,
        notes=data.notes,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        vendor_id=vendor.id,
        entity="certification",
        entity_id=row.id,
        action="add",
        actor=actor,
        before=None,
        after=audit.row_snapshot(row),
    )
    return row


async def _get(session: AsyncSession, certification_id: uuid.UUID) -> Certification:
    row = await session.scalar(
        select(Certification).where(Certification.id == certification_id).with_for_update()
    )
    if row is None:
        raise ServiceError.of(
            Code.NOT_FOUND, f"Certification {certification_id} does not exist.", "id"
        )
    return row


async def verify(
    session: AsyncSession, certification_id: uuid.UUID, actor: Viewer
) -> Certification:
    """A manager checked the document: the certification counts from now on.

    Who and when come from the token. Only a pending, unexpired certification
    can be verified; an expired one must be renewed (added again).
    """
    ensure_role(actor, VERIFY_CERTIFICATIONS, "verify certifications")
    row = await _get(session, certification_id)
    states.CERTIFICATION.check(row.status, "active")
    if row.expires_on < datetime.now(UTC).date():
        raise ServiceError.of(
            Code.EXPIRED, "This certification has expired; record the renewed one.", "id"
        )
    now = datetime.now(UTC)
    _move(
        session, row, "active", actor, action="verify", verified_by=actor.user_id, verified_at=now
    )
    return row


async def reject(
    session: AsyncSession, certification_id: uuid.UUID, reason: str, actor: Viewer
) -> Certification:
    """A manager refuses a pending certification, saying why (the vendor reads it)."""
    ensure_role(actor, VERIFY_CERTIFICATIONS, "reject certifications")
    text = (reason or "").strip()
    if not text:
        raise ServiceError.of(Code.REQUIRED, "Say why the certification is rejected.", "reason")
    if len(text) > MAX_REASON:
        raise ServiceError.of(
            Code.TOO_LONG, f"Reason is longer than {MAX_REASON} characters.", "reason"
        )
    row = await _get(session, certification_id)
    states.CERTIFICATION.check(row.status, "rejected")
    _move(
        session,
        row,
        "rejected",
        actor,
        action="reject",
        rejected_by=actor.user_id,
        rejected_at=datetime.now(UTC),
        rejection_reason=text,
    )
    return row


async def set_status(
    session: AsyncSession, certification_id: uuid.UUID, status: str, actor: Viewer | None
) -> Certification:
    """Suspend, revoke or expire a certification (staff), or reactivate a suspended one.

    Reactivating puts a certification back in force, so it takes the roles
    that verify, and counts as a verification (who and when). Verifying a
    pending one and rejecting go through `verify`/`reject` (`actor` None is
    the daily job).
    """
    if actor is not None:
        ensure_role(
            actor,
            VERIFY_CERTIFICATIONS if status == "active" else STAFF_EDIT,
            "change certification status",
        )
    row = await _get(session, certification_id)
    if status in DECIDED_BY_VERIFICATION and row.status == "pending_verification":
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            "A pending certification is verified or rejected with "
            "verifyCertification or rejectCertification.",
            "status",
        )
    states.CERTIFICATION.check(row.status, status)
    changes: dict[str, object] = {}
    if status == "active" and actor is not None:
        changes = {"verified_by": actor.user_id, "verified_at": datetime.now(UTC)}
    _move(session, row, status, actor, action=f"status:{status}", **changes)
    return row


def _move(
    session: AsyncSession,
    row: Certification,
    status: str,
    actor: Viewer | None,
    *,
    action: str,
    **changes: object,
) -> None:
    before = audit.row_snapshot(row)
    row.status = status
    for key, value in changes.items():
        setattr(row, key, value)
    audit.record(
        session,
        vendor_id=row.vendor_id,
        entity="certification",
        entity_id=row.id,
        action=action,
        actor=actor,
        before=before,
        after=audit.row_snapshot(row),
    )


def days_until(expires_on: date, today: date) -> int:
    return (expires_on - today).days
