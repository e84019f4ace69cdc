"""The driver app's mutations: a trip's lifecycle, notes, photos and the pre-trip checklist.

Every trip mutation is the assigned driver's alone (`allow(*TRIP_RUNNERS)`
at the gate, `driver_trips.assigned_trip` in the service): another driver's
trip, or an unknown id, is a NOT_FOUND user error on the id. Photos come
through the router as GraphQL multipart requests (`router/server/uploads.py`);
the role that may upload is published as `@requiresScopes`, so the router
refuses anyone else before a byte of the file is read.
"""

from __future__ import annotations

import contextlib
from typing import Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from subgraphs.charters import loaders as L
from subgraphs.charters.dispatch_types.driver_app import (
    ChecklistItem,
    Trip,
    TripNote,
    TripPhoto,
    TripPhotoKind,
)
from subgraphs.charters.mutations.inputs import parse_id
from subgraphs.charters.service import checklist, driver_trips, trip_photos
from subgraphs.charters.service.access import CHECKLIST_EDITORS, TRIP_RUNNERS
from subgraphs.charters.types import User, gid
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.payloads import UserError, transact, user_errors
from subgraphs.kit.permissions import allow
from subgraphs.kit.storage import storage_from
from subgraphs.kit.uploads import read_upload


@strawberry.type
class TripPayload:
    trip: Trip | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TripNotePayload:
    note: TripNote | None = None
    trip: Trip | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TripPhotoPayload:
    photo: TripPhoto | None = None
    trip: Trip | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ChecklistItemsPayload:
    items: list[ChecklistItem] | None = strawberry.field(
        default=None, description="The active items, in order (at most 50)."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="One checklist item: an existing one by id, or a new one.")
class ChecklistItemInput:
    label: str
    id: strawberry.ID | None = None


async def _trip_call(info: Info, call: Any) -> TripPayload:
    viewer = await info.context.get_viewer()
    trip, errors = await transact(info, lambda s: call(s, viewer))
    return TripPayload(trip=Trip.from_row(trip.row) if trip else None, user_errors=errors)


