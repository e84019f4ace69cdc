"""`POST /webhooks/quickbooks`: QuickBooks Online tells finance what changed on its side.

Proof: Intuit signs the raw body (`intuit-signature`, base64 HMAC-SHA256
keyed by the app's verifier token); a missing or wrong signature is 401, a
signed body that is not a webhook is 400, and with no verifier token set
every delivery is refused. Only the connected company's (realm's) changes
are read; a notification says only *that* a record changed, so a payment
is read back through the API before anything is decided.

The conflict policy (also in README's finance section):

- Athena is the system of record for what it writes (customers, vendors,
  invoices, payments, bills). An edit made in QuickBooks to one of those is
  overwritten by Athena's next sync of it (last write wins, from our side:
  the worker reads the new SyncToken and sends Athena's version again).
  Webhooks for entities other than payments are acknowledged and ignored.
- A payment's *status* may come from QuickBooks (a card charge taken
  there completes or fails): it is applied to the Athena payment, audited
  and announced, unless Athena has a newer local change of that payment
  (an unsent sync record, or a row changed after QuickBooks' change), in
  which case Athena's next sync wins.
- A change to *money* is never applied automatically: a different amount,
  a deletion, a void, or a status that would turn a payment Athena holds
  as applied into a failed one becomes a `SyncConflict` held for a person
  (`syncConflicts`, `resolveSyncConflict`), who decides in Athena (unapply,
  refund, correct) and resolves it; one held conflict per payment and kind
  of change, however often Intuit redelivers.
- A payment made only in QuickBooks (no mapping to an Athena payment) is
  not imported: Athena records money received itself.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from subgraphs.finance.models import (
    FinanceAudit,
    Payment,
    QboMapping,
    SyncConflict,
    SyncRecord,
    outbox,
)
from subgraphs.finance.service import quickbooks as qb
from subgraphs.finance.service.sync_worker import UNSYNCED, connection_of, open_port
from subgraphs.kit.auditing import plain
from subgraphs.kit.auth.request_viewer import problem
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from subgraphs.kit.context import Services

log = logging.getLogger(__name__)

PATH = "/webhooks/quickbooks"
TOPIC = "finance.payment_status_changed"
#: QuickBooks' card-charge status -> the Athena payment's provider status.
CHARGE_STATUSES = {
    "Completed": "succeeded",
    "Captured": "succeeded",
    "Settled": "succeeded",
    "Pending": "pending",
    "Declined": "failed",
    "Failed": "failed",
}
#: Intuit batches a few changes per notification; anything near this is not Intuit.
MAX_BODY_BYTES = 1024 * 1024
#: Operations that remove money from the books: always held.
REMOVING = frozenset({"Delete", "Void"})


@dataclass(frozen=True)
class Outcome:
    """What happened to one notified change: applied, held or ignored (and why)."""

    action: str
    reason: str


def qbo_payment_status(record: Mapping[str, Any]) -> str | None:
    """The status QuickBooks gives a payment, as Athena's provider status; None when it says none."""
    card = record.get("CreditCardPayment")
    response = card.get("CreditChargeResponse") if isinstance(card, Mapping) else None
    status = response.get("Status") if isinstance(response, Mapping) else None
    return CHARGE_STATUSES.get(str(status)) if status else None


def _voided(record: Mapping[str, Any]) -> bool:
    return str(record.get("PrivateNote") or "").strip().lower() == "voided"


async def _hold(
    session: AsyncSession,
    payment: Payment,
    change: qb.QboChange,
    kind: str,
    detail: dict[str, Any],
) -> Outcome:
    already = await session.scalar(
        select(SyncConflict.id).where(
            SyncConflict.entity == "payment",
            SyncConflict.qbo_id == change.entity_id,
            SyncConflict.operation == kind,
            SyncConflict.status == "held",
        )
    )
    if already is not None:
        return Outcome("held", f"{kind}: already held for a person")
    conflict = SyncConflict(
        id=uuid.uuid4(),
        entity="payment",
        entity_id=payment.id,
        qbo_id=change.entity_id,
        operation=kind,
        status="held",
        detail={
            "qboOperation": change.operation,
            "eventId": change.event_id,
            "qboUpdatedAt": plain(change.last_updated),
            "athenaAmount": str(payment.amount),
            "athenaApplied": str(payment.applied),
            "athenaStatus": payment.provider_status,
            **detail,
        },
    )
    session.add(conflict)
    session.add(
        FinanceAudit(
            id=uuid.uuid4(),
            entity="sync_conflict",
            entity_id=conflict.id,
            action="held",
            actor_id=None,
            before=None,
            after={"payment": str(payment.id), "kind": kind, **conflict.detail},
            reason=f"QuickBooks {change.operation} of payment {change.entity_id}",
        )
    )
    return Outcome("held", kind)


