"""Recovery alerts: vendors near a charter that lost its vendor hear of it by e-mail.

Charters announces a vendor search (`charters.recovery_opened`: the case,
the pickup's place and time, the vehicle wanted, and the vendors not to
ask: the one that let the trip go and those already asked). Vendors owns
who its vendors are, so it decides whom to tell: active, compliant vendors
whose service area (base and radius, the rule of bid opportunities) covers
the pickup. Each one gets a `vendors.recovery_alert` event, which the
notifications subgraph mails (issue 14 §1: vendors decides whom, notifications
sends), and charters gets `vendors.recovery_alerted` with the list, which it
keeps on the case.

Each alert is written to the vendor's audit log in the same transaction;
that record is what makes a redelivered announcement (at-least-once
streams) tell nobody twice.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from subgraphs.kit.geo import sql_great_circle_miles
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.outbox import emit
from subgraphs.vendors.models import Certification, Vendor, VendorAudit, outbox
from subgraphs.vendors.service import audit
from subgraphs.vendors.service.certifications import compliance_of
from subgraphs.vendors.service.compliance_job import _recipients as recipients_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.consumer import Handler
    from subgraphs.kit.settings import Settings

RECOVERY_OPENED = "charters.recovery_opened"
ALERT_TOPIC = "vendors.recovery_alert"
ALERTED_TOPIC = "vendors.recovery_alerted"
#: The consumer group of charters' announcements.
GROUP = "vendors.recovery-alerts"
#: The audit action that records one alert (and keeps it from being sent twice).
ALERT_ACTION = "recovery_alert"


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


async def eligible_vendors(
    session: AsyncSession,
    latitude: Decimal,
    longitude: Decimal,
    *,
    exclude: set[uuid.UUID],
    required: Sequence[str],
    today: date,
) -> list[tuple[Vendor, float]]:
    """Vendors that could take the vehicle over, nearest base first, with their miles.

    Active, a service area that covers the pickup, and compliant (work can
    only be assigned to compliant vendors, so alerting others wastes the
    little time a recovery has).
    """
    miles = sql_great_circle_miles(Vendor.base_latitude, Vendor.base_longitude, latitude, longitude)
    stmt = (
        select(Vendor, miles.label("miles"))
        .where(
            Vendor.status == "active",
            Vendor.base_latitude.is_not(None),
            Vendor.base_longitude.is_not(None),
            Vendor.service_radius_miles.is_not(None),
            miles <= Vendor.service_radius_miles,
        )
        .order_by(miles, Vendor.id)
    )
    if exclude:
        stmt = stmt.where(Vendor.id.not_in(exclude))
    found = [(vendor, float(distance)) for vendor, distance in (await session.execute(stmt)).all()]
    if not found or not required:
        return found
    certs: dict[uuid.UUID, list[Certification]] = {vendor.id: [] for vendor, _ in found}
    for cert in await session.scalars(
        select(Certification).where(Certification.vendor_id.in_(list(certs)))
    ):
        certs[cert.vendor_id].append(cert)
    return [
        (vendor, distance)
        for vendor, distance in found
        if compliance_of(certs[vendor.id], required, today).is_compliant
    ]


async def _already_alerted(session: AsyncSession, case_id: uuid.UUID) -> set[uuid.UUID]:
    rows = await session.scalars(
        select(VendorAudit.vendor_id).where(
            VendorAudit.entity == "recovery_case",
            VendorAudit.entity_id == case_id,
            VendorAudit.action == ALERT_ACTION,
        )
    )
    return set(rows)


async def alert_vendors(
    session: AsyncSession,
    payload: dict[str, Any],
    *,
    required: Sequence[str],
    today: date | None = None,
) -> list[uuid.UUID]:
    """Alert the eligible vendors about one recovery case; the vendors alerted now.

    Redelivered or repeated announcements alert only vendors not told yet
    about this case; charters hears of every alert, even an empty one, so
    its dispatcher knows the search reached nobody.
    """
    case_id = parse_uuid(payload.get("caseId"))
    charter_id = parse_uuid(payload.get("charterId"))
    if case_id is None or charter_id is None:
        return []
    # One announcement of a case at a time: the audit rows below decide who was told.
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(str(case_id), 0)))
    )
    told = await _already_alerted(session, case_id)
    exclude = told | {
        v for v in (parse_uuid(x) for x in payload.get("excludeVendorIds") or []) if v is not None
    }
    latitude = _decimal(payload.get("pickupLatitude"))
    longitude = _decimal(payload.get("pickupLongitude"))
    vendors: list[tuple[Vendor, float]] = []
    if latitude is not None and longitude is not None:
        vendors = await eligible_vendors(
            session,
            latitude,
            longitude,
            exclude=exclude,
            required=required,
            today=today or datetime.now(UTC).date(),
        )
    recipients = await recipients_of(session, {vendor.id for vendor, _ in vendors})
    for vendor, miles in vendors:
        to = recipients.get(vendor.id, [])
        audit.record(
            session,
            vendor_id=vendor.id,
            entity="recovery_case",
            entity_id=case_id,
            action=ALERT_ACTION,
            actor=None,
            before=None,
            after={
                "charterId": str(charter_id),
                "reference": payload.get("reference"),
                "recipients": to,
            },
        )
        await emit(
            session,
            outbox,
            ALERT_TOPIC,
            {
                "caseId": str(case_id),
                "charterId": str(charter_id),
                "vendorId": str(vendor.id),
                "vendorName": vendor.business_name,
                "recipients": to,
                "milesFromBase": round(miles, 1),
                **{
                    key: payload.get(key)
                    for key in (
                        "reference",
                        "pickupAt",
                        "pickupAddress",
                        "vehicleTypeName",
                        "capacity",
                    )
                },
            },
        )
    alerted = [vendor.id for vendor, _ in vendors]
    await emit(
        session,
        outbox,
        ALERTED_TOPIC,
        {
            "caseId": str(case_id),
            "charterId": str(charter_id),
            "vendorIds": [str(v) for v in alerted],
        },
    )
    return alerted


def recovery_handler(required: Sequence[str]) -> Handler:
    """The projection handler of `charters.recovery_opened`, with the required certifications."""

    async def handle(session: AsyncSession, event: dict[str, Any]) -> None:
        await alert_vendors(session, event.get("payload") or {}, required=required)

    return handle


def projections(settings: Settings) -> dict[str, tuple[str, Handler]]:
    return {RECOVERY_OPENED: (GROUP, recovery_handler(settings.required_certifications))}
