"""Certifications (DOT, MC, insurance, ...) and what makes a vendor compliant."""

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
from subgraphs.vendors.service.access import STAFF_EDIT, ensure_role, ensure_vendor_scope
from subgraphs.vendors.service.vendors import get as get_vendor

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.auth.viewer import Viewer


@dataclass(frozen=True)
class NewCertification:
    cert_type: str
    number: str
    issued_on: date
    expires_on: date
    document_id: uuid.UUID | None = None
    notes: str | None = None


@dataclass(frozen=True)
class Compliance:
    is_compliant: bool
    missing: tuple[str, ...]


def compliance_of(
    certifications: Iterable[Certification], required: Sequence[str], today: date
) -> Compliance:
    """Compliant: every required type held active and unexpired today."""
    held = {c.cert_type for c in certifications if c.status == "active" and c.expires_on >= today}
    missing = tuple(t for t in required if t not in held)
    return Compliance(is_compliant=not missing, missing=missing)


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


async def add(
    session: AsyncSession, vendor_id: uuid.UUID, data: NewCertification, actor: Viewer
) -> Certification:
    """Staff or the vendor itself record a certification; staff verify it later."""
    vendor = await get_vendor(session, vendor_id)
    await ensure_vendor_scope(session, actor, vendor.id, staff_roles=STAFF_EDIT)
    problems = _problems(data)
    if problems:
        raise ServiceError(problems)
    if data.document_id is not None:
        document = await session.get(Document, data.document_id)
        if document is None or document.vendor_id != vendor.id:
            raise ServiceError.of(Code.NOT_FOUND, "Unknown document for this vendor.", "documentId")
    today = datetime.now(UTC).date()
    row = Certification(
        vendor_id=vendor.id,
        cert_type=data.cert_type,
        number=data.number.strip(),
        issued_on=data.issued_on,
        expires_on=data.expires_on,
        status="active" if data.expires_on >= today else "expired",
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
    """Staff confirm they checked the document; who and when come from the token."""
    ensure_role(actor, STAFF_EDIT, "verify certifications")
    row = await _get(session, certification_id)
    before = audit.row_snapshot(row)
    row.verified_by = actor.user_id
    row.verified_at = datetime.now(UTC)
    audit.record(
        session,
        vendor_id=row.vendor_id,
        entity="certification",
        entity_id=row.id,
        action="verify",
        actor=actor,
        before=before,
        after=audit.row_snapshot(row),
    )
    return row


async def set_status(
    session: AsyncSession, certification_id: uuid.UUID, status: str, actor: Viewer | None
) -> Certification:
    if actor is not None:
        ensure_role(actor, STAFF_EDIT, "change certification status")
    row = await _get(session, certification_id)
    states.CERTIFICATION.check(row.status, status)
    before = audit.row_snapshot(row)
    row.status = status
    audit.record(
        session,
        vendor_id=row.vendor_id,
        entity="certification",
        entity_id=row.id,
        action=f"status:{status}",
        actor=actor,
        before=before,
        after=audit.row_snapshot(row),
    )
    return row


def days_until(expires_on: date, today: date) -> int:
    return (expires_on - today).days
