"""Client portal demo data (issue 14): what `client@demo.athena` finds on first login.

The demo client's company (`db.demo.identity.DEMO_CLIENT_COMPANY`) gets a
quote awaiting its answer (priced by pricing's engine, its link sent so
notifications mails it once the apps run) and a booking it accepted through
the portal's own acceptance (`acceptance.accept`: the terms signed with a
typed name, an IP address and a browser, then booked), whose price pricing
keeps and whose deposit plan finance makes. The finance demo has run
before this module and plans only what was booked then, so this booking's
facts are fed to finance's and pricing's handlers here, as their consumers
would once the apps run (those handlers are idempotent).

Also: the published terms and conditions and a waiver that acceptances
sign, the demo client's saved card (the provider must know it: the card
sandbox's `pm_card_visa` under `make run`; with the "manual" provider there
is no card to save and it says so), and notifications' default templates
(the app installs them at start too; doing it here makes them exist before
the first start).

Each part is skipped when it is already there, so loading again adds nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from db.demo.charters import _NS, VEHICLE_TYPES, _cost, _identity_users, _miles
from db.demo.finance import _charter_payload, _event, _pricing_facts
from db.demo.identity import DEMO_CLIENT_COMPANY
from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.models import Charter, CharterVehicle, LegalTermsVersion, VehicleType
from subgraphs.charters.service import acceptance, legal_terms
from subgraphs.charters.service import charters as charter_service
from subgraphs.finance.models import SavedPaymentMethod
from subgraphs.finance.service import facts, saved_methods
from subgraphs.finance.service.providers import payment_provider
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.settings import get_settings
from subgraphs.notifications.service import templates
from subgraphs.pricing.models import QuoteCalculation
from subgraphs.pricing.service import quotes

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.settings import Settings

QUOTE_NOTE = "Portal demo: away game in Knoxville, quote awaiting the client's answer"
BOOKED_NOTE = "Portal demo: conference tournament in Nashville, accepted and signed online"
#: The signer as the portal records it (203.0.113.0/24 is documentation space, RFC 5737).
SIGNER_NAME = "Dana Whitfield"
SIGNER_IP = "203.0.113.10"
SIGNER_AGENT = "Demo browser"
DEMO_CARD = "pm_card_visa"
ZONE = "America/Chicago"

CAMPUS = ("Lakeside University Athletics Center, Memphis, TN", "35.1187", "-89.9372")
KNOXVILLE = ("Neyland Stadium, 1235 Phillip Fulmer Way, Knoxville, TN", "35.9550", "-83.9250")
NASHVILLE = ("Bridgestone Arena, 501 Broadway, Nashville, TN", "36.1592", "-86.7785")

TERMS_TITLE = "Charter terms and conditions"
TERMS_TEXT = """\
These terms apply to every charter booked with Athena Coaches ("we", "us") by the client \
named on the quote ("you"). Accepting a quote online, by signature or in writing books the \
charter on these terms at the price shown.

1. Deposit and payment. A deposit, as stated on your quote, is due when you book and holds \
the vehicles and drivers for your date. The balance is due before departure on the date shown \
in your payment schedule. Charters booked within the balance period are paid in full at \
booking. Unpaid balances may lead us to release the booking.

2. Changes and cancellation. You may change the itinerary, times or group size before \
departure; changes that add hours, miles or vehicles are re-quoted and need your approval. If \
you cancel more than 30 days before departure your deposit is refunded less a processing fee; \
between 30 and 7 days before departure the deposit is kept; within 7 days the full price is \
due. We may cancel for safety (weather, road closures); you then choose a new date or a full \
refund.

3. Conduct on board. Passengers follow the driver's instructions and federal and state law. \
Smoking, vaping and illegal substances are not allowed on our vehicles; alcohol only where the \
law and the quote allow, and never for passengers under 21. Damage and extra cleaning caused by \
your group are charged at cost. The driver may refuse or end a trip that is unsafe.

4. Hours of service. Our drivers keep the federal hours-of-service rules. Itineraries that need \
longer duty days are quoted with a second driver or an overnight stop, and the driver's \
lodging is at your charge when the quote says so.

