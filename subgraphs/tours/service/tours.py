"""Tours (issue 15 §1): what is sold, at what base price, for which party sizes.

An edit names only what it changes and is checked whole against the row it
would leave (a new minimum party against the old maximum), every problem
reported against its GraphQL input field, nothing written unless all of it
is valid. Prices and party limits apply to bookings made afterwards;
departures already generated keep their price (`updateDepartureSlot`
changes one). A deactivated tour leaves the catalogue for customers and
refuses new bookings; nothing already sold is cancelled.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from subgraphs.kit import recurrence
from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.tours.error_codes import ToursErrorCode as Code
from subgraphs.tours.models import Tour
from subgraphs.tours.service import audit
from subgraphs.tours.service.changes import SYSTEM

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.tours.service.changes import Actor

CENT = Decimal("0.01")
MAX_NAME = 200
MAX_TEXT = 5000
MAX_DURATION = 24 * 60
MAX_PARTY = 500
MAX_PRICE = Decimal("100000.00")
DEFAULT_ZONE = "America/Chicago"


@dataclass(frozen=True)
class TourData:
    """A new tour, or an edit (None leaves a field as it is)."""

    name: str | None = None
    description: str | None = None
    duration_minutes: int | None = None
    base_price: Decimal | None = None
    min_party: int | None = None
    max_party: int | None = None
    time_zone: str | None = None
    meeting_point: str | None = None
    meeting_latitude: Decimal | None = None
    meeting_longitude: Decimal | None = None
    active: bool | None = None


def money_problems(value: Decimal | None, field: str) -> list[Problem]:
    if value is None:
        return []
    if value != value.quantize(CENT) or not Decimal(0) <= value <= MAX_PRICE:
        return [Problem(Code.OUT_OF_RANGE, f"An amount from 0.00 to {MAX_PRICE}.", field)]
    return []


def zone_problems(name: str, field: str = "timeZone") -> list[Problem]:
    try:
        recurrence.zone(name, code=Code.INVALID, field=field)
    except ServiceError as exc:
        return list(exc.problems)
    return []


def _problems(data: TourData) -> list[Problem]:
    """`data` is complete here (an edit merged onto its row)."""
    problems: list[Problem] = []
    if not data.name or len(data.name) > MAX_NAME:
        problems.append(Problem(Code.INVALID, f"A name of 1 to {MAX_NAME} characters.", "name"))
    for value, field in ((data.description, "description"), (data.meeting_point, "meetingPoint")):
        if value is not None and len(value) > MAX_TEXT:
            problems.append(Problem(Code.INVALID, f"At most {MAX_TEXT} characters.", field))
    if data.duration_minutes is None or not 1 <= data.duration_minutes <= MAX_DURATION:
        problems.append(
            Problem(Code.OUT_OF_RANGE, f"From 1 to {MAX_DURATION} minutes.", "durationMinutes")
        )
    if data.base_price is None:
        problems.append(Problem(Code.REQUIRED, "A price per adult.", "basePrice"))
    problems += money_problems(data.base_price, "basePrice")
    low, high = data.min_party or 0, data.max_party or 0
    if not 1 <= low <= MAX_PARTY:
        problems.append(Problem(Code.OUT_OF_RANGE, f"From 1 to {MAX_PARTY}.", "minParty"))
    elif not 1 <= high <= MAX_PARTY:
        problems.append(Problem(Code.OUT_OF_RANGE, f"From 1 to {MAX_PARTY}.", "maxParty"))
    elif high < low:
        problems.append(
            Problem(
                Code.OUT_OF_RANGE,
                f"The largest party ({high}) is smaller than the smallest ({low}).",
                "maxParty",
            )
        )
    problems += zone_problems(data.time_zone or "")
    for coordinate, field, most in (
        (data.meeting_latitude, "meetingLatitude", 90),
        (data.meeting_longitude, "meetingLongitude", 180),
    ):
        if coordinate is not None and not -most <= coordinate <= most:
            problems.append(Problem(Code.OUT_OF_RANGE, f"From -{most} to {most}.", field))
    return problems


def _tidy(data: TourData) -> TourData:
    name = " ".join(data.name.split()) if data.name is not None else None
    zone = data.time_zone.strip() if data.time_zone is not None else None
    point = data.meeting_point.strip() if data.meeting_point is not None else None
    return replace(data, name=name, time_zone=zone, meeting_point=point)


async def get_tour(
    session: AsyncSession, tour_id: uuid.UUID, *, lock: bool = False, field: str = "id"
) -> Tour:
    stmt = select(Tour).where(Tour.id == tour_id)
    if lock:
        stmt = stmt.with_for_update()
    tour = await session.scalar(stmt)
    if tour is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such tour.", field)
    return tour


async def create_tour(session: AsyncSession, data: TourData, *, actor: Actor = SYSTEM) -> Tour:
    full = _tidy(
        replace(
            data,
            description=data.description or "",
            min_party=1 if data.min_party is None else data.min_party,
            max_party=50 if data.max_party is None else data.max_party,
            time_zone=data.time_zone or DEFAULT_ZONE,
            meeting_point=data.meeting_point or "",
            active=True if data.active is None else data.active,
        )
    )
    problems = _problems(full)
    if problems:
        raise ServiceError(problems)
    tour = Tour(id=uuid.uuid4(), **{f.name: getattr(full, f.name) for f in fields(full)})
    session.add(tour)
    await session.flush()
    audit.record(
        session,
        entity=audit.TOUR,
        entity_id=tour.id,
        tour_id=tour.id,
        action="create",
        actor=actor.viewer,
        before=None,
        after=audit.snapshot(tour),
    )
    return tour


async def update_tour(
    session: AsyncSession, tour_id: uuid.UUID, data: TourData, *, actor: Actor = SYSTEM
) -> Tour:
    tour = await get_tour(session, tour_id, lock=True)
    before = audit.snapshot(tour)
    edit = _tidy(data)
    merged = TourData(
        **{
            f.name: getattr(tour, f.name)
            if getattr(edit, f.name) is None
            else getattr(edit, f.name)
            for f in fields(edit)
        }
    )
    problems = _problems(merged)
    if problems:
        raise ServiceError(problems)
    for f in fields(edit):
        value = getattr(edit, f.name)
        if value is not None:
            setattr(tour, f.name, value)
    await session.flush()
    await session.refresh(tour)  # numbers as stored: 70 and 70.00 are no change
    audit.record(
        session,
        entity=audit.TOUR,
        entity_id=tour.id,
        tour_id=tour.id,
        action="update",
        actor=actor.viewer,
        before=before,
        after=audit.snapshot(tour),
    )
    return tour


async def listed(session: AsyncSession, *, include_inactive: bool) -> list[Tour]:
    stmt = select(Tour)
    if not include_inactive:
        stmt = stmt.where(Tour.active.is_(True))
    return list(await session.scalars(stmt.order_by(Tour.name, Tour.id)))
