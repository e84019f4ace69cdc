"""What the business tells its vendors (affiliate operators) and its drivers.

Vendors decides whom its alerts concern (which certification is due, which
vendors a recovery reaches, whose assignment a cancellation released) and
names the addresses in its events; notifications words and sends them
(issue 14 §1 moved vendors' own mailers here). Charters announces a
driver's assignment; notifications alone decides bid opportunities, from
the charter and vendor facts it keeps.

| kind | cause | to | key |
| --- | --- | --- | --- |
| vendor_new_job | `vendors.assignment_changed` to `offered` | the vendor's e-mail (`VendorFact`) | the event |
| vendor_cancellation | `vendors.assignment_cancelled` | the event's recipients | the event |
| vendor_recovery_alert | `vendors.recovery_alert` (one per vendor vendors alerted) | the event's recipients | the event |
| vendor_compliance_alert | `vendors.certification_alert` | the event's recipients and `compliance_alert_staff_email` | the event |
| driver_trip_assigned | `charters.driver_assigned` | the driver's account (`UserFact`), e-mail and SMS if opted in | the event |
| vendor_bid_opportunity | `charters.charter_changed`: a quote or booking picked up more than `bid_opportunity_min_miles` from the hub | each active, compliant vendor whose service area covers the pickup | `bid_opportunity:<charter>:<vendor>` |

Preferences: a vendor's alerts are operational, sent to the company's
dispatch and compliance addresses rather than to a person who subscribed,
so no topic governs them and the defaults apply (e-mail on, no SMS without
an opt-in a vendor company cannot give yet). A driver is a person with an
account: their own e-mail switch and SMS opt-in apply (the kind has no
topic). Vendors' recovery code still decides and reports whom it alerted
(`vendors.recovery_alerted`); only the sending moved.

Like the client messages, an event much older than its arrival updates
nothing here and tells nobody (`facts.DECIDE_WITHIN`).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, cast, select

from subgraphs.kit.geo import great_circle_miles, sql_great_circle_miles
from subgraphs.kit.settings import get_settings
from subgraphs.notifications.models import CharterFact, VendorFact
from subgraphs.notifications.service import facts
from subgraphs.notifications.service.catalogue import KINDS
from subgraphs.notifications.service.messages import Decision, Recipient, queue
from subgraphs.notifications.service.recipients import user_recipient, vendor_recipient

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.notifications.models import Message

log = logging.getLogger(__name__)

ASSIGNMENT_CHANGED = "vendors.assignment_changed"
ASSIGNMENT_CANCELLED = "vendors.assignment_cancelled"
RECOVERY_ALERT = "vendors.recovery_alert"
CERTIFICATION_ALERT = "vendors.certification_alert"
DRIVER_ASSIGNED = "charters.driver_assigned"
#: Charter statuses open to vendors' bids (vendors' `opportunities.BIDDABLE_CHARTER`).
BIDDABLE = frozenset({"quote", "booked"})
_CERTIFICATION_NAMES = {"dot": "DOT", "mc": "MC", "insurance": "Insurance"}


def _now() -> datetime:
    return datetime.now(UTC)


async def _charter(session: AsyncSession, charter_id: uuid.UUID | None) -> CharterFact | None:
    return await session.get(CharterFact, charter_id) if charter_id else None


def _pickup(payload: dict[str, Any], fact: CharterFact | None) -> dict[str, Any]:
    """The pickup as the event says it, completed from the charter's facts (its zone above all)."""
    zone = (
        payload.get("pickupTimeZone")
        or (fact.pickup_time_zone if fact else None)
        or get_settings().operator_time_zone
    )
    pickup_at = payload.get("pickupAt") or (
        fact.pickup_at.isoformat() if fact and fact.pickup_at else None
    )
    return {
        "charter_reference": payload.get("reference") or (fact.reference if fact else None),
        "pickup_at": pickup_at,
        "pickup_time_zone": zone,
        "pickup_address": payload.get("pickupAddress") or (fact.pickup_address if fact else None),
    }


async def _to_addresses(
    session: AsyncSession,
    kind: str,
    addresses: list[str],
    variables: dict[str, Any],
    now: datetime,
    *,
    event_id: str | None,
    vendor_id: uuid.UUID | None,
    charter_id: uuid.UUID | None = None,
    name: str | None = None,
) -> list[Message]:
    """One e-mail per address (each its own delivery, retry and log row)."""
    decided = []
    for address in dict.fromkeys(a.strip() for a in addresses if a and a.strip()):
        message = await queue(
            session,
            Decision(
                kind=kind,
                channel="email",
                recipient=Recipient(address=address, name=name),
                variables={**variables, "recipient_name": name},
                event_id=event_id,
                vendor_id=vendor_id,
                charter_id=charter_id,
            ),
            now,
        )
        if message is not None:
            decided.append(message)
    return decided


