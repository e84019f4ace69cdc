"""Documents on charters (issue 14 §3): categories, versions, expiry, scoped reads.

A document is a name and a category on a charter; each upload to it is a
version, and no version is ever replaced or removed, so what a client or a
vendor was sent stays what they were sent. Who reads and uploads which
category is `access.DOCUMENT_READS` / `DOCUMENT_UPLOADS`, per audience of the
charter (`visibility.audience_of`): a charter the caller may not read is,
for them, one that does not exist (NOT_FOUND), a category they may not
touch is FORBIDDEN.

An upload is refused (a user error, nothing stored: no row, no file) when it
is empty, over `Settings.charter_document_max_bytes`, or its bytes are not a
PDF, PNG, JPEG or Word (DOCX) document. The type is decided by the bytes: a
DOCX is a zip, so a zip counts only when it holds a Word document's parts
(`word/document.xml`); other zips (spreadsheets, archives) are refused. A
declared type that disagrees with the bytes is refused too.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from protocol.roles import Role
from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import (
    DOCUMENT_CATEGORIES,
    Charter,
    CharterDocument,
    CharterDocumentVersion,
    VendorAccount,
    VendorCharterAccess,
)
from subgraphs.charters.service import audit, events
from subgraphs.charters.service.access import (
    may_read_document,
    may_upload_document,
)
from subgraphs.charters.service.timing import now as utc_now
from subgraphs.charters.service.visibility import Audience, CharterFacts, audience_of
from subgraphs.kit import file_types
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.storage import clean_filename

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.kit.storage import FileStorage

#: The documents' folder under the documents path (kit/storage.py).
FOLDER = "charter-documents"
#: A charter's documents are one plain page in memory (`Charter.documents`): bounded here.
MAX_DOCUMENTS_PER_CHARTER = 100
#: Versions one document keeps (`CharterDocument.versions` is a plain list).
MAX_VERSIONS = 50
MAX_NAME = 200
#: `expiringCharterDocuments`' window.
MAX_EXPIRY_WINDOW_DAYS = 366

PDF = file_types.PDF
DOCX = file_types.DOCX
ALLOWED = (PDF, file_types.PNG, file_types.JPEG, DOCX)


@dataclass(frozen=True)
class IncomingFile:
    filename: str | None
    declared_type: str | None
    data: bytes


def check(file: IncomingFile, max_bytes: int) -> str:
    """The content type to store, or a user error on field `file`."""
    return file_types.check(
        file.data,
        file.declared_type,
        max_bytes,
        ALLOWED,
        too_large=f"The file is {len(file.data)} bytes; the limit is {max_bytes} bytes.",
        unsupported="The file is not a PDF, PNG, JPEG or Word (DOCX) document.",
    )


# --- who the caller is for a charter -----------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """The caller's audience for one charter, and the vendor its account works for."""

    audience: Audience | None
    vendor_id: uuid.UUID | None = None

    def may_read(self, document: Any) -> bool:
        return may_read_document(
            self.audience,
            document.category,
            uploaded_by_vendor=document.vendor_id,
            reader_vendor=self.vendor_id,
        )


async def vendor_of(session: AsyncSession, viewer: Viewer) -> uuid.UUID | None:
    if not viewer.has_any_role(Role.VENDOR) or viewer.user_id is None:
        return None
    return await session.scalar(
        select(VendorAccount.vendor_id).where(VendorAccount.user_id == viewer.user_id)
    )


async def reader_of(session: AsyncSession, viewer: Viewer, charter: Charter) -> Reader:
    """`visibility.audience_of` from the session (no dataloaders: mutations, downloads).

    Drivers' facts are not gathered: drivers read no documents, so a driver is
    simply no reader here.
    """
    vendor_id = await vendor_of(session, viewer)
    reasons: dict[uuid.UUID, list[str]] = {}
    if vendor_id is not None:
        found = await session.scalar(
            select(VendorCharterAccess.reasons).where(
                VendorCharterAccess.charter_id == charter.id,
                VendorCharterAccess.vendor_id == vendor_id,
            )
        )
        reasons = {vendor_id: list(found or [])}
    facts = CharterFacts(
        client_id=charter.client_id,
        status=charter.status,
        pickup_at=charter.pickup_at,
        driver_ids=(),
        vendor_reasons=reasons,
    )
    audience = audience_of(viewer, facts, vendor_id=vendor_id, driver_id=None, now=utc_now())
    return Reader(audience, vendor_id)


