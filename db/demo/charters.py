"""Charters demo data: a fleet, drivers, 40-odd charters in every status.

Loaded through the service functions as a manager, so the same rules,
audit log and outbox events apply as for real use. Times are relative to
now (the coming weeks), so the demo always looks current. Runs once: it
skips everything when the demo fleet (plate `ATH-101`) exists.

The demo tells a year of business: charters are spread over the three demo
sales agents, their vehicle costs are about two thirds of what the demo price
list (db/demo/pricing.py) charges for the trip, so bookings make a margin, and
past trips are spread over the last year.

Things the services cannot do are done directly and said so below:
completed charters are moved into the past once confirmed, then run and
complete (a charter can only be created for a future pickup, and a trip
completes only after its pickup); a booking's time (`booked_at`, stamped
"now" by the service) is moved back to when the client booked: weeks before
a past trip, over the last months for coming ones, a few this month; the
change case was opened twelve days ago; and the weekly series' instances
are tied to their series by `series_id` (unless the series service exists).
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import Range

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.models import Charter, CharterSeries, CharterVehicle, Vehicle
from subgraphs.charters.service import change_cases, directory, dispatch, fleet, vehicles
from subgraphs.charters.service import charters as charter_service
from subgraphs.charters.service.change_cases import ApprovalPolicy, ChangeRequest
from subgraphs.charters.service.timing import DEFAULT_DURATION, to_instant
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.settings import get_settings
from subgraphs.pricing.service.distance import estimated_miles

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

_NS = uuid.UUID("6d1f2b4e-52a8-4f0e-9c61-0c3a7e5b2d10")

#: The demo's client companies. The sales subgraph owns clients; its demo
#: should create these ids so `charter { client { name } }` resolves.
DEMO_CLIENTS: dict[str, uuid.UUID] = {
    "Lakeside University Athletics": uuid.UUID("0b6f4a8e-1d2c-4b7a-9e10-000000000001"),
    "Northwind Corporate Travel": uuid.UUID("0b6f4a8e-1d2c-4b7a-9e10-000000000002"),
    "Riverside School District": uuid.UUID("0b6f4a8e-1d2c-4b7a-9e10-000000000003"),
    "Summit Wedding Planners": uuid.UUID("0b6f4a8e-1d2c-4b7a-9e10-000000000004"),
    "Metro Convention Center": uuid.UUID("0b6f4a8e-1d2c-4b7a-9e10-000000000005"),
    "Harbor Senior Living": uuid.UUID("0b6f4a8e-1d2c-4b7a-9e10-000000000006"),
}

MARKER_PLATE = "ATH-101"

VEHICLE_TYPES = {
    "Executive Coach": (56, "Full-size motorcoach: restroom, Wi-Fi, under-floor luggage."),
    "Mini Coach": (35, "Mid-size coach for smaller groups."),
    "Sprinter": (14, "Executive van for airport runs and small teams."),
    "School Bus": (48, "Yellow school bus for district and camp trips."),
    "Party Bus": (30, "Lounge seating, sound system."),
}

FLEET = [
    ("ATH-101", "Executive Coach", "Coach 101"),
    ("ATH-102", "Executive Coach", "Coach 102"),
    ("ATH-103", "Executive Coach", "Coach 103"),
    ("ATH-201", "Mini Coach", "Mini 201"),
    ("ATH-202", "Mini Coach", "Mini 202"),
    ("ATH-301", "Sprinter", "Sprinter 301"),
    ("ATH-302", "Sprinter", "Sprinter 302"),
    ("ATH-303", "Sprinter", "Sprinter 303"),
    ("ATH-401", "School Bus", "School Bus 401"),
    ("ATH-501", "Party Bus", "Party Bus 501"),
]

DRIVERS = ["Maria Gonzalez", "James Carter", "Aisha Okafor", "Tom Becker", "Lena Novak"]

#: Address, latitude, longitude: the pickup's place decides which vendors a charter is
#: offered to (vendors' service areas), as for a charter entered through the graph.
PLACES: dict[str, list[tuple[str, str, str]]] = {
    "America/Chicago": [
        ("O'Hare International Airport, Chicago, IL", "41.9742", "-87.9073"),
        ("Navy Pier, 600 E Grand Ave, Chicago, IL", "41.8917", "-87.6086"),
        ("Soldier Field, 1410 Special Olympics Dr, Chicago, IL", "41.8623", "-87.6167"),
        ("Northwestern University, Evanston, IL", "42.0565", "-87.6753"),
        ("Wisconsin Dells, WI", "43.6275", "-89.7710"),
    ],
    "America/New_York": [
        ("Penn Station, New York, NY", "40.7506", "-73.9935"),
        ("JFK International Airport, Queens, NY", "40.6413", "-73.7781"),
        ("Yankee Stadium, Bronx, NY", "40.8296", "-73.9262"),
        ("Atlantic City Boardwalk, NJ", "39.3554", "-74.4390"),
    ],
    "America/Denver": [
        ("Denver International Airport, CO", "39.8561", "-104.6737"),
        ("Red Rocks Amphitheatre, Morrison, CO", "39.6654", "-105.2057"),
        ("Breckenridge Ski Resort, CO", "39.4817", "-106.0384"),
    ],
}


@dataclass(frozen=True)
class Plan:
    """One demo charter: when, who, how big, and where its story stops."""

    days: int
    hour: int
    zone: str
    client: str
    passengers: int
    vehicle_types: tuple[str, ...]
    status: str
    trip_type: str = "one_way"
    dispatch: str | None = None
    assign: bool = False


def _plans() -> list[Plan]:
    zones = list(PLACES)
    clients = list(DEMO_CLIENTS)
    statuses = (
        ["quote"] * 9
        + ["booked"] * 8
        + ["confirmed"] * 8
        + ["cancelled"] * 3
        + ["completed"] * len(PAST_TRIPS)
    )
    trips = ["one_way", "round_trip", "event", "local", "shuttle", "overnight", "multi_day"]
    plans = []
    for i, status in enumerate(statuses):
        passengers, types = [
            (40, ("Executive Coach",)),
            (12, ("Sprinter",)),
            (30, ("Mini Coach",)),
            (100, ("Executive Coach", "Executive Coach")),
            (45, ("School Bus",)),
            (140, ("Executive Coach", "Executive Coach", "Mini Coach")),
            (24, ("Sprinter", "Sprinter")),
        ][i % 7]
        plans.append(
            Plan(
                days=1 + (i * 23) % 35,
                hour=6 + (i * 5) % 13,
                zone=zones[i % len(zones)],
                client=clients[i % len(clients)],
                passengers=passengers,
                vehicle_types=types,
                status=status,
                trip_type=trips[i % len(trips)],
                assign=status == "confirmed" or (status == "booked" and i % 2 == 0),
                dispatch="ready" if status == "confirmed" and i % 3 == 0 else None,
            )
        )
    # Today's work: trips on the road now, seen live by the dispatch board.
    for n, (types, passengers, step) in enumerate(
        [
            (("Executive Coach",), 50, "in_transit"),
            (("Sprinter",), 10, "on_site"),
            (("Mini Coach", "Sprinter"), 44, "dispatched"),
        ]
    ):
        plans.append(
            Plan(
                days=0,
                hour=-(n + 1),  # hours from now, see _pickup
                zone="America/Chicago",
                client=clients[n],
                passengers=passengers,
                vehicle_types=types,
                status="in_progress",
                dispatch=step,
                assign=True,
            )
        )
    return plans


def _pickup(plan: Plan, now: datetime) -> datetime:
    """Local wall time of the pickup, in the plan's zone."""
    from zoneinfo import ZoneInfo

    local_now = now.astimezone(ZoneInfo(plan.zone)).replace(tzinfo=None)
    if plan.hour < 0:  # today's trips: pickup within the next hours
        return (local_now + timedelta(minutes=20 - 5 * plan.hour)).replace(second=0, microsecond=0)
    day = (local_now + timedelta(days=plan.days + 1)).date()
    return datetime(day.year, day.month, day.day, plan.hour, (plan.days * 15) % 60)


