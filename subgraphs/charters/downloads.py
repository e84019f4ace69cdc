"""GET /trip-photos/{id}: a trip photo's bytes, for staff and the driver who uploaded it.

Authenticated by the `Authorization: Bearer` access token only (no cookie,
no token in the URL). 401 without a valid token; 404 when the photo does
not exist *or* the caller may not read it (its existence is not revealed);
200 with the stored content type, inline (it is a picture), otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.routing import Route

from subgraphs.charters.models import TripPhoto
from subgraphs.charters.service.trip_photos import FOLDER, may_download
from subgraphs.kit.downloads import (
    Asked,
    asked_for,
    not_found,
    private_file,
    stored_bytes,
)

if TYPE_CHECKING:
    from starlette.requests import Request


async def download(request: Request) -> Response:
    asked = await asked_for(request, "photo_id", "photo")
    if not isinstance(asked, Asked):
        return asked
    async with asked.services.sessions() as session:
        photo = await session.get(TripPhoto, asked.key)
    if photo is None or not may_download(asked.viewer, photo):
        return not_found("photo")
    data = await stored_bytes(asked.services, FOLDER, photo.storage_key, "photo", photo.id)
    if isinstance(data, Response):
        return data
    return private_file(data, photo.content_type, "inline")


routes = [Route("/trip-photos/{photo_id}", download, methods=["GET"])]
