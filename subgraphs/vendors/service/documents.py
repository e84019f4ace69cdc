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

from subgraphs.kit.errors import ServiceError
from subgraphs.kit.storage import clean_filename
from subgraphs.vendors.error_codes import VendorErrorCode as Code
from subgraphs.vendors.models import Document
from subgraphs.vendors.service import audit
from subgraphs.vendors.service.access import STAFF, STAFF_EDIT, ensure_vendor_scope, vendor_of
from subgraphs.vendors.service.vendors import get as get_vendor

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.auth.viewer import Viewer
    from subgraphs.kit.storage import FileStorage

#: Allowed content types and the bytes every such file starts with.
MAGIC: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
#: Declared types that say nothing; the bytes decide alone.
GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream"}


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    declared_type: str | None
    data: bytes


def sniff(data: bytes) -> str | None:
    """The allowed content type the bytes are, or None."""
    for content_type, prefixes in MAGIC.items():
        if any(data.startswith(p) for p in prefixes):
            return content_type
    return None


def check(file: IncomingFile, max_bytes: int) -> str:
    """The content type to store, or a user error on field `file`."""
    size = len(file.data)
    if size == 0:
        raise ServiceError.of(Code.REQUIRED, "The file is empty.", "file")
    if size > max_bytes:
        raise ServiceError.of(
            Code.FILE_TOO_LARGE,
            f"The file is {size} bytes; the limit is {max_bytes} bytes "
            f"({max_bytes // (1024 * 1024)} MB).",
            "file",
        )
    actual = sniff(file.data)
    allowed = ", ".join(sorted(MAGIC))
    if actual is None:
        raise ServiceError.of(
            Code.UNSUPPORTED_FILE_TYPE,
            f"The file's content is not one of {allowed}.",
            "file",
        )
    declared = (file.declared_type or "").split(";", 1)[0].strip().lower()
    if declared not in GENERIC_TYPES and declared != actual:
        raise ServiceError.of(
            Code.UNSUPPORTED_FILE_TYPE,
            f"The file is declared {declared} but its content is {actual}.",
            "file",
        )
    return actual


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
