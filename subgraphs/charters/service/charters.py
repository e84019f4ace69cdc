"""A charter's life: create, edit, quote revisions and links, status, cancel.

Edits are computed on a snapshot (see `snapshots`): a quote changes at
once; a booked charter gets a change case instead. Status moves only along
`states.CHARTER`, and every move is audited and announced on the outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import jwt
from sqlalchemy import select, update

from subgraphs.charters import states
from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import (
    ChangeCase,
    Charter,
    CharterVehicle,
    QuoteRevision,
    VehicleType,
)
from subgraphs.charters.service import audit, events, geocoding, snapshots, tasks
from subgraphs.charters.service.access import (
    REASSIGNERS,
    ensure_can_edit,
    ensure_may_move,
    ensure_move_timing,
    ensure_role,
)
from subgraphs.charters.service.change_cases import (
    ApprovalPolicy,
    ChangeRequest,
    implement,
    open_case,
)
from subgraphs.charters.service.directory import (
    choose_sales_agent,
    ensure_known_client,
    ensure_known_sales_agent,
)
from subgraphs.charters.service.fleet import ensure_not_blacked_out
from subgraphs.charters.service.geocoding import Coordinates
from subgraphs.charters.service.references import next_reference
from subgraphs.charters.service.snapshots import Snapshot
from subgraphs.charters.service.timing import now, to_instant
from subgraphs.charters.service.validation import (
    capacity_problems,
    itinerary_problems,
    snapshot_problems,
)
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

QUOTE_LINK_PURPOSE = "quote-link"
#: The booking horizon when none is configured: two years.
DEFAULT_HORIZON_DAYS = 730


@dataclass(frozen=True)
class NewCharter:
    client_id: uuid.UUID
    trip_type: str
    passenger_count: int
    pickup_local: datetime
    pickup_time_zone: str
    ends_at: datetime | None = None
    notes: str | None = None
    requires_second_driver: bool = False
    #: Trip miles for pricing (see `estimated_miles`); None: estimated from the stops.
    estimated_miles: Decimal | None = None
    sales_agent_id: uuid.UUID | None = None
    stops: list[dict[str, object]] = field(default_factory=list)
    #: What the geocoder found for `stops`, by position (`geocoding.locate`, run before
    #: the transaction); filled into stops without coordinates. Not part of the request.
    coordinates: tuple[Coordinates | None, ...] = ()
    vehicles: list[dict[str, object]] = field(default_factory=list)
    #: The farthest ahead a pickup may be (the `charter_booking_horizon_days` setting).
    horizon_days: int = DEFAULT_HORIZON_DAYS
    #: The new charter's id, when chosen beforehand (an idempotency key names it).
    id: uuid.UUID | None = None


@dataclass(frozen=True)
class EditResult:
    charter: Charter
    change_case: ChangeCase | None


async def get(session: AsyncSession, charter_id: uuid.UUID, *, lock: bool = False) -> Charter:
    stmt = select(Charter).where(Charter.id == charter_id)
    if lock:
        stmt = stmt.with_for_update()
    charter = await session.scalar(stmt)
    if charter is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Charter {charter_id} does not exist.", "id")
    return charter


#: Entered trip miles: a tenth of a mile at most, up to a cross-continent 10,000.
MAX_ESTIMATED_MILES = Decimal(10000)
MILES_STEP = Decimal("0.1")


def estimated_miles(value: Decimal | None, field: str = "estimatedMiles") -> Decimal | None:
    """The entered miles as stored (one decimal place), or a user error on `field`.

    The database's check holds the same range; this says which input was wrong.
    """
    if value is None:
        return None
    if not value.is_finite() or value <= 0 or value > MAX_ESTIMATED_MILES:
        raise ServiceError.of(
            Code.OUT_OF_RANGE,
            f"Estimated miles must be more than 0 and at most {MAX_ESTIMATED_MILES}.",
            field,
        )
    if value != value.quantize(MILES_STEP):
        raise ServiceError.of(
            Code.INVALID, "Estimated miles take at most one decimal place.", field
        )
    return value.quantize(MILES_STEP)


def _check_pickup_future(
    pickup_local: datetime,
    time_zone: str,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    field: str = "pickupLocal",
) -> None:
    """A pickup is in the future and within the booking horizon (no year 9999)."""
    instant = to_instant(pickup_local, time_zone)
    if instant <= now():
        raise ServiceError.of(Code.IN_THE_PAST, "The pickup time is in the past.", field)
    if instant > now() + timedelta(days=horizon_days):
        raise ServiceError.of(
            Code.BEYOND_HORIZON,
            f"Charters are booked at most {horizon_days} days ahead.",
            field,
        )


async def _check_vehicle_types(session: AsyncSession, snap: Snapshot) -> None:
    wanted = {str(v["vehicle_type_id"]) for v in snap["vehicles"]}
    if not wanted:
        return
    ids = [uuid.UUID(w) for w in wanted]
    found = {
        str(i) for i in await session.scalars(select(VehicleType.id).where(VehicleType.id.in_(ids)))
    }
    missing = [i for i, v in enumerate(snap["vehicles"]) if str(v["vehicle_type_id"]) not in found]
    if missing:
        raise ServiceError(
            Problem(Code.NOT_FOUND, "Unknown vehicle type.", f"vehicles.{i}.vehicleTypeId")
            for i in missing
        )


async def create(session: AsyncSession, data: NewCharter, actor: Viewer) -> Charter:
    """A new quote for a known client, by (or for) a known sales agent, within the horizon."""
    agent = await choose_sales_agent(session, data.sales_agent_id, actor)
    await ensure_known_client(session, data.client_id)
    charter = Charter(
        id=data.id or uuid.uuid4(),
        status="quote",
        client_id=data.client_id,
        sales_agent_id=agent,
        created_by=actor.user_id,
        trip_type=data.trip_type,
        passenger_count=data.passenger_count,
        pickup_local=data.pickup_local,
        pickup_time_zone=data.pickup_time_zone,
        ends_at=data.ends_at,
        notes=data.notes,
        requires_second_driver=data.requires_second_driver,
        estimated_miles=estimated_miles(data.estimated_miles),
        quote_revision=1,
        version=0,
    )
    snap = snapshots.take(charter, [], [])
    snap["stops"] = geocoding.fill(list(data.stops), data.coordinates)
    snap["vehicles"] = list(data.vehicles)
    problems = snapshot_problems(snap)
    if problems:
        raise ServiceError(problems)
    _check_pickup_future(data.pickup_local, data.pickup_time_zone, data.horizon_days)
    await _check_vehicle_types(session, snap)
    charter.pickup_at = to_instant(data.pickup_local, data.pickup_time_zone)
    if data.ends_at is not None and data.ends_at <= charter.pickup_at:
        raise ServiceError.of(Code.INVALID, "The charter ends before its pickup.", "endsAt")
    charter.reference = await next_reference(session, "CH", data.pickup_local.year)
    session.add(charter)
    await session.flush()
    audit.charter_updated(session, charter, "create", actor, None)
    await snapshots.apply(session, charter, snap, actor)
    await events.charter_changed(session, charter, ["created"])
    return charter


async def edit(
    session: AsyncSession,
    charter_id: uuid.UUID,
    change: Callable[[Snapshot], Snapshot],
    actor: Viewer,
    *,
    request: ChangeRequest,
    policy: ApprovalPolicy,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> EditResult:
    """Apply `change` to a quote, or open a change case for a booked charter."""
    charter = await get(session, charter_id, lock=True)
    ensure_can_edit(actor, charter)
    before = await snapshots.load(session, charter)
    after = change(_copy(before))
    problems = snapshot_problems(after)
    if problems:
        raise ServiceError(problems)
    await _check_vehicle_types(session, after)
    if after == before:
        return EditResult(charter, None)
    if (
        after["pickup_local"] != before["pickup_local"]
        or after["pickup_time_zone"] != before["pickup_time_zone"]
    ):
        # A booked charter's change case may not move the pickup into the past either.
        _check_pickup_future(
            snapshots.as_datetime(after["pickup_local"]),  # type: ignore[arg-type]
            after["pickup_time_zone"],
            horizon_days,
        )
    if charter.status == "quote":
        await snapshots.apply(session, charter, after, actor)
        await events.charter_changed(session, charter, _changed_parts(before, after))
        return EditResult(charter, None)
    if charter.status in states.CHANGE_CONTROLLED:
        case = await open_case(session, charter, before, after, request, actor, policy)
        if case.status == "approved":
            await implement(session, case.id, actor)
        return EditResult(charter, case)
    raise ServiceError.of(
        Code.INVALID_TRANSITION, f"A {charter.status} charter can no longer be changed.", "id"
    )


#: Public names for the change-case service, which checks requests the same way.
check_pickup_future = _check_pickup_future
check_vehicle_types = _check_vehicle_types


def _copy(snap: Snapshot) -> Snapshot:
    return {
        **snap,
        "stops": [dict(s) for s in snap["stops"]],
        "vehicles": [dict(v) for v in snap["vehicles"]],
    }


def _changed_parts(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(k for k in after if after[k] != before.get(k))


async def booking_problems(session: AsyncSession, charter: Charter) -> list[Problem]:
    snap = await snapshots.load(session, charter)
    problems = itinerary_problems(snap) + capacity_problems(snap)
    if charter.pickup_at <= now():
        problems.append(Problem(Code.IN_THE_PAST, "The pickup time is in the past.", "pickupLocal"))
    type_ids = [uuid.UUID(str(v["vehicle_type_id"])) for v in snap["vehicles"]]
    try:
        await ensure_not_blacked_out(session, charter.pickup_local.date(), type_ids)
    except ServiceError as exc:
        problems.extend(exc.problems)
    return problems


async def transition(
    session: AsyncSession, charter_id: uuid.UUID, target: str, actor: Viewer
) -> Charter:
    charter = await get(session, charter_id, lock=True)
    if target == "cancelled":
        raise ServiceError.of(Code.INVALID, "Use cancelCharter to cancel.", "status")
    if charter.is_template:
        raise ServiceError.of(
            Code.TEMPLATE_NOT_BOOKABLE,
            f"{charter.reference} is a template: clone it to a date to book it.",
            "id",
        )
    ensure_may_move(actor, charter, target)
    states.CHARTER.check(charter.status, target)
    ensure_move_timing(charter, target, now())
    if target == "booked":
        problems = await booking_problems(session, charter)
        if problems:
            raise ServiceError(problems)
    old = audit.row_snapshot(charter)
    charter.status = target
    charter.version += 1
    if target == "booked":
        charter.booked_at = now()
    if target == "completed":
        await session.execute(
            update(CharterVehicle)
            .where(CharterVehicle.charter_id == charter.id)
            .values(holds_resources=False)
        )
    audit.charter_updated(session, charter, f"status:{target}", actor, old)
    # Booking generates the readiness tasks (idempotent: later moves find them made).
    changed = ["status", "tasks"] if await tasks.sync(session, charter, now()) else ["status"]
    await events.charter_changed(session, charter, changed, previousStatus=old["status"])
    return charter


async def cancel(
    session: AsyncSession,
    charter_id: uuid.UUID,
    *,
    reason: str,
    fee: Decimal | None,
    actor: Viewer,
) -> Charter:
    """Cancel now: a quote by its editor; a booked charter too (staff decide fees)."""
    if not reason.strip() or len(reason) > 1000:
        raise ServiceError.of(
            Code.INVALID, "A reason of 1 to 1000 characters is required.", "reason"
        )
    if fee is not None and fee < 0:
        raise ServiceError.of(Code.OUT_OF_RANGE, "The fee cannot be negative.", "fee")
    charter = await get(session, charter_id, lock=True)
    ensure_may_move(actor, charter, "cancelled")
    states.CHARTER.check(charter.status, "cancelled")
    old = audit.row_snapshot(charter)
    charter.status = "cancelled"
    charter.cancelled_at = now()
    charter.cancelled_by = actor.user_id
    charter.cancellation_reason = reason.strip()
    charter.cancellation_fee = fee
    charter.version += 1
    await session.execute(
        update(CharterVehicle)
        .where(CharterVehicle.charter_id == charter.id)
        .values(holds_resources=False)
    )
    audit.charter_updated(session, charter, "cancel", actor, old)
    # Every cancellation skips the open readiness tasks too (issue 13 §6). Imported
    # here: cancellation imports change_cases, which imports this module lazily.
    from subgraphs.charters.service.cancellation import wind_down

    skipped = (await wind_down(session, charter)).skipped_task_ids
    changed = ["status", "tasks"] if skipped else ["status"]
    await events.charter_changed(session, charter, changed, previousStatus=old["status"])
    return charter


async def reassign(
    session: AsyncSession, charter_id: uuid.UUID, agent_id: uuid.UUID, actor: Viewer
) -> Charter:
    ensure_role(actor, REASSIGNERS, "reassign quotes")
    charter = await get(session, charter_id, lock=True)
    if charter.status != "quote":
        raise ServiceError.of(Code.INVALID_TRANSITION, "Only quotes can be reassigned.", "id")
    await ensure_known_sales_agent(session, agent_id, "agentId")
    old = audit.row_snapshot(charter)
    charter.sales_agent_id = agent_id
    charter.version += 1
    audit.charter_updated(session, charter, "reassign", actor, old)
    return charter


async def revise_quote(session: AsyncSession, charter_id: uuid.UUID, actor: Viewer) -> Charter:
    """Freeze the quote as it stands as revision N and continue as N+1."""
    charter = await get(session, charter_id, lock=True)
    ensure_can_edit(actor, charter)
    if charter.status != "quote":
        raise ServiceError.of(Code.INVALID_TRANSITION, "Only quotes have revisions.", "id")
    snap = await snapshots.load(session, charter)
    session.add(
        QuoteRevision(
            charter_id=charter.id,
            revision=charter.quote_revision,
            snapshot={**snap, "reference": charter.reference, "total_cost": str(_total(snap))},
            created_by=actor.user_id,
        )
    )
    old = audit.row_snapshot(charter)
    charter.quote_revision += 1
    charter.version += 1
    audit.charter_updated(session, charter, "revise_quote", actor, old)
    # Notifications tells the client the quote changed (the event carries the new revision).
    await events.charter_changed(session, charter, ["quote_revision"])
    return charter


def _total(snap: Snapshot) -> Decimal:
    return sum((Decimal(str(v["cost"])) for v in snap["vehicles"]), Decimal("0.00"))


@dataclass(frozen=True)
class QuoteLink:
    """What a quote link names: one charter, at one revision of its quote."""

    charter_id: uuid.UUID
    revision: int


def _links_enabled(secret: str) -> None:
    if not secret:
        raise ServiceError.of(
            Code.QUOTE_LINKS_DISABLED,
            "Quote links are turned off: no quote link secret is configured.",
            "id",
        )


async def create_quote_link(
    session: AsyncSession,
    charter_id: uuid.UUID,
    actor: Viewer,
    secret: str,
    ttl: timedelta,
    portal_url: str = "",
) -> tuple[str, datetime]:
    """A link to an open quote, by someone who may edit it (its agent or edit-any staff).

    The link names the quote's current revision: revising the quote, booking
    it or anything else that ends the open quote ends the link too (a booked
    client is served by the client portal, behind a login). Making it is
    sending the quote: `charters.quote_sent` has notifications mail it.
    """
    _links_enabled(secret)
    charter = await get(session, charter_id)
    ensure_can_edit(actor, charter)
    if charter.status != "quote" or charter.is_template:
        raise ServiceError.of(
            Code.INVALID_TRANSITION, "Only an open quote can be shared by a link.", "id"
        )
    token, expires = quote_link_token(charter, secret, ttl)
    await events.quote_sent(session, charter, token, expires, portal_url)
    return token, expires


def quote_link_token(charter: Charter, secret: str, ttl: timedelta) -> tuple[str, datetime]:
    _links_enabled(secret)
    expires = now() + ttl
    token = jwt.encode(
        {
            "purpose": QUOTE_LINK_PURPOSE,
            "charter": str(charter.id),
            "revision": charter.quote_revision,
            "exp": int(expires.timestamp()),
        },
        secret,
        algorithm="HS256",
    )
    return token, expires


def _invalid_link() -> ServiceError:
    # One answer for every refusal: a holder learns nothing about the charter.
    return ServiceError.of(Code.INVALID_TOKEN, "The quote link is invalid or expired.", "token")


def read_quote_link(token: str, secret: str) -> QuoteLink:
    """The charter and revision a link was made for; refused when links are off."""
    if not secret:
        raise _invalid_link()
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp", "revision"]}
        )
    except jwt.PyJWTError as exc:
        raise _invalid_link() from exc
    if claims.get("purpose") != QUOTE_LINK_PURPOSE:
        raise _invalid_link()
    try:
        return QuoteLink(uuid.UUID(str(claims["charter"])), int(claims["revision"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise _invalid_link() from exc


def link_still_valid(link: QuoteLink, charter: Any) -> bool:
    """A link shows only the open quote at the revision it was made for."""
    return (
        charter is not None
        and charter.status == "quote"
        and not charter.is_template
        and charter.quote_revision == link.revision
    )
