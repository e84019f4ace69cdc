"""The accounting sync's worker: sends the outbox (`sync_records`) to QuickBooks Online.

A pass claims due records with `FOR UPDATE SKIP LOCKED` (status
`processing`, a lease in `locked_until`) and commits the claim, so workers
in several replicas take disjoint records and one that dies mid-send leaves
its records to be claimed again once the lease runs out. Each record is
then built from the rows as they are now (a burst of edits sends the latest
state), sent with `request_id = str(record.id)` and acknowledged in one
transaction with its QboMapping and any refreshed tokens.

Why a resend is harmless: QuickBooks answers a repeated request id with
the first answer, so a worker killed between the send and the
acknowledgement resends the same id after the lease and gets the same
QuickBooks record back, never a second one.

Order: one entity's records go out one at a time, oldest first (a newer
record waits while an older one for the same entity is unsynced, so two
workers never create the same invoice twice); customers and vendors go
before invoices and bills, and those before payments. A record whose
dependency (an invoice's customer, a payment's invoices, a bill's vendor)
is not in QuickBooks yet is put back without counting an attempt, and the
dependency is enqueued if nothing would send it; a dead dependency kills
the dependent at once, naming it.

Failures: unavailable (5xx, 429, network) and "row not here yet" retry
with exponential back-off and jitter, dead after `max_attempts`; a
rejection (validation fault) is dead at once with QuickBooks' message; a
stale SyncToken means someone edited the record in QuickBooks, and Athena,
the system of record for what it writes, overwrites it (read the current
version, send again: last write wins from our side); a refused connection
pauses the whole pass without spending attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import and_, case, exists, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import aliased

from subgraphs.finance.models import (
    ClientFact,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentApplication,
    QboMapping,
    QboToken,
    SyncRecord,
    VendorBill,
    VendorFact,
)
from subgraphs.finance.service import quickbooks as qb
from subgraphs.finance.service import sync_outbox

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from subgraphs.kit.context import Services
    from subgraphs.kit.settings import Settings

log = logging.getLogger(__name__)

SERVICE_KEY = "finance.sync_worker"
#: Statuses of a record still to be sent.
UNSYNCED = ("pending", "processing", "failed")
#: Who goes first in a pass: what others refer to.
PRIORITY = {"customer": 0, "vendor": 0, "invoice": 1, "bill": 1, "payment": 2}
#: A client or vendor status that makes the QuickBooks record inactive.
INACTIVE = frozenset({"inactive", "archived", "closed", "suspended", "blocked"})
MAX_ERROR = 2000


@dataclass(frozen=True)
class SyncPolicy:
    """How hard to try and where lines post: from settings, or given by a test."""

    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 6 * 3600.0
    max_attempts: int = 8
    lease_seconds: float = 300.0
    batch_size: int = 20
    income_item_id: str = "1"
    tax_item_id: str = ""
    expense_account_id: str = ""

    @classmethod
    def of(cls, settings: Settings) -> SyncPolicy:
        return cls(
            backoff_base_seconds=settings.quickbooks_backoff_base_seconds,
            backoff_max_seconds=settings.quickbooks_backoff_max_seconds,
            max_attempts=settings.quickbooks_max_attempts,
            lease_seconds=settings.quickbooks_lease_seconds,
            income_item_id=settings.quickbooks_income_item_id,
            tax_item_id=settings.quickbooks_tax_item_id,
            expense_account_id=settings.quickbooks_expense_account_id,
        )


def backoff(attempts: int, policy: SyncPolicy, rng: random.Random) -> float:
    """Seconds before attempt `attempts + 1`: doubling, capped, half of it random.

    The jitter keeps a burst of records that failed together (QuickBooks
    was down) from all coming back in the same second.
    """
    ceiling = min(policy.backoff_max_seconds, policy.backoff_base_seconds * 2.0 ** (attempts - 1))
    return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    entity: str
    entity_id: uuid.UUID
    operation: str
    attempts: int


@dataclass
class PassSummary:
    claimed: int = 0
    synced: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0
    paused: bool = False
    outcomes: dict[uuid.UUID, str] = field(default_factory=dict)


class _Waiting(Exception):
    """A dependency is not in QuickBooks yet."""

    def __init__(self, entity: str, entity_id: uuid.UUID) -> None:
        super().__init__(f"waiting for {entity} {entity_id} to reach QuickBooks")
        self.entity = entity
        self.entity_id = entity_id


class _NotHere(Exception):
    """The row is not (yet) in finance: a fact's event may still be on its way."""


