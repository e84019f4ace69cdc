"""Legal terms with versions, and e-signatures of them on charters (issue 14 §2).

A signature must prove what was signed, so a terms version is immutable once
published: its text is kept byte for byte, with the SHA-256 of its UTF-8
bytes, and publishing again makes a new version (the earlier one stays,
no longer current). Only the current version of a kind can be signed; the
signature copies the version's kind and hash, so the record stands even if
someone later reads a different text under the same name.

Publishing is audited in `legal_terms_audit` (terms belong to no charter);
signatures go to the charter's audit log and its event stream.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer
from sqlalchemy import func, select, text, update

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import (
    LEGAL_TERMS_KINDS,
    Charter,
    CharterSignature,
    LegalTermsAudit,
    LegalTermsVersion,
)
from subgraphs.charters.service import audit, events
from subgraphs.charters.service.timing import now as utc_now
from subgraphs.kit import auditing
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

MAX_TITLE = 200
#: About 100 pages of plain text: terms, not a library.
MAX_TEXT = 200_000
MAX_TYPED_NAME = 200
MAX_USER_AGENT = 500
MAX_IP = 45


def sha256_of(terms_text: str) -> str:
    """The hash a signature proves: over the exact UTF-8 bytes of the text."""
    return hashlib.sha256(terms_text.encode("utf-8")).hexdigest()


# --- publishing -----------------------------------------------------------------------------


async def publish(
    session: AsyncSession, kind: str, title: str, terms_text: str, actor: Viewer
) -> LegalTermsVersion:
    """A new current version of `kind`; the previous current one stops being current.

    Publishers of one kind are serialised by a transaction lock, so version
    numbers never collide and exactly one version stays current.
    """
    if kind not in LEGAL_TERMS_KINDS:
        raise ServiceError.of(Code.INVALID, f"{kind!r} is not a kind of legal terms.", "kind")
    cleaned_title = title.strip()
    if not cleaned_title:
        raise ServiceError.of(Code.REQUIRED, "Give the terms a title.", "title")
    if len(cleaned_title) > MAX_TITLE:
        raise ServiceError.of(Code.TOO_LONG, f"A title is at most {MAX_TITLE} characters.", "title")
    if not terms_text.strip():
        raise ServiceError.of(Code.REQUIRED, "The terms have no text.", "text")
    if len(terms_text) > MAX_TEXT:
        raise ServiceError.of(Code.TOO_LONG, f"Terms are at most {MAX_TEXT} characters.", "text")
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"legal_terms:{kind}"}
    )
    previous = await session.scalar(
        select(LegalTermsVersion)
        .where(LegalTermsVersion.kind == kind, LegalTermsVersion.is_current.is_(True))
        .with_for_update()
    )
    number = (
        await session.scalar(
            select(func.max(LegalTermsVersion.version)).where(LegalTermsVersion.kind == kind)
        )
        or 0
    ) + 1
    if previous is not None:
        await session.execute(
            update(LegalTermsVersion)
            .where(LegalTermsVersion.id == previous.id)
            .values(is_current=False)
        )
        _audit(
            session, previous.id, "terms:retire", actor, {"is_current": True}, {"is_current": False}
        )
    row = LegalTermsVersion(
        id=uuid.uuid4(),
        kind=kind,
        version=number,
        title=cleaned_title,
        text=terms_text,
        sha256=sha256_of(terms_text),
        is_current=True,
        published_by=actor.user_id,
        published_at=utc_now(),
    )
    session.add(row)
    await session.flush()
    snapshot = auditing.row_snapshot(row, {"text"})
    _audit(session, row.id, "terms:publish", actor, None, snapshot)
    return row


def _audit(
    session: AsyncSession,
    terms_version_id: uuid.UUID,
    action: str,
    actor: Viewer | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    entry = auditing.audit_row(
        LegalTermsAudit,
        actor,
        before,
        after,
        terms_version_id=terms_version_id,
        action=action,
    )
    if entry is not None:
        session.add(entry)


def current_versions() -> Any:
    """The current version of each kind (at most one each), in `LEGAL_TERMS_KINDS` order."""
    return select(LegalTermsVersion).where(LegalTermsVersion.is_current.is_(True))


def kind_order(kind: str) -> int:
    return LEGAL_TERMS_KINDS.index(kind)


# --- signing ----------------------------------------------------------------------------------


async def sign(
    session: AsyncSession,
    charter_id: uuid.UUID,
    terms_version_id: uuid.UUID,
    typed_name: str,
    signer: Viewer | None,
    ip: str | None,
    user_agent: str | None,
    expected_sha256: str | None = None,
    *,
    field_prefix: str = "",
) -> CharterSignature:
    """Record `signer`'s signature of a terms version on a charter (the caller's transaction).

    Refused, with a user error naming the field (`field_prefix` + name, for a
    caller whose terms arrive in an input object such as `acceptTerms.`): an
    unknown charter (`charterId`), an unknown or outdated terms version (not
    the current one of its kind; `termsVersionId`), a hash the signer was
    shown that is not this version's (`sha256`), a blank or over-long typed
    name (`typedName`). Who may sign for the charter is the caller's rule
    (its own client, staff, a quote-link holder); `signer` None is a
    quote-link signer without an account.
    """
    charter = await session.get(Charter, charter_id)
    if charter is None or charter.is_template:
        raise ServiceError.of(Code.NOT_FOUND, "No such charter.", "charterId")
    name = " ".join(typed_name.split())
    if not name:
        raise ServiceError.of(
            Code.REQUIRED, "Type your full name to sign.", f"{field_prefix}typedName"
        )
    if len(name) > MAX_TYPED_NAME:
        raise ServiceError.of(
            Code.TOO_LONG,
            f"A typed name is at most {MAX_TYPED_NAME} characters.",
            f"{field_prefix}typedName",
        )
    # Shared lock: a concurrent publish (which updates this row) waits for the signature,
    # or the signature sees the version already retired.
    terms = await session.scalar(
        select(LegalTermsVersion)
        .where(LegalTermsVersion.id == terms_version_id)
        .with_for_update(read=True)
    )
    if terms is None:
        raise ServiceError.of(
            Code.NOT_FOUND, "No such terms version.", f"{field_prefix}termsVersionId"
        )
    if not terms.is_current:
        raise ServiceError.of(
            Code.OUTDATED_TERMS,
            f"Version {terms.version} of the {terms.kind.replace('_', ' ')} is no longer "
            "current: read and sign the current version.",
            f"{field_prefix}termsVersionId",
        )
    if expected_sha256 is not None and expected_sha256.strip().lower() != terms.sha256:
        raise ServiceError.of(
            Code.TERMS_CHANGED,
            "The terms shown are not the version being signed: reload them and sign again.",
            f"{field_prefix}sha256",
        )
    row = CharterSignature(
        id=uuid.uuid4(),
        charter_id=charter.id,
        terms_version_id=terms.id,
        terms_kind=terms.kind,
        terms_sha256=terms.sha256,
        signer_id=signer.user_id if signer else None,
        impersonator_id=signer.impersonator_id if signer else None,
        typed_name=name,
        ip_address=_clipped(ip, MAX_IP),
        user_agent=_clipped(user_agent, MAX_USER_AGENT),
        signed_at=utc_now(),
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        charter_id=charter.id,
        entity="charter_signature",
        entity_id=row.id,
        action="terms:sign",
        actor=signer,
        old=None,
        new=audit.row_snapshot(row),
    )
    await events.charter_changed(
        session,
        charter,
        ["signatures"],
        signatureId=str(row.id),
        termsKind=terms.kind,
        termsVersion=terms.version,
    )
    return row


def _clipped(value: str | None, limit: int) -> str | None:
    """What the router forwarded, cut to the column: a long user agent must not refuse a signature."""
    return value[:limit] if value else None


# --- the signed document --------------------------------------------------------------------


@dataclass(frozen=True)
class SignedDocument:
    """What the signed copy prints: the exact terms text and the signature block."""

    charter_reference: str
    terms_title: str
    terms_kind: str
    terms_version: int
    terms_text: str
    terms_sha256: str
    typed_name: str
    signed_at: datetime
    ip_address: str | None
    user_agent: str | None
    signature_id: uuid.UUID


_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=9.5, leading=12.5)
_TITLE = ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=15, leading=19)
_SMALL = ParagraphStyle("small", fontName="Helvetica", fontSize=8, leading=10)
_HEAD = ParagraphStyle("head", fontName="Helvetica-Bold", fontSize=11, leading=14)


def _p(value: str, style: ParagraphStyle = _BODY) -> Paragraph:
    """Plain text as a paragraph: escaped, line breaks kept."""
    return Paragraph(escape(value).replace("\n", "<br/>"), style)


def render_signed(document: SignedDocument) -> bytes:
    """A letter-size PDF: the terms text exactly as signed, then who signed, when and where.

    Byte-for-byte repeatable for the same signature (reportlab's invariant mode).
    """
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=0.8 * inch,
        rightMargin=0.8 * inch,
        topMargin=0.8 * inch,
        bottomMargin=0.8 * inch,
        title=f"{document.terms_title} (signed) - {document.charter_reference}",
        creator="Athena",
        invariant=1,
    )
    kind = document.terms_kind.replace("_", " ")
    story: list[Any] = [
        _p(document.terms_title, _TITLE),
        _p(f"{kind.capitalize()}, version {document.terms_version}", _SMALL),
        _p(f"Charter {document.charter_reference}", _SMALL),
        Spacer(1, 0.2 * inch),
    ]
    story += [_p(part) for part in document.terms_text.split("\n\n")]
    block = [
        Spacer(1, 0.3 * inch),
        _p("Electronic signature", _HEAD),
        _p(f"Signed by: {document.typed_name}"),
        _p(f"Signed at: {document.signed_at.isoformat(timespec='seconds')} (UTC)"),
        _p(f"IP address: {document.ip_address or 'not recorded'}"),
        _p(f"User agent: {document.user_agent or 'not recorded'}"),
        _p(f"SHA-256 of the terms text (UTF-8): {document.terms_sha256}", _SMALL),
        _p(f"Signature {document.signature_id}", _SMALL),
    ]
    story.append(KeepTogether(block))
    doc.build(story)
    return buffer.getvalue()


async def signed_document(
    session: AsyncSession, signature: CharterSignature
) -> SignedDocument | None:
    charter = await session.get(Charter, signature.charter_id)
    terms = await session.get(LegalTermsVersion, signature.terms_version_id)
    if charter is None or terms is None:
        return None
    return SignedDocument(
        charter_reference=charter.reference,
        terms_title=terms.title,
        terms_kind=signature.terms_kind,
        terms_version=terms.version,
        terms_text=terms.text,
        terms_sha256=signature.terms_sha256,
        typed_name=signature.typed_name,
        signed_at=signature.signed_at,
        ip_address=signature.ip_address,
        user_agent=signature.user_agent,
        signature_id=signature.id,
    )
