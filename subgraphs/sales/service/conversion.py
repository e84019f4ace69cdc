"""One-step conversion: a lead becomes a client and a charter quote, once per key.

The work spans two subgraphs, and charters is reached only through its API
(`charters_port`), so one database transaction cannot hold it. Conversion
is a saga of three short transactions, each idempotent, keyed by the
caller's idempotency key and recorded in `lead_conversions`:

1. Lock the lead; refuse what may not be converted; claim the key (its row:
   the lead, the input's hash, the actor); find or create the client and
   record it on the row (`client_ready`). Commit.
2. Ask charters for the quote with a key derived from ours
   (`charters_key`): charters answers the same charter for the same key,
   however often it is asked.
3. Lock the lead again; mark it converted with its client and charter, a
   status_change activity, the audit entry and `sales.lead_changed`; the
   row becomes `done`. Commit.

A retry with the same key resumes where the last attempt stopped: a row at
`client_ready` reuses its client (no second client), and step 2 returns the
charter an earlier attempt made (no second quote); a row at `done` answers
the recorded result. The lead's lock serialises concurrent calls for one
lead in steps 1 and 3, so duplicates with one key end with one client and
one charter. A failure between steps is only ever a real one: charters
unreachable (CHARTERS_UNAVAILABLE) or refusing the request (its user errors,
renamed to this mutation's input fields).

The trip sent to charters is computed from the input with the lead's
values as defaults, on every attempt; a retry after the lead's trip was
edited sends a different request, which charters refuses as a CONFLICT on
its key (safe: nothing is duplicated). A client found or created in step 1
stays when charters then refuses the quote: it is a real client of the
lead, and the corrected call (a new key) finds it again. A lead lost or
converted by another key between steps 2 and 3 leaves charters' quote
unused (the user error says why); nothing marks it converted twice.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.sales.error_codes import SalesErrorCode as Code
from subgraphs.sales.models import Client, Lead, LeadActivity, LeadConversion
from subgraphs.sales.service import assignment, audit, clients, leads
from subgraphs.sales.service import contact_details as contacts
from subgraphs.sales.service.access import ensure_may_edit_lead
from subgraphs.sales.service.charters_port import (
    CharterQuotes,
    ChartersUnavailable,
    QuoteRefused,
    QuoteRequest,
    QuoteResult,
    QuoteStop,
)
from subgraphs.sales.states import LEAD

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from protocol.viewer import Viewer

KEY_FIELD = "idempotencyKey"
MAX_KEY = 200
#: The pickup time when only the lead's trip date is known (operator-local wall time).
DEFAULT_PICKUP_TIME = time(9, 0)
DEFAULT_TRIP_TYPE = "ONE_WAY"
MAX_TEXT = 200
MAX_NOTES = 5000
#: Charters' createCharter input names, as convertLead's input names them.
CHARTERS_FIELDS = {
    "clientId": "clientId",
    "tripType": "tripType",
    "passengerCount": "passengerCount",
    "pickupLocal": "pickupLocal",
    "pickupTimeZone": "pickupTimeZone",
    "notes": "notes",
    "stops.0": "origin",
    "stops.1": "destination",
    "idempotencyKey": KEY_FIELD,
}


@dataclass(frozen=True)
class ConversionInput:
    """convertLead's input; the trip fields default to the lead's (None: use the lead's)."""

    idempotency_key: str
    client_id: uuid.UUID | None = None
    trip_type: str | None = None  # charters' TripType name, such as ONE_WAY
    pickup_local: str | None = None  # local wall time, YYYY-MM-DDTHH:MM
    pickup_time_zone: str | None = None
    passenger_count: int | None = None
    origin: str | None = None
    destination: str | None = None
    notes: str | None = None

    def request_hash(self) -> str:
        """sha256 of the input without the key, in one canonical form."""
        values = {k: v for k, v in asdict(self).items() if k != "idempotency_key"}
        canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Converted:
    lead: Lead
    client: Client
    charter_id: uuid.UUID


class AlreadyConverted(ServiceError):
    """The lead was converted under another key; the payload still shows the lead."""

    def __init__(self, lead_id: uuid.UUID) -> None:
        super().__init__(
            Problem(
                Code.ALREADY_CONVERTED,
                "This lead was converted already (by another idempotency key).",
                "id",
            )
        )
        self.lead_id = lead_id


def charters_key(key: str) -> str:
    """The key charters sees: derived from ours, the same for every retry, within 200."""
    return "sales.convert:" + hashlib.sha256(key.encode()).hexdigest()


async def convert(
    sessions: async_sessionmaker[AsyncSession],
    lead_id: uuid.UUID,
    given: ConversionInput,
    actor: Viewer,
    quotes: CharterQuotes,
    bearer: str,
    *,
    operator_time_zone: str,
    now: datetime | None = None,
) -> Converted:
    """Convert the lead, or answer how an earlier call with this key converted it."""
    _check_key(given.idempotency_key)
    moment = now or datetime.now(UTC)
    async with sessions() as session, session.begin():
        prepared = await _prepare(session, lead_id, given, actor, operator_time_zone, moment)
    if isinstance(prepared, Converted):
        return prepared
    try:
        quote = await quotes.create_quote(
            prepared, key=charters_key(given.idempotency_key), bearer=bearer
        )
    except QuoteRefused as refused:
        raise ServiceError(_renamed(p) for p in refused.problems) from refused
    except ChartersUnavailable as exc:
        raise ServiceError.of(
            Code.CHARTERS_UNAVAILABLE,
            "The quote could not be created now; retry with the same idempotencyKey.",
        ) from exc
    async with sessions() as session, session.begin():
        return await _finish(session, lead_id, given.idempotency_key, quote, actor)


def _renamed(problem: Problem) -> Problem:
    """Charters' problem on convertLead's own input field (None when it has no such field)."""
    name = problem.field or ""
    field = next(
        (
            ours
            for theirs, ours in CHARTERS_FIELDS.items()
            if name == theirs or name.startswith(f"{theirs}.")
        ),
        None,
    )
    return Problem(problem.code, problem.message, field)


def _check_key(key: str) -> None:
    if not key.strip():
        raise ServiceError.of(Code.REQUIRED, "An idempotency key is required.", KEY_FIELD)
    if len(key) > MAX_KEY:
        raise ServiceError.of(Code.TOO_LONG, f"Longer than {MAX_KEY} characters.", KEY_FIELD)


async def _editable_lead(session: AsyncSession, lead_id: uuid.UUID, actor: Viewer) -> Lead:
    leads.ensure_role(actor)
    lead = await leads.get(session, lead_id, lock=True)
    ensure_may_edit_lead(actor, lead.agent_id)
    return lead


async def _conversion(session: AsyncSession, key: str) -> LeadConversion | None:
    return await session.scalar(
        select(LeadConversion).where(LeadConversion.idempotency_key == key).with_for_update()
    )


def _same_call(row: LeadConversion, lead_id: uuid.UUID, digest: str, actor: Viewer) -> None:
    if row.lead_id != lead_id:
        raise ServiceError.of(Code.CONFLICT, "This key converted another lead.", KEY_FIELD)
    if row.actor_id != actor.user_id:
        raise ServiceError.of(Code.CONFLICT, "This key was used by someone else.", KEY_FIELD)
    if row.request_hash != digest:
        raise ServiceError.of(
            Code.CONFLICT, "This key was used with different conversion input.", KEY_FIELD
        )


def _convertible(lead: Lead) -> None:
    if lead.status == "converted":
        raise AlreadyConverted(lead.id)
    if "converted" not in LEAD.allowed(lead.status):
        raise ServiceError.of(
            Code.INVALID_TRANSITION, f"A {lead.status} lead cannot be converted.", "id"
        )


async def _prepare(
    session: AsyncSession,
    lead_id: uuid.UUID,
    given: ConversionInput,
    actor: Viewer,
    zone: str,
    now: datetime,
) -> QuoteRequest | Converted:
    """Step 1: the client for the quote, recorded under the key (or the finished result)."""
    key = given.idempotency_key
    digest = given.request_hash()
    lead = await _editable_lead(session, lead_id, actor)
    row = await _conversion(session, key)
    if row is not None:
        _same_call(row, lead_id, digest, actor)
        if row.state == "done" and row.charter_id is not None and row.client_id is not None:
            return Converted(lead, await clients.get(session, row.client_id), row.charter_id)
    _convertible(lead)
    trip = _trip(lead, given, zone, now)
    if row is None:
        claimed = await session.scalar(
            insert(LeadConversion)
            .values(
                idempotency_key=key,
                lead_id=lead.id,
                request_hash=digest,
                state="started",
                client_created=False,
                actor_id=actor.user_id,
            )
            .on_conflict_do_nothing(index_elements=[LeadConversion.idempotency_key])
            .returning(LeadConversion.idempotency_key)
        )
        row = await _conversion(session, key)
        if row is None:  # pragma: no cover - inserted or committed by another call
            raise ServiceError.of(Code.CONFLICT, "The key is in use; try again.", KEY_FIELD)
        if claimed is None:  # another lead's call took the key meanwhile
            _same_call(row, lead_id, digest, actor)
    if row.state == "started" or row.client_id is None:
        client, created = await _find_or_create_client(session, lead, given, actor)
        row.client_id = client.id
        row.client_created = created
        row.state = "client_ready"
        await session.flush()
    else:
        client = await clients.get(session, row.client_id, field="clientId")
    # The lead's agent owns the quote; an agent converting its own lead quotes as itself.
    agent = lead.agent_id if lead.agent_id not in (None, actor.user_id) else None
    return QuoteRequest(
        client_id=client.id,
        trip_type=trip.trip_type,
        passenger_count=trip.passenger_count,
        pickup_local=trip.pickup_local,
        pickup_time_zone=trip.pickup_time_zone,
        stops=trip.stops,
        notes=trip.notes,
        sales_agent_id=agent,
    )


@dataclass(frozen=True)
class _Trip:
    trip_type: str
    passenger_count: int
    pickup_local: str
    pickup_time_zone: str
    stops: tuple[QuoteStop, ...]
    notes: str | None


def _trip(lead: Lead, given: ConversionInput, zone: str, now: datetime) -> _Trip:
    """The quote's trip: the input, defaulted from the lead; every problem at once."""
    problems: list[Problem] = []
    time_zone = (given.pickup_time_zone or zone).strip()
    try:
        tz = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = None
        problems.append(
            Problem(Code.INVALID, f"{time_zone!r} is not an IANA time zone.", "pickupTimeZone")
        )
    pickup: datetime | None = None
    if given.pickup_local is not None:
        try:
            pickup = datetime.fromisoformat(given.pickup_local.strip())
        except ValueError:
            problems.append(
                Problem(Code.INVALID, "Give a local date-time, YYYY-MM-DDTHH:MM.", "pickupLocal")
            )
        else:
            if pickup.tzinfo is not None:
                problems.append(
                    Problem(Code.INVALID, "Give the local time without an offset.", "pickupLocal")
                )
                pickup = None
    elif lead.trip_date is not None:
        pickup = datetime.combine(lead.trip_date, DEFAULT_PICKUP_TIME)
    else:
        problems.append(
            Problem(Code.REQUIRED, "The lead has no trip date: give the pickup.", "pickupLocal")
        )
    if pickup is not None and tz is not None and pickup.replace(tzinfo=tz) <= now:
        problems.append(Problem(Code.OUT_OF_RANGE, "The pickup is in the past.", "pickupLocal"))
    passengers = given.passenger_count if given.passenger_count is not None else lead.passengers
    if passengers is None:
        problems.append(
            Problem(Code.REQUIRED, "The lead has no passenger count: give it.", "passengerCount")
        )
    elif passengers < 1 or passengers > leads.MAX_PASSENGERS:
        problems.append(
            Problem(
                Code.OUT_OF_RANGE,
                f"Passengers are between 1 and {leads.MAX_PASSENGERS}.",
                "passengerCount",
            )
        )
    stops: list[QuoteStop] = []
    for name, kind, value in (
        ("origin", "PICKUP", given.origin if given.origin is not None else lead.origin),
        (
            "destination",
            "DROPOFF",
            given.destination if given.destination is not None else lead.destination,
        ),
    ):
        address = (value or "").strip()
        if len(address) > MAX_TEXT:
            problems.append(Problem(Code.TOO_LONG, f"Longer than {MAX_TEXT} characters.", name))
        elif address:
            stops.append(QuoteStop(kind, address))
    notes = (given.notes or "").strip() or None
    if notes is not None and len(notes) > MAX_NOTES:
        problems.append(Problem(Code.TOO_LONG, f"Longer than {MAX_NOTES} characters.", "notes"))
    if problems or pickup is None or passengers is None:
        raise ServiceError(problems)
    return _Trip(
        trip_type=given.trip_type or DEFAULT_TRIP_TYPE,
        passenger_count=passengers,
        pickup_local=pickup.isoformat(timespec="minutes"),
        pickup_time_zone=time_zone,
        stops=tuple(stops),
        notes=notes,
    )


async def _find_or_create_client(
    session: AsyncSession, lead: Lead, given: ConversionInput, actor: Viewer
) -> tuple[Client, bool]:
    """The given client, the lead's, one whose contact matches the lead, or a new one."""
    if given.client_id is not None:
        return await clients.get(session, given.client_id, field="clientId"), False
    if lead.client_id is not None:
        return await clients.get(session, lead.client_id, field="id"), False
    found = await assignment.matching_client(session, lead.email, lead.phone)
    if found is not None:
        return found, False
    person = f"{lead.first_name} {lead.last_name}".strip()
    profile = clients.ClientProfile(
        name=lead.company or person,
        client_type="corporate" if lead.company else "personal",
        sales_agent_id=lead.agent_id,
    )
    contact = contacts.ContactDetails(
        name=person, email=lead.email, phone=lead.phone, is_primary=True
    )
    return await clients.create(session, profile, [contact], actor), True


async def _finish(
    session: AsyncSession, lead_id: uuid.UUID, key: str, quote: QuoteResult, actor: Viewer
) -> Converted:
    """Step 3: the lead converted into the quote; the key's row done."""
    lead = await _editable_lead(session, lead_id, actor)
    row = await _conversion(session, key)
    if row is None or row.client_id is None:  # pragma: no cover - step 1 committed it
        raise ServiceError.of(Code.CONFLICT, "The conversion was not started.", KEY_FIELD)
    client = await clients.get(session, row.client_id, field="clientId")
    if row.state == "done" and row.charter_id is not None:
        return Converted(lead, client, row.charter_id)
    _convertible(lead)
    now = datetime.now(UTC)
    before = audit.row_snapshot(lead)
    previous = lead.status
    lead.status = "converted"
    lead.client_id = client.id
    lead.charter_id = quote.charter_id
    lead.converted_at = now
    # Charters' "created" event may have passed before the lead knew its charter
    # (`charter_facts`); the quote just made is one. Later events still apply.
    if lead.charter_status is None:
        lead.charter_status = "quote"
    session.add(
        LeadActivity(
            id=uuid.uuid4(),
            lead_id=lead.id,
            activity_type="status_change",
            actor_id=actor.user_id,
            impersonator_id=actor.impersonator_id,
            at=now,
            from_status=previous,
            to_status="converted",
            notes=f"Converted: quote {quote.reference}.",
        )
    )
    await session.flush()
    audit.record_lead(
        session,
        lead_id=lead.id,
        action="status:converted",
        actor=actor,
        before=before,
        after=audit.row_snapshot(lead),
    )
    await leads.announce(session, lead, "converted")
    row.charter_id = quote.charter_id
    row.state = "done"
    return Converted(lead, client, quote.charter_id)