@strawberry.type
class DriverAppMutations:
    @strawberry.mutation(
        extensions=[allow(*TRIP_RUNNERS)],
        description="Confirm, as the trip's driver, that you will drive it (once).",
    )
    async def confirm_trip(self, info: Info, id: strawberry.ID) -> TripPayload:
        return await _trip_call(info, lambda s, v: driver_trips.confirm(s, parse_id(id, "id"), v))

    @strawberry.mutation(
        extensions=[allow(*TRIP_RUNNERS)],
        description=(
            "Leave the first stop: the trip starts (from 3 hours before pickup), its "
            "dispatch status becomes IN_TRANSIT and its charter IN_PROGRESS."
        ),
    )
    async def start_trip(self, info: Info, id: strawberry.ID) -> TripPayload:
        return await _trip_call(info, lambda s, v: driver_trips.start(s, parse_id(id, "id"), v))

    @strawberry.mutation(
        extensions=[allow(*TRIP_RUNNERS)],
        description="Arrive at the trip's next stop (stops go in order).",
    )
    async def arrive_at_stop(
        self, info: Info, trip_id: strawberry.ID, stop_id: strawberry.ID
    ) -> TripPayload:
        return await _trip_call(
            info,
            lambda s, v: driver_trips.arrive(
                s, parse_id(trip_id, "tripId"), parse_id(stop_id, "stopId"), v
            ),
        )

    @strawberry.mutation(
        extensions=[allow(*TRIP_RUNNERS)], description="Leave a stop you arrived at (once)."
    )
    async def depart_stop(
        self, info: Info, trip_id: strawberry.ID, stop_id: strawberry.ID
    ) -> TripPayload:
        return await _trip_call(
            info,
            lambda s, v: driver_trips.depart(
                s, parse_id(trip_id, "tripId"), parse_id(stop_id, "stopId"), v
            ),
        )

    @strawberry.mutation(
        extensions=[allow(*TRIP_RUNNERS)],
        description=(
            "Complete the trip at its last stop; the charter completes with its last vehicle."
        ),
    )
    async def complete_trip(self, info: Info, id: strawberry.ID) -> TripPayload:
        return await _trip_call(info, lambda s, v: driver_trips.complete(s, parse_id(id, "id"), v))

    @strawberry.mutation(
        extensions=[allow(*TRIP_RUNNERS)], description="Add a note to your trip (2,000 characters)."
    )
    async def add_trip_note(self, info: Info, trip_id: strawberry.ID, text: str) -> TripNotePayload:
        viewer = await info.context.get_viewer()
        result, errors = await transact(
            info, lambda s: driver_trips.add_note(s, parse_id(trip_id, "tripId"), text, viewer)
        )
        if result is None:
            return TripNotePayload(user_errors=errors)
        trip, note = result
        return TripNotePayload(
            trip=Trip.from_row(trip.row),
            note=TripNote(
                id=gid(note.id),
                text=note.text,
                author=User(id=gid(note.author_id)) if note.author_id else None,
                created_at=note.created_at,
            ),
        )

    @strawberry.federation.mutation(
        extensions=[allow(*TRIP_RUNNERS)],
        requires_scopes=[[f"role:{role.value}"] for role in TRIP_RUNNERS],
        description=(
            "Upload a photo of your trip's coach (JPEG, PNG or HEIC; the size limit is "
            "`tripPhotoMaxBytes` in settings, 10 MB by default) as a multipart request."
        ),
    )
    async def upload_trip_photo(
        self, info: Info, trip_id: strawberry.ID, kind: TripPhotoKind, file: Upload
    ) -> TripPhotoPayload:
        viewer = await info.context.get_viewer()
        settings = info.context.settings
        storage = storage_from(settings, trip_photos.FOLDER)
        try:
            data = await read_upload(file, settings.trip_photo_max_bytes)
        except ServiceError as error:  # not a multipart file: nothing to store
            return TripPhotoPayload(user_errors=user_errors(error))
        incoming = trip_photos.IncomingPhoto(
            filename=getattr(file, "filename", None),
            declared_type=getattr(file, "content_type", None),
            data=data,
        )
        stored: list[str] = []
        committed = False
        try:
            row, errors = await transact(
                info,
                lambda s: trip_photos.upload(
                    s,
                    storage,
                    parse_id(trip_id, "tripId"),
                    kind.value,
                    incoming,
                    viewer,
                    max_bytes=settings.trip_photo_max_bytes,
                    stored_keys=stored,
                ),
            )
            committed = not errors
        finally:
            if not committed:
                for key in stored:  # the row was rolled back: no orphan file
                    with contextlib.suppress(Exception):
                        await storage.delete(key)
        if row is None:
            return TripPhotoPayload(user_errors=errors)
        trip = await info.context.loaders.get(L.CharterVehicleByIdLoader).load(
            row.charter_vehicle_id
        )
        return TripPhotoPayload(
            photo=TripPhoto.from_row(row), trip=Trip.from_row(trip) if trip else None
        )

    @strawberry.mutation(
        extensions=[allow(*CHECKLIST_EDITORS)],
        description=(
            "Set the pre-trip checklist: these items, in this order (new ones without an "
            "id); items left out are retired, their completions kept."
        ),
    )
    async def set_checklist_items(
        self, info: Info, items: list[ChecklistItemInput]
    ) -> ChecklistItemsPayload:
        viewer = await info.context.get_viewer()

        async def work(session: Any) -> Any:
            specs = [checklist.ItemSpec(label=i.label, id=parse_id(i.id, "items")) for i in items]
            return await checklist.set_items(session, specs, viewer)

        rows, errors = await transact(info, work)
        return ChecklistItemsPayload(
            items=[ChecklistItem.from_row(r) for r in rows] if rows is not None else None,
            user_errors=errors,
        )

    @strawberry.mutation(
        extensions=[allow(*TRIP_RUNNERS)],
        description="Tick one pre-trip checklist item for your trip (once).",
    )
    async def complete_checklist_item(
        self, info: Info, trip_id: strawberry.ID, item_id: strawberry.ID
    ) -> TripPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info,
            lambda s: checklist.complete_item(
                s, parse_id(trip_id, "tripId"), parse_id(item_id, "itemId"), viewer
            ),
        )
        if row is None:
            return TripPayload(user_errors=errors)
        trip = await info.context.loaders.get(L.CharterVehicleByIdLoader).load(
            row.charter_vehicle_id
        )
        return TripPayload(trip=Trip.from_row(trip) if trip else None)