5. Liability. We carry the insurance federal law requires of passenger carriers. We are not \
liable for delays caused by traffic, weather, breakdowns or events beyond our control beyond \
a refund of the affected part of the charter, nor for personal belongings left on board.
"""
WAIVER_TITLE = "Passenger release and waiver for group events"
WAIVER_TEXT = """\
The group organiser signs this release for the passengers of the charter it books.

Passengers join the trip and the events it serves at their own risk. Athena Coaches is \
responsible for safe transport between the stops of the itinerary; it does not organise or \
supervise the activities at the destination and is not liable for injuries or losses that \
happen there.

The organiser confirms that passengers under 18 travel with the written consent of a parent \
or guardian and with a named adult chaperone, and that it has told every passenger the rules \
of conduct in the charter terms and conditions.
"""


async def load(session: AsyncSession) -> int:
    """Add what is missing of the portal demo; returns how many things it added (0 if all there)."""
    settings = get_settings()
    known = await _identity_users(
        session, ["manager@demo.athena", "sales_agent@demo.athena", "client@demo.athena"]
    )
    manager = Viewer(
        user_id=known.get("manager@demo.athena") or uuid.uuid5(_NS, "manager"),
        roles=frozenset({Role.MANAGER}),
    )
    agent = known.get("sales_agent@demo.athena") or uuid.uuid5(_NS, "sales-agent")
    client = Viewer(
        user_id=known.get("client@demo.athena") or uuid.uuid5(_NS, "client"),
        roles=frozenset({Role.CLIENT}),
        client_id=DEMO_CLIENT_COMPANY,
    )
    added = await _terms(session, manager)
    types = {row.name: row.id for row in await session.scalars(select(VehicleType))}
    if "Executive Coach" not in types or "Mini Coach" not in types:
        print("portal demo: the charters demo's fleet is missing; no portal charters")
    else:
        added += await _quote_awaiting_answer(session, settings, manager, agent, types)
        added += await _signed_booking(session, manager, agent, client, types)
    added += await _saved_card(session, settings, client)
    added += await templates.install_defaults(session)
    return added


async def _terms(session: AsyncSession, manager: Viewer) -> int:
    current = set(
        await session.scalars(
            select(LegalTermsVersion.kind).where(LegalTermsVersion.is_current.is_(True))
        )
    )
    added = 0
    for kind, title, text in (
        ("terms_and_conditions", TERMS_TITLE, TERMS_TEXT),
        ("waiver", WAIVER_TITLE, WAIVER_TEXT),
    ):
        if kind not in current:
            await legal_terms.publish(session, kind, title, text, manager)
            added += 1
    return added


async def _existing(session: AsyncSession, note: str) -> Charter | None:
    found: Charter | None = await session.scalar(
        select(Charter).where(Charter.client_id == DEMO_CLIENT_COMPANY, Charter.notes == note)
    )
    return found


async def _new_quote(
    session: AsyncSession,
    manager: Viewer,
    agent: uuid.UUID,
    *,
    days: int,
    hour: int,
    passengers: int,
    vehicle: tuple[str, uuid.UUID],
    stops: tuple[tuple[str, str, str], ...],
    trip_type: str,
    note: str,
) -> Charter:
    """A quote for the demo client, priced by pricing's engine as the router would ask it."""
    today = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date() + timedelta(days=days)
    name, type_id = vehicle
    charter = await charter_service.create(
        session,
        charter_service.NewCharter(
            client_id=DEMO_CLIENT_COMPANY,
            trip_type=trip_type,
            passenger_count=passengers,
            pickup_local=datetime(today.year, today.month, today.day, hour, 0),
            pickup_time_zone=ZONE,
            notes=note,
            sales_agent_id=agent,
            stops=[
                {
                    "stop_type": "pickup" if n == 0 else "dropoff",
                    "address": address,
                    "latitude": latitude,
                    "longitude": longitude,
                    "id": None,
                }
                for n, (address, latitude, longitude) in enumerate(stops)
            ],
            vehicles=[
                {
                    "vehicle_type_id": str(type_id),
                    "cost": _cost(
                        name, _miles([{"latitude": y, "longitude": x} for _, y, x in stops])
                    ),
                    "capacity": VEHICLE_TYPES[name][0],
                    "id": None,
                }
            ],
        ),
        manager,
    )
    settings = get_settings()
    prices = await quotes.price_list(
        session, settings.pricing_road_factor, settings.pricing_tax_rate
    )
    await quotes.quote_many(
        session, await _pricing_facts(session, [charter]), prices, datetime.now(UTC)
    )
    return charter


