"""Every kind of message the business sends: what it is for, who may opt out, what it says.

The catalogue is the contract between the code that decides a message (the
event consumers and reminder jobs) and the templates admins edit: a kind's
`variables` are exactly the names its producer passes and its templates may
use (a template naming anything else is refused at publish), and `sample`
holds a value of each for previews and for the check that every template
renders.

Values are JSON-safe, because they are kept on the delivery log row
(`Message.variables`) and must render the same later:

- money is an object `{"amount": "1234.50", "currency": "USD"}` (the amount
  a decimal string, never a float); templates show it with `| money`;
- a moment is an ISO 8601 string with its offset (`2026-07-04T14:30:00+00:00`);
  where local time matters a `*_time_zone` variable carries the IANA zone,
  and templates show it with `| datetime(tz=pickup_time_zone)` (or `time`,
  `date`): the pickup time is the pickup's local time, whoever reads it;
- a calendar date is an ISO date string (`2026-07-04`), shown with `| date`;
- a value a producer may not have is passed as null, never left out: an
  undefined name is an error (StrictUndefined), a null is for the template
  to word around (`{% if driver_name %}`).

`topic` is the preference that can silence a kind (None: no topic; only
the channel switches apply). `transactional` kinds confirm or secure
something the recipient did or owns (a payment, a booking, their account);
they ignore topic opt-outs and the e-mail switch (see
`service/preferences.allows`), as the CAN-SPAM notion of a transactional
message allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TOPICS = ("quotes", "reminders", "follow_ups", "marketing")

#: every kind has these: the name to greet (null when unknown: the template words around it)
COMMON_VARIABLES = {"recipient_name": "The name to greet the recipient by, or null."}
_COMMON_SAMPLE: dict[str, Any] = {"recipient_name": "Dana Whitfield"}


def _money(amount: str, currency: str = "USD") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


#: what the charter-related kinds say about the trip
_PICKUP = {
    "charter_reference": "The charter's reference, e.g. CH-2026-000123.",
    "pickup_at": "The first pickup, an ISO 8601 moment with offset.",
    "pickup_time_zone": "The pickup's IANA time zone: show pickup_at in it.",
    "pickup_address": "Where the first pickup is, or null.",
}
_PICKUP_SAMPLE: dict[str, Any] = {
    "charter_reference": "CH-2026-000123",
    "pickup_at": "2026-07-04T14:30:00+00:00",
    "pickup_time_zone": "America/Chicago",
    "pickup_address": "233 S Wacker Dr, Chicago, IL 60606",
}


#: what the tour kinds say about the departure (issue 15)
_TOUR_DEPARTURE = {
    "tour_name": "The tour's name.",
    "departs_at": "The departure, an ISO 8601 moment with offset.",
    "departure_time_zone": "The departure's IANA time zone: show departs_at in it.",
}
_TOUR_DEPARTURE_SAMPLE: dict[str, Any] = {
    "tour_name": "Chicago Architecture by Coach",
    "departs_at": "2026-07-04T14:00:00+00:00",
    "departure_time_zone": "America/Chicago",
}
#: ... and about a booking on it
_TOUR_BOOKING = {
    **_TOUR_DEPARTURE,
    "booking_reference": "The booking's reference, e.g. TB-20260601-K7Q2ZP.",
    "adults": "Adults in the party.",
    "children": "Children (3-12) in the party.",
    "infants": "Infants (0-2) in the party.",
}
_TOUR_BOOKING_SAMPLE: dict[str, Any] = {
    **_TOUR_DEPARTURE_SAMPLE,
    "booking_reference": "TB-20260601-K7Q2ZP",
    "adults": 2,
    "children": 1,
    "infants": 0,
}


@dataclass(frozen=True)
class Kind:
    name: str
    description: str
    #: the preference that can silence it: one of TOPICS, or None
    topic: str | None
    #: ignores topic opt-outs and the e-mail switch (never the SMS opt-in)
    transactional: bool
    #: which of "email", "sms" it can go out on
    channels: tuple[str, ...]
    #: name -> what it is; the only names its templates may use
    variables: dict[str, str] = field(default_factory=dict)
    #: a value for each variable, for previews and the render check
    sample: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A catalogue mistake must fail at import, not when an admin previews.
        if self.topic is not None and self.topic not in TOPICS:
            raise ValueError(f"{self.name}: unknown topic {self.topic!r}")
        if not self.channels or set(self.channels) - {"email", "sms"}:
            raise ValueError(f"{self.name}: channels must be email and/or sms")
        if set(self.variables) != set(self.sample):
            raise ValueError(f"{self.name}: sample and variables name different things")


def _kind(
    name: str,
    description: str,
    *,
    topic: str | None,
    transactional: bool = False,
    channels: tuple[str, ...] = ("email",),
    variables: dict[str, str],
    sample: dict[str, Any],
) -> Kind:
    return Kind(
        name=name,
        description=description,
        topic=topic,
        transactional=transactional,
        channels=channels,
        variables={**COMMON_VARIABLES, **variables},
        sample={**_COMMON_SAMPLE, **sample},
    )


_KINDS = [
    # -- clients: quotes and bookings ------------------------------------------------------------
    _kind(
        "quote_sent",
        "A quote sent to the client, with the signed link to view and accept it.",
        topic="quotes",
        channels=("email", "sms"),
        variables={
            **_PICKUP,
            "quote_total": "The quoted price (money).",
            "quote_link": "The signed link to view and accept the quote.",
            "quote_expires_at": "When the link stops working (ISO moment), or null.",
            "passenger_count": "Passengers, or null.",
        },
        sample={
            **_PICKUP_SAMPLE,
            "quote_total": _money("1234.50"),
            "quote_link": "https://portal.athena.example/quotes/accept?token=sample",
            "quote_expires_at": "2026-06-20T04:59:00+00:00",
            "passenger_count": 48,
        },
    ),
    _kind(
        "quote_revised",
        "A changed quote: the new price and the link to the new revision.",
        topic="quotes",
        variables={
            **_PICKUP,
            "quote_total": "The new price (money).",
            "previous_total": "The price before the change (money), or null.",
            "quote_revision": "The revision number (1, 2, ...).",
            "quote_link": "The signed link to view and accept this revision.",
            "quote_expires_at": "When the link stops working (ISO moment), or null.",
        },
        sample={
            **_PICKUP_SAMPLE,
            "quote_total": _money("1310.00"),
            "previous_total": _money("1234.50"),
            "quote_revision": 2,
            "quote_link": "https://portal.athena.example/quotes/accept?token=sample",
            "quote_expires_at": "2026-06-20T04:59:00+00:00",
        },
    ),
    _kind(
        "booking_confirmed",
        "The client accepted the quote: the booking, its price and the deposit due.",
        topic=None,
        transactional=True,
        channels=("email", "sms"),
        variables={
            **_PICKUP,
            "total": "The accepted price (money).",
            "deposit_amount": "The deposit due (money), or null when none is.",
            "deposit_due_on": "When the deposit is due (ISO date), or null.",
            "portal_link": "The client portal's page of the charter, or null.",
        },
        sample={
            **_PICKUP_SAMPLE,
            "total": _money("1234.50"),
            "deposit_amount": _money("308.63"),
            "deposit_due_on": "2026-06-01",
            "portal_link": "https://portal.athena.example/charters/CH-2026-000123",
        },
    ),
    _kind(
        "deposit_reminder",
        "The deposit falls due soon (7 and 2 days before).",
        topic="reminders",
        channels=("email", "sms"),
        variables={
            **_PICKUP,
            "amount_due": "What is still owed of the deposit (money).",
            "due_on": "The due date (ISO date).",
            "days_left": "Days until the due date.",
            "pay_link": "Where to pay online, or null.",
        },
        sample={
            **_PICKUP_SAMPLE,
            "amount_due": _money("308.63"),
            "due_on": "2026-06-01",
            "days_left": 7,
            "pay_link": "https://portal.athena.example/charters/CH-2026-000123/pay",
        },
    ),
    _kind(
        "balance_reminder",
        "The balance falls due soon (7 and 2 days before).",
        topic="reminders",
        channels=("email", "sms"),
        variables={
            **_PICKUP,
            "amount_due": "What is still owed (money).",
            "due_on": "The due date (ISO date).",
            "days_left": "Days until the due date.",
            "pay_link": "Where to pay online, or null.",
        },
        sample={
            **_PICKUP_SAMPLE,
            "amount_due": _money("925.87"),
            "due_on": "2026-06-20",
            "days_left": 2,
            "pay_link": "https://portal.athena.example/charters/CH-2026-000123/pay",
        },
    ),
    _kind(
        "payment_receipt",
        "A receipt for a payment received.",
        topic=None,
        transactional=True,
        variables={
            "charter_reference": "The charter paid for, or null for a payment over several.",
            "amount": "The amount received (money).",
            "paid_at": "When it was received (ISO moment).",
            "time_zone": "The operator's IANA time zone, to show paid_at in.",
            "payment_method": "How it was paid, e.g. 'Visa ending 4242'.",
            "receipt_number": "The payment's reference.",
            "balance_remaining": "What is still owed on the charter (money), or null.",
        },
        sample={
            "charter_reference": "CH-2026-000123",
            "amount": _money("308.63"),
            "paid_at": "2026-05-28T16:05:00+00:00",
            "time_zone": "America/Chicago",
            "payment_method": "Visa ending 4242",
            "receipt_number": "PAY-2026-000042",
            "balance_remaining": _money("925.87"),
        },
    ),
    _kind(
        "invoice_issued",
        "An invoice issued to the client.",
        topic=None,
        transactional=True,
        variables={
            "invoice_number": "The invoice's number.",
            "charter_reference": "The charter invoiced, or null.",
            "amount": "The invoice total (money).",
            "due_on": "When it is due (ISO date).",
            "invoice_link": "Where to read or download it, or null.",
        },
        sample={
            "invoice_number": "INV-2026-000017",
            "charter_reference": "CH-2026-000123",
            "amount": _money("1234.50"),
            "due_on": "2026-06-20",
            "invoice_link": "https://portal.athena.example/invoices/INV-2026-000017",
        },
    ),
    _kind(
        "trip_reminder",
        "The trip is tomorrow: pickup time in the pickup's time zone, and where.",
        topic="reminders",
        channels=("email", "sms"),
        variables={
            **_PICKUP,
            "passenger_count": "Passengers, or null.",
            "driver_name": "The driver's name, or null when not yet known.",
            "dispatch_phone": "Dispatch's phone for the day, or null.",
        },
        sample={
            **_PICKUP_SAMPLE,
            "passenger_count": 48,
            "driver_name": "Marcus Lee",
            "dispatch_phone": "+1 312 555 0100",
        },
    ),
    _kind(
        "cancellation",
        "A charter cancelled: which, and any refund.",
        topic=None,
        transactional=True,
        channels=("email", "sms"),
        variables={
            **_PICKUP,
            "reason": "Why, or null.",
            "cancellation_fee": "What the cancellation costs under the terms (money), or null.",
            "refund_amount": "What will be refunded (money), or null.",
        },
        sample={
            **_PICKUP_SAMPLE,
            "reason": "Event postponed by the client.",
            "cancellation_fee": _money("150.00"),
            "refund_amount": _money("158.63"),
        },
    ),
    # -- accounts ------------------------------------------------------------------------------
    _kind(
        "password_reset",
        "A password reset someone asked for: the code and the link.",
        topic=None,
        transactional=True,
        variables={
            "reset_code": "The one-time reset code.",
            "reset_link": "The portal page that takes the code, or null when none is configured.",
            "expires_minutes": "How long the code works, in minutes.",
        },
        sample={
            "reset_code": "sample-reset-code",
            "reset_link": "https://portal.athena.example/reset-password?token=sample-reset-code",
            "expires_minutes": 30,
        },
    ),
    _kind(
        "mfa_enrolled",
        "Two-step sign-in was turned on for the account (tells the owner if it was not them).",
        topic=None,
        transactional=True,
        variables={
            "method": "What was enrolled, e.g. 'an authenticator app'.",
            "enrolled_at": "When (ISO moment).",
            "time_zone": "The IANA time zone to show enrolled_at in.",
        },
        sample={
            "method": "an authenticator app",
            "enrolled_at": "2026-05-28T16:05:00+00:00",
            "time_zone": "America/Chicago",
        },
    ),
    _kind(
        "set_password",
        "A new client account made when a quote was accepted by e-mail: choose a password.",
        topic=None,
        transactional=True,
        variables={
            "set_password_link": "The signed link to choose a password.",
            "expires_minutes": "How long the link works, in minutes.",
            "charter_reference": "The charter whose acceptance made the account, or null.",
        },
        sample={
            "set_password_link": "https://portal.athena.example/set-password?token=sample",
            "expires_minutes": 1440,
            "charter_reference": "CH-2026-000123",
        },
    ),
    # -- sales follow-ups ------------------------------------------------------------------------
    _kind(
        "lead_follow_up",
        "A sales agent's follow-up of an enquiry not yet quoted.",
        topic="follow_ups",
        variables={
            "agent_name": "The sales agent's name.",
            "agent_email": "The agent's e-mail, for replies.",
            "agent_phone": "The agent's phone, or null.",
            "trip_description": "The trip asked about, in a few words, or null.",
        },
        sample={
            "agent_name": "Priya Raman",
            "agent_email": "priya.raman@athena.example",
            "agent_phone": "+1 312 555 0142",
            "trip_description": "Chicago to Milwaukee, 48 passengers, July 4",
        },
    ),
    _kind(
        "quote_follow_up",
        "A reminder of a quote the client has not answered yet.",
        topic="quotes",
        variables={
            "charter_reference": "The charter quoted.",
            "quote_total": "The quoted price (money).",
            "quote_link": "The signed link to view and accept the quote.",
            "quote_expires_at": "When the link stops working (ISO moment), or null.",
            "time_zone": "The IANA time zone to show quote_expires_at in.",
            "agent_name": "The sales agent's name, or null.",
            "agent_email": "The agent's e-mail, or null.",
        },
        sample={
            "charter_reference": "CH-2026-000123",
            "quote_total": _money("1234.50"),
            "quote_link": "https://portal.athena.example/quotes/accept?token=sample",
            "quote_expires_at": "2026-06-20T04:59:00+00:00",
            "time_zone": "America/Chicago",
            "agent_name": "Priya Raman",
            "agent_email": "priya.raman@athena.example",
        },
    ),
    _kind(
        "change_case_update",
        "A change to a booking the client asked for (or must approve) moved on.",
        topic=None,
        variables={
            "charter_reference": "The charter changed.",
            "case_reference": "The change case, e.g. CHG-2026-0001.",
            "status": "Where the case is now, in words (e.g. 'approved').",
            "summary": "What the change is, in a sentence.",
            "portal_link": "The client portal's page of the charter, or null.",
        },
        sample={
            "charter_reference": "CH-2026-000123",
            "case_reference": "CHG-2026-0001",
            "status": "approved",
            "summary": "Second pickup added at Union Station.",
            "portal_link": "https://portal.athena.example/charters/CH-2026-000123",
        },
    ),
    # -- vendors and drivers ---------------------------------------------------------------------
    _kind(
        "vendor_compliance_alert",
        "A vendor's DOT, MC or insurance certification expires soon (30, 15, 7 days) or expired.",
        topic=None,
        variables={
            "vendor_name": "The vendor's name.",
            "certification_type": "DOT, MC or Insurance.",
            "certification_number": "The certificate's number.",
            "expires_on": "Its expiry date (ISO date).",
            "days_left": "Days until it expires (0 or less once expired).",
            "expired": "Whether it has expired.",
            "suspends": "Whether the vendor is suspended until a valid one is on file.",
        },
        sample={
            "vendor_name": "Lakeshore Coach Lines",
            "certification_type": "Insurance",
            "certification_number": "COI-88231",
            "expires_on": "2026-07-15",
            "days_left": 15,
            "expired": False,
            "suspends": False,
        },
    ),
    _kind(
        "vendor_new_job",
        "A job assigned to the vendor, waiting for it to accept or decline.",
        topic=None,
        channels=("email", "sms"),
        variables={
            **_PICKUP,
            "vendor_name": "The vendor's name.",
            "vehicle_description": "The vehicle asked for, e.g. '56-seat coach'.",
            "portal_link": "The job in the vendor portal, or null.",
        },
        sample={
            **_PICKUP_SAMPLE,
            "vendor_name": "Lakeshore Coach Lines",
            "vehicle_description": "56-seat coach",
            "portal_link": "https://portal.athena.example/vendor/jobs/CH-2026-000123",
        },
    ),
    _kind(
        "vendor_recovery_alert",
        "A charter needs a replacement vehicle on short notice near the vendor.",
        topic=None,
        channels=("email", "sms"),
        variables={
            "charter_reference": "The charter's reference.",
            "pickup_at": "When the replacement is needed (ISO moment), or null.",
            "pickup_time_zone": "The pickup's IANA time zone.",
            "pickup_address": "Where, or null.",
            "vendor_name": "The vendor's name.",
            "vehicle_description": "The vehicle needed, e.g. '56-seat coach'.",
            "miles_from_base": "How far the pickup is from the vendor's base, in miles.",
        },
        sample={
            **_PICKUP_SAMPLE,
            "vendor_name": "Lakeshore Coach Lines",
            "vehicle_description": "56-seat coach",
            "miles_from_base": "12.4",
        },
    ),
    _kind(
        "vendor_cancellation",
        "A charter the vendor was assigned to was cancelled, and with it the assignment.",
        topic=None,
        channels=("email", "sms"),
        variables={
            **_PICKUP,
            "vendor_name": "The vendor's name.",
            "reason": "Why, or null.",
        },
        sample={
            **_PICKUP_SAMPLE,
            "vendor_name": "Lakeshore Coach Lines",
            "reason": "Event postponed by the client.",
        },
    ),
    _kind(
        "vendor_bid_opportunity",
        "A charter more than 200 miles from the hub, in the vendor's service area: open for bids.",
        topic=None,
        variables={
            **_PICKUP,
            "vendor_name": "The vendor's name.",
            "miles_from_hub": "How far the pickup is from the operator's hub, in miles.",
            "passenger_count": "Passengers, or null.",
            "bid_link": "Where to bid in the vendor portal, or null.",
        },
        sample={
            **_PICKUP_SAMPLE,
            "pickup_address": "1 E Pershing Rd, Kansas City, MO 64108",
            "vendor_name": "Heartland Motorcoach",
            "miles_from_hub": "412",
            "passenger_count": 48,
            "bid_link": "https://portal.athena.example/vendor/bids/CH-2026-000123",
        },
    ),
    _kind(
        "driver_trip_assigned",
        "A trip assigned to a driver: when, where, what to drive.",
        topic=None,
        channels=("email", "sms"),
        variables={
            **_PICKUP,
            "driver_name": "The driver's name.",
            "passenger_count": "Passengers, or null.",
            "vehicle_description": "The vehicle, e.g. 'Coach 12 (56 seats)', or null.",
            "instructions": "Special instructions, or null.",
        },
        sample={
            **_PICKUP_SAMPLE,
            "driver_name": "Marcus Lee",
            "passenger_count": 48,
            "vehicle_description": "Coach 12 (56 seats)",
            "instructions": "Wheelchair lift needed at the first pickup.",
        },
    ),
    # -- tour customers (issue 15): people, often without an account -----------------------------
    _kind(
        "tour_booking_confirmation",
        "A tour booking made: the departure, the party and the total.",
        topic=None,
        transactional=True,
        variables={
            **_TOUR_BOOKING,
            "total": "The booking's total (money).",
        },
        sample={**_TOUR_BOOKING_SAMPLE, "total": _money("222.75")},
    ),
    _kind(
        "tour_booking_changed",
        "A tour booking confirmed by staff, or modified (departure or party): what it is now.",
        topic=None,
        transactional=True,
        variables={
            **_TOUR_BOOKING,
            "change": "'confirmed' or 'modified'.",
            "total": "The booking's total now (money).",
            "reason": "Why, or null.",
        },
        sample={
            **_TOUR_BOOKING_SAMPLE,
            "change": "modified",
            "total": _money("297.00"),
            "reason": "Two more friends are coming.",
        },
    ),
    _kind(
        "tour_booking_cancelled",
        "A tour booking cancelled, by the customer or with its departure: the refund due.",
        topic=None,
        transactional=True,
        variables={
            **_TOUR_BOOKING,
            "departure_cancelled": "True when the operator cancelled the departure itself.",
            "refund_due": "What is refunded (money), or null when nothing is.",
            "reason": "Why, or null.",
        },
        sample={
            **_TOUR_BOOKING_SAMPLE,
            "departure_cancelled": True,
            "refund_due": _money("222.75"),
            "reason": "Fewer than 10 seats sold by the booking cutoff",
        },
    ),
    _kind(
        "tour_waitlist_offer",
        "Seats freed on a departure the customer waits for: held for them until the offer expires.",
        topic=None,
        transactional=True,
        variables={
            **_TOUR_DEPARTURE,
            "seats": "How many seats are held.",
            "price_per_person": "An adult's price on that departure (money).",
            "offer_expires_at": "When the held seats are released (ISO moment).",
        },
        sample={
            **_TOUR_DEPARTURE_SAMPLE,
            "seats": 3,
            "price_per_person": _money("75.00"),
            "offer_expires_at": "2026-07-03T14:30:00+00:00",
        },
    ),
    # -- staff: scheduled reports (issue 16) ------------------------------------------------------
    _kind(
        "report_delivery",
        "A scheduled report's run, mailed to each of its recipients with the file attached.",
        topic=None,
        transactional=True,
        variables={
            "template_name": "The report's name, e.g. Sales by agent.",
            "schedule_name": "The schedule that ran it.",
            "ran_at": "When the report ran, an ISO 8601 moment with offset.",
            "time_zone": "The operator's IANA time zone, to show ran_at in.",
            "row_count": "How many rows the report has.",
            "format": "The attached file's format: 'csv', 'xlsx' or 'pdf'.",
            "file_name": "The attached file's name.",
        },
        sample={
            "template_name": "Sales by agent",
            "schedule_name": "Daily management mail",
            "ran_at": "2026-07-04T13:00:00+00:00",
            "time_zone": "America/Chicago",
            "row_count": 12,
            "format": "xlsx",
            "file_name": "sales-by-agent-2026-07-04.xlsx",
        },
    ),
]

#: kind name -> Kind, in the order above (the order lists show them in)
KINDS: dict[str, Kind] = {kind.name: kind for kind in _KINDS}
