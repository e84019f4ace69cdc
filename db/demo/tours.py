"""Tours demo data (issue 15): two scheduled tours a customer can book on the first visit.

- "Chicago Lakefront Highlights" departs daily at 10:00 Chicago time with 14
  seats (a Sprinter) at 75.00 a person, so the documented example holds on
  it: 2 adults and 1 child cost 150.00 + 52.50 = 202.50, tax 20.25, 222.75.
  It runs once 4 seats are sold.
- "Wisconsin Dells Day Trip" departs weekly, Saturdays and Sundays at 08:00,
  with 35 seats (a Mini Coach) at 129.00; it runs once 15 are sold.
- A month of departures from tomorrow, made by the catalogue's own generation
  (the same idempotent, DST-correct, blackout-skipping code staff run).
- The next public holiday at least two days ahead is a blackout for every
  tour, entered before generation, so no departure is made that day. When
  that holiday is more than a month away (spring), departures are generated
  up to it, so the calendar always shows a blackout.
- Bookings by demo customers (anonymous ones, the demo client account's own,
  and groups booked by the sales agent), half of them confirmed: two daily
  departures and the first weekend departure are sold out, each with two
  parties on its waitlist (staff raised the second one's priority); other
  days are partly sold, so the calendar shows every level.
- The house client (`settings.tours_client_id`) in sales: charters operates
  a departure confirmed to run as that client's shuttle charter, and learns
  the client's name from sales' announcement.

Everything goes through the services (as staff, customers or anonymous
callers), so the rules, the change log and the outbox events apply as for
real use: once the stack runs, notifications mails the customers and
charters creates the shuttle charters. Times are relative to now, so the
demo always looks current. Runs once: it skips everything when the demo's
daily tour exists (the house client is checked on its own).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dateutil.easter import easter
from dateutil.relativedelta import MO, TH, relativedelta
from sqlalchemy import select

from db.demo.charters import _NS, _identity_users
from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.kit.settings import get_settings
from subgraphs.sales.models import Client
from subgraphs.sales.service import clients
from subgraphs.sales.service.contact_details import ContactDetails
from subgraphs.tours.models import DepartureSlot, Tour
from subgraphs.tours.service import blackouts, bookings, schedules, waitlist
from subgraphs.tours.service import tours as tour_service
from subgraphs.tours.service.changes import Actor

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

ZONE = "America/Chicago"
DAILY_TOUR = "Chicago Lakefront Highlights"
WEEKLY_TOUR = "Wisconsin Dells Day Trip"
HOUSE_CLIENT = "Athena Scheduled Tours"
#: Days of departures generated from tomorrow (more when the next holiday is further).
MONTH = 30
#: Demo customers book through a browser at a documentation address (RFC 5737).
BROWSER = "Demo browser"

#: The tours: name -> (description, minutes, price, min party, max party, meeting point, lat, lon)
TOURS: dict[str, tuple[str, int, str, int, int, str, str, str]] = {
    DAILY_TOUR: (
        "Two and a half hours along Lake Shore Drive: Navy Pier, Museum Campus, Soldier "
        "Field and the Gold Coast, with a guide on board and a stop for photos at Adler "
        "Planetarium.",
        150,
        "75.00",
        1,
        14,
        "Navy Pier, 600 E Grand Ave, Chicago, IL",
        "41.8917",
        "-87.6086",
    ),
    WEEKLY_TOUR: (
        "A day at Wisconsin Dells: the Upper Dells boat tour, lunch downtown and the "
        "afternoon at leisure; back in Chicago for dinner.",
        600,
        "129.00",
        1,
        20,
        "O'Hare International Airport, Chicago, IL",
        "41.9742",
        "-87.9073",
    ),
}

#: Demo customers: (name, e-mail, phone).
CUSTOMERS = [
    ("Robin Alvarez", "robin.alvarez@example.com", "+13125550101"),
    ("Mei Chen", "mei.chen@example.com", "+13125550102"),
    ("Jamal Brooks", "jamal.brooks@example.com", "+13125550103"),
    ("Sofia Rossi", "sofia.rossi@example.com", "+13125550104"),
    ("Liam O'Connor", "liam.oconnor@example.com", "+13125550105"),
    ("Aiko Tanaka", "aiko.tanaka@example.com", "+13125550106"),
    ("Noah Fischer", "noah.fischer@example.com", "+13125550107"),
    ("Fatima Haddad", "fatima.haddad@example.com", "+13125550108"),
    ("Carlos Mendes", "carlos.mendes@example.com", "+13125550109"),
    ("Hannah Schultz", "hannah.schultz@example.com", "+13125550110"),
]
#: Groups the sales agent books for (a weekend departure sells out to them).
GROUPS = [
    ("Oak Park Seniors Club", "trips@oakparkseniors.example.org", "+17085550120"),
    ("Naperville Scouts Troop 12", "leader@troop12.example.org", "+16305550121"),
]
#: Seats sold on the daily tour's bookable departures, in order (14 = sold out);
#: the departures after these are left untouched.
DAILY_SALES = [6, 3, 14, 9, 0, 4, 12, 14, 2, 7, 5, 0, 8, 3]
#: The weekend tour's first departures: sold out to two groups, running, not yet running.
WEEKLY_SALES = [35, 18, 6]


@dataclass(frozen=True)
class Party:
    adults: int
    children: int = 0
    infants: int = 0


def _party(seats: int, n: int) -> Party:
    """A plausible party of `seats` people: mostly adults, some children, now and then an infant."""
    children = seats // 3 if n % 2 else 0
    infants = 1 if seats >= 4 and n % 3 == 0 else 0
    return Party(seats - children - infants, children, infants)


def _parties(seats: int) -> list[int]:
    """Split a day's seats into parties of 1 to 5."""
    sizes, n = [], 0
    while seats > 0:
        size = min(seats, (2, 3, 4, 1, 5)[n % 5])
        sizes.append(size)
        seats -= size
        n += 1
    return sizes


