"""What an uploaded file really is: its bytes decide, never its name or declared type.

Vendors' documents, charters' documents and trip photos each accept a few
types; a file is taken only when its first bytes (or, for HEIC and Word,
its container's structure) say it is one of them, and a declared type that
contradicts the bytes is refused, so a script renamed `.pdf` is never
stored. `check` is the one upload rule: not empty, within the size limit,
one of the allowed types, no contradicting declaration; each refusal a user
error on the input field `file`.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Collection, Mapping

from subgraphs.kit.errors import ServiceError

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
HEIC = "image/heic"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

#: Signatures at the start of the file.
PREFIXES: dict[str, tuple[bytes, ...]] = {
    PDF: (b"%PDF-",),
    PNG: (b"\x89PNG\r\n\x1a\n",),
    JPEG: (b"\xff\xd8\xff",),
}
#: HEIC (what iPhones take) is an ISO media file: `ftyp` at byte 4, then its brand.
HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"})
#: Declared types that say nothing; the bytes decide alone.
GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
#: Other names browsers give the same types (HEIF is HEIC's family name).
SYNONYMS = {"image/jpg": JPEG, "application/x-pdf": PDF, "image/heif": HEIC}


def _is_docx(data: bytes) -> bool:
    """A zip whose parts are a Word document's (reads the directory only, extracts nothing)."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    return "[Content_Types].xml" in names and "word/document.xml" in names


def sniff(data: bytes, allowed: Collection[str]) -> str | None:
    """The type among `allowed` the bytes are, or None."""
    for content_type, prefixes in PREFIXES.items():
        if content_type in allowed and any(data.startswith(p) for p in prefixes):
            return content_type
    if HEIC in allowed and len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in HEIC_BRANDS:
        return HEIC
    if DOCX in allowed and _is_docx(data):
        return DOCX
    return None


def check(
    data: bytes,
    declared_type: str | None,
    max_bytes: int,
    allowed: Collection[str],
    *,
    too_large: str,
    unsupported: str,
    synonyms: Mapping[str, str] = SYNONYMS,
) -> str:
    """The content type to store, or a user error on field `file` (the caller's wording)."""
    if not data:
        raise ServiceError.of("REQUIRED", "The file is empty.", "file")
    if len(data) > max_bytes:
        raise ServiceError.of("FILE_TOO_LARGE", too_large, "file")
    actual = sniff(data, allowed)
    if actual is None:
        raise ServiceError.of("UNSUPPORTED_FILE_TYPE", unsupported, "file")
    declared = (declared_type or "").split(";", 1)[0].strip().lower()
    declared = synonyms.get(declared, declared)
    if declared not in GENERIC_TYPES and declared != actual:
        raise ServiceError.of(
            "UNSUPPORTED_FILE_TYPE",
            f"The file is declared {declared} but its content is {actual}.",
            "file",
        )
    return actual