#: Days before today the completed trips ran: spread over the last year.
PAST_TRIPS = (6, 19, 33, 52, 78, 104, 137, 171, 212, 246, 271, 290)
#: What running a vehicle costs the operator, as a share of its base and mileage on the
#: demo price list: accepted prices (weekends, fees and amenities on top) keep a margin.
COST_SHARE = Decimal("0.66")
#: The price list's road factor (settings.pricing_road_factor's default).
ROAD_FACTOR = Decimal("1.2")


def _miles(stops: list[dict[str, Any]]) -> Decimal:
    """The trip's miles as pricing estimates them (great-circle legs times the road factor)."""
    points = [(float(s["latitude"]), float(s["longitude"])) for s in stops]
    return estimated_miles(points, ROAD_FACTOR)


def _cost(vehicle_type: str, miles: Decimal = Decimal(0)) -> str:
    """One vehicle's cost for a trip of `miles`: COST_SHARE of its price-list base and mileage."""
    from db.demo.pricing import RATE_CARD  # pricing's demo imports this module

    base, per_mile, _ = RATE_CARD.get(vehicle_type, ("350.00", "2.50", None))
    cost = (Decimal(base) + Decimal(per_mile) * miles) * COST_SHARE
    return f"{(cost / 5).quantize(Decimal(1)) * 5:.2f}"  # to the nearest 5.00