async def apply_payment_change(
    session: AsyncSession, change: qb.QboChange, record: Mapping[str, Any] | None
) -> Outcome:
    """Decide one QuickBooks payment change under the policy; `record` is its current JSON.

    Runs in the caller's transaction, with the Athena payment locked so an
    application racing the webhook sees either the old or the new status.
    """
    mapping = await session.scalar(
        select(QboMapping).where(
            QboMapping.entity == "payment", QboMapping.qbo_id == change.entity_id
        )
    )
    if mapping is None:
        return Outcome("ignored", "not an Athena payment")
    payment = await session.scalar(
        select(Payment).where(Payment.id == mapping.entity_id).with_for_update()
    )
    if payment is None:
        return Outcome("ignored", "not an Athena payment")
    if change.operation in REMOVING or (record is not None and _voided(record)):
        kind = "delete" if change.operation == "Delete" else "void"
        return await _hold(session, payment, change, kind, {})
    unsent = await session.scalar(
        select(SyncRecord.id)
        .where(
            SyncRecord.entity == "payment",
            SyncRecord.entity_id == payment.id,
            SyncRecord.status.in_(UNSYNCED),
        )
        .limit(1)
    )
    if unsent is not None or (
        change.last_updated is not None and payment.updated_at > change.last_updated
    ):
        return Outcome("ignored", "Athena has a newer change; its next sync overwrites")
    if record is None:
        return Outcome("ignored", "QuickBooks gave no record")
    amount = Decimal(str(record.get("TotalAmt", payment.amount)))
    if amount != payment.amount:
        return await _hold(session, payment, change, "amount", {"qboAmount": str(amount)})
    status = qbo_payment_status(record)
    # Athena's write is now the version QuickBooks holds: later sparse updates must name it.
    mapping.sync_token = str(record.get("SyncToken", mapping.sync_token))
    if status is None or status == payment.provider_status:
        return Outcome("ignored", "no status change")
    if status == "failed" and payment.applied != 0:
        return await _hold(session, payment, change, "status", {"qboStatus": status})
    before = payment.provider_status
    payment.provider_status = status
    session.add(
        FinanceAudit(
            id=uuid.uuid4(),
            entity="payment",
            entity_id=payment.id,
            action="provider_status_from_quickbooks",
            actor_id=None,
            before={"providerStatus": before},
            after={"providerStatus": status},
            reason=f"QuickBooks {change.operation} of payment {change.entity_id}",
        )
    )
    await emit(
        session,
        outbox,
        TOPIC,
        {
            "paymentId": str(payment.id),
            "clientId": str(payment.client_id),
            "providerStatus": status,
            "source": "quickbooks",
        },
    )
    return Outcome("applied", f"status {before} -> {status}")


async def apply_changes(
    sessions: async_sessionmaker[AsyncSession],
    changes: Sequence[qb.QboChange],
    reader: qb.QuickBooksReader,
    realm_id: str,
) -> list[Outcome]:
    """Each payment change of our company in its own transaction; the rest acknowledged."""
    outcomes: list[Outcome] = []
    for change in changes:
        if change.realm_id != realm_id:
            outcomes.append(Outcome("ignored", "another company"))
            continue
        if change.entity != "Payment":
            outcomes.append(Outcome("ignored", "Athena is the system of record for it"))
            continue
        async with sessions() as session:
            known = await session.scalar(
                select(QboMapping.entity_id).where(
                    QboMapping.entity == "payment", QboMapping.qbo_id == change.entity_id
                )
            )
        record = None
        if known is not None and change.operation not in REMOVING:
            record = await reader.read(qb.EntityKind.PAYMENT, change.entity_id)
        async with sessions() as session, session.begin():
            outcomes.append(await apply_payment_change(session, change, record))
    return outcomes


async def quickbooks_webhook(request: Request) -> Response:
    services: Services = request.app.state.services
    settings = services.settings
    token = settings.quickbooks_webhook_verifier_token
    if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
        return problem(413, "BAD_USER_INPUT", "A QuickBooks notification is never this large.")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return problem(413, "BAD_USER_INPUT", "A QuickBooks notification is never this large.")
    if not token or not qb.verify_webhook(body, request.headers.get("intuit-signature", ""), token):
        return problem(401, "UNAUTHENTICATED", "The intuit-signature does not match this body.")
    try:
        changes = qb.parse_webhook(body)
    except qb.MalformedWebhook as exc:
        return problem(400, "BAD_USER_INPUT", str(exc))
    port = await open_port(
        services.sessions,
        connection_of(settings),
        initial_refresh_token=settings.quickbooks_refresh_token,
    )
    if port is None:
        return problem(503, "INTERNAL", "No QuickBooks company is connected.")
    try:
        async with port:
            outcomes = await apply_changes(
                services.sessions, changes, port, settings.quickbooks_realm_id
            )
    except qb.QuickBooksError as exc:
        # Intuit redelivers what was not acknowledged with a 2xx; the held/applied parts are idempotent.
        log.warning("QuickBooks webhook could not read a change back: %s", exc)
        return problem(503, "INTERNAL", "QuickBooks could not be read; deliver again later.")
    return JSONResponse(
        {
            "received": len(changes),
            "applied": sum(o.action == "applied" for o in outcomes),
            "held": sum(o.action == "held" for o in outcomes),
            "ignored": sum(o.action == "ignored" for o in outcomes),
        }
    )


routes = [Route(PATH, quickbooks_webhook, methods=["POST"])]
