"""Vendors demo data: affiliate operators in every status, their compliance, bids, assignments.

Loaded through vendors' service functions as a demo manager, so validation,
audit and outbox apply as for real use. Runs once: skips everything when
the marker vendor exists.

Demo seeding is not a subgraph: to give the headline query real answers
on the first `make run`, it reads the charters tables directly (same
database by default) to copy the demo charters into vendors' projection
(`charter_facts`, `charter_vehicle_facts`), which the charters event stream
then keeps current, announces to charters which vendors may read each one
(offers, bids, assignments: `charter_access`), and reads identity's table to link the demo vendor
login (`vendor@demo.athena`). A subgraph itself never does either.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.settings import get_settings
from subgraphs.vendors.models import (
    Bid,
    CharterFacts,
    CharterVehicleFacts,
    Vendor,
    VendorAssignment,
    VendorUser,
)
from subgraphs.vendors.service import assignments, bids, certifications, ratings, vendors
from subgraphs.vendors.service.charter_access import announce_access
from subgraphs.vendors.service.opportunities import Hub

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

MARKER = "Lone Star Motorcoach"
DEMO_VENDOR_LOGIN = "vendor@demo.athena"
ALL_CERTS = ("dot", "mc", "insurance", "business_license")

#: name, type, final status, state, (lat, lon), radius, certification plan.
#: plan: "ok" all valid for a year; "expiring" insurance within 30 days;
#: "expired" insurance expired (and marked so); "partial" no MC.
VENDORS = [
    (MARKER, "fleet_operator", "active", "TX", ("32.7767", "-96.7970"), 800, "ok"),
    (
        "Great Lakes Coach Lines",
        "fleet_operator",
        "active",
        "IL",
        ("41.8781", "-87.6298"),
        500,
        "ok",
    ),
    (
        "Hudson Valley Charters",
        "fleet_operator",
        "active",
        "NY",
        ("41.7004", "-73.9210"),
        300,
        "expiring",
    ),
    (
        "Front Range Transit Partners",
        "owner_operator",
        "active",
        "CO",
        ("39.7392", "-104.9903"),
        400,
        "ok",
    ),
    ("Prairie Express Bus Co", "broker", "active", "IL", ("40.1164", "-88.2434"), 600, "expiring"),
    (
        "Bayou Motorcoach",
        "fleet_operator",
        "pending",
        "LA",
        ("29.9511", "-90.0715"),
        350,
        "partial",
    ),
    (
        "Sunbelt Shuttle Service",
        "owner_operator",
        "suspended",
        "AZ",
        ("33.4484", "-112.0740"),
        250,
        "expired",
    ),
    ("Keystone Tours", "fleet_operator", "inactive", "PA", ("40.2732", "-76.8867"), 300, "ok"),
    ("Fly-By-Night Coaches", "broker", "rejected", "NV", ("36.1699", "-115.1398"), 200, "partial"),
    ("Rogue Road Lines", "owner_operator", "banned", "OK", ("35.4676", "-97.5164"), 200, "ok"),
]
PATHS = {
    "active": ["active"],
    "pending": [],
    "suspended": ["active", "suspended"],
    "inactive": ["active", "inactive"],
    "rejected": ["rejected"],
    "banned": ["active", "banned"],
}


def _cert_dates(plan: str, cert: str, today: date, n: int) -> tuple[date, date]:
    if cert == "insurance" and plan == "expiring":
        return today - timedelta(days=340), today + timedelta(days=7 + 9 * (n % 3))
    if cert == "insurance" and plan == "expired":
        return today - timedelta(days=400), today - timedelta(days=5)
    return today - timedelta(days=30), today + timedelta(days=365 - 11 * n)


async def _project_demo_charters(session: AsyncSession) -> int:
    """Copy charters' demo charters into vendors' projection (see the module docstring)."""
    # The pickup's place as charters' events carry it: the first stop's.
    charters = await session.execute(
        text(
            "SELECT c.id, c.reference, c.status, c.client_id, c.pickup_at, c.passenger_count, "
            "c.is_template, c.version, s.address, s.latitude, s.longitude "
            "FROM charters.charters c LEFT JOIN LATERAL (SELECT address, latitude, longitude "
            "FROM charters.stops WHERE charter_id = c.id ORDER BY position LIMIT 1) s ON true"
        )
    )
    added = 0
    for c in charters:
        result = await session.execute(
            insert(CharterFacts)
            .values(
                charter_id=c.id,
                reference=c.reference,
                status=c.status,
                client_id=c.client_id,
                pickup_at=c.pickup_at,
                passenger_count=c.passenger_count,
                pickup_address=c.address,
                pickup_latitude=c.latitude,
                pickup_longitude=c.longitude,
                is_template=c.is_template,
                source_version=c.version,
            )
            .on_conflict_do_nothing()
        )
        added += result.rowcount or 0
    vehicles = await session.execute(
        text("SELECT id, charter_id, capacity FROM charters.charter_vehicles")
    )
    for v in vehicles:
        await session.execute(
            insert(CharterVehicleFacts)
            .values(charter_vehicle_id=v.id, charter_id=v.charter_id, capacity=v.capacity)
            .on_conflict_do_nothing()
        )
    return added


async def load(session: AsyncSession) -> int:
    if await session.scalar(select(Vendor.id).where(Vendor.business_name == MARKER)):
        return 0
    has_charters = await session.scalar(text("SELECT to_regclass('charters.charters') IS NOT NULL"))
    count = await _project_demo_charters(session) if has_charters else 0
    manager = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.MANAGER}))
    required = get_settings().required_certifications
    today = datetime.now(UTC).date()
    made: dict[str, Vendor] = {}
    for n, (name, kind, status, state, (lat, lon), radius, plan) in enumerate(VENDORS):
        vendor = await vendors.create(
            session,
            vendors.VendorProfile(
                business_name=name,
                legal_name=f"{name} LLC",
                vendor_type=kind,
                email=f"dispatch@{name.lower().replace(' ', '').replace('-', '')[:20]}.example",
                phone=f"+1 555 01{n:02d}",
                state=state,
                dot_number=f"{3100000 + n * 7919}",
                mc_number=f"{910000 + n * 613}",
                tax_id=f"{70 + n}-{4100000 + n * 1237}",
                vehicle_count=4 + n * 3,
                vehicle_types=["Executive Coach", "Mini Coach"],
                max_passenger_capacity=56,
                base_latitude=Decimal(lat),
                base_longitude=Decimal(lon),
                service_radius_miles=radius,
                service_states=[state],
                payment_terms="Net 30",
                preferred=n < 2,
                contacts=[
                    {"kind": "primary", "name": f"Owner of {name}", "email": None, "phone": None},
                    {"kind": "dispatch", "name": "Dispatch desk", "email": None, "phone": None},
                ],
            ),
            manager,
        )
        certs = [c for c in ALL_CERTS if not (plan == "partial" and c == "mc")]
        for cert in certs:
            issued, expires = _cert_dates(plan, cert, today, n)
            # Recorded by a manager: verified at once (an expired one is stored as expired).
            await certifications.add(
                session,
                vendor.id,
                certifications.NewCertification(
                    cert_type=cert,
                    number=f"{cert.upper()}-{1000 + n * 17 + len(cert)}",
                    issued_on=issued,
                    expires_on=expires,
                ),
                manager,
            )
        for step in PATHS[status]:
            await vendors.set_status(session, vendor.id, step, manager, reason=f"Demo: {step}")
        made[name] = vendor
        count += 1
    count += await _link_demo_login(session, made[MARKER])
    if has_charters:
        count += await _assign_and_bid(session, list(made.values()), manager, required)
        await _announce_demo_access(session)
    return count


async def _announce_demo_access(session: AsyncSession) -> None:
    """Tell charters which vendors may read each demo charter, as the live system would have.

    Live, vendors announces a charter's set whenever charters' event about it
    arrives (`projection.apply_charter_event`); the copy above skipped those
    events, so announce every projected charter once, through the same code
    (offers need the vendors made above; bids and assignments announce too).
    """
    await session.flush()
    for charter_id in await session.scalars(
        select(CharterFacts.charter_id).order_by(CharterFacts.pickup_at, CharterFacts.charter_id)
    ):
        await announce_access(session, charter_id)


async def _link_demo_login(session: AsyncSession, vendor: Vendor) -> int:
    if not await session.scalar(text("SELECT to_regclass('identity.users') IS NOT NULL")):
        return 0
    user_id = await session.scalar(
        text("SELECT id FROM identity.users WHERE lower(email) = :e"), {"e": DEMO_VENDOR_LOGIN}
    )
    if user_id is None or await session.get(VendorUser, user_id):
        return 0
    session.add(VendorUser(user_id=user_id, vendor_id=vendor.id))
    await session.flush()
    # The portal's own certification, waiting for a manager's verification.
    today = datetime.now(UTC).date()
    await certifications.add(
        session,
        vendor.id,
        certifications.NewCertification(
            cert_type="safety_inspection",
            number="SAFETY-2026-0042",
            issued_on=today - timedelta(days=3),
            expires_on=today + timedelta(days=362),
        ),
        Viewer(user_id=user_id, roles=frozenset({Role.VENDOR})),
    )
    return 2


async def _vehicle_costs(session: AsyncSession) -> dict[uuid.UUID, Decimal]:
    """Each demo charter vehicle's cost to the operator (charters' table, see the docstring)."""
    rows = await session.execute(text("SELECT id, cost FROM charters.charter_vehicles"))
    return {row.id: Decimal(row.cost or 0) for row in rows}


async def _assign_and_bid(
    session: AsyncSession, made: list[Vendor], manager: Viewer, required: tuple[str, ...]
) -> int:
    """Assign vehicles of booked/confirmed demo charters; bid on quoted and booked ones.

    A vendor is paid what the vehicle costs the operator (so the charter keeps its margin)
    and bids around it. The completed trips were served by vendors too: assigned while
    confirmed, completed with their trip, most of them rated. Two charters' bids are
    decided: the demo vendor (Lone Star) wins one, which gives it an upcoming trip, and
    loses the other.
    """
    eligible = [v for v in made if v.status == "active"]
    costs = await _vehicle_costs(session)
    facts = (
        await session.execute(
            select(
                CharterFacts.charter_id, CharterFacts.status, CharterVehicleFacts.charter_vehicle_id
            )
            .join(CharterVehicleFacts, CharterVehicleFacts.charter_id == CharterFacts.charter_id)
            .where(CharterFacts.is_template.is_(False))
            .order_by(CharterFacts.pickup_at, CharterVehicleFacts.charter_vehicle_id)
        )
    ).all()
    added = 0
    now = datetime.now(UTC)
    hub = Hub.from_settings(get_settings())
    assigned = 0
    bid_on: dict[uuid.UUID, str] = {}
    for n, (charter_id, status, vehicle_id) in enumerate(facts):
        vendor = eligible[n % len(eligible)]
        if status == "completed":
            added += await _served(session, charter_id, vehicle_id, vendor, costs, manager, n)
        elif status in ("booked", "confirmed") and assigned < 12:
            try:
                async with session.begin_nested():
                    row = await assignments.assign(
                        session,
                        charter_vehicle_id=vehicle_id,
                        vendor_id=vendor.id,
                        amount=costs.get(vehicle_id, Decimal("950.00")),
                        actor=manager,
                        required=required,
                    )
                    if n % 2 == 0:
                        await assignments.respond(session, row.id, "confirmed", manager)
            except ServiceError:
                continue  # e.g. an expiring vendor that is still fine, or a held vehicle
            assigned += 1
            added += 1
        elif status in ("quote", "booked") and charter_id not in bid_on and len(bid_on) < 6:
            charter_cost = sum(
                (costs.get(v, Decimal(0)) for c, _, v in facts if c == charter_id), Decimal(0)
            )
            for k, bidder in enumerate(eligible[:3]):
                try:
                    async with session.begin_nested():
                        await bids.create(
                            session,
                            bidder.id,
                            bids.BidInput(
                                charter_id=charter_id,
                                amount=(charter_cost * (1 + Decimal("0.06") * k)).quantize(
                                    Decimal("0.01")
                                )
                                + 10 * (n % 3),
                                vehicle_type="Executive Coach",
                                valid_until=now + timedelta(days=10),
                                notes="Demo bid",
                            ),
                            manager,
                            submit=True,
                            required=required,
                            hub=hub,
                            now=now,
                        )
                except ServiceError:
                    continue
                added += 1
            bid_on[charter_id] = status
    added += await _decide_bids(session, list(bid_on), eligible, manager, required, now)
    await _rate_completed_trips(session, manager)
    return added


async def _served(
    session: AsyncSession,
    charter_id: uuid.UUID,
    vehicle_id: uuid.UUID,
    vendor: Vendor,
    costs: dict[uuid.UUID, Decimal],
    manager: Viewer,
    n: int,
) -> int:
    """A past trip's vendor: assigned and confirmed before the trip, completed with it.

    Demo only: the projection (written directly above) holds the trip as it was then,
    confirmed, while the vendor is assigned; then the trip's completion moves the
    assignment as charters' event would (`follow_trip`).
    """
    fact = await session.get_one(CharterFacts, charter_id)
    fact.status = "confirmed"
    await session.flush()
    try:
        async with session.begin_nested():
            row = await assignments.assign(
                session,
                charter_vehicle_id=vehicle_id,
                vendor_id=vendor.id,
                amount=costs.get(vehicle_id, Decimal("950.00")),
                actor=manager,
                required=(),
            )
            await assignments.respond(session, row.id, "confirmed", manager)
        made = 1
    except ServiceError:
        made = 0
    await assignments.follow_trip(session, charter_id, "completed")
    fact.status = "completed"
    await session.flush()
    return made


async def _decide_bids(
    session: AsyncSession,
    charter_ids: list[uuid.UUID],
    eligible: list[Vendor],
    manager: Viewer,
    required: tuple[str, ...],
    now: datetime,
) -> int:
    """Decide two charters' bids: the demo vendor wins one and loses the other.

    The first goes to the demo vendor (eligible[0], the lowest bidder), who confirms:
    its upcoming trip; the second to the next vendor.
    """
    decided = 0
    left = list(charter_ids)
    for winner in eligible[:2]:
        found = (
            await session.execute(
                select(Bid.charter_id, Bid.id)
                .where(
                    Bid.charter_id.in_(left),
                    Bid.vendor_id == winner.id,
                    Bid.status == "submitted",
                )
                .order_by(Bid.submitted_at, Bid.id)
            )
        ).all()
        for charter_id, bid_id in sorted(found, key=lambda row: left.index(row[0])):
            try:
                async with session.begin_nested():
                    _, made = await bids.accept(
                        session, bid_id, manager, required=required, now=now
                    )
                    for row in made:
                        await assignments.respond(session, row.id, "confirmed", manager)
            except ServiceError:
                continue  # every vehicle held already: the next charter then
            left.remove(charter_id)
            decided += 1
            break
    return decided


#: (overall, vehicle, driver, on time, communication, value) for the rated past trips.
RATINGS = (
    ("4.8", "4.7", "5.0", "4.6", "4.8", "4.5"),
    ("4.2", "4.0", "4.5", "3.8", "4.3", "4.4"),
    ("3.6", "3.9", "4.0", "2.9", "3.5", "4.0"),
    ("4.5", "4.6", "4.4", "4.9", "4.2", "4.1"),
)


async def _rate_completed_trips(session: AsyncSession, manager: Viewer) -> None:
    """Most completed trips' vendors rated by the office (every fourth left unrated)."""
    served = (
        await session.execute(
            select(VendorAssignment.vendor_id, VendorAssignment.charter_id)
            .where(VendorAssignment.status == "completed")
            .distinct()
            .order_by(VendorAssignment.charter_id, VendorAssignment.vendor_id)
        )
    ).all()
    for n, (vendor_id, charter_id) in enumerate(served):
        if n % 4 == 3:
            continue
        scores = dict(zip(ratings.CATEGORIES, map(Decimal, RATINGS[n % len(RATINGS)]), strict=True))
        try:
            async with session.begin_nested():
                await ratings.rate(
                    session,
                    vendor_id=vendor_id,
                    charter_id=charter_id,
                    data=ratings.NewRating(**scores, comment="Demo rating"),
                    actor=manager,
                )
        except ServiceError:
            continue