def _month_start(now: datetime) -> datetime:
    """The operator's current month's first instant: month to date starts here."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(get_settings().operator_time_zone)
    local = now.astimezone(zone)
    return datetime(local.year, local.month, 1, tzinfo=zone).astimezone(UTC)


async def _identity_users(session: AsyncSession, emails: list[str]) -> dict[str, uuid.UUID]:
    """Demo accounts' ids when identity shares this database; else nothing."""
    try:
        async with session.begin_nested():
            rows = await session.execute(
                text("SELECT lower(email), id FROM identity.users WHERE lower(email) = ANY(:e)"),
                {"e": emails},
            )
            return {str(row[0]): row[1] for row in rows}
    except Exception:  # identity lives elsewhere: fixed ids will do
        return {}


class Loader:
    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session = session
        self.now = now
        self.types: dict[str, uuid.UUID] = {}
        self.vehicles: dict[str, list[uuid.UUID]] = {}
        self.drivers: list[uuid.UUID] = []
        self.count = 0
        self.cursor = 0

    async def fleet(self) -> None:
        for name, (capacity, description) in VEHICLE_TYPES.items():
            row = await fleet.create_vehicle_type(
                self.session, name=name, capacity=capacity, description=description
            )
            self.types[name] = row.id
            self.count += 1
        for plate, type_name, label in FLEET:
            vehicle = await fleet.create_vehicle(
                self.session, plate=plate, vehicle_type_id=self.types[type_name], name=label
            )
            self.vehicles.setdefault(type_name, []).append(vehicle.id)
            self.count += 1

    async def people(self) -> tuple[Viewer, list[uuid.UUID]]:
        """The manager acting, and the sales agents (the demo agent first) who sell."""
        from db.demo.identity import EXTRA_AGENTS  # imports this module

        known = await _identity_users(
            self.session,
            [
                "manager@demo.athena",
                "sales_agent@demo.athena",
                "driver@demo.athena",
                *(email for email, _ in EXTRA_AGENTS),
            ],
        )
        manager = known.get("manager@demo.athena") or uuid.uuid5(_NS, "manager")
        agents = [known.get("sales_agent@demo.athena") or uuid.uuid5(_NS, "sales-agent")]
        agents += [known.get(email) or uuid.uuid5(_NS, email) for email, _ in EXTRA_AGENTS]
        for n, name in enumerate(DRIVERS):
            user_id = (known.get("driver@demo.athena") if n == 0 else None) or uuid.uuid5(
                _NS, f"driver-{n}"
            )
            driver = await fleet.create_driver(
                self.session,
                user_id=user_id,
                name=name,
                licence_class="CDL-B" if n % 2 else "CDL-A",
                licence_expires_on=date(self.now.year + 2, 6, 30),
            )
            self.drivers.append(driver.id)
            self.count += 1
        return Viewer(user_id=manager, roles=frozenset({Role.MANAGER})), agents

    def _stops(self, zone: str, seed: int) -> list[dict[str, Any]]:
        places = PLACES[zone]

        def stop(kind: str, n: int) -> dict[str, Any]:
            address, latitude, longitude = places[n % len(places)]
            return {
                "stop_type": kind,
                "address": address,
                "latitude": latitude,
                "longitude": longitude,
                "id": None,
            }

        middle = [stop("waypoint", seed + 2)] if seed % 3 == 0 else []
        return [stop("pickup", seed), *middle, stop("dropoff", seed + 1)]

    async def charter(
        self, plan: Plan, actor: Viewer, agent: uuid.UUID, seed: int, notes: str | None = None
    ) -> Charter:
        stops = self._stops(plan.zone, seed)
        miles = _miles(stops)
        charter = await charter_service.create(
            self.session,
            charter_service.NewCharter(
                client_id=DEMO_CLIENTS[plan.client],
                trip_type=plan.trip_type,
                passenger_count=plan.passengers,
                pickup_local=_pickup(plan, self.now),
                pickup_time_zone=plan.zone,
                notes=notes,
                sales_agent_id=agent,
                stops=stops,
                vehicles=[
                    {
                        "vehicle_type_id": str(self.types[t]),
                        "cost": _cost(t, miles),
                        "capacity": VEHICLE_TYPES[t][0],
                        "id": None,
                    }
                    for t in plan.vehicle_types
                ],
            ),
            actor,
        )
        self.count += 1
        return charter

    async def advance(self, charter: Charter, plan: Plan, actor: Viewer, seed: int = 0) -> None:
        path = {
            "quote": [],
            "booked": ["booked"],
            "confirmed": ["booked", "confirmed"],
            "in_progress": ["booked", "confirmed"],
            "completed": ["booked", "confirmed"],
            "cancelled": ["booked"],
        }[plan.status]
        for target in path:
            await charter_service.transition(self.session, charter.id, target, actor)
        if plan.assign:
            await self.assign(charter, actor)
        if plan.status == "in_progress":
            await charter_service.transition(self.session, charter.id, "in_progress", actor)
        if plan.dispatch:
            await self.dispatch(charter, plan.dispatch, actor)
        if plan.status == "cancelled":
            await charter_service.cancel(
                self.session,
                charter.id,
                reason="Event postponed by the client.",
                fee=Decimal("250.00"),
                actor=actor,
            )
        if plan.status == "completed":
            # A trip starts and completes only around its pickup: book it ahead, move it
            # into the past (demo only), then let it run.
            await self.into_the_past(charter, days=PAST_TRIPS[seed % len(PAST_TRIPS)])
            for target in ("in_progress", "completed"):
                await charter_service.transition(self.session, charter.id, target, actor)
        if plan.status != "quote":
            self.booked_when(charter, seed)

    def booked_when(self, charter: Charter, seed: int) -> None:
        """Demo only: when the client booked (the service stamps the load's "now").

        A past trip was booked three to ten weeks before its pickup; a coming one
        over the last months, every fourth this month (month to date is never empty).
        """
        if charter.pickup_at <= self.now:
            at = charter.pickup_at - timedelta(days=21 + (seed * 11) % 50, hours=seed % 9)
        elif seed % 4 == 0:
            at = max(_month_start(self.now), self.now - timedelta(hours=3 + 7 * seed))
        else:
            at = self.now - timedelta(days=9 + (seed * 13) % 120, hours=seed % 7)
        charter.booked_at = min(at, self.now)
        charter.created_at = charter.booked_at - timedelta(days=2 + seed % 5)

    async def assign(self, charter: Charter, actor: Viewer) -> None:
        rows = (
            await self.session.scalars(
                select(CharterVehicle)
                .where(CharterVehicle.charter_id == charter.id)
                .order_by(CharterVehicle.position)
            )
        ).all()
        for row in rows:
            type_name = next(n for n, i in self.types.items() if i == row.vehicle_type_id)
            pool = self.vehicles[type_name]
            for attempt in range(len(pool) * len(self.drivers)):
                self.cursor += 1
                vehicle_id = pool[(self.cursor + attempt) % len(pool)]
                driver_id = self.drivers[(self.cursor + attempt) % len(self.drivers)]
                with contextlib.suppress(ServiceError):  # busy then: try the next pair
                    async with self.session.begin_nested():
                        await vehicles.assign(
                            self.session,
                            row.id,
                            vehicle_id=vehicle_id,
                            driver_id=driver_id,
                            actor=actor,
                        )
                    break

    async def dispatch(self, charter: Charter, step: str, actor: Viewer) -> None:
        route = ["ready", "dispatched", "in_transit", "on_site"]
        ids = (
            await self.session.scalars(
                select(CharterVehicle.id).where(CharterVehicle.charter_id == charter.id)
            )
        ).all()
        for charter_vehicle_id in ids:
            for target in route[: route.index(step) + 1]:
                await dispatch.set_dispatch_status(
                    self.session, charter_vehicle_id, target, actor, note="demo"
                )

    async def into_the_past(self, charter: Charter, days: int) -> None:
        """Demo only: a completed trip happened `days` ago (services refuse past pickups)."""
        ahead = (charter.pickup_at - self.now).days
        local = charter.pickup_local - timedelta(days=ahead + 1 + days)
        pickup_at = to_instant(local, charter.pickup_time_zone)
        charter.pickup_local = local
        charter.pickup_at = pickup_at
        await self.session.flush()
        await self.session.execute(
            update(CharterVehicle)
            .where(CharterVehicle.charter_id == charter.id)
            .values(busy=Range(pickup_at, pickup_at + DEFAULT_DURATION, bounds="[)"))
        )

    async def series(self, actor: Viewer, agent: uuid.UUID) -> None:
        """A weekly Monday staff shuttle: template, series, six instances."""
        base = Plan(
            days=7,
            hour=7,
            zone="America/Chicago",
            client="Northwind Corporate Travel",
            passengers=30,
            vehicle_types=("Mini Coach",),
            status="quote",
            trip_type="shuttle",
        )
        source = await self.charter(base, actor, agent, seed=1, notes="Weekly staff shuttle")
        from subgraphs.charters.service import templates

        template = await templates.save_as_template(
            self.session, source.id, "Monday staff shuttle", actor
        )
        self.count += 1
        local_today = self.now.astimezone(UTC).date()
        monday = local_today + timedelta(days=(7 - local_today.weekday()) % 7 or 7)
        starts = datetime(monday.year, monday.month, monday.day, 7, 30)
        series = CharterSeries(
            name="Northwind Monday staff shuttle",
            client_id=DEMO_CLIENTS["Northwind Corporate Travel"],
            template_id=template.id,
            rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=6",
            starts_local=starts,
            time_zone="America/Chicago",
            exception_dates=[],
            active=True,
            created_by=actor.user_id,
            description="O'Hare to Northwind HQ every Monday 07:30.",
        )
        self.session.add(series)
        await self.session.flush()
        self.count += 1
        for week in range(6):
            local = starts + timedelta(weeks=week)
            plan = replace(base, status="booked" if week < 2 else "quote")
            instance = await charter_service.create(
                self.session,
                charter_service.NewCharter(
                    client_id=series.client_id,
                    trip_type="shuttle",
                    passenger_count=30,
                    pickup_local=local,
                    pickup_time_zone=series.time_zone,
                    notes="Weekly staff shuttle",
                    sales_agent_id=agent,
                    stops=self._stops("America/Chicago", 0),
                    vehicles=[
                        {
                            "vehicle_type_id": str(self.types["Mini Coach"]),
                            "cost": _cost("Mini Coach", _miles(self._stops("America/Chicago", 0))),
                            "capacity": 35,
                            "id": None,
                        }
                    ],
                ),
                actor,
            )
            instance.series_id = series.id
            instance.occurrence_date = local.date()
            instance.cloned_from_id = template.id
            self.count += 1
            await self.advance(instance, plan, actor, seed=4 * week)

    async def change_case(self, actor: Viewer, agent: uuid.UUID) -> None:
        """A booked charter whose client asked for more passengers: case under review."""
        plan = Plan(
            days=20,
            hour=10,
            zone="America/New_York",
            client="Metro Convention Center",
            passengers=50,
            vehicle_types=("Executive Coach",),
            status="booked",
            trip_type="event",
        )
        charter = await self.charter(plan, actor, agent, seed=2, notes="Convention delegates")
        await self.advance(charter, plan, actor, seed=2)
        result = await charter_service.edit(
            self.session,
            charter.id,
            lambda snap: {**snap, "passenger_count": 54},
            actor,
            request=ChangeRequest(
                change_type="passenger_count_change",
                title="Four more delegates",
                reason="The client added four speakers.",
                priority="high",
            ),
            policy=ApprovalPolicy(),
        )
        if result.change_case is not None and result.change_case.status == "pending":
            await change_cases.move(
                self.session, result.change_case.id, "under_review", actor, "Checking seats"
            )
        if result.change_case is not None:
            # Demo only: the client asked twelve days ago and it is still open, so the QC
            # backlog has something older than this week.
            result.change_case.created_at = self.now - timedelta(days=12)
            await self.session.flush()