async def _event_recipients(
    session: AsyncSession, payload: dict[str, Any], vendor_id: uuid.UUID | None
) -> list[str]:
    """The addresses vendors named; the vendor's own e-mail when it named none."""
    named = [str(a) for a in payload.get("recipients") or [] if a]
    if named or vendor_id is None:
        return named
    fact = await session.get(VendorFact, vendor_id)
    return [fact.email] if fact and fact.email else []


# -- the consumers ------------------------------------------------------------------------------


async def on_assignment_changed(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> list[Message]:
    """A job offered to a vendor: it must accept or decline, so it hears at once."""
    now = now or _now()
    payload = facts.payload_of(event)
    vendor_id = facts.uuid_or_none(payload.get("vendorId"))
    if payload.get("status") != "offered" or vendor_id is None or not facts.fresh(event, now):
        return []
    recipient = await vendor_recipient(session, vendor_id)
    if recipient is None:
        log.info("vendor_new_job not decided: no e-mail known for vendor %s yet", vendor_id)
        return []
    charter_id = facts.uuid_or_none(payload.get("charterId"))
    capacity = payload.get("capacity")
    message = await queue(
        session,
        Decision(
            kind="vendor_new_job",
            channel="email",
            recipient=recipient,
            variables={
                **_pickup(payload, await _charter(session, charter_id)),
                "recipient_name": recipient.name or None,
                "vendor_name": recipient.name or None,
                "vehicle_description": f"{capacity}-seat vehicle" if capacity else "a vehicle",
                "portal_link": facts.portal_link(f"/vendor/jobs/{payload.get('assignmentId')}"),
            },
            event_id=facts.event_id(event),
            vendor_id=vendor_id,
            charter_id=charter_id,
        ),
        now,
    )
    return [message] if message is not None else []


async def on_assignment_cancelled(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> list[Message]:
    """The charter was cancelled, and with it the vendor's assignment."""
    now = now or _now()
    payload = facts.payload_of(event)
    if not facts.fresh(event, now):
        return []
    vendor_id = facts.uuid_or_none(payload.get("vendorId"))
    charter_id = facts.uuid_or_none(payload.get("charterId"))
    name = payload.get("vendorName") or None
    return await _to_addresses(
        session,
        "vendor_cancellation",
        await _event_recipients(session, payload, vendor_id),
        {
            **_pickup(payload, await _charter(session, charter_id)),
            "vendor_name": name,
            "reason": payload.get("reason"),
        },
        now,
        event_id=facts.event_id(event),
        vendor_id=vendor_id,
        charter_id=charter_id,
        name=name,
    )


async def on_recovery_alert(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> list[Message]:
    """One vendor vendors chose to alert about a vehicle needed on short notice."""
    now = now or _now()
    payload = facts.payload_of(event)
    if not facts.fresh(event, now):
        return []
    vendor_id = facts.uuid_or_none(payload.get("vendorId"))
    charter_id = facts.uuid_or_none(payload.get("charterId"))
    name = payload.get("vendorName") or None
    vehicle = str(payload.get("vehicleTypeName") or "A vehicle")
    if payload.get("capacity"):
        vehicle += f", {payload['capacity']} seats"
    miles = payload.get("milesFromBase")
    return await _to_addresses(
        session,
        "vendor_recovery_alert",
        await _event_recipients(session, payload, vendor_id),
        {
            **_pickup(payload, await _charter(session, charter_id)),
            "vendor_name": name,
            "vehicle_description": vehicle,
            "miles_from_base": None if miles is None else str(miles),
        },
        now,
        event_id=facts.event_id(event),
        vendor_id=vendor_id,
        charter_id=charter_id,
        name=name,
    )


def certification_name(cert_type: str) -> str:
    return _CERTIFICATION_NAMES.get(cert_type, cert_type.replace("_", " ").capitalize())


async def on_certification_alert(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> list[Message]:
    """A certification expiring (30, 15, 7 days) or expired: the vendor and the staff desk."""
    now = now or _now()
    payload = facts.payload_of(event)
    if not facts.fresh(event, now) or not payload.get("expiresOn"):
        return []
    vendor_id = facts.uuid_or_none(payload.get("vendorId"))
    cert_type = str(payload.get("certificationType") or "")
    expired = payload.get("kind") == "expired"
    addresses = await _event_recipients(session, payload, vendor_id)
    staff = get_settings().compliance_alert_staff_email
    if staff:
        addresses.append(staff)
    if not addresses:
        log.warning("certification alert %s has no recipient", payload.get("alertId"))
    name = payload.get("vendorName") or None
    return await _to_addresses(
        session,
        "vendor_compliance_alert",
        addresses,
        {
            "vendor_name": name,
            "certification_type": certification_name(cert_type),
            "certification_number": payload.get("number"),
            "expires_on": payload.get("expiresOn"),
            "days_left": int(payload.get("daysLeft") or 0),
            "expired": expired,
            # Vendors suspends a vendor whose insurance lapsed (`compliance_job.suspend_uninsured`).
            "suspends": expired and cert_type == "insurance",
        },
        now,
        event_id=facts.event_id(event),
        vendor_id=vendor_id,
        name=name,
    )


async def on_driver_assigned(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> list[Message]:
    """The driver put on a trip hears when and where, in the pickup's own time zone."""
    now = now or _now()
    payload = facts.payload_of(event)
    user_id = facts.uuid_or_none(payload.get("driverUserId"))
    if user_id is None or not facts.fresh(event, now):
        return []
    charter_id = facts.uuid_or_none(payload.get("charterId"))
    fact = await _charter(session, charter_id)
    decided = []
    for channel in KINDS["driver_trip_assigned"].channels:
        recipient = await user_recipient(session, user_id, channel)
        if recipient is None:
            if channel == "email":
                log.info("driver_trip_assigned not decided: user %s unknown yet", user_id)
            continue
        name = payload.get("driverName") or recipient.name or None
        message = await queue(
            session,
            Decision(
                kind="driver_trip_assigned",
                channel=channel,
                recipient=recipient,
                variables={
                    **_pickup(payload, fact),
                    "recipient_name": name,
                    "driver_name": name,
                    "passenger_count": payload.get("passengerCount")
                    or (fact.passenger_count if fact else None),
                    "vehicle_description": payload.get("vehicleDescription"),
                    "instructions": payload.get("instructions"),
                },
                event_id=facts.event_id(event),
                charter_id=charter_id,
            ),
            now,
        )
        if message is not None:
            decided.append(message)
    return decided


async def on_charter_changed(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> list[Message]:
    """Chained after the client messages' handler: the charter's facts are written by then."""
    now = now or _now()
    charter_id = facts.uuid_or_none(facts.payload_of(event).get("charterId"))
    if charter_id is None or not facts.fresh(event, now):
        return []
    fact = await session.get(CharterFact, charter_id, populate_existing=True)
    return await bid_opportunities(session, fact, now) if fact is not None else []


async def bid_opportunities(
    session: AsyncSession, charter: CharterFact, now: datetime
) -> list[Message]:
    """Offer a far charter to every vendor able to serve it; each vendor once per charter.

    Far: more than `bid_opportunity_min_miles` great-circle miles from the
    operator's hub (settings, as vendors' opportunities read them). Able:
    active, compliant, and its base within its service radius of the pickup.
    A vendor that becomes able later hears of the charter at its next change.
    """
    lat, lon = charter.pickup_latitude, charter.pickup_longitude
    if (
        charter.status not in BIDDABLE
        or lat is None
        or lon is None
        or charter.pickup_at is None
        or charter.pickup_at <= now
    ):
        return []
    settings = get_settings()
    from_hub = great_circle_miles(
        (settings.operator_hub_latitude, settings.operator_hub_longitude), (lat, lon)
    )
    if from_hub <= settings.bid_opportunity_min_miles:
        return []
    miles = sql_great_circle_miles(VendorFact.latitude, VendorFact.longitude, lat, lon)
    vendors = await session.scalars(
        select(VendorFact)
        .where(
            VendorFact.status == "active",
            VendorFact.compliant.is_(True),
            VendorFact.email.is_not(None),
            VendorFact.latitude.is_not(None),
            VendorFact.longitude.is_not(None),
            VendorFact.service_radius_miles.is_not(None),
            miles <= cast(VendorFact.service_radius_miles, Float),
        )
        .order_by(miles, VendorFact.vendor_id)
    )
    decided = []
    base = {
        "charter_reference": charter.reference or None,
        "pickup_at": charter.pickup_at.isoformat(),
        "pickup_time_zone": charter.pickup_time_zone,
        "pickup_address": charter.pickup_address,
        "miles_from_hub": str(round(from_hub)),
        "passenger_count": charter.passenger_count,
        "bid_link": facts.portal_link(f"/vendor/bids/{charter.charter_id}"),
    }
    for vendor in list(vendors):
        name = vendor.name or None
        message = await queue(
            session,
            Decision(
                kind="vendor_bid_opportunity",
                channel="email",
                recipient=Recipient(address=str(vendor.email), name=name),
                variables={**base, "recipient_name": name, "vendor_name": name},
                key=f"bid_opportunity:{charter.charter_id}:{vendor.vendor_id}",
                vendor_id=vendor.vendor_id,
                charter_id=charter.charter_id,
            ),
            now,
        )
        if message is not None:
            decided.append(message)
    return decided


#: topic -> (consumer group, handler), for the app; `on_charter_changed` is chained there.
CONSUMERS: dict[str, tuple[str, Any]] = {
    ASSIGNMENT_CHANGED: ("notifications.vendor-jobs", on_assignment_changed),
    ASSIGNMENT_CANCELLED: ("notifications.vendor-cancellations", on_assignment_cancelled),
    RECOVERY_ALERT: ("notifications.recovery-alerts", on_recovery_alert),
    CERTIFICATION_ALERT: ("notifications.certification-alerts", on_certification_alert),
    DRIVER_ASSIGNED: ("notifications.driver-trips", on_driver_assigned),
}
