"""Compliance documents: checked uploads, stored behind `storage`, scoped downloads.

An upload is refused (a user error, nothing stored: no row, no file) when
it is empty, larger than the configured limit, or its bytes are not a PDF,
PNG or JPEG. The type is decided by the file's magic bytes; a declared
type that disagrees with them is refused too (an .exe renamed .pdf).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from subgraphs.kit import file_types
from subgraphs.kit.storage import clean_filename
from subgraphs.vendors.models import Document
from subgraphs.vendors.service import audit
from subgraphs.vendors.service.access import STAFF, STAFF_EDIT, ensure_vendor_scope, vendor_of
from subgraphs.vendors.service.vendors import get as get_vendor

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.kit.storage import FileStorage

#: What a compliance document may be.
ALLOWED = (file_types.PDF, file_types.PNG, file_types.JPEG)


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    declared_type: str | None
    data: bytes


def check(file: IncomingFile, max_bytes: int) -> str:
    """The content type to store, or a user error on field `file`."""
    return file_types.check(
        file.data,
        file.declared_type,
        max_bytes,
        ALLOWED,
        too_large=f"The file is {len(file.data)} bytes; the limit is {max_bytes} bytes "
        f"({max_bytes // (1024 * 1024)} MB).",
        unsupported=f"The file's content is not one of {', '.join(sorted(ALLOWED))}.",
        synonyms={},
    )


async def upload(
    session: AsyncSession,
    storage: FileStorage,
    vendor_id: uuid.UUID,
    file: IncomingFile,
    actor: Viewer,
    *,
    max_bytes: int,
    stored_keys: list[str] | None = None,
) -> Document:
    """Check, then store the bytes and record the row (in the caller's transaction).

    The bytes are written last; `stored_keys` receives the key so the caller
    can delete the file if the transaction does not commit.
    """
    vendor = await get_vendor(session, vendor_id)
    await ensure_vendor_scope(session, actor, vendor.id, staff_roles=STAFF_EDIT)
    content_type = check(file, max_bytes)
    row = Document(
        id=uuid.uuid4(),
        vendor_id=vendor.id,
        filename=clean_filename(file.filename) or "document",
        content_type=content_type,
        size_bytes=len(file.data),
        sha256=hashlib.sha256(file.data).hexdigest(),
        storage_key=storage.new_key(),
        uploaded_by=actor.user_id,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        vendor_id=vendor.id,
        entity="document",
        entity_id=row.id,
        action="upload",
        actor=actor,
        before=None,
        after=audit.row_snapshot(row),
    )
    if stored_keys is not None:
        stored_keys.append(row.storage_key)
    await storage.put(row.storage_key, file.data)
    return row


async def may_download(session: AsyncSession, viewer: Viewer, document: Document) -> bool:
    """Staff, or a user of the vendor owning the document; nobody else."""
    if viewer.has_any_role(*STAFF):
        return True
    own = await vendor_of(session, viewer)
    return own is not None and own == document.vendor_id
