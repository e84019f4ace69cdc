"""Documents on charters and legal terms (issue 14 §2-3).

Uploads come through the router as GraphQL multipart requests, as trip
photos do (`router/server/uploads.py`); the roles that may upload at all are
published as `@requiresScopes`, so the router refuses anyone else before a
byte of the file is read. Which category a caller may attach to which
charter is `access.DOCUMENT_UPLOADS`, applied in `service/documents.py`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from subgraphs.charters.mutations.inputs import parse_id
from subgraphs.charters.service import documents, legal_terms
from subgraphs.charters.service.access import DOCUMENT_UPLOADERS, LEGAL_TERMS_PUBLISHERS
from subgraphs.charters.types_documents import (
    CharterDocument,
    CharterDocumentCategory,
    CharterDocumentVersion,
    LegalTerms,
    LegalTermsKind,
)
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.payloads import UserError, transact, user_errors
from subgraphs.kit.permissions import allow
from subgraphs.kit.storage import storage_from
from subgraphs.kit.uploads import read_upload

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.storage import FileStorage

UPLOAD_SCOPES = [[f"role:{role.value}"] for role in DOCUMENT_UPLOADERS]


@strawberry.type
class CharterDocumentPayload:
    document: CharterDocument | None = None
    version: CharterDocumentVersion | None = strawberry.field(
        default=None, description="The version this upload made."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LegalTermsPayload:
    terms: LegalTerms | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="A new version of legal terms: its exact text, as signed.")
class PublishLegalTermsInput:
    kind: LegalTermsKind
    title: str
    text: str


Stored = tuple[Any, Any]


async def _upload(
    info: Info,
    file: Any,
    work: Callable[
        [AsyncSession, FileStorage, documents.IncomingFile, list[str]], Awaitable[Stored]
    ],
) -> CharterDocumentPayload:
    """Run an upload in one transaction; a file stored for a rolled-back row is deleted."""
    settings = info.context.settings
    storage = storage_from(settings, documents.FOLDER)
    try:
        data = await read_upload(file, settings.charter_document_max_bytes)
    except ServiceError as error:  # not a multipart file: nothing to store
        return CharterDocumentPayload(user_errors=user_errors(error))
    incoming = documents.IncomingFile(
        filename=getattr(file, "filename", None),
        declared_type=getattr(file, "content_type", None),
        data=data,
    )
    stored: list[str] = []
    committed = False
    try:
        result, errors = await transact(info, lambda s: work(s, storage, incoming, stored))
        committed = not errors
    finally:
        if not committed:
            for key in stored:  # the row was rolled back: no orphan file
                with contextlib.suppress(Exception):
                    await storage.delete(key)
    if result is None:
        return CharterDocumentPayload(user_errors=errors)
    document, version = result
    return CharterDocumentPayload(
        document=CharterDocument.from_row(document),
        version=CharterDocumentVersion.from_row(version),
    )


@strawberry.type
class DocumentMutations:
    @strawberry.federation.mutation(
        extensions=[allow(*DOCUMENT_UPLOADERS)],
        requires_scopes=UPLOAD_SCOPES,
        description=(
            "Attach a new document to a charter (PDF, PNG, JPEG or Word DOCX; the size limit "
            "is `charterDocumentMaxBytes` in settings, 10 MB by default) as a multipart "
            "request. Staff attach any category; a client a CLIENT_DOCUMENT to its own "
            "charter; a vendor a VENDOR_BID to a charter it may read."
        ),
    )
    async def upload_charter_document(
        self,
        info: Info,
        charter_id: strawberry.ID,
        category: CharterDocumentCategory,
        name: str,
        file: Upload,
        expires_on: date | None = None,
    ) -> CharterDocumentPayload:
        viewer = await info.context.get_viewer()
        max_bytes = info.context.settings.charter_document_max_bytes

        async def work(
            session: AsyncSession,
            storage: FileStorage,
            incoming: documents.IncomingFile,
            stored: list[str],
        ) -> Stored:
            return await documents.upload(
                session,
                storage,
                parse_id(charter_id, "charterId"),
                category.value,
                name,
                incoming,
                viewer,
                max_bytes=max_bytes,
                expires_on=expires_on,
                stored_keys=stored,
            )

        return await _upload(info, file, work)

    @strawberry.federation.mutation(
        extensions=[allow(*DOCUMENT_UPLOADERS)],
        requires_scopes=UPLOAD_SCOPES,
        description=(
            "Upload a newer version of a document (every earlier version is kept); "
            "`expiresOn`, when given, replaces the document's expiry. The same rules as "
            "`uploadCharterDocument` for the document's category."
        ),
    )
    async def upload_charter_document_version(
        self,
        info: Info,
        document_id: strawberry.ID,
        file: Upload,
        expires_on: date | None = None,
    ) -> CharterDocumentPayload:
        viewer = await info.context.get_viewer()
        max_bytes = info.context.settings.charter_document_max_bytes

        async def work(
            session: AsyncSession,
            storage: FileStorage,
            incoming: documents.IncomingFile,
            stored: list[str],
        ) -> Stored:
            return await documents.add_version(
                session,
                storage,
                parse_id(document_id, "documentId"),
                incoming,
                viewer,
                max_bytes=max_bytes,
                expires_on=expires_on,
                stored_keys=stored,
            )

        return await _upload(info, file, work)

    @strawberry.mutation(
        extensions=[allow(*LEGAL_TERMS_PUBLISHERS)],
        description=(
            "Publish a new version of legal terms (admins and managers): it becomes the "
            "current one of its kind, the only one clients can sign."
        ),
    )
    async def publish_legal_terms(
        self, info: Info, input: PublishLegalTermsInput
    ) -> LegalTermsPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info,
            lambda s: legal_terms.publish(s, input.kind.value, input.title, input.text, viewer),
        )
        if row is None:
            return LegalTermsPayload(user_errors=_input_fields(errors))
        return LegalTermsPayload(terms=LegalTerms.from_row(row))


def _input_fields(errors: list[UserError]) -> list[UserError]:
    """The service names the input's own fields; the payload names them under `input`."""
    return [
        UserError(field=f"input.{e.field}" if e.field else None, code=e.code, message=e.message)
        for e in errors
    ]
