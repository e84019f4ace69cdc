"""The driver app's types: a trip as its driver runs it, with no money in reach.

`Trip` is one charter vehicle seen from the cab: where and when (stops with
planned and actual times, coordinates), whom to meet, what to mind
(instructions marked for drivers), which coach, whom to call, and the
driver's own notes, photos and pre-trip checklist. It carries no price and
no link to another driver's trip; the charter and charter vehicle behind it
stay reachable (`charter`, `charterVehicle`) but under the portals' field
gate (`service/visibility.py`), which refuses a driver their money fields.
Only `Query.trip` and the driver app's mutations hand one out, each after
checking the reader may read it; every list below resolves through a loader.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.charters import loaders as L
from subgraphs.charters.enums import CharterStatus, DispatchStatus, StopType
from subgraphs.charters.service.access import READERS
from subgraphs.charters.service.instructions import visible_to
from subgraphs.charters.service.visibility import Audience
from subgraphs.charters.types import (
    Charter,
    CharterVehicle,
    SpecialInstruction,
    User,
    Vehicle,
    VehicleType,
    gid,
)
from subgraphs.kit.errors import NotFoundError
from subgraphs.kit.ids import require_uuid


@strawberry.enum(description="What a trip photo shows.")
class TripPhotoKind(Enum):
    EXTERIOR = "exterior"
    INTERIOR = "interior"
    DAMAGE = "damage"
    OTHER = "other"


def _user(user_id: uuid.UUID | None) -> User | None:
    return User(id=gid(user_id)) if user_id else None


@strawberry.type(description="Whom the driver meets at the pickup.")
class TripContact:
    name: str | None
    phone: str | None


@strawberry.type(description="A stop of the trip: planned, and as driven.")
class TripStop:
    id: strawberry.ID
    position: int
    type: StopType
    address: str
    latitude: float | None
    longitude: float | None
    planned_arrival: datetime | None
    planned_departure: datetime | None
    notes: str | None
    arrived_at: datetime | None = strawberry.field(description="When the driver arrived.")
    departed_at: datetime | None = strawberry.field(description="When the driver left.")


@strawberry.type(description="A driver's note on a trip.")
class TripNote:
    id: strawberry.ID
    text: str
    author: User | None
    created_at: datetime


@strawberry.type(description="A photo a driver took of its coach for a trip.")
class TripPhoto:
    id: strawberry.ID
    kind: TripPhotoKind
    content_type: str
    size_bytes: int
    filename: str | None
    uploaded_by: User | None
    uploaded_at: datetime

    @strawberry.field(
        description=(
            "GET it from the charters subgraph with your bearer token "
            "(staff, or the driver who uploaded it)."
        )
    )
    def download_path(self) -> str:
        return f"/trip-photos/{self.id}"

    @classmethod
    def from_row(cls, row: Any) -> TripPhoto:
        return cls(
            id=gid(row.id),
            kind=TripPhotoKind(row.kind),
            content_type=row.content_type,
            size_bytes=row.size_bytes,
            filename=row.filename,
            uploaded_by=_user(row.uploaded_by),
            uploaded_at=row.uploaded_at,
        )


@strawberry.type(description="An item of the pre-trip checklist (configured by managers).")
class ChecklistItem:
    id: strawberry.ID
    label: str
    position: int
    active: bool

    @classmethod
    def from_row(cls, row: Any) -> ChecklistItem:
        return cls(id=gid(row.id), label=row.label, position=row.position, active=row.active)


@strawberry.type(description="One checklist item for one trip: done or not, by whom, when.")
class TripChecklistEntry:
    item: ChecklistItem
    done: bool
    completed_at: datetime | None
    completed_by: User | None


@strawberry.type(description="A trip as its driver runs it: one charter vehicle, no money.")
class Trip:
    id: strawberry.ID = strawberry.field(description="The charter vehicle's id.")
    dispatch_status: DispatchStatus
    started_at: datetime | None = strawberry.field(description="Left the first stop.")
    completed_at: datetime | None
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> Trip:
        return cls(
            id=gid(row.id),
            dispatch_status=DispatchStatus(row.dispatch_status),
            started_at=row.trip_started_at,
            completed_at=row.trip_completed_at,
            _row=row,
        )

    async def _charter(self, info: Info) -> Any:
        return await info.context.loaders.get(L.CharterByIdLoader).load(self._row.charter_id)

    @strawberry.field
    async def reference(self, info: Info) -> str:
        return str((await self._charter(info)).reference)

    @strawberry.field(description="The charter's status (IN_PROGRESS once a trip started).")
    async def charter_status(self, info: Info) -> CharterStatus:
        return CharterStatus((await self._charter(info)).status)

    @strawberry.field(description="The pickup instant (UTC).")
    async def pickup_at(self, info: Info) -> datetime:
        return (await self._charter(info)).pickup_at  # type: ignore[no-any-return]

    @strawberry.field(description="Local wall time of the pickup, ISO 8601.")
    async def pickup_local(self, info: Info) -> str:
        return str((await self._charter(info)).pickup_local.isoformat(timespec="minutes"))

    @strawberry.field(description="IANA zone of `pickupLocal`.")
    async def pickup_time_zone(self, info: Info) -> str:
        return str((await self._charter(info)).pickup_time_zone)

    @strawberry.field
    async def passenger_count(self, info: Info) -> int:
        return int((await self._charter(info)).passenger_count)

    @strawberry.field
    async def pickup_contact(self, info: Info) -> TripContact | None:
        charter = await self._charter(info)
        if charter.pickup_contact_name is None and charter.pickup_contact_phone is None:
            return None
        return TripContact(name=charter.pickup_contact_name, phone=charter.pickup_contact_phone)

    @strawberry.field(description="The charter's free-text instructions for its drivers.")
    async def driver_instructions(self, info: Info) -> str | None:
        return (await self._charter(info)).driver_instructions  # type: ignore[no-any-return]

    @strawberry.field(
        description="The charter's special instructions marked for drivers (what the driver "
        "reads, whoever asks): critical first, then important, then normal (at most 50)."
    )
    async def instructions(self, info: Info) -> list[SpecialInstruction]:
        rows = await info.context.loaders.get(L.SpecialInstructionsByCharterIdLoader).load(
            self._row.charter_id
        )
        return [SpecialInstruction.from_row(r) for r in visible_to(rows, Audience.DRIVER)]

    @strawberry.field(
        description="The itinerary in order, with the driver's actual times (at most 50 stops)."
    )
    async def stops(self, info: Info) -> list[TripStop]:
        loaders = info.context.loaders
        stops = await loaders.get(L.StopsByCharterIdLoader).load(self._row.charter_id)
        visits = {
            v.stop_id: v
            for v in await loaders.get(L.StopVisitsByCharterVehicleIdLoader).load(self._row.id)
        }
        return [
            TripStop(
                id=gid(s.id),
                position=s.position,
                type=StopType(s.stop_type),
                address=s.address,
                latitude=float(s.latitude) if s.latitude is not None else None,
                longitude=float(s.longitude) if s.longitude is not None else None,
                planned_arrival=s.planned_arrival,
                planned_departure=s.planned_departure,
                notes=s.notes,
                arrived_at=visits[s.id].arrived_at if s.id in visits else None,
                departed_at=visits[s.id].departed_at if s.id in visits else None,
            )
            for s in stops
        ]

    @strawberry.field(description="The operator's coach, once one is assigned.")
    async def vehicle(self, info: Info) -> Vehicle | None:
        if self._row.vehicle_id is None:
            return None
        row = await info.context.loaders.get(L.VehicleByIdLoader).load(self._row.vehicle_id)
        return Vehicle.from_row(row) if row else None

    @strawberry.field
    async def vehicle_type(self, info: Info) -> VehicleType:
        row = await info.context.loaders.get(L.VehicleTypeByIdLoader).load(
            self._row.vehicle_type_id
        )
        return VehicleType.from_row(row)

    @strawberry.field(description="The dispatch desk's phone number.")
    def dispatch_phone(self, info: Info) -> str:
        return str(info.context.settings.dispatch_phone_number)

    @strawberry.field(description="When the trip's current driver confirmed it in the app.")
    async def confirmed_at(self, info: Info) -> datetime | None:
        rows = await info.context.loaders.get(L.ConfirmationsByVehicleIdLoader).load(self._row.id)
        mine = [r for r in rows if r.party == "driver" and r.party_id == self._row.driver_id]
        return mine[-1].confirmed_at if mine else None

    @strawberry.field(description="The driver's notes, oldest first (at most 100 per trip).")
    async def notes(self, info: Info) -> list[TripNote]:
        rows = await info.context.loaders.get(L.TripNotesByCharterVehicleIdLoader).load(
            self._row.id
        )
        return [
            TripNote(id=gid(r.id), text=r.text, author=_user(r.author_id), created_at=r.created_at)
            for r in rows
        ]

    @strawberry.field(
        description="Photos of the coach for this trip, oldest first (at most 50 per trip)."
    )
    async def photos(self, info: Info) -> list[TripPhoto]:
        rows = await info.context.loaders.get(L.TripPhotosByCharterVehicleIdLoader).load(
            self._row.id
        )
        return [TripPhoto.from_row(r) for r in rows]

    @strawberry.field(
        description="The pre-trip checklist: every active item in order, then any item done "
        "for this trip that was retired since (at most 100: 50 active items, 50 retired)."
    )
    async def checklist(self, info: Info) -> list[TripChecklistEntry]:
        loaders = info.context.loaders
        items = await loaders.get(L.ChecklistItemsLoader).load(False)
        done = {
            c.item_id: c
            for c in await loaders.get(L.ChecklistCompletionsByCharterVehicleIdLoader).load(
                self._row.id
            )
        }
        return [
            TripChecklistEntry(
                item=ChecklistItem.from_row(item),
                done=item.id in done,
                completed_at=done[item.id].completed_at if item.id in done else None,
                completed_by=_user(done[item.id].completed_by) if item.id in done else None,
            )
            for item in sorted(items, key=lambda i: not i.active)
            if item.active or item.id in done
        ]

    @strawberry.field(
        description="The charter vehicle (portal field rules apply: no money); nullable so "
        "that a refused field never takes the trip with it."
    )
    def charter_vehicle(self) -> CharterVehicle | None:
        return CharterVehicle.from_row(self._row)

    @strawberry.field(
        description="The charter (portal field rules apply: no money); nullable so that a "
        "refused field never takes the trip with it."
    )
    async def charter(self, info: Info) -> Charter | None:
        return Charter.from_row(await self._charter(info))


async def trip_for(info: Info, id: strawberry.ID) -> Trip:
    """`Query.trip`: staff read any trip, a driver only its own; to others it does not exist."""
    key = require_uuid(id, "Trip")
    loaders = info.context.loaders
    row = await loaders.get(L.CharterVehicleByIdLoader).load(key)
    if row is None:
        raise NotFoundError("Trip", id)
    viewer = await info.context.get_viewer()
    if not viewer.has_any_role(*READERS):
        driver_id = (
            await loaders.get(L.DriverIdByUserIdLoader).load(viewer.user_id)
            if viewer.user_id
            else None
        )
        if driver_id is None or row.driver_id != driver_id:
            raise NotFoundError("Trip", id)
    charter = await loaders.get(L.CharterByIdLoader).load(row.charter_id)
    if charter is None or charter.is_template:
        raise NotFoundError("Trip", id)
    return Trip.from_row(row)


async def checklist_items(info: Info, include_retired: bool) -> list[ChecklistItem]:
    rows = await info.context.loaders.get(L.ChecklistItemsLoader).load(not include_retired)
    return [ChecklistItem.from_row(r) for r in rows]