class _Invalid(Exception):
    """The row cannot become a QuickBooks record as it is: a person must look."""


@dataclass(frozen=True)
class _Skip:
    """Nothing to send (a void of what never reached QuickBooks; a payment not yet received)."""

    reason: str


# --- tokens --------------------------------------------------------------------------------


async def load_tokens(session: AsyncSession, realm_id: str) -> qb.QboTokens | None:
    row = await session.get(QboToken, realm_id)
    if row is None:
        return None
    return qb.QboTokens(
        row.access_token, row.refresh_token, row.access_expires_at, row.refresh_expires_at
    )


async def save_tokens(session: AsyncSession, realm_id: str, tokens: qb.QboTokens) -> None:
    values = {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "access_expires_at": tokens.access_expires_at,
        "refresh_expires_at": tokens.refresh_expires_at,
        "updated_at": datetime.now(UTC),
    }
    stmt = insert(QboToken).values(realm_id=realm_id, **values)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[QboToken.realm_id], set_=values)
    )


def connection_of(settings: Settings) -> qb.QboConnection:
    return qb.QboConnection(
        realm_id=settings.quickbooks_realm_id,
        client_id=settings.quickbooks_client_id,
        client_secret=settings.quickbooks_client_secret,
        base_url=settings.quickbooks_base_url,
        token_url=settings.quickbooks_token_url,
    )


async def open_port(
    sessions: async_sessionmaker[AsyncSession],
    connection: qb.QboConnection,
    *,
    initial_refresh_token: str = "",
    client: httpx.AsyncClient | None = None,
) -> qb.QuickBooksHttp | None:
    """The adapter with the tokens the database holds; None while the company is not connected.

    A rotated pair is written at once, in its own transaction: the old
    refresh token is dead as soon as Intuit answered, so the new one must
    outlive whatever happens to the send that caused the refresh.
    """
    async with sessions() as session:
        tokens = await load_tokens(session, connection.realm_id)
    if tokens is None:
        if not initial_refresh_token:
            return None
        # No access token yet: the first call is refused and refreshes with the connect-time one.
        tokens = qb.QboTokens(access_token="", refresh_token=initial_refresh_token)

    async def persist(new: qb.QboTokens) -> None:
        async with sessions() as session, session.begin():
            await save_tokens(session, connection.realm_id, new)

    return qb.QuickBooksHttp(connection, tokens, client=client, on_tokens=persist)


# --- claiming ------------------------------------------------------------------------------


async def claim(
    sessions: async_sessionmaker[AsyncSession], now: datetime, policy: SyncPolicy
) -> list[Claimed]:
    """Take up to a batch of due records for this worker, committed before anything is sent."""
    older = aliased(SyncRecord)
    due = or_(
        and_(SyncRecord.status.in_(("pending", "failed")), SyncRecord.next_attempt_at <= now),
        # The worker that held it died (or hangs): its lease ran out.
        and_(SyncRecord.status == "processing", SyncRecord.locked_until < now),
    )
    waits_for_older = exists().where(
        older.entity == SyncRecord.entity,
        older.entity_id == SyncRecord.entity_id,
        older.status.in_(UNSYNCED),
        tuple_(older.created_at, older.operation, older.id)
        < tuple_(SyncRecord.created_at, SyncRecord.operation, SyncRecord.id),
    )
    priority = case(PRIORITY, value=SyncRecord.entity, else_=9)
    picked = (
        select(SyncRecord.id)
        .where(due, ~waits_for_older)
        .order_by(priority, SyncRecord.created_at, SyncRecord.id)
        .limit(policy.batch_size)
        .with_for_update(skip_locked=True)
    )
    async with sessions() as session, session.begin():
        rows = (
            await session.execute(
                update(SyncRecord)
                .where(SyncRecord.id.in_(picked.scalar_subquery()))
                .values(
                    status="processing",
                    locked_until=now + timedelta(seconds=policy.lease_seconds),
                )
                .returning(
                    SyncRecord.id,
                    SyncRecord.entity,
                    SyncRecord.entity_id,
                    SyncRecord.operation,
                    SyncRecord.attempts,
                    SyncRecord.created_at,
                )
                .execution_options(synchronize_session=False)
            )
        ).all()
    ordered = sorted(rows, key=lambda r: (PRIORITY.get(r.entity, 9), r.created_at, r.id))
    return [Claimed(r.id, r.entity, r.entity_id, r.operation, r.attempts) for r in ordered]


