"""GET /documents/{id}: a compliance document's bytes, for staff and its vendor.

Authenticated by the `Authorization: Bearer` access token only (no cookie,
no token in the URL). 401 without a valid token; 404 when the document
does not exist *or* belongs to another vendor (its existence is not
revealed); 200 with the stored content type as an attachment otherwise.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Route

from subgraphs.kit.auth.request_viewer import problem, viewer_of
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.storage import StorageError, storage_from
from subgraphs.vendors.models import Document
from subgraphs.vendors.service.documents import may_download

if TYPE_CHECKING:
    from starlette.requests import Request

    from subgraphs.kit.context import Services

log = logging.getLogger(__name__)


async def download(request: Request) -> Response:
    services: Services = request.app.state.services
    viewer = await viewer_of(request, services)
    if viewer is None:
        return problem(401, "UNAUTHENTICATED", "Log in: a valid, current access token is needed.")
    key = parse_uuid(request.path_params["document_id"])
    not_found = problem(404, "NOT_FOUND", "No such document.")
    if key is None:
        return not_found
    async with services.sessions() as session:
        document = await session.get(Document, key)
        if document is None or not await may_download(session, viewer, document):
            return not_found
    try:
        data = await storage_from(services.settings).get(document.storage_key)
    except StorageError:
        log.error("document %s has a row but no stored file", document.id)
        return problem(404, "NOT_FOUND", "The document's file is missing.")
    filename = quote(document.filename, safe="")
    return Response(
        data,
        media_type=document.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{filename}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "ETag": f'"{document.sha256}"',
        },
    )


routes = [Route("/documents/{document_id}", download, methods=["GET"])]