def visible(rows: Iterable[Any], reader: Reader) -> list[Any]:
    """The documents of `rows` the reader may read, in their order."""
    return [r for r in rows if reader.may_read(r)]


# --- uploads --------------------------------------------------------------------------------


async def _charter_for(
    session: AsyncSession, charter_id: uuid.UUID, viewer: Viewer
) -> tuple[Charter, Reader]:
    charter = await session.scalar(
        select(Charter).where(Charter.id == charter_id).with_for_update(key_share=True)
    )
    reader = await reader_of(session, viewer, charter) if charter is not None else Reader(None)
    if charter is None or charter.is_template or reader.audience is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such charter.", "charterId")
    return charter, reader


def _checked_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise ServiceError.of(Code.REQUIRED, "Name the document.", "name")
    if len(cleaned) > MAX_NAME:
        raise ServiceError.of(
            Code.TOO_LONG, f"A document name is at most {MAX_NAME} characters.", "name"
        )
    return cleaned


def _checked_expiry(expires_on: date | None) -> date | None:
    if expires_on is not None and expires_on < utc_now().date():
        raise ServiceError.of(Code.IN_THE_PAST, "The expiry date has passed.", "expiresOn")
    return expires_on


async def _store_version(
    session: AsyncSession,
    storage: FileStorage,
    document: CharterDocument,
    number: int,
    file: IncomingFile,
    content_type: str,
    actor: Viewer,
    stored_keys: list[str] | None,
) -> CharterDocumentVersion:
    """Record the version row, then write the bytes (last: the caller deletes on rollback)."""
    version = CharterDocumentVersion(
        id=uuid.uuid4(),
        document_id=document.id,
        version=number,
        filename=clean_filename(file.filename) or "document",
        content_type=content_type,
        size_bytes=len(file.data),
        sha256=hashlib.sha256(file.data).hexdigest(),
        storage_key=storage.new_key(),
        uploaded_by=actor.user_id,
        uploaded_at=utc_now(),
    )
    session.add(version)
    await session.flush()
    audit.record(
        session,
        charter_id=document.charter_id,
        entity="charter_document_version",
        entity_id=version.id,
        action="document:version",
        actor=actor,
        old=None,
        new=audit.row_snapshot(version),
    )
    if stored_keys is not None:
        stored_keys.append(version.storage_key)
    await storage.put(version.storage_key, file.data)
    return version


async def upload(
    session: AsyncSession,
    storage: FileStorage,
    charter_id: uuid.UUID,
    category: str,
    name: str,
    file: IncomingFile,
    actor: Viewer,
    *,
    max_bytes: int,
    expires_on: date | None = None,
    stored_keys: list[str] | None = None,
) -> tuple[CharterDocument, CharterDocumentVersion]:
    """A new document on a charter, with its first version (in the caller's transaction).

    `stored_keys` receives the stored file's key so the caller can delete it
    if the transaction does not commit.
    """
    if category not in DOCUMENT_CATEGORIES:
        raise ServiceError.of(Code.INVALID, f"{category!r} is not a document category.", "category")
    charter, reader = await _charter_for(session, charter_id, actor)
    if not may_upload_document(reader.audience, category):
        raise ServiceError.of(
            Code.FORBIDDEN, f"You cannot attach a {category} document to this charter.", "category"
        )
    cleaned = _checked_name(name)
    expiry = _checked_expiry(expires_on)
    # The charter row is locked: two uploads cannot both take the last place.
    held = await session.scalar(
        select(func.count())
        .select_from(CharterDocument)
        .where(CharterDocument.charter_id == charter.id)
    )
    if (held or 0) >= MAX_DOCUMENTS_PER_CHARTER:
        raise ServiceError.of(
            Code.OUT_OF_RANGE,
            f"A charter holds at most {MAX_DOCUMENTS_PER_CHARTER} documents; add a version.",
            "charterId",
        )
    content_type = check(file, max_bytes)
    document = CharterDocument(
        id=uuid.uuid4(),
        charter_id=charter.id,
        category=category,
        name=cleaned,
        expires_on=expiry,
        vendor_id=reader.vendor_id if reader.audience == Audience.VENDOR else None,
        client_id=charter.client_id if reader.audience == Audience.CLIENT else None,
        version_count=1,
        created_by=actor.user_id,
    )
    session.add(document)
    await session.flush()
    audit.record(
        session,
        charter_id=charter.id,
        entity="charter_document",
        entity_id=document.id,
        action="document:create",
        actor=actor,
        old=None,
        new=audit.row_snapshot(document),
    )
    version = await _store_version(
        session, storage, document, 1, file, content_type, actor, stored_keys
    )
    await events.charter_changed(
        session,
        charter,
        ["documents"],
        documentId=str(document.id),
        documentCategory=category,
        documentVersion=1,
    )
    return document, version


