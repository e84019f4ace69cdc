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
from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.routing import Route

from subgraphs.charters.models import Charter, CharterSignature
from subgraphs.charters.service import documents, legal_terms
from subgraphs.charters.service.access import SIGNATURE_READERS
from subgraphs.kit.downloads import (
    Asked,
    asked_for,
    attachment,
    not_found,
    private_file,
    stored_bytes,
)

if TYPE_CHECKING:
    from starlette.requests import Request


async def download_version(request: Request) -> Response:
    asked = await asked_for(request, "version_id", "document")
    if not isinstance(asked, Asked):
        return asked
    async with asked.services.sessions() as session:
        version = await documents.downloadable_version(session, asked.viewer, asked.key)
    if version is None:
        return not_found("document")
    data = await stored_bytes(
        asked.services, documents.FOLDER, version.storage_key, "document", version.id
    )
    if isinstance(data, Response):
        return data
    return private_file(
        data, version.content_type, attachment(version.filename), etag=version.sha256
    )


async def download_signed(request: Request) -> Response:
    asked = await asked_for(request, "signature_id", "signature")
    if not isinstance(asked, Asked):
        return asked
    async with asked.services.sessions() as session:
        signature = await session.get(CharterSignature, asked.key)
        charter = await session.get(Charter, signature.charter_id) if signature else None
        if signature is None or charter is None:
            return not_found("signature")
        reader = await documents.reader_of(session, asked.viewer, charter)
        if reader.audience not in SIGNATURE_READERS:
            return not_found("signature")
        signed = await legal_terms.signed_document(session, signature)
    if signed is None:
        return not_found("signature")
    pdf = await asyncio.to_thread(legal_terms.render_signed, signed)
    return private_file(
        pdf,
        "application/pdf",
        attachment(f"{charter.reference}-{signature.terms_kind}.pdf"),
    )


routes = [
    Route("/charter-documents/signed/{signature_id}.pdf", download_signed, methods=["GET"]),
    Route("/charter-documents/{version_id}", download_version, methods=["GET"]),
]
