"""POST /webhooks/stripe: Stripe's word on charges and refunds that settle later.

The body is verified exactly as received with Stripe's own signature check
(`StripeProvider.parse_webhook`) before anything in it is believed; a bad
or stale signature is a 400 and changes nothing. Events move a pending
payment or refund to succeeded or failed (`charges.settle_payment`,
`refunds.settle_refund`). Stripe delivers at least once and in any order,
so a replay, or news about something already settled or not ours, is
acknowledged with 200 and changes nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from subgraphs.finance.service import charges, refunds
from subgraphs.finance.service.payment_provider import (
    EventKind,
    ProviderError,
    ProviderEvent,
    WebhookRejected,
)
from subgraphs.finance.service.providers import payment_provider
from subgraphs.kit.auth.request_viewer import problem

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request

    from subgraphs.kit.context import Services

log = logging.getLogger(__name__)
#: Stripe's webhook bodies are small; anything this large is not one.
MAX_BODY = 512 * 1024


async def apply_event(session: AsyncSession, event: ProviderEvent) -> str:
    """Act on one verified event; returns what became of it, for the answer and the log."""
    if event.kind is EventKind.PAYMENT_SUCCEEDED and event.payment_reference:
        found = await charges.settle_payment(session, event.payment_reference, succeeded=True)
        return "payment" if found else "unknown"
    if event.kind is EventKind.PAYMENT_FAILED and event.payment_reference:
        found = await charges.settle_payment(
            session, event.payment_reference, succeeded=False, reason=event.failure_reason
        )
        return "payment" if found else "unknown"
    if event.kind is EventKind.REFUND_UPDATED and event.refund_reference and event.refund_status:
        refund = await refunds.settle_refund(
            session, event.refund_reference, event.refund_status, event.failure_reason
        )
        return "refund" if refund else "unknown"
    return "ignored"


async def stripe_webhook(request: Request) -> Response:
    services: Services = request.app.state.services
    body = await request.body()
    if len(body) > MAX_BODY:
        return problem(413, "BAD_USER_INPUT", "Too large for a webhook.")
    try:
        event = payment_provider(services.settings).parse_webhook(
            body, request.headers.get("stripe-signature", "")
        )
    except WebhookRejected as exc:
        return problem(400, "BAD_USER_INPUT", exc.message)
    except ProviderError as exc:
        # Signed, so Stripe's, but unreadable to us: a 400 makes Stripe retry, then alert.
        log.warning("unreadable Stripe webhook: %s", exc.message)
        return problem(400, "BAD_USER_INPUT", "The event could not be read.")
    async with services.sessions() as session, session.begin():
        outcome = await apply_event(session, event)
    return JSONResponse({"received": True, "event": event.event_id, "outcome": outcome})


routes = [Route("/webhooks/stripe", stripe_webhook, methods=["POST"])]
