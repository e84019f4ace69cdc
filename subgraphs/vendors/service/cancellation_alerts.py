"""A cancelled charter's vendors hear of it by e-mail (issue 13 §6).

When charters announces a charter as cancelled, the projection of its
events moves the charter's live assignments to cancelled (`follow_trip`)
and calls `announce` with the assignments it moved, in the same
transaction: one `vendors.assignment_cancelled` event per assignment,
carrying what the mail needs (the vendor's recipients, the charter's
reference, pickup and reason). This module's consumer composes and sends
it, like the certification and recovery alerts. A redelivered charter
event moves nothing more, so nothing is announced twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from subgraphs.kit.mailer import compose
from subgraphs.kit.outbox import emit
from subgraphs.vendors.mailer import MailStream
from subgraphs.vendors.models import Vendor, VendorAssignment, outbox
from subgraphs.vendors.service.compliance_job import _recipients as recipients_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.settings import Settings

log = logging.getLogger(__name__)

TOPIC = "vendors.assignment_cancelled"
MAIL_GROUP = "vendors.cancellation-mailer"


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
                "pickupAddress": charter.get("pickupAddress"),
                "reason": charter.get("cancellationReason"),
            },
        )


def _pickup_local(pickup_at: str | None, zone: str) -> str:
    if not pickup_at:
        return "(no time given)"
    local = datetime.fromisoformat(pickup_at).astimezone(ZoneInfo(zone))
    return f"{local:%a %d %b %Y, %H:%M} ({zone})"


def message(payload: dict[str, Any], settings: Settings) -> EmailMessage | None:
    to = list(payload.get("recipients") or [])
    if not to:
        log.warning("cancellation notice for vendor %s has no recipient", payload.get("vendorId"))
        return None
    reference = payload.get("reference") or "a charter"
    when = _pickup_local(payload.get("pickupAt"), settings.operator_time_zone)
    body = (
        f"Hello {payload.get('vendorName') or 'partner'},\n\n"
        f"Charter {reference} has been cancelled, and with it your assignment.\n\n"
        f"Pickup: {payload.get('pickupAddress') or 'see the vendor portal'}\n"
        f"When: {when}\n"
        f"Reason: {payload.get('reason') or 'not given'}\n\n"
        "The vehicle and driver you planned for it are free again. Questions: call dispatch.\n\n"
        "Athena dispatch\n"
    )
    return compose(settings.smtp_from, to, f"[Athena] Cancelled: {reference} on {when}", body)


#: The mails themselves: composed from the event, sent once (vendors/mailer.py).
MAIL = MailStream(TOPIC, MAIL_GROUP, message)