# --- building a change from the rows ---------------------------------------------------------


async def _mapping(session: AsyncSession, entity: str, entity_id: uuid.UUID) -> QboMapping | None:
    return await session.get(QboMapping, (entity, entity_id))


async def _ref(session: AsyncSession, entity: str, entity_id: uuid.UUID) -> str:
    found = await _mapping(session, entity, entity_id)
    if found is None:
        raise _Waiting(entity, entity_id)
    return found.qbo_id


def _address(value: Mapping[str, Any] | None) -> qb.PostalAddress | None:
    if not value or not value.get("line1"):
        return None
    return qb.PostalAddress(
        line1=str(value["line1"]),
        line2=value.get("line2"),
        city=value.get("city"),
        region=value.get("region"),
        postal_code=value.get("postalCode"),
        country=value.get("country"),
    )


def _payload(build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return build()
    except ValueError as exc:
        raise _Invalid(str(exc)) from exc


async def _customer(session: AsyncSession, entity_id: uuid.UUID) -> dict[str, Any]:
    row = await session.get(ClientFact, entity_id)
    if row is None:
        raise _NotHere(f"client {entity_id} is not known to finance yet")
    payload = _payload(
        lambda: qb.customer_payload(
            display_name=row.name,
            email=row.email,
            company_name=row.name,
            billing_address=_address(row.billing_address),
        )
    )
    if row.status in INACTIVE:
        payload["Active"] = False
    return payload


async def _vendor(session: AsyncSession, entity_id: uuid.UUID) -> dict[str, Any]:
    row = await session.get(VendorFact, entity_id)
    if row is None:
        raise _NotHere(f"vendor {entity_id} is not known to finance yet")
    payload = _payload(
        lambda: qb.vendor_payload(
            display_name=row.name,
            email=row.email,
            company_name=row.name,
            address=_address(row.address),
        )
    )
    if row.status in INACTIVE:
        payload["Active"] = False
    return payload


async def _invoice(
    session: AsyncSession, entity_id: uuid.UUID, policy: SyncPolicy
) -> dict[str, Any]:
    row = await session.get(Invoice, entity_id)
    if row is None:
        raise _NotHere(f"invoice {entity_id} is not in finance")
    customer = await _ref(session, "customer", row.client_id)
    lines = (
        await session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == entity_id)
            .order_by(InvoiceLine.position)
        )
    ).all()
    return _payload(
        lambda: qb.invoice_payload(
            customer_ref=customer,
            doc_number=row.number,
            txn_date=row.issued_on,
            due_date=row.due_on,
            lines=[
                qb.InvoiceLine(line.description, line.amount, policy.income_item_id)
                for line in lines
            ],
            tax=row.tax,
            tax_item_ref=policy.tax_item_id or None,
        )
    )


async def _payment(session: AsyncSession, entity_id: uuid.UUID) -> dict[str, Any] | _Skip:
    """A received payment as QuickBooks should hold it: net of its refunds.

    A refund is a payment of its own in Athena; QuickBooks gets it as the
    paying payment's smaller amount and smaller applications (refunds.py
    enqueues both), so the books agree on what was kept per invoice.
    """
    row = await session.get(Payment, entity_id)
    if row is None:
        raise _NotHere(f"payment {entity_id} is not in finance")
    if row.kind == "refund":
        return _Skip(f"carried by payment {row.refund_of_id}: QuickBooks holds it net of refunds")
    if row.provider_status != "succeeded" and await _mapping(session, "payment", row.id) is None:
        return _Skip(f"not sent: the provider's charge is {row.provider_status}")
    customer = await _ref(session, "customer", row.client_id)
    refunds = select(Payment.id).where(
        Payment.refund_of_id == entity_id, Payment.provider_status != "failed"
    )
    live = await session.scalars(
        select(PaymentApplication).where(
            or_(
                PaymentApplication.payment_id == entity_id,
                PaymentApplication.payment_id.in_(refunds),
            ),
            PaymentApplication.unapplied_at.is_(None),
            PaymentApplication.invoice_id.is_not(None),
        )
    )
    by_invoice: dict[uuid.UUID, Decimal] = {}
    for application in live:
        if application.invoice_id is not None:
            key = application.invoice_id
            by_invoice[key] = by_invoice.get(key, Decimal("0.00")) + application.amount
    applications = [
        qb.PaymentApplication(await _ref(session, "invoice", invoice_id), amount)
        for invoice_id, amount in sorted(by_invoice.items())
        if amount > 0
    ]
    return _payload(
        lambda: qb.payment_payload(
            customer_ref=customer,
            total=row.amount - row.refunded,
            txn_date=row.received_on,
            applications=applications,
            reference=row.reference,
        )
    )


