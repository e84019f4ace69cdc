"""The shape every plain download route shares: who asks for which id, and a private file back.

Downloads (vendors' documents, charters' trip photos, documents and signed
terms, finance's invoice PDFs) are plain GET routes beside GraphQL. Each
decides for itself who may read what; the rest is one rule: 401 without a
valid, current token; 404 for an id that is malformed, unknown or not the
caller's (existence is never revealed); the bytes with `nosniff` and
`no-store`, so a browser neither guesses their type nor keeps them.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.responses import Response

from subgraphs.kit.auth.request_viewer import problem, viewer_of
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.storage import StorageError, storage_from

if TYPE_CHECKING:
    from starlette.requests import Request

    from protocol.viewer import Viewer
    from subgraphs.kit.context import Services

log = logging.getLogger(__name__)

PRIVATE = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}


@dataclass(frozen=True, slots=True)
class Asked:
    """A download request whose caller is known and whose path names a well-formed id."""

    services: Services
    viewer: Viewer
    key: uuid.UUID


def not_found(what: str) -> Response:
    return problem(404, "NOT_FOUND", f"No such {what}.")


async def asked_for(request: Request, param: str, what: str) -> Asked | Response:
    """The caller and the id in path parameter `param`, or the 401/404 to answer instead."""
    services: Services = request.app.state.services
    viewer = await viewer_of(request, services)
    if viewer is None:
        return problem(401, "UNAUTHENTICATED", "Log in: a valid, current access token is needed.")
    key = parse_uuid(request.path_params[param])
    if key is None:
        return not_found(what)
    return Asked(services, viewer, key)


def attachment(filename: str) -> str:
    """A Content-Disposition that carries any file name safely (RFC 6266 / 5987)."""
    return f"attachment; filename*=UTF-8''{quote(filename, safe='')}"


def private_file(
    data: bytes, media_type: str, disposition: str, etag: str | None = None
) -> Response:
    headers = {**PRIVATE, "Content-Disposition": disposition}
    if etag is not None:
        headers["ETag"] = f'"{etag}"'
    return Response(data, media_type=media_type, headers=headers)


async def stored_bytes(
    services: Services, folder: str | None, storage_key: str, what: str, row_id: object
) -> bytes | Response:
    """The stored file of a row, or a 404 (logged: a row without its file is our fault)."""
    try:
        return await storage_from(services.settings, folder).get(storage_key)
    except StorageError:
        log.error("%s %s has a row but no stored file", what, row_id)
        return problem(404, "NOT_FOUND", f"The {what}'s file is missing.")
