"""GET /trip-photos/{id}: a trip photo's bytes, for staff and the driver who uploaded it.

Authenticated by the `Authorization: Bearer` access token only (no cookie,
no token in the URL). 401 without a valid token; 404 when the photo does
not exist *or* the caller may not read it (its existence is not revealed);
200 with the stored content type, inline (it is a picture), otherwise.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.routing import Route

from subgraphs.charters.models import TripPhoto
from subgraphs.charters.service.trip_photos import FOLDER, may_download
from subgraphs.kit.auth.request_viewer import problem, viewer_of
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.storage import StorageError, storage_from

if TYPE_CHECKING:
    from starlette.requests import Request

    from subgraphs.kit.context import Services

log = logging.getLogger(__name__)


async def download(request: Request) -> Response:
    services: Services = request.app.state.services
    viewer = await viewer_of(request, services)
    if viewer is None:
        return problem(401, "UNAUTHENTICATED", "Log in: a valid, current access token is needed.")
    key = parse_uuid(request.path_params["photo_id"])
    not_found = problem(404, "NOT_FOUND", "No such photo.")
    if key is None:
        return not_found
    async with services.sessions() as session:
        photo = await session.get(TripPhoto, key)
    if photo is None or not may_download(viewer, photo):
        return not_found
    try:
        data = await storage_from(services.settings, FOLDER).get(photo.storage_key)
    except StorageError:
        log.error("trip photo %s has a row but no stored file", photo.id)
        return problem(404, "NOT_FOUND", "The photo's file is missing.")
    return Response(
        data,
        media_type=photo.content_type,
        headers={
            "Content-Disposition": "inline",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


routes = [Route("/trip-photos/{photo_id}", download, methods=["GET"])]