async def _bill(session: AsyncSession, entity_id: uuid.UUID, policy: SyncPolicy) -> dict[str, Any]:
    row = await session.get(VendorBill, entity_id)
    if row is None:
        raise _NotHere(f"bill {entity_id} is not in finance")
    vendor = await _ref(session, "vendor", row.vendor_id)
    if not policy.expense_account_id:
        raise _Invalid("no expense account is configured (QUICKBOOKS_EXPENSE_ACCOUNT_ID)")
    description = row.description or (
        f"{row.number} ({row.vendor_reference})" if row.vendor_reference else row.number
    )
    return _payload(
        lambda: qb.bill_payload(
            vendor_ref=vendor,
            doc_number=row.number,
            txn_date=row.bill_date,
            due_date=row.due_on,
            lines=[qb.BillLine(description, row.total, policy.expense_account_id)],
        )
    )


async def _voided(session: AsyncSession, kind: qb.EntityKind, entity_id: uuid.UUID) -> bool:
    """A void invoice or a failed charge is voided in QuickBooks, whichever change noted it."""
    if kind is qb.EntityKind.INVOICE:
        return await session.scalar(select(Invoice.status).where(Invoice.id == entity_id)) == "void"
    if kind is qb.EntityKind.PAYMENT:
        status = await session.scalar(
            select(Payment.provider_status).where(
                Payment.id == entity_id, Payment.kind == "payment"
            )
        )
        return status == "failed"
    return False


async def build_change(
    session: AsyncSession, record: Claimed, policy: SyncPolicy
) -> qb.SyncChange | _Skip:
    """The QuickBooks request for a record, from the rows as they are now."""
    kind = qb.EntityKind(record.entity)
    mapped = await _mapping(session, record.entity, record.entity_id)
    qbo_id, token = (mapped.qbo_id, mapped.sync_token) if mapped else (None, None)
    if record.operation == qb.Operation.VOID or await _voided(session, kind, record.entity_id):
        if mapped is None:
            return _Skip("nothing to void: it never reached QuickBooks")
        return qb.SyncChange(
            kind, record.entity_id, str(record.id), {}, qbo_id, token, qb.Operation.VOID
        )
    payload: dict[str, Any] | _Skip
    if kind is qb.EntityKind.CUSTOMER:
        payload = await _customer(session, record.entity_id)
    elif kind is qb.EntityKind.VENDOR:
        payload = await _vendor(session, record.entity_id)
    elif kind is qb.EntityKind.INVOICE:
        payload = await _invoice(session, record.entity_id, policy)
    elif kind is qb.EntityKind.PAYMENT:
        payload = await _payment(session, record.entity_id)
    else:
        payload = await _bill(session, record.entity_id, policy)
    if isinstance(payload, _Skip):
        return payload
    return qb.SyncChange(kind, record.entity_id, str(record.id), payload, qbo_id, token)


# --- outcomes --------------------------------------------------------------------------------


async def _store_mapping(
    session: AsyncSession, entity: str, entity_id: uuid.UUID, result: qb.SyncResult, now: datetime
) -> None:
    values = {"qbo_id": result.qbo_id, "sync_token": result.sync_token, "synced_at": now}
    stmt = insert(QboMapping).values(entity=entity, entity_id=entity_id, **values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[QboMapping.entity, QboMapping.entity_id], set_=values
        )
    )


async def _mark(session: AsyncSession, record_id: uuid.UUID, **values: Any) -> None:
    if isinstance(values.get("last_error"), str):
        values["last_error"] = values["last_error"][:MAX_ERROR]
    await session.execute(update(SyncRecord).where(SyncRecord.id == record_id).values(**values))


