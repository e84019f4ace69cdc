"""Accepting a quote (issue 14 §2): book it and sign its terms, in one transaction.

A client accepts the quote it was shown, so the acceptance names what it
saw: the quote's revision (a revised quote is refused, "the quote changed
since you viewed it") and the terms version with the SHA-256 of its text
(`legal_terms.sign` refuses outdated or different terms). Everything is
checked and written in the caller's one transaction: the charter's row
lock is taken first, so two acceptances of one quote book it once and the
later one finds it booked; any refusal rolls back the signature too.

Booking goes through the ordinary status change (`charters.transition`):
its audit entry, `charters.charter_changed` event (pricing freezes the
price, finance makes the payment plan, notifications mails the
confirmation) and booking rules all apply. `CHARTER_MOVES["booked"]`
admits the charter's own client for this move (`access.Move.own_client`).

A quote-link holder has no account: it acts for the charter's client
company (the link was sent to it) and signs as nobody (`signer` None). Its
e-mail goes out as `charters.quote_accepted_by_link`, through the outbox in
the same transaction; identity consumes it and makes the client account
(or finds the existing one) and sends the set-password mail. No HTTP call
to identity: the booking never waits on identity, an identity outage only
delays the account, and a rolled-back acceptance asks for no account.

Idempotency reuses createCharter's key table (`idempotency_keys`): the key
row goes in first, so a repeat with the same key waits for the first call
and answers its result instead of booking again; a key is bound to its
caller and the request's hash (another request under the same key is a
CONFLICT on `idempotencyKey`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import (
    Charter,
    CharterSignature,
    CharterVehicle,
    IdempotencyKey,
    LegalTermsVersion,
    outbox,
)
from subgraphs.charters.service import charters as charter_service
from subgraphs.charters.service import idempotency, legal_terms
from subgraphs.charters.service.access import (
    ACCEPTANCE_TERMS_KIND,
    ensure_may_move,
    is_own_client,
)
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: Identity makes (or finds) the link signer's client account from this event.
QUOTE_ACCEPTED_BY_LINK = "charters.quote_accepted_by_link"
TERMS_FIELD = "acceptTerms."
MAX_EMAIL = 254


class AccessRefused(Exception):
    """The caller may not accept this quote: a GraphQL error, not a user error.

    `code` is NOT_FOUND for a charter the caller may not see (another
    company's quote looks like no quote at all) and FORBIDDEN for staff
    whose role does not book this charter.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class AcceptTerms:
    """What the client signs: a terms version, its name typed, the hash it was shown."""

    terms_version_id: uuid.UUID
    typed_name: str
    sha256: str


@dataclass(frozen=True)
class Origin:
    """Where the acceptance came from, as the router forwarded it."""

    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class Accepted:
    charter: Charter
    signature: CharterSignature | None
    #: The answer of an earlier call with the same idempotency key: nothing new was written.
    replayed: bool = False


async def accept(
    session: AsyncSession,
    charter_id: uuid.UUID,
    revision: int,
    terms: AcceptTerms,
    viewer: Viewer,
    origin: Origin,
    idempotency_key: str | None = None,
) -> Accepted:
    """A signed-in acceptance: the charter's own client, or staff who may book it."""
    request = {
        "op": "acceptQuote",
        "charterId": str(charter_id),
        "revision": revision,
        **_terms_request(terms),
    }
    if idempotency_key is not None:
        earlier = await _claim(session, idempotency_key, viewer.user_id, request, charter_id)
        if earlier is not None:
            return await _replay(session, earlier, terms, viewer.user_id)
    charter = await _locked(session, charter_id)
    if charter is None or not _may_see(viewer, charter):
        raise AccessRefused("NOT_FOUND", f"Charter {charter_id} was not found.")
    if not is_own_client(viewer, charter):
        try:
            ensure_may_move(viewer, charter, "booked")
        except ServiceError as exc:
            raise AccessRefused("FORBIDDEN", exc.problems[0].message) from exc
    _ensure_open(charter, "charterId")
    if revision != charter.quote_revision:
        raise ServiceError.of(
            Code.QUOTE_CHANGED,
            f"The quote changed since you viewed it (you saw revision {revision}, it is now "
            f"revision {charter.quote_revision}): review the new quote and accept that.",
            "revision",
        )
    return await _book_and_sign(session, charter, terms, viewer, signer=viewer, origin=origin)


async def accept_by_link(
    session: AsyncSession,
    token: str,
    email: str,
    terms: AcceptTerms,
    origin: Origin,
    *,
    secret: str,
    idempotency_key: str | None = None,
) -> Accepted:
    """An anonymous acceptance through the signed quote link, by whoever holds it.

    The link names the revision it was made for: a revised quote refuses it
    (`token`). `email` is the signer's, for its client account.
    """
    address = normalise_email(email)
    link = charter_service.read_quote_link(token, secret)
    request = {"op": "acceptQuoteByLink", "token": token, "email": address, **_terms_request(terms)}
    if idempotency_key is not None:
        earlier = await _claim(session, idempotency_key, None, request, link.charter_id)
        if earlier is not None:
            return await _replay(session, earlier, terms, None)
    charter = await _locked(session, link.charter_id)
    if charter is None or charter.is_template:
        raise ServiceError.of(Code.INVALID_TOKEN, "The quote link is invalid or expired.", "token")
    _ensure_open(charter, "token")
    if link.revision != charter.quote_revision:
        raise ServiceError.of(
            Code.QUOTE_CHANGED,
            "The quote changed since this link was sent: ask for the new quote and accept that.",
            "token",
        )
    # The holder acts for the company the link was sent to; it has no account to name.
    holder = Viewer(roles=frozenset({Role.CLIENT}), client_id=charter.client_id)
    accepted = await _book_and_sign(session, charter, terms, holder, signer=None, origin=origin)
    signature = accepted.signature
    await emit(
        session,
        outbox,
        QUOTE_ACCEPTED_BY_LINK,
        {
            "charterId": str(charter.id),
            "clientId": str(charter.client_id),
            "email": address,
            "name": signature.typed_name if signature else None,
            "signatureId": str(signature.id) if signature else None,
        },
    )
    return accepted


def normalise_email(email: str, field: str = "email") -> str:
    """The signer's address, lower-cased, or a user error on `field`."""
    value = (email or "").strip()
    if not value:
        raise ServiceError.of(Code.REQUIRED, "Give your e-mail address.", field)
    if len(value) > MAX_EMAIL:
        raise ServiceError.of(Code.TOO_LONG, f"At most {MAX_EMAIL} characters.", field)
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ServiceError.of(
            Code.INVALID, f"The e-mail address is not valid: {exc}", field
        ) from exc
    return str(checked.normalized).lower()


# --- the steps ---------------------------------------------------------------------------------


def _may_see(viewer: Viewer, charter: Charter) -> bool:
    """Staff see every quote, a client only its own company's; templates are nobody's."""
    if charter.is_template:
        return False
    return viewer.is_staff or is_own_client(viewer, charter)


async def _locked(session: AsyncSession, charter_id: uuid.UUID) -> Charter | None:
    """The charter under its row lock: a concurrent acceptance waits here."""
    return await session.scalar(select(Charter).where(Charter.id == charter_id).with_for_update())


def _ensure_open(charter: Charter, field: str) -> None:
    if charter.status == "quote":
        return
    why = {
        "cancelled": "This quote was cancelled and can no longer be accepted.",
        "booked": "This quote was already accepted: the charter is booked.",
    }.get(charter.status, f"This charter is {charter.status.replace('_', ' ')}, not an open quote.")
    raise ServiceError.of(Code.INVALID_TRANSITION, why, field)


async def _price(session: AsyncSession, charter: Charter) -> Decimal:
    total = await session.scalar(
        select(func.coalesce(func.sum(CharterVehicle.cost), 0)).where(
            CharterVehicle.charter_id == charter.id
        )
    )
    return Decimal(total or 0)


async def _book_and_sign(
    session: AsyncSession,
    charter: Charter,
    terms: AcceptTerms,
    actor: Viewer,
    *,
    signer: Viewer | None,
    origin: Origin,
) -> Accepted:
    field = "charterId" if signer is not None else "token"
    if await _price(session, charter) <= 0:
        raise ServiceError.of(
            Code.QUOTE_NOT_PRICED,
            "This quote has no price yet: your agent will send it priced.",
            field,
        )
    kind = await session.scalar(
        select(LegalTermsVersion.kind).where(LegalTermsVersion.id == terms.terms_version_id)
    )
    if kind is not None and kind != ACCEPTANCE_TERMS_KIND:
        raise ServiceError.of(
            Code.INVALID,
            "Accepting a quote signs the terms and conditions: send their current version.",
            f"{TERMS_FIELD}termsVersionId",
        )
    signature = await legal_terms.sign(
        session,
        charter.id,
        terms.terms_version_id,
        terms.typed_name,
        signer,
        origin.ip,
        origin.user_agent,
        terms.sha256,
        field_prefix=TERMS_FIELD,
    )
    booked = await charter_service.transition(session, charter.id, "booked", actor)
    return Accepted(booked, signature)


# --- idempotency -------------------------------------------------------------------------------


def _terms_request(terms: AcceptTerms) -> dict[str, Any]:
    return {
        "termsVersionId": str(terms.terms_version_id),
        "typedName": terms.typed_name,
        "sha256": terms.sha256.strip().lower(),
    }


async def _claim(
    session: AsyncSession,
    key: str,
    actor_id: uuid.UUID | None,
    request: dict[str, Any],
    charter_id: uuid.UUID,
) -> IdempotencyKey | None:
    """Claim `key` for this acceptance; an earlier holder of it is returned instead.

    A concurrent call with the key waits on its primary key until the first
    commits (then answers the first's result) or rolls back (then goes on).
    """
    idempotency.check_key(key)
    digest = hashlib.sha256(
        json.dumps(request, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    claimed = await session.scalar(
        insert(IdempotencyKey)
        .values(key=key, actor_id=actor_id, request_hash=digest, charter_id=charter_id)
        .on_conflict_do_nothing(index_elements=[IdempotencyKey.key])
        .returning(IdempotencyKey.key)
    )
    if claimed is not None:
        return None
    held = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == key))
    if held is None:
        raise ServiceError.of(Code.CONFLICT, "The key is in use; try again.", idempotency.FIELD)
    if held.actor_id != actor_id:
        raise ServiceError.of(
            Code.CONFLICT, "This key was used by someone else.", idempotency.FIELD
        )
    if held.request_hash != digest:
        raise ServiceError.of(
            Code.CONFLICT, "This key was used for a different request.", idempotency.FIELD
        )
    return held


async def _replay(
    session: AsyncSession, held: IdempotencyKey, terms: AcceptTerms, signer_id: uuid.UUID | None
) -> Accepted:
    """The first call's answer: the charter as it is now and the signature it recorded."""
    charter = await charter_service.get(session, held.charter_id)
    signed = (
        select(CharterSignature)
        .where(
            CharterSignature.charter_id == charter.id,
            CharterSignature.terms_version_id == terms.terms_version_id,
        )
        .order_by(CharterSignature.signed_at.desc(), CharterSignature.id)
        .limit(1)
    )
    signed = signed.where(
        CharterSignature.signer_id == signer_id
        if signer_id is not None
        else CharterSignature.signer_id.is_(None)
    )
    return Accepted(charter, await session.scalar(signed), replayed=True)
