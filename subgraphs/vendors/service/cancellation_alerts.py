"""A cancelled charter's vendors hear of it by e-mail (issue 13 §6).

When charters announces a charter as cancelled, the projection of its
events moves the charter's live assignments to cancelled (`follow_trip`)
and calls `announce` with the assignments it moved, in the same
transaction: one `vendors.assignment_cancelled` event per assignment,
carrying what the mail needs (the vendor's recipients, the charter's
reference, pickup and reason). The notifications subgraph mails it (issue
14 §1), like the certification and recovery alerts. A redelivered charter
event moves nothing more, so nothing is announced twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from subgraphs.kit.outbox import emit
from subgraphs.vendors.models import Vendor, VendorAssignment, outbox
from subgraphs.vendors.service.compliance_job import _recipients as recipients_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession


TOPIC = "vendors.assignment_cancelled"


async def announce(
    session: AsyncSession, cancelled: Sequence[VendorAssignment], charter: dict[str, Any]
) -> None:
    """One event per assignment the charter's cancellation released (`charter`: its event)."""
    if not cancelled:
        return
    vendor_ids = {row.vendor_id for row in cancelled}
    names = dict(
        (
            await session.execute(
                select(Vendor.id, Vendor.business_name).where(Vendor.id.in_(vendor_ids))
            )
        ).all()
    )
    recipients = await recipients_of(session, vendor_ids)
    for row in cancelled:
        await emit(
            session,
            outbox,
            TOPIC,
            {
                "assignmentId": str(row.id),
                "charterId": str(row.charter_id),
                "charterVehicleId": str(row.charter_vehicle_id),
                "vendorId": str(row.vendor_id),
                "vendorName": names.get(row.vendor_id),
                "recipients": recipients.get(row.vendor_id, []),
                "reference": charter.get("reference"),
                "pickupAt": charter.get("pickupAt"),
                "pickupTimeZone": charter.get("pickupTimeZone"),
                "pickupAddress": charter.get("pickupAddress"),
                "reason": charter.get("cancellationReason"),
            },
        )
