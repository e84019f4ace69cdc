"""Trip photos: a driver's pictures of its coach (exterior, interior, damage).

They are checked before anything is stored, and read back only by staff
and the driver who took them.

An upload is refused (a user error, nothing stored: no row, no file) when
it is empty, over the configured limit (`Settings.trip_photo_max_bytes`),
or its bytes are not a JPEG, PNG or HEIC picture. The type is decided by the
file's magic bytes; a declared type that disagrees with them is refused too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import PHOTO_KINDS, TripPhoto
from subgraphs.charters.service import audit, events
from subgraphs.charters.service.access import TRIP_PHOTO_STAFF
from subgraphs.charters.service.driver_trips import assigned_trip
from subgraphs.charters.service.timing import now as utc_now
from subgraphs.kit import file_types
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.storage import clean_filename

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.kit.storage import FileStorage

#: Trip photos' folder under the documents path (kit/storage.py).
FOLDER = "trip-photos"
#: Photos one trip keeps: `Trip.photos` is a plain list, so its length is bounded here.
PHOTOS_PER_TRIP = 50
ALLOWED = (file_types.JPEG, file_types.PNG, file_types.HEIC)


@dataclass(frozen=True)
class IncomingPhoto:
    filename: str | None
    declared_type: str | None
    data: bytes


def check(photo: IncomingPhoto, max_bytes: int) -> str:
    """The content type to store, or a user error on field `file`."""
    return file_types.check(
        photo.data,
        photo.declared_type,
        max_bytes,
        ALLOWED,
        too_large=f"The photo is larger than the limit of {max_bytes} bytes.",
        unsupported=f"The file is not a photo ({', '.join(ALLOWED)}).",
    )


async def upload(
    session: AsyncSession,
    storage: FileStorage,
    trip_id: uuid.UUID,
    kind: str,
    photo: IncomingPhoto,
    actor: Viewer,
    *,
    max_bytes: int,
    stored_keys: list[str] | None = None,
) -> TripPhoto:
    """Check, then record the row and store the bytes (in the caller's transaction).

    The bytes are written last; `stored_keys` receives the key so the caller
    can delete the file if the transaction does not commit.
    """
    if kind not in PHOTO_KINDS:
        raise ServiceError.of(Code.INVALID, f"{kind!r} is not a photo kind.", "kind")
    trip = await assigned_trip(session, trip_id, actor, "tripId")
    # The vehicle row is locked (assigned_trip): two uploads cannot both take the last place.
    kept = await session.scalar(
        select(func.count())
        .select_from(TripPhoto)
        .where(TripPhoto.charter_vehicle_id == trip.row.id)
    )
    if (kept or 0) >= PHOTOS_PER_TRIP:
        raise ServiceError.of(
            Code.OUT_OF_RANGE, f"A trip keeps at most {PHOTOS_PER_TRIP} photos.", "tripId"
        )
    content_type = check(photo, max_bytes)
    row = TripPhoto(
        id=uuid.uuid4(),
        charter_vehicle_id=trip.row.id,
        kind=kind,
        storage_key=storage.new_key(),
        content_type=content_type,
        size_bytes=len(photo.data),
        filename=clean_filename(photo.filename),
        uploaded_by=actor.user_id,
        uploaded_at=utc_now(),
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        charter_id=trip.charter.id,
        entity="trip_photo",
        entity_id=row.id,
        action="trip:photo",
        actor=actor,
        old=None,
        new=audit.row_snapshot(row),
    )
    await events.charter_changed(
        session,
        trip.charter,
        ["trip", "tripPhotos"],
        charterVehicleId=str(trip.row.id),
        photoKind=kind,
    )
    if stored_keys is not None:
        stored_keys.append(row.storage_key)
    await storage.put(row.storage_key, photo.data)
    return row


def may_download(viewer: Viewer, photo: TripPhoto) -> bool:
    """Staff, or the driver who uploaded it; nobody else (other drivers, vendors, clients)."""
    if viewer.has_any_role(*TRIP_PHOTO_STAFF):
        return True
    return viewer.user_id is not None and photo.uploaded_by == viewer.user_id
