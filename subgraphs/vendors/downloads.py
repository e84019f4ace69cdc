"""GET /documents/{id}: a compliance document's bytes, for staff and its vendor.

Authenticated by the `Authorization: Bearer` access token only (no cookie,
no token in the URL). 401 without a valid token; 404 when the document
does not exist *or* belongs to another vendor (its existence is not
revealed); 200 with the stored content type as an attachment otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.routing import Route

from subgraphs.kit.downloads import (
    Asked,
    asked_for,
    attachment,
    not_found,
    private_file,
    stored_bytes,
)
from subgraphs.vendors.models import Document
from subgraphs.vendors.service.documents import may_download

if TYPE_CHECKING:
    from starlette.requests import Request


async def download(request: Request) -> Response:
    asked = await asked_for(request, "document_id", "document")
    if not isinstance(asked, Asked):
        return asked
    async with asked.services.sessions() as session:
        document = await session.get(Document, asked.key)
        if document is None or not await may_download(session, asked.viewer, document):
            return not_found("document")
    data = await stored_bytes(asked.services, None, document.storage_key, "document", document.id)
    if isinstance(data, Response):
        return data
    return private_file(
        data, document.content_type, attachment(document.filename), etag=document.sha256
    )


routes = [Route("/documents/{document_id}", download, methods=["GET"])]