class SyncWorker:
    """One worker: `run_once` is a pass; several may run at once (other replicas, tests)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        port: qb.QuickBooks,
        policy: SyncPolicy,
        *,
        realm_id: str,
        rng: random.Random | None = None,
    ) -> None:
        self.sessions = sessions
        self.port = port
        self.policy = policy
        self.realm_id = realm_id
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not secrecy)

    async def run_once(self, now: datetime | None = None) -> PassSummary:
        now = now or datetime.now(UTC)
        summary = PassSummary()
        held: qb.QboTokens | None = getattr(self.port, "tokens", None)
        records = await claim(self.sessions, now, self.policy)
        summary.claimed = len(records)
        for index, record in enumerate(records):
            try:
                outcome = await self._one(record, now)
            except qb.QuickBooksAuthFailed as exc:
                log.error("QuickBooks refused the connection; the sync pauses: %s", exc)
                await self._release(records[index:], now, str(exc), held)
                summary.paused = True
                return summary
            summary.outcomes[record.id] = outcome
            setattr(summary, outcome, getattr(summary, outcome) + 1)
        return summary

    async def _one(self, record: Claimed, now: datetime) -> str:
        try:
            async with self.sessions() as session:
                change = await build_change(session, record, self.policy)
            if isinstance(change, _Skip):
                async with self.sessions() as session, session.begin():
                    await _mark(
                        session,
                        record.id,
                        status="synced",
                        synced_at=now,
                        locked_until=None,
                        last_error=change.reason,
                    )
                return "synced"
            result = await self._send(change)
        except _Waiting as waiting:
            return await self._wait(record, waiting, now)
        except qb.QuickBooksRejected as exc:
            return await self._dead(record, f"QuickBooks rejected it: {exc}", now)
        except _Invalid as exc:
            return await self._dead(record, str(exc), now)
        except qb.QuickBooksUnavailable as exc:
            return await self._retry(record, str(exc), now, exc.retry_after)
        except qb.QuickBooksAuthFailed:
            raise
        except _NotHere as exc:
            return await self._retry(record, str(exc), now, None)
        except Exception as exc:  # a bug must not stop the others: retried, then dead
            log.exception("sync record %s failed", record.id)
            return await self._retry(record, f"internal error: {exc!r}", now, None)
        async with self.sessions() as session, session.begin():
            await _store_mapping(session, record.entity, record.entity_id, result, now)
            if result.refreshed_tokens is not None:
                await save_tokens(session, self.realm_id, result.refreshed_tokens)
            await _mark(
                session,
                record.id,
                status="synced",
                synced_at=now,
                locked_until=None,
                last_error=None,
            )
        return "synced"

    async def _send(self, change: qb.SyncChange) -> qb.SyncResult:
        try:
            return await self.port.send(change)
        except qb.QuickBooksRejected as exc:
            reader = self.port if isinstance(self.port, qb.QuickBooksHttp) else None
            if not exc.stale or change.qbo_id is None or reader is None:
                raise
        # Edited in QuickBooks since our last write: Athena's version overwrites it. The
        # request id names the version overwritten, so a resend of this one is deduplicated too.
        current = await reader.read(change.kind, change.qbo_id)
        token = str(current["SyncToken"])
        again = qb.SyncChange(
            change.kind,
            change.entity_id,
            str(uuid.uuid5(uuid.UUID(change.request_id), token)),
            change.payload,
            change.qbo_id,
            token,
            change.operation,
        )
        return await self.port.send(again)

    async def _retry(
        self, record: Claimed, error: str, now: datetime, retry_after: float | None
    ) -> str:
        attempts = record.attempts + 1
        if attempts >= self.policy.max_attempts:
            return await self._dead(record, f"gave up after {attempts} attempts: {error}", now)
        delay = max(backoff(attempts, self.policy, self.rng), retry_after or 0.0)
        async with self.sessions() as session, session.begin():
            await _mark(
                session,
                record.id,
                status="failed",
                attempts=attempts,
                next_attempt_at=now + timedelta(seconds=delay),
                locked_until=None,
                last_error=error,
            )
        return "failed"

    async def _dead(self, record: Claimed, error: str, now: datetime) -> str:
        log.warning(
            "sync record %s (%s %s) is dead: %s", record.id, record.entity, record.entity_id, error
        )
        async with self.sessions() as session, session.begin():
            await _mark(
                session,
                record.id,
                status="dead",
                attempts=record.attempts + 1,
                locked_until=None,
                last_error=error,
            )
        return "dead"

    async def _wait(self, record: Claimed, waiting: _Waiting, now: datetime) -> str:
        async with self.sessions() as session, session.begin():
            latest = await session.scalar(
                select(SyncRecord)
                .where(
                    SyncRecord.entity == waiting.entity,
                    SyncRecord.entity_id == waiting.entity_id,
                )
                .order_by(SyncRecord.created_at.desc(), SyncRecord.id.desc())
                .limit(1)
            )
        if latest is not None and latest.status == "dead":
            return await self._dead(
                record, f"{waiting.entity} {waiting.entity_id} is dead: {latest.last_error}", now
            )
        async with self.sessions() as session, session.begin():
            if latest is None or latest.status == "synced":
                await sync_outbox.enqueue(session, waiting.entity, waiting.entity_id)  # type: ignore[arg-type]
            await _mark(
                session,
                record.id,
                status="pending",
                next_attempt_at=now + timedelta(seconds=self.policy.backoff_base_seconds / 10),
                locked_until=None,
                last_error=str(waiting),
            )
        return "deferred"

    async def _release(
        self, records: Sequence[Claimed], now: datetime, error: str, held: qb.QboTokens | None
    ) -> None:
        """Give claimed records back untouched: the connection, not the records, is at fault.

        With several replicas, another worker may have rotated the refresh
        token this one started the pass with (Intuit then refuses ours): the
        stored pair is newer, so the records are due again at once and the
        next pass, loading it, goes on. Otherwise the company needs
        reconnecting and retrying soon only fills the logs.
        """
        delay = self.policy.backoff_base_seconds * 10
        async with self.sessions() as session, session.begin():
            stored = await load_tokens(session, self.realm_id)
            ours: qb.QboTokens | None = getattr(self.port, "tokens", None)
            if (
                held is not None
                and stored is not None
                and stored.refresh_token != held.refresh_token
                and (ours is None or stored.refresh_token != ours.refresh_token)
            ):
                delay, error = 0, f"{error} (tokens were rotated by another worker; retrying)"
            await session.execute(
                update(SyncRecord)
                .where(SyncRecord.id.in_([r.id for r in records]))
                .values(
                    status="failed",
                    next_attempt_at=now + timedelta(seconds=delay),
                    locked_until=None,
                    last_error=f"QuickBooks connection refused: {error}"[:MAX_ERROR],
                )
                .execution_options(synchronize_session=False)
            )


# --- running in the app ----------------------------------------------------------------------


class SyncLoop:
    """A pass every `interval` seconds for the app's life; stop() returns within seconds."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="finance.sync_worker")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=5)
        except TimeoutError:
            # Mid-send: the lease brings the record back and the request id dedupes the resend.
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        settings = self.settings
        policy = SyncPolicy.of(settings)
        connection = connection_of(settings)
        while not self._stopping.is_set():
            try:
                await self.run_pass(connection, policy)
            except Exception:
                log.exception("the QuickBooks sync pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), timeout=settings.quickbooks_sync_interval_seconds
                )

    async def run_pass(
        self, connection: qb.QboConnection, policy: SyncPolicy
    ) -> PassSummary | None:
        port = await open_port(
            self.services.sessions,
            connection,
            initial_refresh_token=self.settings.quickbooks_refresh_token,
        )
        if port is None:
            log.warning("QuickBooks sync is enabled but no company is connected (no tokens)")
            return None
        async with port:
            worker = SyncWorker(self.services.sessions, port, policy, realm_id=connection.realm_id)
            summary = await worker.run_once()
        if summary.claimed:
            log.info(
                "QuickBooks sync: %d synced, %d failed, %d dead, %d waiting",
                summary.synced,
                summary.failed,
                summary.dead,
                summary.deferred,
            )
        return summary


async def start(services: Services) -> None:
    """App start-up hook: runs the loop only when QuickBooks is enabled and configured."""
    settings = services.settings
    if not settings.quickbooks_enabled:
        return
    if not settings.quickbooks_realm_id or not settings.quickbooks_client_id:
        log.warning("QUICKBOOKS_ENABLED without QUICKBOOKS_REALM_ID/CLIENT_ID: no sync runs")
        return
    loop = SyncLoop(services)
    loop.start()
    services.extra[SERVICE_KEY] = loop


async def stop(services: Services) -> None:
    loop: SyncLoop | None = services.extra.pop(SERVICE_KEY, None)
    if loop is not None:
        await loop.stop()
