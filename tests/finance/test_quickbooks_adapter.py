"""The QuickBooks Online adapter against a local server speaking the Accounting API and Intuit OAuth2.

Given the stand-in in `quickbooks_server.py`, each test drives the real
`QuickBooksHttp` over HTTP: creates and sparse updates of every entity kind,
`requestid` idempotency, the one-shot token refresh with rotation, the
sorting of failures into retry / reject / reconnect, and webhook checks.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from db.embedded import free_port
from subgraphs.finance.service.quickbooks import (
    BillLine,
    EntityKind,
    InvoiceLine,
    MalformedWebhook,
    Operation,
    PaymentApplication,
    PostalAddress,
    QboChange,
    QboConnection,
    QboTokens,
    QuickBooksAuthFailed,
    QuickBooksHttp,
    QuickBooksRejected,
    QuickBooksUnavailable,
    SyncChange,
    bill_payload,
    customer_payload,
    invoice_payload,
    parse_webhook,
    payment_payload,
    to_json,
    vendor_payload,
    verify_webhook,
)
from tests.finance.quickbooks_server import TOKEN_PATH, FakeQuickBooks, running

VERIFIER = "d0e3f7a1-verifier-token"


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[FakeQuickBooks]:
    async with running() as fake:
        yield fake


@pytest.fixture
async def qbo(server: FakeQuickBooks) -> FakeQuickBooks:
    """The stand-in with no queued failures and valid tokens; records persist across tests."""
    server.failures.clear()
    server.issue_tokens()
    return server


def connection(fake: FakeQuickBooks, **overrides: Any) -> QboConnection:
    values: dict[str, Any] = {
        "realm_id": fake.realm_id,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "base_url": fake.base_url,
        "token_url": fake.base_url + TOKEN_PATH,
    }
    return QboConnection(**(values | overrides))


def adapter(fake: FakeQuickBooks, tokens: QboTokens | None = None, **kwargs: Any) -> QuickBooksHttp:
    if tokens is None:
        access, refresh = fake.issue_tokens()
        tokens = QboTokens(access, refresh)
    return QuickBooksHttp(connection(fake), tokens, **kwargs)


def change(kind: EntityKind, payload: dict[str, Any], **kwargs: Any) -> SyncChange:
    return SyncChange(kind, uuid.uuid4(), uuid.uuid4().hex, payload, **kwargs)


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:8]}"


async def new_customer(qb: QuickBooksHttp) -> str:
    return (
        await qb.send(change(EntityKind.CUSTOMER, customer_payload(display_name=unique("C"))))
    ).qbo_id


async def new_invoice(qb: QuickBooksHttp, customer: str, amount: str) -> str:
    payload = invoice_payload(
        customer_ref=customer,
        doc_number="INV-2026-00001",
        txn_date=date(2026, 3, 1),
        due_date=date(2026, 3, 31),
        lines=[InvoiceLine("Charter CH-2026-000001", Decimal(amount), "1")],
    )
    return (await qb.send(change(EntityKind.INVOICE, payload))).qbo_id


# --- creating and updating ----------------------------------------------------------------


async def test_every_entity_kind_is_created_with_exact_amounts(qbo):
    async with adapter(qbo) as qb:
        name = unique("Lone Star Tours")
        customer = await qb.send(
            change(
                EntityKind.CUSTOMER,
                customer_payload(
                    display_name=name,
                    email="ap@lonestar.example",
                    billing_address=PostalAddress(
                        "1 Main St", city="Austin", region="TX", postal_code="78701"
                    ),
                ),
            )
        )
        vendor = await qb.send(
            change(EntityKind.VENDOR, vendor_payload(display_name=unique("Hill Country Coaches")))
        )
        invoice = await qb.send(
            change(
                EntityKind.INVOICE,
                invoice_payload(
                    customer_ref=customer.qbo_id,
                    doc_number="INV-2026-00042",
                    txn_date=date(2026, 3, 1),
                    due_date=date(2026, 3, 31),
                    lines=[
                        InvoiceLine(
                            "Charter CH-2026-000123", Decimal("1234.56"), "7", date(2026, 4, 2)
                        ),
                        InvoiceLine("Fuel surcharge", Decimal("0.10"), "7"),
                    ],
                    tax=Decimal("101.86"),
                    tax_item_ref="9",
                ),
            )
        )
        payment = await qb.send(
            change(
                EntityKind.PAYMENT,
                payment_payload(
                    customer_ref=customer.qbo_id,
                    total=Decimal("500.00"),
                    txn_date=date(2026, 3, 5),
                    applications=[PaymentApplication(invoice.qbo_id, Decimal("499.99"))],
                    reference="check 10442",
                ),
            )
        )
        bill = await qb.send(
            change(
                EntityKind.BILL,
                bill_payload(
                    vendor_ref=vendor.qbo_id,
                    doc_number="BILL-2026-00007",
                    txn_date=date(2026, 3, 2),
                    due_date=date(2026, 4, 1),
                    lines=[BillLine("Coach for CH-2026-000123", Decimal("875.25"), "60")],
                ),
            )
        )

    results = [customer, vendor, invoice, payment, bill]
    assert [r.sync_token for r in results] == ["0"] * 5
    assert all(r.refreshed_tokens is None for r in results)
    stored_customer = qbo.record("customer", customer.qbo_id)
    assert stored_customer["DisplayName"] == name
    assert stored_customer["BillAddr"] == {
        "Line1": "1 Main St",
        "City": "Austin",
        "CountrySubDivisionCode": "TX",
        "PostalCode": "78701",
    }
    stored_invoice = qbo.record("invoice", invoice.qbo_id)
    assert stored_invoice["DocNumber"] == "INV-2026-00042"
    assert stored_invoice["CustomerRef"] == {"value": customer.qbo_id}
    assert [line["Amount"] for line in stored_invoice["Line"]] == [
        Decimal("1234.56"),
        Decimal("0.10"),
        Decimal("101.86"),
    ]
    assert stored_invoice["Line"][0]["SalesItemLineDetail"]["ServiceDate"] == "2026-04-02"
    stored_payment = qbo.record("payment", payment.qbo_id)
    assert stored_payment["TotalAmt"] == Decimal("500.00")
    assert stored_payment["Line"] == [
        {
            "Amount": Decimal("499.99"),
            "LinkedTxn": [{"TxnId": invoice.qbo_id, "TxnType": "Invoice"}],
        }
    ]
    assert stored_payment["PaymentRefNum"] == "check 10442"
    stored_bill = qbo.record("bill", bill.qbo_id)
    assert stored_bill["VendorRef"] == {"value": vendor.qbo_id}
    assert stored_bill["Line"][0]["Amount"] == Decimal("875.25")
    assert stored_bill["Line"][0]["AccountBasedExpenseLineDetail"] == {
        "AccountRef": {"value": "60"}
    }


async def test_an_update_is_sparse_and_returns_the_next_sync_token(qbo):
    async with adapter(qbo) as qb:
        created = await qb.send(
            change(
                EntityKind.CUSTOMER,
                customer_payload(display_name=unique("Acme"), email="old@acme.example"),
            )
        )
        updated = await qb.send(
            change(
                EntityKind.CUSTOMER,
                {"PrimaryEmailAddr": {"Address": "new@acme.example"}},
                qbo_id=created.qbo_id,
                sync_token=created.sync_token,
            )
        )

    assert (updated.qbo_id, updated.sync_token) == (created.qbo_id, "1")
    stored = qbo.record("customer", created.qbo_id)
    assert stored["PrimaryEmailAddr"] == {"Address": "new@acme.example"}
    assert stored["DisplayName"].startswith("Acme")  # sparse: untouched fields kept


async def test_an_update_with_a_stale_sync_token_is_rejected_as_stale(qbo):
    async with adapter(qbo) as qb:
        created = await qb.send(change(EntityKind.VENDOR, vendor_payload(display_name=unique("V"))))
        await qb.send(
            change(EntityKind.VENDOR, {"AcctNum": "A1"}, qbo_id=created.qbo_id, sync_token="0")
        )
        with pytest.raises(QuickBooksRejected) as refused:
            await qb.send(
                change(EntityKind.VENDOR, {"AcctNum": "A2"}, qbo_id=created.qbo_id, sync_token="0")
            )

    assert refused.value.stale
    assert refused.value.retryable is False
    assert qbo.record("vendor", created.qbo_id)["AcctNum"] == "A1"


async def test_an_invoice_and_a_payment_are_voided_keeping_their_number(qbo):
    async with adapter(qbo) as qb:
        customer = await new_customer(qb)
        invoice = await new_invoice(qb, customer, "250.00")
        payment = await qb.send(
            change(
                EntityKind.PAYMENT,
                payment_payload(
                    customer_ref=customer,
                    total=Decimal("250.00"),
                    txn_date=date(2026, 3, 5),
                    applications=[PaymentApplication(invoice, Decimal("250.00"))],
                ),
            )
        )
        voided_payment = await qb.send(
            change(
                EntityKind.PAYMENT,
                {},
                qbo_id=payment.qbo_id,
                sync_token=payment.sync_token,
                operation=Operation.VOID,
            )
        )
        voided_invoice = await qb.send(
            change(EntityKind.INVOICE, {}, qbo_id=invoice, sync_token="0", operation=Operation.VOID)
        )

    assert (voided_payment.qbo_id, voided_payment.sync_token) == (payment.qbo_id, "1")
    assert (voided_invoice.qbo_id, voided_invoice.sync_token) == (invoice, "1")
    stored = qbo.record("invoice", invoice)
    assert (stored["DocNumber"], stored["PrivateNote"]) == ("INV-2026-00001", "Voided")
    assert qbo.record("payment", payment.qbo_id)["TotalAmt"] == 0
    with pytest.raises(ValueError):
        change(EntityKind.BILL, {}, qbo_id="1", sync_token="0", operation=Operation.VOID)


# --- idempotency ---------------------------------------------------------------------------


async def test_the_same_request_id_twice_creates_one_record(qbo):
    payload = customer_payload(display_name=unique("Twice Ltd"))
    request_id = f"outbox-{uuid.uuid4().int % 10**9}"
    once = SyncChange(EntityKind.CUSTOMER, uuid.uuid4(), request_id, payload)
    before = qbo.count("customer")

    async with adapter(qbo) as qb:
        first = await qb.send(once)
        second = await qb.send(once)

    assert second == first
    assert qbo.count("customer") == before + 1
    # Both reached QuickBooks: the second was answered from the first, not refused or skipped.
    assert [c[0] for c in qbo.calls if c[1] == request_id] == ["customer", "customer"]


# --- OAuth2 --------------------------------------------------------------------------------


async def test_a_401_refreshes_once_retries_and_returns_the_rotated_refresh_token(qbo):
    access, refresh = qbo.issue_tokens()
    saved: list[QboTokens] = []

    async def save(tokens: QboTokens) -> None:
        saved.append(tokens)

    qbo.expire_access_tokens()
    refreshes, customers = qbo.refreshes, qbo.count("customer")
    async with adapter(qbo, QboTokens(access, refresh), on_tokens=save) as qb:
        result = await qb.send(
            change(EntityKind.CUSTOMER, customer_payload(display_name=unique("R")))
        )
        after = await qb.send(
            change(EntityKind.CUSTOMER, customer_payload(display_name=unique("S")))
        )

        assert qbo.refreshes == refreshes + 1
        assert qbo.count("customer") == customers + 2
        rotated = result.refreshed_tokens
        assert rotated is not None
        assert rotated.refresh_token == qbo.refresh_token != refresh
        assert rotated.access_token in qbo.access_tokens
        assert rotated.refresh_expires_at is not None
        assert rotated.refresh_expires_at > datetime.now(UTC)
        assert qb.tokens == rotated
        assert saved == [rotated]
        assert after.refreshed_tokens is None

    # The retried request carried the new access token; the old refresh token is now dead.
    assert [c[2] for c in qbo.calls[-3:]] == [access, rotated.access_token, rotated.access_token]
    async with adapter(qbo, QboTokens("expired", refresh)) as stale:
        with pytest.raises(QuickBooksAuthFailed):
            await stale.send(
                change(EntityKind.CUSTOMER, customer_payload(display_name=unique("T")))
            )


async def test_concurrent_401s_share_one_refresh(qbo):
    access, refresh = qbo.issue_tokens()
    qbo.expire_access_tokens()
    refreshes = qbo.refreshes

    async with adapter(qbo, QboTokens(access, refresh)) as qb:
        results = await asyncio.gather(
            *(
                qb.send(change(EntityKind.CUSTOMER, customer_payload(display_name=unique("P"))))
                for _ in range(4)
            )
        )

    assert qbo.refreshes == refreshes + 1
    assert len({r.qbo_id for r in results}) == 4


async def test_a_refused_refresh_token_is_auth_failed_and_writes_nothing(qbo):
    qbo.expire_access_tokens()
    customers = qbo.count("customer")

    async with adapter(qbo, QboTokens("expired", "revoked-refresh-token")) as qb:
        with pytest.raises(QuickBooksAuthFailed) as failed:
            await qb.send(change(EntityKind.CUSTOMER, customer_payload(display_name=unique("X"))))

    assert "invalid_grant" in str(failed.value)
    assert failed.value.retryable is False
    assert qbo.count("customer") == customers


# --- failures ------------------------------------------------------------------------------


async def test_a_500_is_unavailable_and_the_same_change_then_succeeds(qbo):
    resend = change(EntityKind.CUSTOMER, customer_payload(display_name=unique("Flaky")))
    customers = qbo.count("customer")
    qbo.fail_next(500)

    async with adapter(qbo) as qb:
        with pytest.raises(QuickBooksUnavailable) as down:
            await qb.send(resend)
        assert (down.value.status, down.value.retry_after, down.value.retryable) == (
            500,
            None,
            True,
        )
        assert qbo.count("customer") == customers

        result = await qb.send(resend)

    assert qbo.record("customer", result.qbo_id)["DisplayName"].startswith("Flaky")
    assert qbo.count("customer") == customers + 1


async def test_a_429_is_unavailable_with_its_retry_after(qbo):
    qbo.fail_next(429, retry_after="30")

    async with adapter(qbo) as qb:
        with pytest.raises(QuickBooksUnavailable) as throttled:
            await qb.send(change(EntityKind.VENDOR, vendor_payload(display_name=unique("V"))))

    assert (throttled.value.status, throttled.value.retry_after) == (429, 30.0)


async def test_an_unreachable_quickbooks_is_unavailable():
    fake = FakeQuickBooks()
    dead = f"http://127.0.0.1:{free_port()}"
    conn = QboConnection(fake.realm_id, "id", "secret", base_url=dead, token_url=dead + TOKEN_PATH)

    async with QuickBooksHttp(conn, QboTokens("a", "r")) as qb:
        with pytest.raises(QuickBooksUnavailable) as down:
            await qb.send(change(EntityKind.VENDOR, vendor_payload(display_name="V")))

    assert down.value.status is None


async def test_a_validation_fault_is_rejected_with_its_message(qbo):
    name = unique("Duplicate Co")
    async with adapter(qbo) as qb:
        first = await qb.send(change(EntityKind.CUSTOMER, customer_payload(display_name=name)))
        with pytest.raises(QuickBooksRejected) as refused:
            await qb.send(change(EntityKind.CUSTOMER, customer_payload(display_name=name)))

    assert refused.value.status == 400
    assert refused.value.code == "6240"
    assert refused.value.message == "Duplicate Name Exists Error"
    assert refused.value.detail == f"The name supplied already exists. : Id={first.qbo_id}"
    assert refused.value.fault_type == "ValidationFault"
    assert refused.value.retryable is False
    assert not refused.value.stale


async def test_a_payment_for_an_unknown_invoice_is_rejected_and_writes_nothing(qbo):
    async with adapter(qbo) as qb:
        customer = await new_customer(qb)
        invoice = await new_invoice(qb, customer, "100.00")
        payments = qbo.count("payment")
        payload = payment_payload(
            customer_ref=customer,
            total=Decimal("100.00"),
            txn_date=date(2026, 3, 5),
            applications=[
                PaymentApplication(invoice, Decimal("50.00")),
                PaymentApplication("99999", Decimal("50.00")),
            ],
        )
        with pytest.raises(QuickBooksRejected) as refused:
            await qb.send(change(EntityKind.PAYMENT, payload))

    assert (refused.value.message, refused.value.detail) == (
        "Invalid Reference Id",
        "Invoice 99999",
    )
    assert qbo.count("payment") == payments


# --- mappings ------------------------------------------------------------------------------


def test_amounts_are_sent_as_exact_json_numbers():
    payload = invoice_payload(
        customer_ref="1",
        doc_number="INV-2026-00001",
        txn_date=date(2026, 1, 2),
        due_date=date(2026, 2, 1),
        lines=[InvoiceLine("x", Decimal("0.30"), "1")],
    )

    text = to_json(payload).decode()

    assert '"Amount":0.30' in text
    assert '"UnitPrice":0.30' in text
    assert json.loads(text, parse_float=Decimal)["Line"][0]["Amount"] == Decimal("0.30")
    with pytest.raises(TypeError):
        to_json({"Amount": 0.3})


@pytest.mark.parametrize("amount", [Decimal("10.001"), Decimal("NaN"), Decimal("Infinity")])
def test_amounts_beyond_cents_are_refused(amount):
    with pytest.raises(ValueError):
        invoice_payload(
            customer_ref="1",
            doc_number="INV-2026-00001",
            txn_date=date(2026, 1, 2),
            due_date=date(2026, 2, 1),
            lines=[InvoiceLine("x", amount, "1")],
        )


def test_a_payment_cannot_apply_more_than_its_total():
    with pytest.raises(ValueError, match="exceed"):
        payment_payload(
            customer_ref="1",
            total=Decimal("100.00"),
            txn_date=date(2026, 1, 2),
            applications=[
                PaymentApplication("5", Decimal("60.00")),
                PaymentApplication("6", Decimal("40.01")),
            ],
        )


def test_text_is_clipped_to_quickbooks_limits():
    payload = payment_payload(
        customer_ref="1",
        total=Decimal("1.00"),
        txn_date=date(2026, 1, 2),
        applications=[],
        reference="wire  ref  0123456789012345678901234",
    )

    assert payload["PaymentRefNum"] == "wire ref 012345678901"
    with pytest.raises(ValueError):
        invoice_payload(
            customer_ref="1",
            doc_number="INV-2026-00001-EXTRA-LONG",
            txn_date=date(2026, 1, 2),
            due_date=date(2026, 2, 1),
            lines=[InvoiceLine("x", Decimal("1.00"), "1")],
        )


def test_a_change_keeps_id_and_sync_token_out_of_the_payload():
    with pytest.raises(ValueError):
        SyncChange(EntityKind.INVOICE, uuid.uuid4(), "r1", {"Id": "5"})
    with pytest.raises(ValueError):
        SyncChange(EntityKind.INVOICE, uuid.uuid4(), "r1", {}, qbo_id="5")
    with pytest.raises(ValueError):
        SyncChange(EntityKind.INVOICE, uuid.uuid4(), "x" * 51, {})


# --- webhooks ------------------------------------------------------------------------------


def sign(payload: bytes, token: str = VERIFIER) -> str:
    return base64.b64encode(hmac.new(token.encode(), payload, hashlib.sha256).digest()).decode()


LEGACY = json.dumps(
    {
        "eventNotifications": [
            {
                "realmId": "9341453001",
                "dataChangeEvent": {
                    "entities": [
                        {
                            "name": "Payment",
                            "id": "77",
                            "operation": "Create",
                            "lastUpdated": "2026-03-05T09:14:25.000Z",
                        },
                        {
                            "name": "Invoice",
                            "id": "42",
                            "operation": "Void",
                            "lastUpdated": "2026-03-05T14:42:19-0700",
                        },
                    ]
                },
            },
            {
                "realmId": "1185883450",
                "dataChangeEvent": {
                    "entities": [
                        {
                            "name": "Customer",
                            "id": "3",
                            "operation": "Merge",
                            "lastUpdated": "2026-03-06T00:00:00Z",
                        }
                    ]
                },
            },
        ]
    }
).encode()

CLOUD_EVENTS = json.dumps(
    [
        {
            "specversion": "1.0",
            "id": "88cd52aa-33b6-4351-9aa4-47572edbd068",
            "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
            "type": "qbo.payment.updated.v1",
            "datacontenttype": "application/json",
            "time": "2026-03-05T21:31:25.179851517Z",
            "intuitentityid": "77",
            "intuitaccountid": "9341453001",
            "data": {},
        },
        {
            "specversion": "1.0",
            "id": "0b8e3f2c-7c1d-4d59-9a0e-2f6c1c1e5a11",
            "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
            "type": "qbo.billpayment.deleted.v1",
            "datacontenttype": "application/json",
            "time": "2026-03-05T21:31:26Z",
            "intuitentityid": "12",
            "intuitaccountid": "9341453001",
            "data": {},
        },
    ]
).encode()


def test_a_correctly_signed_webhook_is_accepted():
    assert verify_webhook(CLOUD_EVENTS, sign(CLOUD_EVENTS), VERIFIER)


@pytest.mark.parametrize(
    ("payload", "signature", "token"),
    [
        (CLOUD_EVENTS, sign(CLOUD_EVENTS, "another-apps-token"), VERIFIER),
        (CLOUD_EVENTS.replace(b'"77"', b'"78"'), sign(CLOUD_EVENTS), VERIFIER),
        (CLOUD_EVENTS, "not base64 at all!", VERIFIER),
        (CLOUD_EVENTS, "", VERIFIER),
        (CLOUD_EVENTS, sign(CLOUD_EVENTS, ""), ""),
    ],
    ids=["wrong-token", "tampered-body", "garbage-signature", "no-signature", "no-verifier"],
)
def test_a_webhook_with_a_wrong_signature_is_refused(payload, signature, token):
    assert not verify_webhook(payload, signature, token)


def test_a_legacy_webhook_is_parsed_into_changes():
    assert parse_webhook(LEGACY) == [
        QboChange(
            "9341453001", "Payment", "77", "Create", datetime(2026, 3, 5, 9, 14, 25, tzinfo=UTC)
        ),
        QboChange(
            "9341453001", "Invoice", "42", "Void", datetime(2026, 3, 5, 21, 42, 19, tzinfo=UTC)
        ),
        QboChange("1185883450", "Customer", "3", "Merge", datetime(2026, 3, 6, tzinfo=UTC)),
    ]


def test_a_cloud_events_webhook_is_parsed_into_changes():
    assert parse_webhook(CLOUD_EVENTS) == [
        QboChange(
            "9341453001",
            "Payment",
            "77",
            "Update",
            datetime(2026, 3, 5, 21, 31, 25, 179851, tzinfo=UTC),
            "88cd52aa-33b6-4351-9aa4-47572edbd068",
        ),
        QboChange(
            "9341453001",
            "BillPayment",
            "12",
            "Delete",
            datetime(2026, 3, 5, 21, 31, 26, tzinfo=UTC),
            "0b8e3f2c-7c1d-4d59-9a0e-2f6c1c1e5a11",
        ),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'{"something": "else"}',
        b'[{"type": "qbo.payment.updated.v1"}]',
        b'[{"type": "other"}]',
    ],
)
def test_a_malformed_webhook_is_refused(payload):
    with pytest.raises(MalformedWebhook):
        parse_webhook(payload)