async def load(session: AsyncSession) -> int:
    """Load the charters demo once; returns how many rows it added (0 if present)."""
    if await session.scalar(select(Vehicle.id).where(Vehicle.plate == MARKER_PLATE)):
        return 0
    loader = Loader(session, datetime.now(UTC))
    await loader.fleet()
    actor, agents = await loader.people()
    # A charter's client and a named agent must be known (security review 12). Charters
    # learns both from sales' and identity's events, which no consumer has read yet at
    # load time: seed the projections through their own handlers, as of long ago, so
    # the owners' real events (the same facts) win when they arrive.
    from db.demo.identity import SEEDED_AS_OF, demo_user_event  # imports this module

    for name, client_id in DEMO_CLIENTS.items():
        await directory.apply_client_event(
            session,
            {"occurredAt": SEEDED_AS_OF, "payload": {"clientId": str(client_id), "name": name}},
        )
    from db.demo.identity import EXTRA_AGENTS

    await directory.apply_user_event(session, demo_user_event(Role.SALES_AGENT, agents[0]))
    for agent, (email, name) in zip(agents[1:], EXTRA_AGENTS, strict=True):
        await directory.apply_user_event(
            session, demo_user_event(Role.SALES_AGENT, agent, email=email, name=name)
        )
    # The agent who took the call: the three share the work.
    for seed, plan in enumerate(_plans()):
        charter = await loader.charter(plan, actor, agents[seed % len(agents)], seed)
        await loader.advance(charter, plan, actor, seed)
    await loader.series(actor, agents[1])
    await loader.change_case(actor, agents[2 % len(agents)])
    return loader.count
