"""GET /charter-documents/...: documents' versions and signed terms, for their readers only.

- `/charter-documents/{version_id}`: a document version's bytes, for whoever
  may read the document (`access.DOCUMENT_READS` for the caller's audience of
  its charter), as an attachment with its stored type and name.
- `/charter-documents/signed/{signature_id}.pdf`: the signed terms as a PDF
  (the exact text signed and the signature block), for staff and the
  charter's own client (`access.SIGNATURE_READERS`).

Authenticated by the `Authorization: Bearer` access token only (no cookie,
no token in the URL). 401 without a valid token; 404 when the thing does
not exist *or* the caller may not read it (its existence is not revealed).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Route

from subgraphs.charters.models import Charter, CharterSignature
from subgraphs.charters.service import documents, legal_terms
from subgraphs.charters.service.access import SIGNATURE_READERS
from subgraphs.kit.auth.request_viewer import problem, viewer_of
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.storage import StorageError, storage_from

if TYPE_CHECKING:
    from starlette.requests import Request

    from subgraphs.kit.context import Services

log = logging.getLogger(__name__)

HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}


def _attachment(filename: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(filename, safe='')}"


async def download_version(request: Request) -> Response:
    services: Services = request.app.state.services
    viewer = await viewer_of(request, services)
    if viewer is None:
        return problem(401, "UNAUTHENTICATED", "Log in: a valid, current access token is needed.")
    key = parse_uuid(request.path_params["version_id"])
    not_found = problem(404, "NOT_FOUND", "No such document.")
    if key is None:
        return not_found
    async with services.sessions() as session:
        version = await documents.downloadable_version(session, viewer, key)
    if version is None:
        return not_found
    try:
        data = await storage_from(services.settings, documents.FOLDER).get(version.storage_key)
    except StorageError:
        log.error("charter document version %s has a row but no stored file", version.id)
        return problem(404, "NOT_FOUND", "The document's file is missing.")
    return Response(
        data,
        media_type=version.content_type,
        headers={
            **HEADERS,
            "Content-Disposition": _attachment(version.filename),
            "ETag": f'"{version.sha256}"',
        },
    )


async def download_signed(request: Request) -> Response:
    services: Services = request.app.state.services
    viewer = await viewer_of(request, services)
    if viewer is None:
        return problem(401, "UNAUTHENTICATED", "Log in: a valid, current access token is needed.")
    key = parse_uuid(request.path_params["signature_id"])
    not_found = problem(404, "NOT_FOUND", "No such signature.")
    if key is None:
        return not_found
    async with services.sessions() as session:
        signature = await session.get(CharterSignature, key)
        charter = await session.get(Charter, signature.charter_id) if signature else None
        if signature is None or charter is None:
            return not_found
        reader = await documents.reader_of(session, viewer, charter)
        if reader.audience not in SIGNATURE_READERS:
            return not_found
        signed = await legal_terms.signed_document(session, signature)
    if signed is None:
        return not_found
    pdf = await asyncio.to_thread(legal_terms.render_signed, signed)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **HEADERS,
            "Content-Disposition": _attachment(f"{charter.reference}-{signature.terms_kind}.pdf"),
        },
    )


routes = [
    Route("/charter-documents/signed/{signature_id}.pdf", download_signed, methods=["GET"]),
    Route("/charter-documents/{version_id}", download_version, methods=["GET"]),
]
