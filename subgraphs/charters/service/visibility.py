"""Who may read what of a charter, per field: the one statement of it, as data.

Every reader of a charter belongs to one *audience*, decided from the
verified viewer and the charter's own facts (`audience_of`):

- staff read everything (every staff role, as before portals existed);
- the charter's own client (token `client_id` equals the charter's client)
  reads its trip and its money (status, itinerary, vehicle types and
  capacities, passengers, its price), never vendor identities or fleet
  details, internal notes, lineage or the audit log;
- a related vendor (assigned to one of its vehicles, offered it, or has bid
  on it; charters learns which from vendors' events) reads what it needs to
  run or price the trip: dates, itinerary, passengers, vehicle types, the
  pickup contact and the instructions marked for vendors, never the
  client's price or identity;
- an assigned driver (the driver of one of its vehicles) reads the trip:
  itinerary, passengers, pickup contact, its vehicle, instructions marked
  for drivers, never money;
- a quote-link holder (anonymous, `quoteByLink`) reads the itinerary of the
  quote it holds.

`FIELDS` names, for every field of the governed types, the audiences that
may read it; a field missing from the table is readable by staff only, and
the generated test (`tests/portals/test_field_policy.py`) fails until it is
listed. `kit`'s field gate (`subgraphs/charters/field_policy.py`) applies
the table: a field a reader may not read resolves to null with a
`FORBIDDEN` error at its path, and the rest of the answer stays.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from protocol.roles import Role
from protocol.viewer import Viewer


class Audience(StrEnum):
    STAFF = "staff"
    CLIENT = "client"
    VENDOR = "vendor"
    DRIVER = "driver"
    QUOTE_LINK = "quote_link"


S, C, V, D, Q = (
    Audience.STAFF,
    Audience.CLIENT,
    Audience.VENDOR,
    Audience.DRIVER,
    Audience.QUOTE_LINK,
)

#: Shorthands for the table below.
EVERY_PORTAL = frozenset({S, C, V, D})
STAFF_ONLY = frozenset({S})
STAFF_AND_CLIENT = frozenset({S, C})
STAFF_AND_DRIVER = frozenset({S, D})
STAFF_AND_VENDOR = frozenset({S, V})
#: Operational facts of the trip, not money: the people who run it.
RUNNING_THE_TRIP = frozenset({S, V, D})

#: Per type, per GraphQL field: the audiences that may read it.
FIELDS: Mapping[str, Mapping[str, frozenset[Audience]]] = {
    "Charter": {
        "id": EVERY_PORTAL,
        "reference": EVERY_PORTAL,
        "status": EVERY_PORTAL,
        "tripType": EVERY_PORTAL,
        "passengerCount": EVERY_PORTAL,
        "pickupAt": EVERY_PORTAL,
        "pickupLocal": EVERY_PORTAL,
        "pickupTimeZone": EVERY_PORTAL,
        "endsAt": EVERY_PORTAL,
        "requiresSecondDriver": EVERY_PORTAL,
        "estimatedMiles": EVERY_PORTAL,
        "stops": EVERY_PORTAL,
        "vehicles": EVERY_PORTAL,
        "totalCapacity": EVERY_PORTAL,
        # Issue 16: the vehicles' type names in one cell, read by whoever reads the vehicles.
        "vehicleTypeSummary": EVERY_PORTAL,
        "occurrenceDate": EVERY_PORTAL,
        "pickupContactName": EVERY_PORTAL,
        "pickupContactPhone": EVERY_PORTAL,
        # The client's own company, agent, price and paperwork.
        "client": STAFF_AND_CLIENT,
        "salesAgent": STAFF_AND_CLIENT,
        "totalCost": STAFF_AND_CLIENT,
        "cancellation": STAFF_AND_CLIENT,
        "quoteRevision": STAFF_AND_CLIENT,
        "createdAt": STAFF_AND_CLIENT,
        "updatedAt": STAFF_AND_CLIENT,
        # Issue 16: when the client's quote was accepted, a timestamp like the two above.
        "bookedAt": STAFF_AND_CLIENT,
        "series": STAFF_AND_CLIENT,
        "seriesPosition": STAFF_AND_CLIENT,
        # Instructions, each for its own audience.
        "vendorInstructions": STAFF_AND_VENDOR,
        "driverInstructions": STAFF_AND_DRIVER,
        # Internal: notes, templates, lineage, history, revisions (their snapshots
        # carry internal notes), change cases and the audit log.
        "notes": STAFF_ONLY,
        "isTemplate": STAFF_ONLY,
        "templateName": STAFF_ONLY,
        "clonedFrom": STAFF_ONLY,
        "splitFrom": STAFF_ONLY,
        "quoteRevisions": STAFF_ONLY,
        "changeCases": STAFF_ONLY,
        "auditLog": STAFF_ONLY,
        # Readiness (issue 13): the dispatch desk's own work list.
        "tasks": STAFF_ONLY,
        "openTasks": STAFF_ONLY,
        # Recovery (issue 13): dispatch's own cases about lost vendors and drivers.
        "recovery": STAFF_ONLY,
        # Issue 13 §2: dispatch's call log is internal; special instructions reach the
        # people running the trip, each row only when marked for the reader's audience
        # (`service/instructions.visible_to`), never the client.
        "contactAttempts": STAFF_ONLY,
        "specialInstructions": RUNNING_THE_TRIP,
        # Issue 13 §6: the optimised route's length and duration, for those who drive it.
        "route": RUNNING_THE_TRIP,
        # Issue 14 §3: documents, each row only in the categories the reader's audience
        # reads (`access.DOCUMENT_READS`: a vendor its own bids and the job sheets);
        # drivers none. §2: e-signatures are the client's own paperwork.
        "documents": frozenset({S, C, V}),
        "signatures": STAFF_AND_CLIENT,
    },
    "CharterVehicle": {
        "id": EVERY_PORTAL,
        "position": EVERY_PORTAL,
        "capacity": EVERY_PORTAL,
        "vehicleType": EVERY_PORTAL,
        "status": EVERY_PORTAL,
        "dispatchStatus": EVERY_PORTAL,
        "pickupAddress": EVERY_PORTAL,
        "dropoffAddress": EVERY_PORTAL,
        "specialRequirements": EVERY_PORTAL,
        "charter": EVERY_PORTAL,
        # The client's price of this vehicle.
        "cost": STAFF_AND_CLIENT,
        # The operator's own bus and driver: the driver needs them, nobody else outside.
        "vehicle": STAFF_AND_DRIVER,
        "driver": STAFF_AND_DRIVER,
        # Readiness (issue 13): who confirmed and where the bus is are dispatch's to chase;
        # a client's live tracking, if ever, is its own decision (not this board's).
        "confirmations": STAFF_ONLY,
        "driverConfirmation": STAFF_ONLY,
        "vendorConfirmation": STAFF_ONLY,
        "vendorAssignmentStatus": STAFF_ONLY,
        "latestPosition": STAFF_ONLY,
        # Recovery (issue 13): dispatch's own cases about lost vendors and drivers.
        "recoveryStatus": STAFF_ONLY,
        "recovery": STAFF_ONLY,
    },
    "Stop": {
        name: EVERY_PORTAL | {Q}
        for name in (
            "id",
            "position",
            "type",
            "address",
            "latitude",
            "longitude",
            "plannedArrival",
            "plannedDeparture",
            "notes",
        )
    },
    "CharterSeries": {
        "id": STAFF_AND_CLIENT,
        "name": STAFF_AND_CLIENT,
        "rrule": STAFF_AND_CLIENT,
        "startsLocal": STAFF_AND_CLIENT,
        "timeZone": STAFF_AND_CLIENT,
        "exceptionDates": STAFF_AND_CLIENT,
        "active": STAFF_AND_CLIENT,
        "description": STAFF_AND_CLIENT,
        "client": STAFF_AND_CLIENT,
        "instances": STAFF_AND_CLIENT,
        "template": STAFF_ONLY,
    },
}

#: Why a vendor may read a charter (vendors' events say which apply).
VENDOR_REASONS = ("assignment", "bid", "offer")
#: An offer lets a vendor read a charter only while it is open to bids.
OFFER_OPEN_STATUSES = ("quote", "booked")


def readers_of(type_name: str, field: str) -> frozenset[Audience]:
    """The audiences the table lets read a field; a field it does not list is for staff only."""
    allowed = FIELDS.get(type_name, {}).get(field)
    return allowed if allowed is not None else STAFF_ONLY


def may_read(type_name: str, field: str, audience: Audience | None) -> bool:
    return audience is not None and audience in readers_of(type_name, field)


@dataclass(frozen=True)
class CharterFacts:
    """What decides a reader's audience for one charter."""

    client_id: uuid.UUID
    status: str
    pickup_at: datetime
    #: The drivers (fleet rows) of its vehicles.
    driver_ids: Collection[uuid.UUID]
    #: vendor id -> why it may read the charter (`VENDOR_REASONS`).
    vendor_reasons: Mapping[uuid.UUID, Collection[str]]


