"""Tours' departures operated as shuttle charters (issue 15 §5): charters' consumer of tours.

Tours sells seats on scheduled departures; once a departure is confirmed
to run, a coach must be found, dispatched and paid for like any trip. So
charters consumes `tours.departure_changed` and, for a departure confirmed
to run and not cancelled, creates one shuttle charter:

- for the house client (`settings.tours_client_id`), picking up at the
  tour's meeting point at the departure's start, in its zone, and dropping
  off there at its end, with as many passengers as seats booked;
- once per departure: `charters.tour_slot_id` is unique and the handler
  holds a transaction-scoped advisory lock on the departure, so redelivered
  events and concurrent replicas find the charter already made. That
  column is the idempotency key of this cross-subgraph write;
- through the same service as `createCharter`, by the system acting with
  a manager's rights (no person: `created_by` and the audit's actor are
  empty). The charter is a quote without vehicles: staff add the coach and
  book it as usual.

Later events update the passenger count through `charters.edit`, as staff
would: a quote changes at once, a booked charter gets a passenger-count
change case for staff to approve. A cancelled departure cancels its
charter. What cannot be done (a departure already past, a charter already
completed) is logged and skipped, never retried forever: the event stays
acknowledged and staff see the departure in tours.

The house client must be one charters knows (`known_clients`): sales
announces it when the operator creates it there; until then this consumer
records it itself under a placeholder name, dated at the epoch so that
sales' own announcement always wins (see `ensure_house_client`).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.models import Charter, KnownClient
from subgraphs.charters.service import charters as charter_service
from subgraphs.charters.service import events
from subgraphs.charters.service.change_cases import ApprovalPolicy, ChangeRequest
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

DEPARTURE_CHANGED = "tours.departure_changed"
TRIP_TYPE = "shuttle"
#: The system operating tours' departures: a manager's rights, no person.
TOURS_OPERATOR = Viewer(roles=frozenset({Role.MANAGER}))
HOUSE_CLIENT_NAME = "Tours (house client)"
#: Older than any event: sales' own announcement of the house client replaces the placeholder.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Statuses in which a charter no longer follows its departure.
_FINISHED = frozenset({"completed", "cancelled"})


async def ensure_house_client(session: AsyncSession, client_id: uuid.UUID) -> None:
    await session.execute(
        insert(KnownClient)
        .values(id=client_id, name=HOUSE_CLIENT_NAME, registered_at=_EPOCH)
        .on_conflict_do_nothing(index_elements=[KnownClient.id])
    )


async def charter_for_slot(session: AsyncSession, slot_id: uuid.UUID) -> Charter | None:
    return await session.scalar(
        select(Charter).where(Charter.tour_slot_id == slot_id).with_for_update()
    )


def _local(instant: str, time_zone: str) -> datetime:
    """The departure's wall time in its zone, as charters keeps a pickup."""
    return datetime.fromisoformat(instant).astimezone(ZoneInfo(time_zone)).replace(tzinfo=None)


def _address(payload: dict[str, Any]) -> str:
    point = " ".join(str(payload.get("meetingPoint") or "").split())
    return (point or f"Meeting point of {payload.get('tourName') or 'the tour'}")[:500]


def _stops(payload: dict[str, Any]) -> list[dict[str, Any]]:
    place = {
        "address": _address(payload),
        "latitude": payload.get("meetingLatitude"),
        "longitude": payload.get("meetingLongitude"),
        "notes": None,
    }
    return [
        {
            **place,
            "id": None,
            "stop_type": "pickup",
            "planned_arrival": None,
            "planned_departure": payload["startsAt"],
        },
        {
            **place,
            "id": None,
            "stop_type": "dropoff",
            "planned_arrival": payload["endsAt"],
            "planned_departure": None,
        },
    ]


def new_charter(payload: dict[str, Any], client_id: uuid.UUID, slot_id: uuid.UUID) -> Any:
    zone = str(payload["timeZone"])
    return charter_service.NewCharter(
        client_id=client_id,
        trip_type=TRIP_TYPE,
        passenger_count=int(payload["seatsBooked"]),
        pickup_local=_local(payload["startsAt"], zone),
        pickup_time_zone=zone,
        ends_at=datetime.fromisoformat(payload["endsAt"]),
        notes=(
            f"Tour departure {payload.get('tourName') or ''} on {payload.get('date')} "
            f"{payload.get('startLocal')}-{payload.get('endLocal')} ({slot_id})."
        ),
        stops=_stops(payload),
        horizon_days=get_settings().charter_booking_horizon_days,
    )


async def create_for_slot(
    session: AsyncSession, payload: dict[str, Any], slot_id: uuid.UUID
) -> Charter:
    client_id = uuid.UUID(get_settings().tours_client_id)
    await ensure_house_client(session, client_id)
    charter = await charter_service.create(
        session, new_charter(payload, client_id, slot_id), TOURS_OPERATOR
    )
    # `create` announced it already; the second event carries `tourSlotId` for tours.
    charter.tour_slot_id = slot_id
    await events.charter_changed(session, charter, ["tourSlot"])
    return charter


async def follow_seats(session: AsyncSession, charter: Charter, seats: int) -> None:
    """The passenger count follows the seats sold: at once on a quote, by a change case after."""
    if charter.passenger_count == seats or seats < 1 or charter.status in _FINISHED:
        return

    def change(snap: dict[str, Any]) -> dict[str, Any]:
        return {**snap, "passenger_count": seats}

    await charter_service.edit(
        session,
        charter.id,
        change,
        TOURS_OPERATOR,
        request=ChangeRequest(
            change_type="passenger_count_change",
            title=f"Tour departure: {seats} seats booked",
            reason="The seats booked on the tour departure changed.",
        ),
        policy=ApprovalPolicy(),
        horizon_days=get_settings().charter_booking_horizon_days,
    )


async def cancel_with_slot(session: AsyncSession, charter: Charter, reason: str) -> None:
    if charter.status in _FINISHED:
        return
    await charter_service.cancel(
        session,
        charter.id,
        reason=f"Tour departure cancelled: {reason}"[:1000],
        fee=None,
        actor=TOURS_OPERATOR,
    )


async def apply_departure_event(session: AsyncSession, event: dict[str, Any]) -> None:
    """Create, follow or cancel the charter of one departure; idempotent, safe on replicas."""
    payload = event.get("payload") or {}
    if "slotId" not in payload:
        return
    slot_id = uuid.UUID(str(payload["slotId"]))
    # One departure at a time across replicas: the second finds the first's charter.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"tour-slot:{slot_id}"))))
    charter = await charter_for_slot(session, slot_id)
    try:
        # A savepoint: a refusal below leaves this transaction usable for the acknowledgement.
        async with session.begin_nested():
            if payload.get("cancelled"):
                if charter is not None:
                    await cancel_with_slot(
                        session, charter, str(payload.get("cancellationReason") or "")
                    )
            elif charter is None:
                if payload.get("confirmedToRun") and int(payload.get("seatsBooked") or 0) > 0:
                    await create_for_slot(session, payload, slot_id)
            else:
                await follow_seats(session, charter, int(payload.get("seatsBooked") or 0))
    except ServiceError as exc:
        log.warning(
            "tour departure %s: charters cannot follow it (%s)",
            slot_id,
            "; ".join(p.message for p in exc.problems),
        )