def holidays(year: int) -> list[tuple[date, str]]:
    """Public holidays of a year in the United States (federal ones and Easter), by date."""
    first = date(year, 1, 1)
    days = [
        (first, "New Year's Day"),
        (first + relativedelta(weekday=MO(3)), "Martin Luther King Jr. Day"),
        (date(year, 2, 1) + relativedelta(weekday=MO(3)), "Presidents' Day"),
        (easter(year), "Easter Sunday"),
        (date(year, 5, 31) + relativedelta(weekday=MO(-1)), "Memorial Day"),
        (date(year, 6, 19), "Juneteenth"),
        (date(year, 7, 4), "Independence Day"),
        (date(year, 9, 1) + relativedelta(weekday=MO(1)), "Labor Day"),
        (date(year, 10, 1) + relativedelta(weekday=MO(2)), "Columbus Day"),
        (date(year, 11, 11), "Veterans Day"),
        (date(year, 11, 1) + relativedelta(weekday=TH(4)), "Thanksgiving Day"),
        (date(year, 12, 25), "Christmas Day"),
    ]
    return sorted(days)


def next_holiday(after: date) -> tuple[date, str]:
    """The first holiday on or after `after`."""
    return next(h for h in holidays(after.year) + holidays(after.year + 1) if h[0] >= after)


