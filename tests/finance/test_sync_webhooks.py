"""`POST /webhooks/quickbooks` on a finance app wired to the local QuickBooks stand-in (issue 12 §6).

The app is the real one (`create_app`) with QuickBooks settings pointing at
the stand-in; deliveries are signed as Intuit signs them. A payment change
is read back from the stand-in before the conflict policy decides.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from subgraphs.finance.app import create_app
from subgraphs.finance.models import (
    ClientFact,
    FinanceAudit,
    Payment,
    QboMapping,
    SyncConflict,
    SyncRecord,
    outbox,
)
from subgraphs.finance.service import quickbooks as qb
from subgraphs.finance.service import sync_outbox
from subgraphs.finance.service.sync_worker import save_tokens
from subgraphs.finance.sync_webhooks import PATH
from tests.finance.quickbooks_server import TOKEN_PATH, FakeQuickBooks, running
from tests.support.live_server import LiveServer, serve

VERIFIER = "verifier-5f0c9d"
QBO_PAYMENT = "9"


@pytest.fixture
async def fake(sessions: Any) -> AsyncIterator[FakeQuickBooks]:
    async with running() as server:
        access, refresh = server.issue_tokens()
        async with sessions() as session, session.begin():
            await save_tokens(session, server.realm_id, qb.QboTokens(access, refresh))
        yield server


def qbo_settings(subgraph_settings: Any, fake: FakeQuickBooks, **more: Any) -> Any:
    return subgraph_settings.model_copy(
        update={
            "quickbooks_webhook_verifier_token": VERIFIER,
            "quickbooks_realm_id": fake.realm_id,
            "quickbooks_client_id": fake.client_id,
            "quickbooks_client_secret": fake.client_secret,
            "quickbooks_base_url": fake.base_url,
            "quickbooks_token_url": fake.base_url + TOKEN_PATH,
            "finance_jobs_enabled": False,
            "jobs_enabled": False,
            **more,
        }
    )


@pytest.fixture
async def app(subgraph_settings: Any, fake: FakeQuickBooks) -> AsyncIterator[LiveServer]:
    async with serve(create_app(qbo_settings(subgraph_settings, fake))) as server:
        yield server


def signed(body: bytes, key: str = VERIFIER) -> dict[str, str]:
    digest = hmac.new(key.encode(), body, hashlib.sha256).digest()
    return {
        "intuit-signature": base64.b64encode(digest).decode(),
        "content-type": "application/json",
    }


def cloud_event(
    fake: FakeQuickBooks, verb: str, *, qbo_id: str = QBO_PAYMENT, realm: str | None = None
) -> bytes:
    return json.dumps(
        [
            {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
                "type": f"qbo.payment.{verb}.v1",
                "datacontenttype": "application/json",
                "time": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
                "intuitentityid": qbo_id,
                "intuitaccountid": realm or fake.realm_id,
                "data": {},
            }
        ]
    ).encode()


async def deliver(
    http_client: httpx.AsyncClient, server: LiveServer, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    return await http_client.post(f"{server.base_url}{PATH}", content=body, headers=headers)


async def athena_payment(
    sessions: Any, fake: FakeQuickBooks, *, applied: str = "0.00", status: str = "pending"
) -> uuid.UUID:
    """A card payment Athena holds, synced to QuickBooks as payment 9."""
    client_id, payment_id = uuid.uuid4(), uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(ClientFact(client_id=client_id, name="Lakeside", as_of=datetime.now(UTC)))
        session.add(
            Payment(
                id=payment_id,
                client_id=client_id,
                amount=Decimal("40.00"),
                applied=Decimal(applied),
                provider_status=status,
                received_on=date(2026, 11, 2),
                method="card",
            )
        )
        session.add(
            QboMapping(entity="payment", entity_id=payment_id, qbo_id=QBO_PAYMENT, sync_token="0")
        )
    fake.records[("payment", QBO_PAYMENT)] = {
        "Id": QBO_PAYMENT,
        "SyncToken": "0",
        "TotalAmt": Decimal("40.00"),
        "CreditCardPayment": {"CreditChargeResponse": {"Status": "Pending"}},
    }
    return payment_id


async def payment_row(sessions: Any, payment_id: uuid.UUID) -> Payment:
    async with sessions() as session:
        row = await session.get(Payment, payment_id)
    assert row is not None
    return row


async def conflicts(sessions: Any) -> list[SyncConflict]:
    async with sessions() as session:
        return list((await session.scalars(select(SyncConflict))).all())


async def test_a_delivery_without_the_right_signature_is_refused(
    app, fake, http_client, finance_server, sessions
):
    payment_id = await athena_payment(sessions, fake)
    body = cloud_event(fake, "deleted")

    unsigned = await deliver(http_client, app, body, {"content-type": "application/json"})
    wrong_key = await deliver(http_client, app, body, signed(body, "another-verifier"))
    tampered = await deliver(http_client, app, body + b" ", signed(body))
    # The shared test app has no verifier token: it refuses even a well-signed delivery.
    unconfigured = await deliver(http_client, finance_server, body, signed(body))
    not_a_webhook = await deliver(http_client, app, b'{"hello": 1}', signed(b'{"hello": 1}'))
    huge = b"[" + b" " * (2 * 1024 * 1024) + b"]"
    too_large = await deliver(http_client, app, huge, signed(huge))

    assert [r.status_code for r in (unsigned, wrong_key, tampered, unconfigured)] == [401] * 4
    assert not_a_webhook.status_code == 400
    assert too_large.status_code == 413
    assert await conflicts(sessions) == []
    assert (await payment_row(sessions, payment_id)).provider_status == "pending"


async def test_a_status_change_from_quickbooks_updates_the_payment_audited(
    app, fake, http_client, sessions
):
    payment_id = await athena_payment(sessions, fake)
    fake.change(
        "payment", QBO_PAYMENT, CreditCardPayment={"CreditChargeResponse": {"Status": "Completed"}}
    )
    body = cloud_event(fake, "updated")

    answer = await deliver(http_client, app, body, signed(body))

    assert answer.status_code == 200
    assert answer.json() == {"received": 1, "applied": 1, "held": 0, "ignored": 0}
    assert (await payment_row(sessions, payment_id)).provider_status == "succeeded"
    async with sessions() as session:
        audit = (
            await session.scalars(select(FinanceAudit).where(FinanceAudit.entity_id == payment_id))
        ).all()
        mapped = await session.get(QboMapping, ("payment", payment_id))
        events = (
            await session.execute(
                select(outbox.c.payload).where(outbox.c.topic == "finance.payment_status_changed")
            )
        ).all()
    assert [(a.action, a.before, a.after) for a in audit] == [
        (
            "provider_status_from_quickbooks",
            {"providerStatus": "pending"},
            {"providerStatus": "succeeded"},
        )
    ]
    # QuickBooks' version is now the one Athena's next sparse update names.
    assert mapped is not None
    assert mapped.sync_token == "1"
    assert [e.payload["paymentId"] for e in events] == [str(payment_id)]


async def test_a_changed_amount_is_held_for_a_person_once_however_often_delivered(
    app, fake, http_client, sessions
):
    payment_id = await athena_payment(sessions, fake, applied="40.00", status="succeeded")
    fake.change("payment", QBO_PAYMENT, TotalAmt=Decimal("45.00"))

    for _ in range(2):
        body = cloud_event(fake, "updated")
        answer = await deliver(http_client, app, body, signed(body))
        assert answer.status_code == 200
        assert answer.json()["held"] == 1

    [conflict] = await conflicts(sessions)
    assert (conflict.entity, conflict.entity_id, conflict.qbo_id) == (
        "payment",
        payment_id,
        QBO_PAYMENT,
    )
    assert (conflict.operation, conflict.status) == ("amount", "held")
    assert conflict.detail["athenaAmount"] == "40.00"
    assert conflict.detail["qboAmount"] == "45.00"
    row = await payment_row(sessions, payment_id)
    assert (row.amount, row.applied, row.provider_status) == (
        Decimal("40.00"),
        Decimal("40.00"),
        "succeeded",
    )


async def test_a_void_or_deletion_of_an_applied_payment_is_held_never_applied(
    app, fake, http_client, sessions
):
    payment_id = await athena_payment(sessions, fake, applied="40.00", status="succeeded")

    for verb in ("voided", "deleted"):
        body = cloud_event(fake, verb)
        answer = await deliver(http_client, app, body, signed(body))
        assert answer.status_code == 200
        assert answer.json()["held"] == 1

    assert sorted(c.operation for c in await conflicts(sessions)) == ["delete", "void"]
    row = await payment_row(sessions, payment_id)
    assert (row.applied, row.provider_status) == (Decimal("40.00"), "succeeded")


async def test_a_failed_charge_on_an_applied_payment_is_held(app, fake, http_client, sessions):
    payment_id = await athena_payment(sessions, fake, applied="25.00", status="succeeded")
    fake.change(
        "payment", QBO_PAYMENT, CreditCardPayment={"CreditChargeResponse": {"Status": "Declined"}}
    )
    body = cloud_event(fake, "updated")

    answer = await deliver(http_client, app, body, signed(body))

    assert answer.json()["held"] == 1
    [conflict] = await conflicts(sessions)
    assert (conflict.operation, conflict.detail["qboStatus"]) == ("status", "failed")
    assert (await payment_row(sessions, payment_id)).provider_status == "succeeded"


async def test_athena_s_newer_local_change_wins_over_quickbooks(app, fake, http_client, sessions):
    payment_id = await athena_payment(sessions, fake)
    async with sessions() as session, session.begin():
        await sync_outbox.enqueue(session, "payment", payment_id)  # not yet sent
    fake.change(
        "payment", QBO_PAYMENT, CreditCardPayment={"CreditChargeResponse": {"Status": "Completed"}}
    )
    body = cloud_event(fake, "updated")

    answer = await deliver(http_client, app, body, signed(body))

    assert answer.json() == {"received": 1, "applied": 0, "held": 0, "ignored": 1}
    assert (await payment_row(sessions, payment_id)).provider_status == "pending"
    assert await conflicts(sessions) == []


async def test_changes_of_other_companies_and_unknown_payments_are_ignored(
    app, fake, http_client, sessions
):
    payment_id = await athena_payment(sessions, fake)
    fake.change(
        "payment", QBO_PAYMENT, CreditCardPayment={"CreditChargeResponse": {"Status": "Completed"}}
    )
    other_realm = cloud_event(fake, "updated", realm="123")
    unknown = cloud_event(fake, "deleted", qbo_id="404")

    answers = [
        await deliver(http_client, app, body, signed(body)) for body in (other_realm, unknown)
    ]

    assert [a.json()["ignored"] for a in answers] == [1, 1]
    assert (await payment_row(sessions, payment_id)).provider_status == "pending"
    assert await conflicts(sessions) == []


async def test_the_app_runs_the_sync_when_enabled_and_stops_it_on_shutdown(
    subgraph_settings, fake, sessions
):
    client_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(ClientFact(client_id=client_id, name="Loop Client", as_of=datetime.now(UTC)))
        await sync_outbox.enqueue(session, "customer", client_id)
    settings = qbo_settings(
        subgraph_settings, fake, quickbooks_enabled=True, quickbooks_sync_interval_seconds=0.2
    )

    async with serve(create_app(settings)):
        for _ in range(200):
            async with sessions() as session:
                status = await session.scalar(
                    select(SyncRecord.status).where(SyncRecord.entity_id == client_id)
                )
            if status == "synced":
                break
            await asyncio.sleep(0.05)

    assert status == "synced"
    assert fake.count("customer") == 1
    async with sessions() as session:
        mapped = await session.get(QboMapping, ("customer", client_id))
    assert mapped is not None
    assert fake.record("customer", mapped.qbo_id)["DisplayName"] == "Loop Client"