async def _quote_awaiting_answer(
    session: AsyncSession,
    settings: Settings,
    manager: Viewer,
    agent: uuid.UUID,
    types: dict[str, uuid.UUID],
) -> int:
    if await _existing(session, QUOTE_NOTE) is not None:
        return 0
    charter = await _new_quote(
        session,
        manager,
        agent,
        days=21,
        hour=7,
        passengers=48,
        vehicle=("Executive Coach", types["Executive Coach"]),
        stops=(CAMPUS, KNOXVILLE),
        trip_type="round_trip",
        note=QUOTE_NOTE,
    )
    if not settings.quote_link_secret:
        print("portal demo: no QUOTE_LINK_SECRET, so the quote's link was not sent")
        return 1
    # Sending the link is what emits `charters.quote_sent` (notifications mails the client).
    await charter_service.create_quote_link(
        session,
        charter.id,
        manager,
        settings.quote_link_secret,
        timedelta(seconds=settings.quote_link_ttl_seconds),
        settings.portal_url,
    )
    return 1


async def _signed_booking(
    session: AsyncSession,
    manager: Viewer,
    agent: uuid.UUID,
    client: Viewer,
    types: dict[str, uuid.UUID],
) -> int:
    if await _existing(session, BOOKED_NOTE) is not None:
        return 0
    charter = await _new_quote(
        session,
        manager,
        agent,
        days=35,
        hour=6,
        passengers=30,
        vehicle=("Mini Coach", types["Mini Coach"]),
        stops=(CAMPUS, NASHVILLE),
        trip_type="one_way",
        note=BOOKED_NOTE,
    )
    terms = await session.scalar(
        legal_terms.current_versions().where(LegalTermsVersion.kind == "terms_and_conditions")
    )
    # The portal's own acceptance: the terms signed, then booked, as the client.
    await acceptance.accept(
        session,
        charter.id,
        charter.quote_revision,
        acceptance.AcceptTerms(terms.id, SIGNER_NAME, terms.sha256),
        client,
        acceptance.Origin(SIGNER_IP, SIGNER_AGENT),
    )
    # What pricing's and finance's consumers do with the booking, done now (see above).
    await quotes.accept_latest(session, charter.id)
    await session.refresh(charter)
    now = datetime.now(UTC)
    cost = await session.scalar(
        select(func.sum(CharterVehicle.cost)).where(CharterVehicle.charter_id == charter.id)
    )
    await facts.apply_charter_event(session, _event(_charter_payload(charter, cost), now))
    accepted = await session.scalar(
        select(QuoteCalculation).where(
            QuoteCalculation.charter_id == charter.id, QuoteCalculation.accepted
        )
    )
    if accepted is not None:
        await facts.apply_quote_accepted(session, _event(quotes.accepted_payload(accepted), now))
    return 1


async def _saved_card(session: AsyncSession, settings: Settings, client: Viewer) -> int:
    company = DEMO_CLIENT_COMPANY
    if await session.scalar(
        select(SavedPaymentMethod.id).where(
            SavedPaymentMethod.client_id == company, SavedPaymentMethod.token == DEMO_CARD
        )
    ):
        return 0
    provider = payment_provider(settings)
    if provider.name == "manual":
        print(
            "portal demo: the payment provider is manual (no card sandbox, no Stripe): "
            "no saved card for the demo client"
        )
        return 0
    try:
        async with session.begin_nested():
            await saved_methods.save(session, company, DEMO_CARD, True, client, provider)
    except ServiceError as exc:
        print(f"portal demo: the provider refused the demo card: {exc.problems[0].message}")
        return 0
    return 1
