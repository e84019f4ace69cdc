"""Document upload through the GraphQL multipart request spec.

Clients POST `multipart/form-data` with `operations`, `map` and the file
part (https://github.com/jaydenseric/graphql-multipart-request-spec) to the
router, which streams it here once the caller is authorized
(`router/server/uploads.py`). The roles that may upload are declared once
(`UPLOADERS`) and published as `@requiresScopes`, so the router refuses
anyone else before a byte of the file is read.
"""

from __future__ import annotations

import contextlib
import logging

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from protocol.roles import Role
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.payloads import UserError, transact, user_errors
from subgraphs.kit.permissions import allow
from subgraphs.kit.storage import storage_from
from subgraphs.kit.uploads import read_upload
from subgraphs.vendors.mutations.common import parse_id
from subgraphs.vendors.service import documents
from subgraphs.vendors.service.access import STAFF_EDIT
from subgraphs.vendors.types import Document

log = logging.getLogger(__name__)


@strawberry.type
class DocumentPayload:
    document: Document | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


#: Who may upload: enforced here (`allow`) and by the router (`@requiresScopes`).
UPLOADERS = (*STAFF_EDIT, Role.VENDOR)


@strawberry.type
class DocumentMutations:
    @strawberry.federation.mutation(
        extensions=[allow(*UPLOADERS)],
        requires_scopes=[[f"role:{role.value}"] for role in UPLOADERS],
        description=(
            "Upload a compliance document (PDF, PNG or JPEG, 10 MB at most) as a "
            "multipart request; reference it from addCertification(documentId)."
        ),
    )
    async def upload_vendor_document(
        self, info: Info, vendor_id: strawberry.ID, file: Upload
    ) -> DocumentPayload:
        viewer = await info.context.get_viewer()
        settings = info.context.settings
        storage = storage_from(settings)
        try:
            data = await read_upload(file, settings.document_max_bytes)
        except ServiceError as error:  # not a multipart file: nothing to store
            return DocumentPayload(user_errors=user_errors(error))
        incoming = documents.IncomingFile(
            filename=getattr(file, "filename", None) or "document",
            declared_type=getattr(file, "content_type", None),
            data=data,
        )
        stored: list[str] = []
        committed = False
        try:
            row, errors = await transact(
                info,
                lambda s: documents.upload(
                    s,
                    storage,
                    parse_id(vendor_id, "vendorId"),
                    incoming,
                    viewer,
                    max_bytes=settings.document_max_bytes,
                    stored_keys=stored,
                ),
            )
            committed = not errors
        finally:
            if not committed:
                for key in stored:  # the row was rolled back: no orphan file
                    with contextlib.suppress(Exception):
                        await storage.delete(key)
        return DocumentPayload(document=Document.from_row(row) if row else None, user_errors=errors)