def vendor_may_read(reasons: Collection[str], facts: CharterFacts, now: datetime) -> bool:
    """Assigned or bid on: while it lasts; offered: while the charter is open to bids."""
    if "assignment" in reasons or "bid" in reasons:
        return True
    return "offer" in reasons and facts.status in OFFER_OPEN_STATUSES and facts.pickup_at > now


def audience_of(
    viewer: Viewer,
    facts: CharterFacts,
    *,
    vendor_id: uuid.UUID | None,
    driver_id: uuid.UUID | None,
    now: datetime,
) -> Audience | None:
    """The viewer's audience for this charter, or None: it may read nothing of it.

    `vendor_id` is the vendor the viewer's account works for (vendor role),
    `driver_id` the fleet driver linked to the viewer's account (driver role).
    """
    if viewer.is_staff:
        return Audience.STAFF
    if viewer.has_any_role(Role.CLIENT) and viewer.client_id == facts.client_id:
        return Audience.CLIENT
    if (
        viewer.has_any_role(Role.VENDOR)
        and vendor_id is not None
        and vendor_may_read(facts.vendor_reasons.get(vendor_id, ()), facts, now)
    ):
        return Audience.VENDOR
    if viewer.has_any_role(Role.DRIVER) and driver_id is not None and driver_id in facts.driver_ids:
        return Audience.DRIVER
    return None


def series_audience_of(viewer: Viewer, client_id: uuid.UUID) -> Audience | None:
    """A recurring series: staff, and the client it is for."""
    if viewer.is_staff:
        return Audience.STAFF
    if viewer.has_any_role(Role.CLIENT) and viewer.client_id == client_id:
        return Audience.CLIENT
    return None


#: Roles that may ask charters' portal questions at all (each sees only its own).
PORTAL_READERS = (Role.CLIENT, Role.VENDOR, Role.DRIVER)
