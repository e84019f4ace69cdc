"""Which vendors may read a charter, and why: told to charters through events.

Charters owns the charter and decides what a vendor reads of it, but only
vendors knows who bid, who is assigned and to whom a charter is offered.
So vendors announces, for one charter at a time, the whole current set
(`vendors.charter_access_changed`: vendor id -> reasons `assignment`,
`bid`, `offer`), written to the outbox in the same transaction as the
change that moved it; charters keeps it in a projection. It also announces
which vendor each vendor account works for (`vendors.vendor_user_linked`).
A vendor whose service area or standing changes has its offers re-announced
(`announce_offers_of`, called by `vendors.update` and `vendors.set_status`).

Every path that changes bids, assignments or vendor users is covered
without each service remembering to call us: a session hook notes the
charters whose bids or assignments were flushed, and recomputes their sets
just before the transaction commits. Charters' own events (a charter that
becomes, or stops being, an opportunity) recompute from the projection
(`projection.apply_charter_event`). Concurrent recomputations of one
charter are serialised by a transaction-level advisory lock, so the later
commit always carries the later set.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, cast, event, func, insert, or_, select, text
from sqlalchemy.orm import Session

from subgraphs.kit import json
from subgraphs.kit.geo import great_circle_miles, sql_great_circle_miles
from subgraphs.kit.outbox import wake_relay_after_commit
from subgraphs.kit.settings import get_settings
from subgraphs.vendors.models import (
    Bid,
    CharterFacts,
    Vendor,
    VendorAssignment,
    VendorUser,
    outbox,
)
from subgraphs.vendors.service.opportunities import BIDDABLE_CHARTER, Hub

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

ACCESS_CHANGED = "vendors.charter_access_changed"
VENDOR_USER_LINKED = "vendors.vendor_user_linked"
#: Assignments that let a vendor read the charter: live ones and the trips it drove.
READING_ASSIGNMENTS = ("offered", "confirmed", "recovery_requested", "in_progress", "completed")
#: Bids that let a vendor read the charter: any it made (a draft is work on an offer).
READING_BIDS = ("draft", "submitted", "under_review", "accepted", "rejected", "expired")

_CHARTERS_KEY = "vendors.charter_access.pending"
_USERS_KEY = "vendors.vendor_users.pending"


def offered_vendors_stmt(charter: CharterFacts, hub: Hub) -> Any:
    """Vendors whose service area covers the charter's pickup (the offer rule, reversed)."""
    lat, lon = charter.pickup_latitude, charter.pickup_longitude
    return select(Vendor.id).where(
        Vendor.status == "active",
        Vendor.base_latitude.is_not(None),
        Vendor.base_longitude.is_not(None),
        Vendor.service_radius_miles.is_not(None),
        sql_great_circle_miles(Vendor.base_latitude, Vendor.base_longitude, float(lat), float(lon))  # type: ignore[arg-type]
        <= cast(Vendor.service_radius_miles, Float),
    )


def _far_from_hub(charter: CharterFacts, hub: Hub) -> bool:
    miles = great_circle_miles(
        (hub.latitude, hub.longitude),
        (float(charter.pickup_latitude), float(charter.pickup_longitude)),  # type: ignore[arg-type]
    )
    return miles > hub.min_miles


def _payload_of(charter_id: uuid.UUID, reasons: dict[uuid.UUID, set[str]], as_of: datetime) -> Any:
    return {
        "charterId": str(charter_id),
        "asOf": as_of.isoformat(),
        "vendors": [
            {"vendorId": str(vendor_id), "reasons": sorted(why)}
            for vendor_id, why in sorted(reasons.items(), key=lambda item: str(item[0]))
        ],
    }


async def announce_access(session: AsyncSession, charter_id: uuid.UUID) -> None:
    """Recompute the charter's set and write it to the outbox, in the caller's transaction."""
    hub = Hub.from_settings(get_settings())
    await session.run_sync(_announce, charter_id, hub, datetime.now(UTC))
    wake_relay_after_commit(session)


@dataclass(frozen=True)
class ServiceArea:
    """What decides which charters a vendor is offered (`offered_vendors_stmt`)."""

    active: bool
    latitude: Decimal | None
    longitude: Decimal | None
    radius_miles: int | None
    states: tuple[str, ...]

    @classmethod
    def of(cls, vendor: Vendor) -> ServiceArea:
        return cls(
            active=vendor.status == "active",
            latitude=vendor.base_latitude,
            longitude=vendor.base_longitude,
            radius_miles=vendor.service_radius_miles,
            states=tuple(vendor.service_states or ()),
        )

    @property
    def offers(self) -> bool:
        return (
            self.active
            and self.latitude is not None
            and self.longitude is not None
            and self.radius_miles is not None
        )


async def announce_offers_of(
    session: AsyncSession, vendor_id: uuid.UUID, before: ServiceArea
) -> int:
    """The vendor's service area (or standing) changed from `before`: re-announce its offers.

    Every open charter it may have been offered before or may be offered now
    is recomputed and announced (the same announcement as any other change),
    so charters learns both the charters it is now offered and those it no
    longer is. Returns how many charters were announced.
    """
    hub = Hub.from_settings(get_settings())
    now = datetime.now(UTC)
    await session.flush()
    announced = await session.run_sync(_announce_offers, vendor_id, before, hub, now)
    if announced:
        wake_relay_after_commit(session)
    return announced