async def add_version(
    session: AsyncSession,
    storage: FileStorage,
    document_id: uuid.UUID,
    file: IncomingFile,
    actor: Viewer,
    *,
    max_bytes: int,
    expires_on: date | None = None,
    stored_keys: list[str] | None = None,
) -> tuple[CharterDocument, CharterDocumentVersion]:
    """A newer version of a document; every earlier one stays (and stays downloadable).

    `expires_on`, when given, replaces the document's expiry (a renewed
    certificate); left out, the expiry stays.
    """
    document = await session.scalar(
        select(CharterDocument).where(CharterDocument.id == document_id).with_for_update()
    )
    charter = await session.get(Charter, document.charter_id) if document else None
    reader = await reader_of(session, actor, charter) if charter is not None else Reader(None)
    if document is None or charter is None or not reader.may_read(document):
        raise ServiceError.of(Code.NOT_FOUND, "No such document.", "documentId")
    if not may_upload_document(reader.audience, document.category):
        raise ServiceError.of(
            Code.FORBIDDEN, "You cannot add a version to this document.", "documentId"
        )
    expiry = _checked_expiry(expires_on)
    if document.version_count >= MAX_VERSIONS:
        raise ServiceError.of(
            Code.OUT_OF_RANGE,
            f"A document keeps at most {MAX_VERSIONS} versions; start a new document.",
            "documentId",
        )
    content_type = check(file, max_bytes)
    old = audit.row_snapshot(document)
    number = document.version_count + 1
    document.version_count = number
    if expiry is not None:
        document.expires_on = expiry
    await session.flush()
    audit.record(
        session,
        charter_id=document.charter_id,
        entity="charter_document",
        entity_id=document.id,
        action="document:new_version",
        actor=actor,
        old=old,
        new=audit.row_snapshot(document),
    )
    version = await _store_version(
        session, storage, document, number, file, content_type, actor, stored_keys
    )
    await events.charter_changed(
        session,
        charter,
        ["documents"],
        documentId=str(document.id),
        documentCategory=document.category,
        documentVersion=number,
    )
    return document, version


# --- reads ------------------------------------------------------------------------------------


def expiry_horizon(within_days: int, today: date) -> date:
    """The last day `expiringCharterDocuments` lists, or a user error on `withinDays`."""
    if not 0 <= within_days <= MAX_EXPIRY_WINDOW_DAYS:
        raise ServiceError.of(
            Code.OUT_OF_RANGE,
            f"`withinDays` must be between 0 and {MAX_EXPIRY_WINDOW_DAYS}.",
            "withinDays",
        )
    return today + timedelta(days=within_days)


def expiring(horizon: date) -> Any:
    """Documents whose expiry is on or before `horizon`, already expired ones included.

    The same list vendors' `expiringCertifications` gives for certificates.
    """
    return select(CharterDocument).where(
        CharterDocument.expires_on.is_not(None), CharterDocument.expires_on <= horizon
    )


async def downloadable_version(
    session: AsyncSession, viewer: Viewer, version_id: uuid.UUID
) -> CharterDocumentVersion | None:
    """The version if the viewer may read its document; None otherwise (or unknown)."""
    version = await session.get(CharterDocumentVersion, version_id)
    if version is None:
        return None
    document = await session.get(CharterDocument, version.document_id)
    charter = await session.get(Charter, document.charter_id) if document else None
    if document is None or charter is None:
        return None
    reader = await reader_of(session, viewer, charter)
    return version if reader.may_read(document) else None
