"""GraphQL types of documents on charters, legal terms and signatures (issue 14 §2-3).

Thin views over rows: lists resolve through loaders, and which documents a
reader sees is `service/documents.visible` (the categories of
`access.DOCUMENT_READS` for the reader's audience of the charter). Bytes are
never in the graph: each version and signature names its download path on
the charters subgraph (`document_downloads.py`), read with the bearer token.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.charters import loaders as L
from subgraphs.charters.service import documents
from subgraphs.charters.types import Charter, User, gid
from subgraphs.kit.errors import BadUserInputError
from subgraphs.kit.pagination import (
    Connection,
    Edge,
    PageInfo,
    decode_cursor,
    encode_cursor,
    page_size,
)


@strawberry.enum(description="What a document on a charter is.")
class CharterDocumentCategory(Enum):
    VENDOR_BID = "vendor_bid"
    CLIENT_DOCUMENT = "client_document"
    TERMS_AND_CONDITIONS = "terms_and_conditions"
    CONTRACT = "contract"
    INVOICE = "invoice"
    RECEIPT = "receipt"
    JOB_SHEET = "job_sheet"


@strawberry.enum(description="Kinds of legal terms clients sign.")
class LegalTermsKind(Enum):
    TERMS_AND_CONDITIONS = "terms_and_conditions"
    CONTRACT = "contract"
    WAIVER = "waiver"


def _user(user_id: uuid.UUID | None) -> User | None:
    return User(id=gid(user_id)) if user_id else None


@strawberry.type(description="One upload of a document; earlier ones are kept.")
class CharterDocumentVersion:
    id: strawberry.ID
    version: int = strawberry.field(description="1 for the first upload, then 2, 3 ...")
    filename: str
    content_type: str
    size_bytes: int
    sha256: str = strawberry.field(description="SHA-256 of the stored bytes, hex.")
    uploaded_by: User | None
    uploaded_at: datetime

    @strawberry.field(
        description=(
            "GET it from the charters subgraph (`/charter-documents/...` at the edge) with "
            "your bearer token; whoever reads the document may download its versions."
        )
    )
    def download_path(self) -> str:
        return f"/charter-documents/{self.id}"

    @classmethod
    def from_row(cls, row: Any) -> CharterDocumentVersion:
        return cls(
            id=gid(row.id),
            version=row.version,
            filename=row.filename,
            content_type=row.content_type,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            uploaded_by=_user(row.uploaded_by),
            uploaded_at=row.uploaded_at,
        )


@strawberry.type(description="A document attached to a charter, with every version uploaded.")
class CharterDocument:
    id: strawberry.ID
    category: CharterDocumentCategory
    name: str
    expires_on: date | None = strawberry.field(description="When it stops being valid, if ever.")
    version_count: int
    created_by: User | None
    created_at: datetime
    updated_at: datetime
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> CharterDocument:
        return cls(
            id=gid(row.id),
            category=CharterDocumentCategory(row.category),
            name=row.name,
            expires_on=row.expires_on,
            version_count=row.version_count,
            created_by=_user(row.created_by),
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )

    async def _versions(self, info: Info) -> list[Any]:
        loader = info.context.loaders.get(L.DocumentVersionsByDocumentIdLoader)
        return await loader.load(self._row.id)  # type: ignore[no-any-return]

    @strawberry.field(description="The newest version.")
    async def current_version(self, info: Info) -> CharterDocumentVersion | None:
        rows = await self._versions(info)
        return CharterDocumentVersion.from_row(rows[-1]) if rows else None

    @strawberry.field(
        description=f"Every version, newest first (at most {documents.MAX_VERSIONS})."
    )
    async def versions(self, info: Info) -> list[CharterDocumentVersion]:
        rows = await self._versions(info)
        return [CharterDocumentVersion.from_row(r) for r in reversed(rows)]

    @strawberry.field(description="The charter it is attached to (its fields as you may read).")
    async def charter(self, info: Info) -> Charter | None:
        row = await info.context.loaders.get(L.CharterByIdLoader).load(self._row.charter_id)
        return Charter.from_row(row) if row else None


@strawberry.type(description="A published version of legal terms; its text never changes.")
class LegalTerms:
    id: strawberry.ID
    kind: LegalTermsKind
    version: int
    title: str
    text: str = strawberry.field(description="The exact text signed, as published.")
    sha256: str = strawberry.field(
        description="SHA-256 of `text`'s UTF-8 bytes, hex: what a signature records."
    )
    is_current: bool = strawberry.field(description="Only the current version can be signed.")
    published_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> LegalTerms:
        return cls(
            id=gid(row.id),
            kind=LegalTermsKind(row.kind),
            version=row.version,
            title=row.title,
            text=row.text,
            sha256=row.sha256,
            is_current=row.is_current,
            published_at=row.published_at,
        )


@strawberry.type(description="An e-signature of legal terms for a charter.")
class CharterSignature:
    id: strawberry.ID
    terms_kind: LegalTermsKind
    terms_sha256: str = strawberry.field(description="The signed version's SHA-256, copied.")
    typed_name: str
    signer: User | None = strawberry.field(description="Null: signed through a quote link.")
    signed_at: datetime
    ip_address: str | None
    user_agent: str | None
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> CharterSignature:
        return cls(
            id=gid(row.id),
            terms_kind=LegalTermsKind(row.terms_kind),
            terms_sha256=row.terms_sha256,
            typed_name=row.typed_name,
            signer=_user(row.signer_id),
            signed_at=row.signed_at,
            ip_address=row.ip_address,
            user_agent=row.user_agent,
            _row=row,
        )

    @strawberry.field(description="The terms version signed.")
    async def terms(self, info: Info) -> LegalTerms | None:
        row = await info.context.loaders.get(L.LegalTermsByIdLoader).load(
            self._row.terms_version_id
        )
        return LegalTerms.from_row(row) if row else None

    @strawberry.field(
        description=(
            "The signed document as a PDF (the exact terms text and this signature block): "
            "GET it from the charters subgraph with your bearer token (staff, or the "
            "charter's own client)."
        )
    )
    def download_path(self) -> str:
        return f"/charter-documents/signed/{self.id}.pdf"


# --- Charter.documents: the reader's documents of a charter, as a connection ---------------


def _order_key(row: Any) -> tuple[str, str]:
    return (row.created_at.isoformat(), str(row.id))


async def charter_documents(
    info: Info,
    charter: Any,
    first: int | None,
    after: str | None,
    category: CharterDocumentCategory | None,
) -> Connection[CharterDocument]:
    """The documents the reader may read, newest first.

    Paged in memory: a charter holds at most `documents.MAX_DOCUMENTS_PER_CHARTER`.
    """
    size = page_size(first)
    audience = await charter.reader_audience(info)
    vendor_id = None
    viewer = await info.context.get_viewer()
    if audience == "vendor" and viewer.user_id is not None:
        vendor_id = await info.context.loaders.get(L.VendorIdByUserIdLoader).load(viewer.user_id)
    rows = await info.context.loaders.get(L.DocumentsByCharterIdLoader).load(charter._row.id)
    shown = documents.visible(rows, documents.Reader(audience, vendor_id))
    if category is not None:
        shown = [r for r in shown if r.category == category.value]
    shown.sort(key=_order_key, reverse=True)
    total = len(shown)
    if after:
        values = decode_cursor(after, 2)
        if not all(isinstance(v, str) for v in values):
            raise BadUserInputError("The cursor `after` is not valid.")
        bound = (values[0], values[1])
        shown = [r for r in shown if _order_key(r) < bound]
    page = shown[:size]
    edges = [
        Edge(cursor=encode_cursor(list(_order_key(r))), node=CharterDocument.from_row(r))
        for r in page
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(shown) > size,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=total,
    )


__all__ = [
    "CharterDocument",
    "CharterDocumentCategory",
    "CharterDocumentVersion",
    "CharterSignature",
    "LegalTerms",
    "LegalTermsKind",
    "charter_documents",
]