def _announce_offers(
    session: Session, vendor_id: uuid.UUID, before: ServiceArea, hub: Hub, now: datetime
) -> int:
    vendor = session.get(Vendor, vendor_id)
    areas = [a for a in (before, ServiceArea.of(vendor) if vendor else None) if a and a.offers]
    if not areas:
        return 0
    lat, lon = CharterFacts.pickup_latitude, CharterFacts.pickup_longitude
    covered = [
        # A mile of slack: announcing one charter too many is harmless, one too few is not.
        sql_great_circle_miles(float(a.latitude), float(a.longitude), lat, lon)  # type: ignore[arg-type]
        <= float(a.radius_miles) + 1  # type: ignore[arg-type]
        for a in areas
    ]
    charters = session.scalars(
        select(CharterFacts)
        .where(
            CharterFacts.status.in_(BIDDABLE_CHARTER),
            CharterFacts.is_template.is_(False),
            CharterFacts.pickup_at > now,
            lat.is_not(None),
            lon.is_not(None),
            or_(*covered),
        )
        .order_by(CharterFacts.charter_id)
    ).all()
    announced = 0
    for charter in charters:
        if _far_from_hub(charter, hub):
            _announce(session, charter.charter_id, hub, now)
            announced += 1
    return announced


def _announce(session: Session, charter_id: uuid.UUID, hub: Hub, now: datetime) -> None:
    session.execute(_lock(charter_id))
    as_of = session.scalar(select(func.clock_timestamp()))
    reasons = access_for(session, charter_id, hub, now)
    session.execute(
        insert(outbox).values(
            topic=ACCESS_CHANGED,
            payload=json.loads(json.dumps(_payload_of(charter_id, reasons, as_of))),  # type: ignore[arg-type]
        )
    )


def _lock(charter_id: uuid.UUID) -> Any:
    return text("SELECT pg_advisory_xact_lock(hashtext(:key))").bindparams(
        key=f"vendors.charter_access:{charter_id}"
    )


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: Any) -> None:
    """Remember the charters whose bids or assignments, and the users whose links, changed."""
    charters: set[uuid.UUID] = session.info.setdefault(_CHARTERS_KEY, set())
    users: dict[uuid.UUID, uuid.UUID] = session.info.setdefault(_USERS_KEY, {})
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, Bid | VendorAssignment) and row.charter_id is not None:
            charters.add(row.charter_id)
        elif isinstance(row, VendorUser) and row not in session.deleted:
            users[row.user_id] = row.vendor_id


@event.listens_for(Session, "before_commit")
def _announce_before_commit(session: Session) -> None:
    """Write the noted announcements in the committing transaction (runs in its greenlet)."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    charters: set[uuid.UUID] = session.info.pop(_CHARTERS_KEY, set())
    users: dict[uuid.UUID, uuid.UUID] = session.info.pop(_USERS_KEY, {})
    if not charters and not users:
        return
    hub = Hub.from_settings(get_settings())
    now = datetime.now(UTC)
    # As committed: a link made in a savepoint that was rolled back is not announced.
    linked = session.execute(
        select(VendorUser.user_id, VendorUser.vendor_id).where(VendorUser.user_id.in_(list(users)))
    ).all()
    for user_id, vendor_id in sorted(linked, key=lambda row: str(row[0])):
        session.execute(
            insert(outbox).values(
                topic=VENDOR_USER_LINKED,
                payload={"userId": str(user_id), "vendorId": str(vendor_id)},
            )
        )
    for charter_id in sorted(charters, key=str):
        _announce(session, charter_id, hub, now)
    wake_relay_after_commit(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction: Any) -> None:
    """Forget the notes when the whole transaction rolls back.

    A savepoint's rollback (`begin_nested`, as the demo loader and bulk paths
    use) keeps them: recomputing a charter whose bid was rolled back only
    announces the set as it is, and a rolled-back link is checked at commit.
    """
    if previous_transaction.parent is None:
        session.info.pop(_CHARTERS_KEY, None)
        session.info.pop(_USERS_KEY, None)


def access_for(
    session: Session, charter_id: uuid.UUID, hub: Hub, now: datetime
) -> dict[uuid.UUID, set[str]]:
    """Vendor id -> why it may read the charter, from vendors' own tables.

    Synchronous: it runs inside a commit hook (or `run_sync`), on the
    transaction's own connection.
    """
    reasons: dict[uuid.UUID, set[str]] = {}
    for vendor_id in session.scalars(
        select(VendorAssignment.vendor_id).where(
            VendorAssignment.charter_id == charter_id,
            VendorAssignment.status.in_(READING_ASSIGNMENTS),
        )
    ):
        reasons.setdefault(vendor_id, set()).add("assignment")
    for vendor_id in session.scalars(
        select(Bid.vendor_id).where(Bid.charter_id == charter_id, Bid.status.in_(READING_BIDS))
    ):
        reasons.setdefault(vendor_id, set()).add("bid")
    charter = session.get(CharterFacts, charter_id)
    if (
        charter is not None
        and charter.status in BIDDABLE_CHARTER
        and not charter.is_template
        and charter.pickup_at > now
        and charter.pickup_latitude is not None
        and charter.pickup_longitude is not None
        and _far_from_hub(charter, hub)
    ):
        for vendor_id in session.scalars(offered_vendors_stmt(charter, hub)):
            reasons.setdefault(vendor_id, set()).add("offer")
    return reasons