async def load(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Add what is missing of the tours demo; how many things it added (0 if all there).

    `now` is the moment the demo is placed around (tests pin it; `make run` loads at its now).
    """
    added = await _house_client(session)
    if await session.scalar(select(Tour.id).where(Tour.name == DAILY_TOUR)) is not None:
        return added
    now = now or datetime.now(UTC)
    known = await _identity_users(
        session, ["manager@demo.athena", "sales_agent@demo.athena", "client@demo.athena"]
    )
    manager = Actor(
        viewer=Viewer(
            user_id=known.get("manager@demo.athena") or uuid.uuid5(_NS, "manager"),
            roles=frozenset({Role.MANAGER}),
        )
    )
    agent = Actor(
        viewer=Viewer(
            user_id=known.get("sales_agent@demo.athena") or uuid.uuid5(_NS, "sales-agent"),
            roles=frozenset({Role.SALES_AGENT}),
        )
    )
    loader = _Loader(session, now, manager, agent, known.get("client@demo.athena"))
    return added + await loader.run()


class _Loader:
    def __init__(
        self,
        session: AsyncSession,
        now: datetime,
        manager: Actor,
        agent: Actor,
        demo_client: uuid.UUID | None,
    ) -> None:
        self.session = session
        self.now = now
        self.manager = manager
        self.agent = agent
        self.demo_client = demo_client
        self.count = 0
        self.booked = 0
        self.waiting = 0

    async def run(self) -> int:
        today = self.now.astimezone(ZoneInfo(ZONE)).date()
        start = today + timedelta(days=1)
        holiday, holiday_name = next_holiday(today + timedelta(days=2))
        end = max(start + timedelta(days=MONTH - 1), holiday)
        await blackouts.create_blackout(
            self.session,
            blackouts.BlackoutData(
                name=holiday_name,
                blackout_type="holiday",
                start_date=holiday,
                end_date=holiday,
                description="The office is closed and no departures run.",
            ),
            self.manager,
        )
        self.count += 1
        daily = await self._tour(DAILY_TOUR)
        weekly = await self._tour(WEEKLY_TOUR)
        await self._schedule(daily, "Every morning", "daily", [], time(10), 14, 4, start, end)
        await self._schedule(weekly, "Weekends", "weekly", [6, 7], time(8), 35, 15, start, end)
        await self._sell(daily, DAILY_SALES, sold_out_capacity=14)
        await self._sell(weekly, WEEKLY_SALES, sold_out_capacity=35)
        return self.count

    async def _tour(self, name: str) -> Tour:
        description, minutes, price, low, high, point, lat, lon = TOURS[name]
        tour = await tour_service.create_tour(
            self.session,
            tour_service.TourData(
                name=name,
                description=description,
                duration_minutes=minutes,
                base_price=Decimal(price),
                min_party=low,
                max_party=high,
                time_zone=ZONE,
                meeting_point=point,
                meeting_latitude=Decimal(lat),
                meeting_longitude=Decimal(lon),
            ),
        )
        self.count += 1
        return tour

    async def _schedule(
        self,
        tour: Tour,
        name: str,
        recurrence: str,
        weekdays: list[int],
        start_time: time,
        capacity: int,
        minimum: int,
        start: date,
        end: date,
    ) -> None:
        schedule = await schedules.create_schedule(
            self.session,
            tour.id,
            schedules.ScheduleData(
                name=name,
                start_time=start_time,
                time_zone=ZONE,
                duration_minutes=tour.duration_minutes,
                recurrence=recurrence,
                weekdays=weekdays,
                max_capacity=capacity,
                min_capacity=minimum,
                valid_from=start,
                valid_until=end,
            ),
            self.manager,
        )
        generated = await schedules.generate_departures(
            self.session, schedule.id, start, end, self.now
        )
        self.count += 1 + len(generated.created)

    async def _sell(self, tour: Tour, sales: list[int], *, sold_out_capacity: int) -> None:
        """Book `sales[i]` seats on the i-th departure still open to bookings."""
        rows = await self.session.scalars(
            select(DepartureSlot)
            .where(DepartureSlot.tour_id == tour.id)
            .order_by(DepartureSlot.starts_at)
        )
        # a day of margin beyond the booking cutoff: the demo may load a while before use
        open_from = self.now + timedelta(hours=48)
        departures = [s for s in rows if s.starts_at > open_from]
        for slot, seats in zip(departures, sales, strict=False):
            if seats == sold_out_capacity and tour.max_party < seats:
                sizes = [tour.max_party, seats - tour.max_party]
                await self._book_groups(slot, sizes)
            else:
                for size in _parties(seats):
                    await self._book(slot, size)
            if seats == sold_out_capacity:
                await self._wait(tour, slot)

    async def _book(self, slot: DepartureSlot, seats: int) -> None:
        n = self.booked
        name, email, phone = CUSTOMERS[n % len(CUSTOMERS)]
        party = _party(seats, n)
        actor = Actor(ip_address=f"203.0.113.{20 + n % 200}", user_agent=BROWSER)
        if n == 1 and self.demo_client is not None:
            # the demo client account books one for itself: its "my tour bookings"
            actor = Actor(
                viewer=Viewer(user_id=self.demo_client, roles=frozenset({Role.CLIENT})),
                ip_address="203.0.113.10",
                user_agent=BROWSER,
            )
            name, email = "Demo Client", "client@demo.athena"
        booking = await bookings.create_booking(
            self.session,
            bookings.NewBooking(
                slot_id=slot.id,
                adults=party.adults,
                children=party.children,
                infants=party.infants,
                customer_name=name,
                customer_email=email,
                customer_phone=phone,
                dietary_restrictions="Vegetarian" if n % 4 == 2 else "",
                accessibility_needs="Wheelchair space" if n % 9 == 4 else "",
            ),
            actor,
            now=self.now,
        )
        self.booked += 1
        self.count += 1
        if n % 2 == 0:
            await bookings.set_status(
                self.session, booking.id, "confirmed", self.agent, now=self.now
            )

    async def _book_groups(self, slot: DepartureSlot, sizes: list[int]) -> None:
        for (name, email, phone), size in zip(GROUPS, sizes, strict=True):
            booking = await bookings.create_booking(
                self.session,
                bookings.NewBooking(
                    slot_id=slot.id,
                    adults=size,
                    customer_name=name,
                    customer_email=email,
                    customer_phone=phone,
                    special_requirements="Group booking: invoice to the organiser.",
                ),
                self.agent,
                now=self.now,
            )
            await bookings.set_status(
                self.session, booking.id, "confirmed", self.agent, now=self.now
            )
            self.booked += 1
            self.count += 1

    async def _wait(self, tour: Tour, slot: DepartureSlot) -> None:
        """Two parties wait for a sold-out day; staff put the second one first."""
        entries = []
        for n, size in enumerate((2, 4)):
            name, email, phone = CUSTOMERS[-1 - (self.waiting + n) % len(CUSTOMERS)]
            entry = await waitlist.join(
                self.session,
                waitlist.NewEntry(
                    tour_id=tour.id,
                    requested_date=slot.date,
                    party_size=size,
                    customer_name=name,
                    customer_email=email,
                    customer_phone=phone,
                    notes="Any departure that day." if n else "",
                ),
                Actor(ip_address=f"203.0.113.{230 + n}", user_agent=BROWSER),
                self.now,
            )
            entries.append(entry)
            self.count += 1
        self.waiting += 2
        await waitlist.set_priority(self.session, entries[1].id, 1)


async def _house_client(session: AsyncSession) -> int:
    """The client charters runs tours' departures for, in sales, by the configured id."""
    client_id = uuid.UUID(get_settings().tours_client_id)
    if await session.get(Client, client_id) is not None:
        return 0
    known = await _identity_users(session, ["manager@demo.athena"])
    manager = Viewer(
        user_id=known.get("manager@demo.athena") or uuid.uuid5(_NS, "manager"),
        roles=frozenset({Role.MANAGER}),
    )
    await clients.create(
        session,
        clients.ClientProfile(
            name=HOUSE_CLIENT,
            client_type="corporate",
            billing_line1="600 E Grand Ave",
            billing_city="Chicago",
            billing_region="IL",
            billing_country="US",
            payment_terms="net_30",
            notes="Our own scheduled tours: their departures run as this client's charters.",
        ),
        [
            ContactDetails(
                "Tours Desk", "Tour Operations", "tours@athena.example", "+13125550100", True
            )
        ],
        manager,
        client_id=client_id,
    )
    return 1
