"""The QuickBooks sync worker against the local QuickBooks stand-in (issue 12 §6).

Real PostgreSQL, the real HTTP adapter, the stand-in counting every
request by its request id. Time is passed to each pass (`now`), so backoff
and leases are checked by value, never by waiting.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

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
from subgraphs.finance.service.sync_worker import (
    SyncPolicy,
    SyncWorker,
    backoff,
    claim,
    open_port,
    save_tokens,
)
from tests.finance.quickbooks_server import TOKEN_PATH, FakeQuickBooks, running

#: The workers' clock: a day ahead of the database's, so every record written during the run
#: (stamped with the database's now()) is due at it, however long the suite takes.
NOW = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
POLICY = SyncPolicy(
    backoff_base_seconds=60,
    backoff_max_seconds=3600,
    max_attempts=3,
    lease_seconds=300,
    batch_size=20,
    income_item_id="1",
    tax_item_id="2",
    expense_account_id="7",
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeQuickBooks]:
    async with running() as server:
        yield server


def connection(fake: FakeQuickBooks) -> qb.QboConnection:
    return qb.QboConnection(
        realm_id=fake.realm_id,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        base_url=fake.base_url,
        token_url=fake.base_url + TOKEN_PATH,
    )


@pytest.fixture
async def connected(fake: FakeQuickBooks, sessions: Any) -> FakeQuickBooks:
    """The company is connected: a valid token pair in `qbo_tokens`."""
    access, refresh = fake.issue_tokens()
    async with sessions() as session, session.begin():
        await save_tokens(session, fake.realm_id, qb.QboTokens(access, refresh))
    return fake


async def worker(sessions: Any, fake: FakeQuickBooks, policy: SyncPolicy = POLICY) -> SyncWorker:
    port = await open_port(sessions, connection(fake))
    assert port is not None
    return SyncWorker(sessions, port, policy, realm_id=fake.realm_id, rng=random.Random(7))


async def client(
    sessions: Any, name: str = "Lakeside Schools", *, enqueue: bool = True
) -> uuid.UUID:
    client_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(
            ClientFact(
                client_id=client_id,
                name=name,
                email="ap@lakeside.example",
                billing_address={"line1": "1 Lake Rd", "city": "Austin", "region": "TX"},
                as_of=datetime.now(UTC),
            )
        )
        if enqueue:
            await sync_outbox.enqueue(session, "customer", client_id)
    return client_id


async def records(sessions: Any, entity: str | None = None) -> list[SyncRecord]:
    async with sessions() as session:
        stmt = select(SyncRecord).order_by(SyncRecord.created_at, SyncRecord.id)
        if entity:
            stmt = stmt.where(SyncRecord.entity == entity)
        return list((await session.scalars(stmt)).all())


async def mapping(sessions: Any, entity: str, entity_id: uuid.UUID) -> QboMapping | None:
    async with sessions() as session:
        return await session.get(QboMapping, (entity, entity_id))


async def test_a_customer_is_created_once_then_updated_sparsely(sessions, connected):
    client_id = await client(sessions)
    summary = await (await worker(sessions, connected)).run_once(NOW)

    assert (summary.claimed, summary.synced) == (1, 1)
    [record] = await records(sessions)
    assert (record.status, record.attempts, record.synced_at) == ("synced", 0, NOW)
    found = await mapping(sessions, "customer", client_id)
    assert found is not None
    assert found.sync_token == "0"
    stored = connected.record("customer", found.qbo_id)
    assert stored["DisplayName"] == "Lakeside Schools"
    assert stored["BillAddr"] == {
        "Line1": "1 Lake Rd",
        "City": "Austin",
        "CountrySubDivisionCode": "TX",
    }

    async with sessions() as session, session.begin():
        (await session.get(ClientFact, client_id)).name = "Lakeside ISD"  # type: ignore[union-attr]
        await sync_outbox.enqueue(session, "customer", client_id)
    await (await worker(sessions, connected)).run_once(NOW)

    assert connected.count("customer") == 1
    assert connected.record("customer", found.qbo_id)["DisplayName"] == "Lakeside ISD"
    again = await mapping(sessions, "customer", client_id)
    assert again is not None
    assert again.sync_token == "1"
    assert [r.status for r in await records(sessions)] == ["synced", "synced"]


async def test_a_refused_access_token_is_refreshed_and_the_new_pair_persisted(sessions, connected):
    await client(sessions)
    async with sessions() as session:
        before = await session.get(QboToken, connected.realm_id)
        assert before is not None
        old_refresh = before.refresh_token
    connected.expire_access_tokens()

    summary = await (await worker(sessions, connected)).run_once(NOW)

    assert summary.synced == 1
    assert connected.refreshes == 1
    async with sessions() as session:
        saved = await session.get(QboToken, connected.realm_id)
    assert saved is not None
    assert saved.refresh_token == connected.refresh_token != old_refresh
    assert saved.access_token in connected.access_tokens
    assert saved.access_expires_at is not None
    # The first call was refused, the second (same request id) made the customer.
    [record] = await records(sessions)
    assert connected.sent(str(record.id)) == 2
    assert connected.count("customer") == 1


async def test_a_500_is_retried_after_a_jittered_backoff_then_succeeds(sessions, connected):
    await client(sessions)
    connected.fail_next(500)

    first = await (await worker(sessions, connected)).run_once(NOW)

    assert first.failed == 1
    [record] = await records(sessions)
    assert (record.status, record.attempts) == ("failed", 1)
    assert "500" in (record.last_error or "")
    # Attempt 1 waits between half and all of the base.
    delay = (record.next_attempt_at - NOW).total_seconds()
    assert 30 <= delay <= 60
    # Not due yet: nothing is claimed, nothing sent.
    calls = len(connected.calls)
    assert (await (await worker(sessions, connected)).run_once(NOW)).claimed == 0
    assert len(connected.calls) == calls

    done = await (await worker(sessions, connected)).run_once(record.next_attempt_at)

    assert done.synced == 1
    [record] = await records(sessions)
    assert (record.status, record.attempts, record.last_error) == ("synced", 1, None)
    assert connected.count("customer") == 1


def test_backoff_doubles_within_its_jitter_and_is_capped():
    rng = random.Random(1)
    for attempts, ceiling in ((1, 60), (2, 120), (3, 240), (7, 3600), (12, 3600)):
        for _ in range(20):
            assert ceiling / 2 <= backoff(attempts, POLICY, rng) <= ceiling


async def test_after_n_failures_the_record_is_dead(sessions, connected):
    await client(sessions)
    for _ in range(POLICY.max_attempts):
        connected.fail_next(503)
    now = NOW
    for _ in range(POLICY.max_attempts):
        await (await worker(sessions, connected)).run_once(now)
        now += timedelta(hours=2)

    [record] = await records(sessions)
    assert (record.status, record.attempts) == ("dead", POLICY.max_attempts)
    assert "gave up after 3 attempts" in (record.last_error or "")
    assert connected.count("customer") == 0
    # A dead letter is not claimed again until a person retries it.
    assert (
        await (await worker(sessions, connected)).run_once(now + timedelta(days=1))
    ).claimed == 0


async def test_a_rejected_change_is_dead_at_once_with_quickbooks_message(sessions, connected):
    await client(sessions, "Same Name")
    await (await worker(sessions, connected)).run_once(NOW)
    clash = await client(sessions, "Same Name")

    summary = await (await worker(sessions, connected)).run_once(NOW)

    assert summary.dead == 1
    [record] = [r for r in await records(sessions) if r.entity_id == clash]
    assert (record.status, record.attempts) == ("dead", 1)
    assert "Duplicate Name Exists" in (record.last_error or "")


class Killed(BaseException):
    """The process dies: nothing after the send runs."""


class DiesAfterSend:
    def __init__(self, port: qb.QuickBooks) -> None:
        self.port = port

    async def send(self, change: qb.SyncChange) -> qb.SyncResult:
        await self.port.send(change)
        raise Killed


async def test_a_worker_killed_between_send_and_ack_resends_the_same_request_once(
    sessions, connected
):
    client_id = await client(sessions)
    port = await open_port(sessions, connection(connected))
    assert port is not None
    dying = SyncWorker(sessions, DiesAfterSend(port), POLICY, realm_id=connected.realm_id)

    with pytest.raises(Killed):
        await dying.run_once(NOW)

    [record] = await records(sessions)
    assert record.status == "processing"
    assert connected.count("customer") == 1
    # Its lease still runs: another worker leaves it alone.
    assert (await (await worker(sessions, connected)).run_once(NOW)).claimed == 0

    after_lease = NOW + timedelta(seconds=POLICY.lease_seconds + 1)
    summary = await (await worker(sessions, connected)).run_once(after_lease)

    assert summary.synced == 1
    assert connected.sent(str(record.id)) == 2  # sent twice ...
    assert connected.count("customer") == 1  # ... one customer in QuickBooks
    found = await mapping(sessions, "customer", client_id)
    assert found is not None
    assert connected.record("customer", found.qbo_id)["SyncToken"] == "0"


async def _books(sessions: Any) -> dict[str, uuid.UUID]:
    """A client with an invoice and a payment applied to it; a vendor with a bill."""
    client_id = await client(sessions, enqueue=False)
    vendor_id, invoice_id, payment_id, bill_id = (uuid.uuid4() for _ in range(4))
    charter_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(VendorFact(vendor_id=vendor_id, name="Hill Country Coaches", as_of=NOW))
        session.add(
            Invoice(
                id=invoice_id,
                number="INV-2026-00007",
                client_id=client_id,
                charter_id=charter_id,
                status="sent",
                issued_on=date(2026, 11, 1),
                due_on=date(2026, 12, 1),
                subtotal=Decimal("1000.00"),
                tax=Decimal("82.50"),
                total=Decimal("1082.50"),
                paid=Decimal("500.00"),
            )
        )
        await session.flush()
        session.add(
            InvoiceLine(
                invoice_id=invoice_id,
                position=1,
                description="Coach, Austin to Dallas",
                unit_price=Decimal("1000.00"),
                amount=Decimal("1000.00"),
            )
        )
        session.add(
            Payment(
                id=payment_id,
                client_id=client_id,
                amount=Decimal("600.00"),
                applied=Decimal("500.00"),
                received_on=date(2026, 11, 20),
                method="check",
                details={"checkNumber": "1042"},
                reference="CHK 1042",
            )
        )
        await session.flush()
        session.add(
            PaymentApplication(
                payment_id=payment_id,
                charter_id=charter_id,
                invoice_id=invoice_id,
                amount=Decimal("500.00"),
                idempotency_key=f"k-{payment_id}",
            )
        )
        session.add(
            VendorBill(
                id=bill_id,
                number="BILL-2026-00003",
                vendor_id=vendor_id,
                bill_date=date(2026, 11, 5),
                terms="net_30",
                due_on=date(2026, 12, 5),
                subtotal=Decimal("700.00"),
                tax=Decimal("0.00"),
                total=Decimal("700.00"),
            )
        )
        # The dependents first: the worker must still send what they refer to first.
        await sync_outbox.enqueue(session, "payment", payment_id)
        await sync_outbox.enqueue(session, "invoice", invoice_id)
        await sync_outbox.enqueue(session, "bill", bill_id)
    return {
        "customer": client_id,
        "vendor": vendor_id,
        "invoice": invoice_id,
        "payment": payment_id,
        "bill": bill_id,
    }


async def _drain(sessions: Any, fake: FakeQuickBooks, start: datetime = NOW) -> datetime:
    now = start
    for _ in range(10):
        summary = await (await worker(sessions, fake)).run_once(now)
        if not summary.claimed and all(r.status == "synced" for r in await records(sessions)):
            return now
        now += timedelta(minutes=5)
    return now


async def test_every_kind_reaches_quickbooks_dependencies_first_and_none_is_lost(
    sessions, connected
):
    ids = await _books(sessions)

    first = await (await worker(sessions, connected)).run_once(NOW)
    # Nothing they refer to is in QuickBooks yet: they wait (no attempt spent) and the
    # customer and vendor are enqueued for them.
    assert first.deferred == 3
    assert first.dead == 0
    waiting = await records(sessions, "invoice")
    assert waiting[0].attempts == 0
    assert "customer" in (waiting[0].last_error or "")

    await _drain(sessions, connected)

    every = await records(sessions)
    assert {r.entity for r in every} == {"customer", "vendor", "invoice", "payment", "bill"}
    assert all(r.status == "synced" for r in every), [
        (r.entity, r.status, r.last_error) for r in every
    ]
    qbo = {kind: await mapping(sessions, kind, entity_id) for kind, entity_id in ids.items()}
    assert all(m is not None for m in qbo.values())
    for kind in ids:
        assert connected.count(kind) == 1, kind
    invoice = connected.record("invoice", qbo["invoice"].qbo_id)  # type: ignore[union-attr]
    assert invoice["DocNumber"] == "INV-2026-00007"
    assert invoice["CustomerRef"] == {"value": qbo["customer"].qbo_id}  # type: ignore[union-attr]
    assert [line["Amount"] for line in invoice["Line"]] == [Decimal("1000.00"), Decimal("82.50")]
    payment = connected.record("payment", qbo["payment"].qbo_id)  # type: ignore[union-attr]
    assert payment["TotalAmt"] == Decimal("600.00")
    assert payment["Line"] == [
        {
            "Amount": Decimal("500.00"),
            "LinkedTxn": [{"TxnId": qbo["invoice"].qbo_id, "TxnType": "Invoice"}],  # type: ignore[union-attr]
        }
    ]
    bill = connected.record("bill", qbo["bill"].qbo_id)  # type: ignore[union-attr]
    assert bill["VendorRef"] == {"value": qbo["vendor"].qbo_id}  # type: ignore[union-attr]
    assert bill["Line"][0]["Amount"] == Decimal("700.00")
    # Every record was sent exactly once.
    for record in every:
        assert connected.sent(str(record.id)) == 1, record.entity


async def test_a_void_after_the_save_voids_the_same_quickbooks_invoice(sessions, connected):
    ids = await _books(sessions)
    await _drain(sessions, connected)
    async with sessions() as session, session.begin():
        (await session.get(Invoice, ids["invoice"])).status = "void"  # type: ignore[union-attr]
        await sync_outbox.enqueue(session, "invoice", ids["invoice"], "void")

    await _drain(sessions, connected, NOW + timedelta(hours=1))

    found = await mapping(sessions, "invoice", ids["invoice"])
    assert found is not None
    voided = connected.record("invoice", found.qbo_id)
    assert voided["PrivateNote"] == "Voided"
    assert voided["TotalAmt"] == 0
    assert connected.count("invoice") == 1


async def test_a_change_made_in_quickbooks_is_overwritten_by_athena(sessions, connected):
    client_id = await client(sessions)
    await (await worker(sessions, connected)).run_once(NOW)
    found = await mapping(sessions, "customer", client_id)
    assert found is not None
    connected.change("customer", found.qbo_id, DisplayName="Edited in QuickBooks")
    async with sessions() as session, session.begin():
        await sync_outbox.enqueue(session, "customer", client_id)

    summary = await (await worker(sessions, connected)).run_once(NOW)

    assert summary.synced == 1
    stored = connected.record("customer", found.qbo_id)
    assert stored["DisplayName"] == "Lakeside Schools"
    assert stored["SyncToken"] == "2"
    again = await mapping(sessions, "customer", client_id)
    assert again is not None
    assert again.sync_token == "2"


async def test_two_workers_racing_claim_disjoint_records_and_send_each_once(sessions, connected):
    for n in range(30):
        await client(sessions, f"Client {n:02d}")
    small = SyncPolicy(**{**POLICY.__dict__, "batch_size": 8})

    claims = await asyncio.gather(*(claim(sessions, NOW, small) for _ in range(4)))

    ids = [c.id for batch in claims for c in batch]
    assert len(ids) == len(set(ids)) == 30

    async with sessions() as session, session.begin():
        await session.execute(
            SyncRecord.__table__.update().values(status="pending", locked_until=None)
        )
    a, b = await worker(sessions, connected, small), await worker(sessions, connected, small)
    for _ in range(3):
        await asyncio.gather(a.run_once(NOW), b.run_once(NOW))

    every = await records(sessions)
    assert all(r.status == "synced" for r in every)
    assert connected.count("customer") == 30
    assert all(connected.sent(str(r.id)) == 1 for r in every)


async def test_a_newer_record_waits_while_an_older_one_for_the_same_entity_is_out(
    sessions, connected
):
    client_id = await client(sessions)
    [older] = await claim(sessions, NOW, POLICY)  # another worker holds it
    async with sessions() as session, session.begin():
        await sync_outbox.enqueue(session, "customer", client_id)

    assert await claim(sessions, NOW, POLICY) == []
    # Once the older one is done (its lease ran out: claimed again), the newer one goes next.
    later = NOW + timedelta(seconds=POLICY.lease_seconds + 1)
    assert [c.id for c in await claim(sessions, later, POLICY)] == [older.id]
    await (await worker(sessions, connected)).run_once(
        later + timedelta(seconds=POLICY.lease_seconds + 1)
    )
    assert [r.status for r in await records(sessions)] == ["synced", "pending"]
    await (await worker(sessions, connected)).run_once(
        later + timedelta(seconds=POLICY.lease_seconds + 1)
    )
    assert [r.status for r in await records(sessions)] == ["synced", "synced"]
    assert older.entity_id == client_id
    assert connected.count("customer") == 1


async def test_a_refused_connection_pauses_the_pass_without_spending_attempts(sessions, connected):
    await client(sessions)
    connected.expire_access_tokens()
    connected.refresh_token = "revoked"  # the stored refresh token no longer works

    summary = await (await worker(sessions, connected)).run_once(NOW)

    assert summary.paused
    [record] = await records(sessions)
    assert (record.status, record.attempts) == ("failed", 0)
    assert "connection refused" in (record.last_error or "")
    # The company must be reconnected: not retried at once.
    assert record.next_attempt_at == NOW + timedelta(seconds=POLICY.backoff_base_seconds * 10)
    assert connected.count("customer") == 0


async def test_a_failed_charge_voids_the_payment_in_quickbooks(sessions, connected):
    ids = await _books(sessions)
    await _drain(sessions, connected)
    async with sessions() as session, session.begin():
        (await session.get(Payment, ids["payment"])).provider_status = "failed"  # type: ignore[union-attr]
        await sync_outbox.enqueue(session, "payment", ids["payment"])

    await _drain(sessions, connected, NOW + timedelta(hours=1))

    found = await mapping(sessions, "payment", ids["payment"])
    assert found is not None
    voided = connected.record("payment", found.qbo_id)
    assert voided["PrivateNote"] == "Voided"
    assert voided["TotalAmt"] == 0
    assert connected.count("payment") == 1


async def test_tokens_rotated_by_another_worker_leave_the_records_due_for_the_next_pass(
    sessions, connected
):
    await client(sessions)
    stale = await worker(sessions, connected)  # loaded the pair now in the database
    connected.expire_access_tokens()
    # Another replica refreshes first: Intuit rotates the pair, ours is dead, the new one stored.
    access, refresh = connected.issue_tokens()
    async with sessions() as session, session.begin():
        await save_tokens(session, connected.realm_id, qb.QboTokens(access, refresh))

    summary = await stale.run_once(NOW)

    assert summary.paused
    [record] = await records(sessions)
    assert (record.status, record.attempts, record.next_attempt_at) == ("failed", 0, NOW)
    assert "rotated by another worker" in (record.last_error or "")

    done = await (await worker(sessions, connected)).run_once(NOW)

    assert done.synced == 1
    assert connected.count("customer") == 1


async def test_a_refund_reaches_quickbooks_as_its_payment_s_net_amount(sessions, connected):
    ids = await _books(sessions)
    await _drain(sessions, connected)
    refund_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(
            Payment(
                id=refund_id,
                client_id=ids["customer"],
                kind="refund",
                refund_of_id=ids["payment"],
                amount=Decimal("-100.00"),
                applied=Decimal("-100.00"),
                received_on=date(2026, 11, 25),
                method="check",
            )
        )
        await session.flush()
        session.add(
            PaymentApplication(
                payment_id=refund_id,
                charter_id=uuid.uuid4(),
                invoice_id=ids["invoice"],
                amount=Decimal("-100.00"),
                idempotency_key=f"k-{refund_id}",
            )
        )
        paying = await session.get(Payment, ids["payment"])
        assert paying is not None
        paying.refunded = Decimal("100.00")
        await sync_outbox.enqueue(session, "payment", refund_id)
        await sync_outbox.enqueue(session, "payment", ids["payment"])

    await _drain(sessions, connected, NOW + timedelta(hours=1))

    found = await mapping(sessions, "payment", ids["payment"])
    invoice = await mapping(sessions, "invoice", ids["invoice"])
    assert found is not None
    assert invoice is not None
    stored = connected.record("payment", found.qbo_id)
    assert stored["TotalAmt"] == Decimal("500.00")
    assert stored["Line"] == [
        {
            "Amount": Decimal("400.00"),
            "LinkedTxn": [{"TxnId": invoice.qbo_id, "TxnType": "Invoice"}],
        }
    ]
    # The refund is not a QuickBooks record of its own: its payment carries it.
    assert await mapping(sessions, "payment", refund_id) is None
    assert connected.count("payment") == 1
    [refund_record] = [r for r in await records(sessions) if r.entity_id == refund_id]
    assert refund_record.status == "synced"
    assert "net of refunds" in (refund_record.last_error or "")
