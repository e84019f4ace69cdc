"""acceptQuote and acceptQuoteByLink: the client portal's booking (issue 14 §2).

The rules are `service/acceptance.py`'s; this module turns its refusals
into the graph's answers: bad input and business rules are `userErrors`,
a quote the caller may not see is a NOT_FOUND error and staff who may not
book it a FORBIDDEN one (GraphQL errors, as every portal answers them).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.types import Info

from subgraphs.charters.enums import CharterStatus
from subgraphs.charters.mutations.inputs import parse_id
from subgraphs.charters.service import acceptance
from subgraphs.charters.service.access import QUOTE_ACCEPTERS
from subgraphs.charters.types import Charter
from subgraphs.charters.types_documents import CharterSignature
from subgraphs.kit.errors import ForbiddenError, NotFoundError, ServiceError
from subgraphs.kit.payloads import UserError, transact, user_errors
from subgraphs.kit.permissions import allow

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession


@strawberry.input(
    description=(
        "The terms and conditions being signed: their current version's id, the signer's "
        "full name as typed, and the SHA-256 of the text shown (`LegalTerms.sha256`)."
    )
)
class AcceptTermsInput:
    terms_version_id: strawberry.ID
    typed_name: str
    sha256: str


@strawberry.type
class AcceptQuotePayload:
    charter: Charter | None = None
    signature: CharterSignature | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="What an accepted quote link tells its holder.")
class AcceptQuoteByLinkPayload:
    reference: str | None = None
    status: CharterStatus | None = None
    signed_at: datetime | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _terms(value: AcceptTermsInput) -> acceptance.AcceptTerms:
    return acceptance.AcceptTerms(
        terms_version_id=parse_id(value.terms_version_id, "acceptTerms.termsVersionId"),
        typed_name=value.typed_name,
        sha256=value.sha256,
    )


def _origin(info: Info) -> acceptance.Origin:
    """The caller's address and browser, as the router forwards them."""
    return acceptance.Origin(
        ip=info.context.client_ip or None,
        user_agent=info.context.request.headers.get("user-agent"),
    )


async def _run(
    info: Info, work: Callable[[AsyncSession], Awaitable[acceptance.Accepted]]
) -> tuple[acceptance.Accepted | None, list[UserError]]:
    try:
        return await transact(info, work)
    except acceptance.AccessRefused as refused:
        if refused.code == "NOT_FOUND":
            raise NotFoundError("Charter") from None
        raise ForbiddenError(refused.message) from None


@strawberry.type
class AcceptanceMutations:
    @strawberry.mutation(
        extensions=[allow(*QUOTE_ACCEPTERS)],
        description=(
            "Accept a quote: sign its terms and conditions and book it, in one step. "
            "`revision` is the quote revision shown (`Charter.quoteRevision`): a quote "
            "revised since is refused (QUOTE_CHANGED). The charter's own client, or staff "
            "who may book it; another company's quote is NOT_FOUND. With "
            "`idempotencyKey`, a repeat answers the first acceptance."
        ),
    )
    async def accept_quote(
        self,
        info: Info,
        charter_id: strawberry.ID,
        revision: int,
        accept_terms: AcceptTermsInput,
        idempotency_key: str | None = None,
    ) -> AcceptQuotePayload:
        viewer = await info.context.get_viewer()
        origin = _origin(info)
        try:
            charter_key = parse_id(charter_id, "charterId")
            terms = _terms(accept_terms)
        except ServiceError as exc:
            return AcceptQuotePayload(user_errors=user_errors(exc))

        async def work(session: AsyncSession) -> acceptance.Accepted:
            return await acceptance.accept(
                session, charter_key, revision, terms, viewer, origin, idempotency_key
            )

        result, errors = await _run(info, work)
        if result is None:
            return AcceptQuotePayload(user_errors=errors)
        return AcceptQuotePayload(
            charter=Charter.from_row(result.charter),
            signature=CharterSignature.from_row(result.signature) if result.signature else None,
        )

    @strawberry.mutation(
        description=(
            "Accept a quote through its signed link, without an account: sign its terms and "
            "conditions and book it. An `email` with no account gets a client account for "
            "the quote's company and a set-password mail. A link whose quote was revised, "
            "booked or cancelled since is refused on `token`."
        ),
    )
    async def accept_quote_by_link(
        self,
        info: Info,
        token: str,
        email: str,
        accept_terms: AcceptTermsInput,
        idempotency_key: str | None = None,
    ) -> AcceptQuoteByLinkPayload:
        origin = _origin(info)
        secret = info.context.settings.quote_link_secret
        try:
            terms = _terms(accept_terms)
        except ServiceError as exc:
            return AcceptQuoteByLinkPayload(user_errors=user_errors(exc))

        async def work(session: AsyncSession) -> acceptance.Accepted:
            return await acceptance.accept_by_link(
                session,
                token,
                email,
                terms,
                origin,
                secret=secret,
                idempotency_key=idempotency_key,
            )

        result, errors = await _run(info, work)
        if result is None:
            return AcceptQuoteByLinkPayload(user_errors=errors)
        signature: Any = result.signature
        return AcceptQuoteByLinkPayload(
            reference=result.charter.reference,
            status=CharterStatus(result.charter.status),
            signed_at=signature.signed_at if signature else None,
        )
