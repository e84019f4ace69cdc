"""Certification mutations: record; a manager verifies or rejects; staff change status."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from protocol.roles import Role
from subgraphs.kit.payloads import transact
from subgraphs.kit.permissions import allow
from subgraphs.vendors.enums import CertificationStatus, CertificationType
from subgraphs.vendors.mutations.common import parse_id
from subgraphs.vendors.mutations.payloads import CertificationPayload
from subgraphs.vendors.service import certifications
from subgraphs.vendors.service.access import STAFF_EDIT, VERIFY_CERTIFICATIONS
from subgraphs.vendors.types import Certification


@strawberry.input
class CertificationInput:
    type: CertificationType
    number: str
    issued_on: date
    expires_on: date
    document_id: strawberry.ID | None = None
    notes: str | None = None


def _payload(row: object, errors: list) -> CertificationPayload:  # type: ignore[type-arg]
    return CertificationPayload(
        certification=Certification.from_row(row) if row else None,  # type: ignore[arg-type]
        user_errors=errors,
    )


@strawberry.type
class CertificationMutations:
    @strawberry.mutation(
        extensions=[allow(*STAFF_EDIT, Role.VENDOR)],
        description="Record a certification. It counts only once verified: one recorded by a "
        "manager or an admin is verified at once, anyone else's is PENDING_VERIFICATION.",
    )
    async def add_certification(
        self, info: Info, vendor_id: strawberry.ID, input: CertificationInput
    ) -> CertificationPayload:
        viewer = await info.context.get_viewer()

        async def work(session):  # type: ignore[no-untyped-def]
            data = certifications.NewCertification(
                cert_type=input.type.value,
                number=input.number,
                issued_on=input.issued_on,
                expires_on=input.expires_on,
                document_id=parse_id(input.document_id, "documentId")
                if input.document_id
                else None,
                notes=input.notes,
            )
            return await certifications.add(session, parse_id(vendor_id, "vendorId"), data, viewer)

        row, errors = await transact(info, work)
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*VERIFY_CERTIFICATIONS)],
        description="A manager checked the document: a PENDING_VERIFICATION certification "
        "becomes ACTIVE and counts; who and when are recorded.",
    )
    async def verify_certification(self, info: Info, id: strawberry.ID) -> CertificationPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: certifications.verify(s, parse_id(id, "id"), viewer)
        )
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*VERIFY_CERTIFICATIONS)],
        description="A manager refuses a PENDING_VERIFICATION certification, saying why "
        "(the vendor sees the reason).",
    )
    async def reject_certification(
        self, info: Info, id: strawberry.ID, reason: str
    ) -> CertificationPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: certifications.reject(s, parse_id(id, "id"), reason, viewer)
        )
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*STAFF_EDIT)],
        description="Suspend, revoke or expire a certification; reactivating a suspended one "
        "(ACTIVE) is a verification, for managers only.",
    )
    async def set_certification_status(
        self, info: Info, id: strawberry.ID, status: CertificationStatus
    ) -> CertificationPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: certifications.set_status(s, parse_id(id, "id"), status.value, viewer)
        )
        return _payload(row, errors)
