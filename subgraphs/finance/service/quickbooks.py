"""QuickBooks Online: the accounting sync's port, its HTTP adapter, mappings and webhooks.

The sync worker hands `QuickBooks.send` one outbox change at a time. The
adapter speaks the documented Accounting API over plain HTTP (no SDK: the
surface used is five POSTs and a token refresh, and plain HTTP keeps every
byte visible to the tests' local server).

Why the request id matters: QuickBooks treats `?requestid=` as an
idempotency key, answering a repeated id with the first answer instead of
writing again. The caller passes the outbox row's id, stable per change, so
a worker killed between the send and its acknowledgement resends the same
id and QuickBooks creates nothing twice.

Errors are sorted by what the worker should do next:
`QuickBooksUnavailable` (5xx, 429, network): retry later, with back-off or
the given Retry-After; `QuickBooksRejected` (validation fault): retrying the
same change cannot help, so it goes to a person (dead letter);
`QuickBooksAuthFailed`: the whole connection needs re-authorising, so the
worker should pause every change rather than dead-letter them one by one.

Money leaves here as exact JSON numbers written from `Decimal`, never through
float, and answers are read with `parse_float=Decimal`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

import httpx

#: Intuit's OAuth2 token endpoint (refresh grant).
INTUIT_TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"  # noqa: S105 (a URL)
PRODUCTION_BASE_URL = "https://quickbooks.api.intuit.com"
SANDBOX_BASE_URL = "https://sandbox-quickbooks.api.intuit.com"
#: Since August 2025 Intuit serves minor version 75 and ignores older ones.
DEFAULT_MINOR_VERSION = 75
DEFAULT_TIMEOUT_SECONDS = 10.0
#: QuickBooks keeps at most 50 characters of a request id.
MAX_REQUEST_ID = 50
#: Fault code QuickBooks gives an update carrying an out-of-date SyncToken.
STALE_OBJECT_CODE = "5010"
#: Field lengths QuickBooks enforces; longer text is clipped (Athena keeps the full value).
MAX_DISPLAY_NAME = 500
MAX_DOC_NUMBER = 21
MAX_PAYMENT_REF = 21
MAX_DESCRIPTION = 4000
MAX_EMAIL = 100
CENT = Decimal("0.01")


class EntityKind(StrEnum):
    """The QuickBooks entities Athena writes; the value is the URL's resource name."""

    CUSTOMER = "customer"
    VENDOR = "vendor"
    INVOICE = "invoice"
    PAYMENT = "payment"
    BILL = "bill"

    @property
    def qbo_name(self) -> str:
        """The entity's key in QuickBooks' JSON answers (`{"Invoice": {...}}`)."""
        return self.value.capitalize()


# --- values in and out -------------------------------------------------------------------


@dataclass(frozen=True)
class QboTokens:
    """An OAuth2 pair; QuickBooks rotates the refresh token, so the latest must be persisted."""

    access_token: str
    refresh_token: str
    access_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None


@dataclass(frozen=True)
class QboConnection:
    """One connected QuickBooks company (realm) and the app's OAuth2 client."""

    realm_id: str
    client_id: str
    client_secret: str
    base_url: str = PRODUCTION_BASE_URL
    token_url: str = INTUIT_TOKEN_URL
    minor_version: int = DEFAULT_MINOR_VERSION
    timeout: float = DEFAULT_TIMEOUT_SECONDS


class Operation(StrEnum):
    """What a change does in QuickBooks.

    SAVE creates or updates. VOID zeroes an invoice or payment but keeps it
    and its number, as Athena's void does; QuickBooks has no void for the
    other kinds (deactivate a customer or vendor with a SAVE of
    `{"Active": False}`).
    """

    SAVE = "save"
    VOID = "void"


#: The query parameters QuickBooks wants for a void, per entity (they differ).
_VOID_PARAMS = {
    EntityKind.INVOICE: {"operation": "void"},
    EntityKind.PAYMENT: {"operation": "update", "include": "void"},
}


@dataclass(frozen=True)
class SyncChange:
    """One change to send: a create, with `qbo_id` and `sync_token` a sparse update, or a void.

    `request_id` must be stable for the change (the outbox row id): it is what
    makes a resend after a crash harmless. `payload` is already QuickBooks'
    JSON shape (see the `*_payload` functions), without Id or SyncToken; a
    void sends none.
    """

    kind: EntityKind
    entity_id: UUID
    request_id: str
    payload: Mapping[str, Any]
    qbo_id: str | None = None
    sync_token: str | None = None
    operation: Operation = Operation.SAVE

    def __post_init__(self) -> None:
        if not 0 < len(self.request_id) <= MAX_REQUEST_ID:
            raise ValueError(f"request_id must be 1 to {MAX_REQUEST_ID} characters")
        if (self.qbo_id is None) != (self.sync_token is None):
            raise ValueError("an update needs both qbo_id and sync_token")
        if "Id" in self.payload or "SyncToken" in self.payload:
            raise ValueError("pass Id and SyncToken as qbo_id and sync_token, not in the payload")
        if self.operation is Operation.VOID and (
            self.kind not in _VOID_PARAMS or self.qbo_id is None or self.payload
        ):
            raise ValueError("only an invoice or payment already in QuickBooks is voided, bare")

    def params(self) -> dict[str, str]:
        return dict(_VOID_PARAMS[self.kind]) if self.operation is Operation.VOID else {}

    def body(self) -> dict[str, Any]:
        """The request body: updates are sparse so fields Athena does not own stay as they are."""
        body = dict(self.payload)
        if self.qbo_id is not None:
            body.update({"Id": self.qbo_id, "SyncToken": self.sync_token, "sparse": True})
        if self.operation is Operation.VOID and self.kind is EntityKind.INVOICE:
            del body["sparse"]  # the invoice void takes exactly Id and SyncToken
        return body


@dataclass(frozen=True)
class SyncResult:
    """QuickBooks' id and version of the record; `refreshed_tokens` is set when this call rotated them."""

    qbo_id: str
    sync_token: str
    refreshed_tokens: QboTokens | None = None


# --- errors --------------------------------------------------------------------------------


class QuickBooksError(Exception):
    retryable = False


class QuickBooksUnavailable(QuickBooksError):
    """QuickBooks is down, throttling or unreachable: send the same change again later."""

    retryable = True

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class QuickBooksRejected(QuickBooksError):
    """QuickBooks refused the change itself (a validation fault): a person must look."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        detail: str | None = None,
        element: str | None = None,
        fault_type: str | None = None,
    ):
        super().__init__(message if detail is None else f"{message}: {detail}")
        self.message = message
        self.status = status
        self.code = code
        self.detail = detail
        self.element = element
        self.fault_type = fault_type

    @property
    def stale(self) -> bool:
        """Someone changed the record in QuickBooks since our SyncToken: the conflict policy applies."""
        return self.code == STALE_OBJECT_CODE


class QuickBooksAuthFailed(QuickBooksError):
    """The refresh token was refused or access stays denied: the company must be reconnected."""


# --- the port and its HTTP adapter ---------------------------------------------------------


class QuickBooks(Protocol):
    async def send(self, change: SyncChange) -> SyncResult:
        """Write the change; raises QuickBooksUnavailable, QuickBooksRejected or QuickBooksAuthFailed."""
        ...


class QuickBooksReader(Protocol):
    async def read(self, kind: EntityKind, qbo_id: str) -> Mapping[str, Any]:
        """The record's current JSON; raises as `send` does."""
        ...


TokensSaved = Callable[[QboTokens], Awaitable[None]]


class QuickBooksHttp:
    """The Accounting API over httpx, refreshing the access token once when it is refused.

    `on_tokens` is awaited right after a refresh, before the retried request:
    the old refresh token may already be dead, so the new one must reach the
    database even if the retry then fails. Concurrent sends share one
    refresh: whoever finds the tokens already replaced just uses the new ones.
    """

    def __init__(
        self,
        connection: QboConnection,
        tokens: QboTokens,
        *,
        client: httpx.AsyncClient | None = None,
        on_tokens: TokensSaved | None = None,
    ) -> None:
        self.connection = connection
        self._tokens = tokens
        self._on_tokens = on_tokens
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=connection.timeout)
        self._refreshing = asyncio.Lock()

    @property
    def tokens(self) -> QboTokens:
        return self._tokens

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> QuickBooksHttp:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def send(self, change: SyncChange) -> SyncResult:
        content = to_json(change.body())
        used = self._tokens
        response = await self._post_entity(change, content, used.access_token)
        refreshed = None
        if response.status_code == httpx.codes.UNAUTHORIZED:
            refreshed = await self._refresh(used)
            response = await self._post_entity(change, content, refreshed.access_token)
            if response.status_code == httpx.codes.UNAUTHORIZED:
                raise QuickBooksAuthFailed("QuickBooks refused a freshly refreshed access token")
        entity = _entity(response, change.kind)
        return SyncResult(str(entity["Id"]), str(entity["SyncToken"]), refreshed)

    async def read(self, kind: EntityKind, qbo_id: str) -> Mapping[str, Any]:
        """The record as QuickBooks holds it now: a webhook says only that it changed."""
        response = await self._get_entity(kind, qbo_id, self._tokens.access_token)
        if response.status_code == httpx.codes.UNAUTHORIZED:
            refreshed = await self._refresh(self._tokens)
            response = await self._get_entity(kind, qbo_id, refreshed.access_token)
            if response.status_code == httpx.codes.UNAUTHORIZED:
                raise QuickBooksAuthFailed("QuickBooks refused a freshly refreshed access token")
        return _entity(response, kind)

    async def _get_entity(self, kind: EntityKind, qbo_id: str, access_token: str) -> httpx.Response:
        c = self.connection
        url = f"{c.base_url.rstrip('/')}/v3/company/{c.realm_id}/{kind.value}/{qbo_id}"
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        try:
            return await self._client.get(
                url, params={"minorversion": str(c.minor_version)}, headers=headers
            )
        except httpx.TransportError as exc:
            raise QuickBooksUnavailable(f"QuickBooks unreachable: {exc!r}") from exc

    async def _post_entity(
        self, change: SyncChange, content: bytes, access_token: str
    ) -> httpx.Response:
        c = self.connection
        url = f"{c.base_url.rstrip('/')}/v3/company/{c.realm_id}/{change.kind.value}"
        params = {
            **change.params(),
            "requestid": change.request_id,
            "minorversion": str(c.minor_version),
        }
        headers = {
            "Authorization": f"Bearer {access_token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        try:
            return await self._client.post(url, params=params, content=content, headers=headers)
        except httpx.TransportError as exc:
            # Sent or not, the request id makes the resend safe.
            raise QuickBooksUnavailable(f"QuickBooks unreachable: {exc!r}") from exc

    async def _refresh(self, stale: QboTokens) -> QboTokens:
        async with self._refreshing:
            if self._tokens != stale:
                return self._tokens
            c = self.connection
            try:
                response = await self._client.post(
                    c.token_url,
                    data={"grant_type": "refresh_token", "refresh_token": stale.refresh_token},
                    auth=(c.client_id, c.client_secret),
                    headers={"Accept": "application/json"},
                )
            except httpx.TransportError as exc:
                raise QuickBooksUnavailable(f"Intuit token endpoint unreachable: {exc!r}") from exc
            _raise_if_unavailable(response)
            if response.status_code != httpx.codes.OK:
                raise QuickBooksAuthFailed(
                    f"token refresh refused ({response.status_code}): {response.text[:200]}"
                )
            self._tokens = _tokens_from(response.json(), stale)
            if self._on_tokens is not None:
                await self._on_tokens(self._tokens)
            return self._tokens


def _tokens_from(answer: Mapping[str, Any], previous: QboTokens) -> QboTokens:
    now = datetime.now(UTC)

    def expiry(field: str) -> datetime | None:
        seconds = answer.get(field)
        return now + timedelta(seconds=int(seconds)) if seconds is not None else None

    return QboTokens(
        access_token=str(answer["access_token"]),
        # Intuit always sends one, but an answer without it must not lose the one we hold.
        refresh_token=str(answer.get("refresh_token") or previous.refresh_token),
        access_expires_at=expiry("expires_in"),
        refresh_expires_at=expiry("x_refresh_token_expires_in") or previous.refresh_expires_at,
    )


def _raise_if_unavailable(response: httpx.Response) -> None:
    status = response.status_code
    if status == httpx.codes.TOO_MANY_REQUESTS or status >= httpx.codes.INTERNAL_SERVER_ERROR:
        raise QuickBooksUnavailable(
            f"QuickBooks answered {status}",
            status=status,
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait, from either form HTTP allows (delta-seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _entity(response: httpx.Response, kind: EntityKind) -> Mapping[str, Any]:
    _raise_if_unavailable(response)
    status = response.status_code
    try:
        answer = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        answer = None
    if status == httpx.codes.FORBIDDEN:
        raise QuickBooksAuthFailed(f"QuickBooks refused access ({status}): {_fault_text(answer)}")
    fault = _fault(answer)
    if status >= httpx.codes.BAD_REQUEST or fault is not None:
        raise _rejected(status, fault, response.text)
    if not isinstance(answer, dict) or not isinstance(answer.get(kind.qbo_name), dict):
        raise QuickBooksRejected(f"QuickBooks answered without a {kind.qbo_name}", status=status)
    entity: Mapping[str, Any] = answer[kind.qbo_name]
    return entity


def _fault(answer: Any) -> Mapping[str, Any] | None:
    """QuickBooks spells its fault `Fault/Error` on validation and `fault/error` on auth answers."""
    if not isinstance(answer, dict):
        return None
    fault = answer.get("Fault") or answer.get("fault")
    return fault if isinstance(fault, dict) else None


def _first_error(fault: Mapping[str, Any]) -> Mapping[str, Any]:
    errors = fault.get("Error") or fault.get("error") or []
    return errors[0] if errors and isinstance(errors[0], dict) else {}


def _pick(error: Mapping[str, Any], name: str) -> str | None:
    value = error.get(name) or error.get(name.capitalize())
    return str(value) if value not in (None, "") else None


def _fault_text(answer: Any) -> str:
    fault = _fault(answer)
    if fault is None:
        return "no fault detail"
    error = _first_error(fault)
    return _pick(error, "detail") or _pick(error, "message") or "no fault detail"


def _rejected(status: int, fault: Mapping[str, Any] | None, text: str) -> QuickBooksRejected:
    if fault is None:
        return QuickBooksRejected(f"QuickBooks answered {status}: {text[:200]}", status=status)
    error = _first_error(fault)
    return QuickBooksRejected(
        _pick(error, "message") or f"QuickBooks answered {status}",
        status=status,
        code=_pick(error, "code"),
        detail=_pick(error, "detail"),
        element=_pick(error, "element"),
        fault_type=str(fault.get("type")) if fault.get("type") else None,
    )


# --- exact JSON ----------------------------------------------------------------------------


def to_json(value: Any) -> bytes:
    """JSON with Decimals written as exact numbers; a float here is a bug, so it is refused."""
    return _encode(value).encode()


def _encode(value: Any) -> str:
    if value is None or isinstance(value, bool | str):
        return json.dumps(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise TypeError("money is Decimal, never float")
    if isinstance(value, date):
        return json.dumps(value.isoformat())
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k))}:{_encode(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} for QuickBooks")


# --- mappings from plain finance values ----------------------------------------------------


@dataclass(frozen=True)
class PostalAddress:
    line1: str
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice line; `item_ref` is the QuickBooks product/service it posts to (income account)."""

    description: str
    amount: Decimal
    item_ref: str
    service_date: date | None = None


@dataclass(frozen=True)
class PaymentApplication:
    """Part of a payment applied to one invoice already in QuickBooks (`invoice_ref` is its Id)."""

    invoice_ref: str
    amount: Decimal


@dataclass(frozen=True)
class BillLine:
    """One vendor bill line, posted to the expense account `account_ref`."""

    description: str
    amount: Decimal
    account_ref: str


def money(value: Decimal) -> Decimal:
    """The amount to the cent; more places would be silently rounded by QuickBooks, so refused."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"amount must be a finite Decimal, got {value!r}")
    if value != value.quantize(CENT):
        raise ValueError(f"amount has more than two decimal places: {value}")
    return value.quantize(CENT)


def _clip(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit]


def _ref(value: str) -> dict[str, str]:
    return {"value": value}


def _address(address: PostalAddress) -> dict[str, str]:
    fields = {
        "Line1": address.line1,
        "Line2": address.line2,
        "City": address.city,
        "CountrySubDivisionCode": address.region,
        "PostalCode": address.postal_code,
        "Country": address.country,
    }
    return {k: v for k, v in fields.items() if v}


def _contact(
    display_name: str,
    email: str | None,
    phone: str | None,
    company_name: str | None,
) -> dict[str, Any]:
    name = _clip(display_name, MAX_DISPLAY_NAME)
    if not name:
        raise ValueError("display_name is required")
    payload: dict[str, Any] = {"DisplayName": name}
    if company_name:
        payload["CompanyName"] = _clip(company_name, MAX_DISPLAY_NAME)
    if email:
        payload["PrimaryEmailAddr"] = {"Address": email[:MAX_EMAIL]}
    if phone:
        payload["PrimaryPhone"] = {"FreeFormNumber": phone}
    return payload


def customer_payload(
    *,
    display_name: str,
    email: str | None = None,
    phone: str | None = None,
    company_name: str | None = None,
    billing_address: PostalAddress | None = None,
) -> dict[str, Any]:
    """A client as a QuickBooks Customer.

    DisplayName must be unique across a company's customers, vendors and
    employees (fault 6240 otherwise): callers with homonymous clients should
    add a distinguishing suffix such as the client's reference.
    """
    payload = _contact(display_name, email, phone, company_name)
    if billing_address is not None:
        payload["BillAddr"] = _address(billing_address)
    return payload


def vendor_payload(
    *,
    display_name: str,
    email: str | None = None,
    phone: str | None = None,
    company_name: str | None = None,
    address: PostalAddress | None = None,
    account_number: str | None = None,
) -> dict[str, Any]:
    """A vendor (affiliate operator) as a QuickBooks Vendor; `account_number` is ours at theirs."""
    payload = _contact(display_name, email, phone, company_name)
    if address is not None:
        payload["BillAddr"] = _address(address)
    if account_number:
        payload["AcctNum"] = account_number
    return payload


def _doc_number(number: str) -> str:
    if not 0 < len(number) <= MAX_DOC_NUMBER:
        raise ValueError(f"document number must be 1 to {MAX_DOC_NUMBER} characters: {number!r}")
    return number


def invoice_payload(
    *,
    customer_ref: str,
    doc_number: str,
    txn_date: date,
    due_date: date,
    lines: Sequence[InvoiceLine],
    tax: Decimal = Decimal("0.00"),
    tax_item_ref: str | None = None,
) -> dict[str, Any]:
    """An Athena invoice as a QuickBooks Invoice with the same number and total.

    Each line is quantity 1 at its amount, so QuickBooks' Amount = Qty x
    UnitPrice check holds exactly. Tax Athena computed is sent as its own
    line on `tax_item_ref` rather than left to QuickBooks' tax engine, so the
    total in the books is the total the client was billed.
    """
    if not lines:
        raise ValueError("an invoice needs at least one line")
    qbo_lines = [
        _sales_line(line.description, money(line.amount), line.item_ref, line.service_date)
        for line in lines
    ]
    if money(tax) != 0:
        if tax_item_ref is None:
            raise ValueError("tax needs a tax_item_ref")
        qbo_lines.append(_sales_line("Tax", money(tax), tax_item_ref, None))
    return {
        "CustomerRef": _ref(customer_ref),
        "DocNumber": _doc_number(doc_number),
        "TxnDate": txn_date.isoformat(),
        "DueDate": due_date.isoformat(),
        "Line": qbo_lines,
    }


def _sales_line(
    description: str, amount: Decimal, item_ref: str, service_date: date | None
) -> dict[str, Any]:
    detail: dict[str, Any] = {"ItemRef": _ref(item_ref), "Qty": 1, "UnitPrice": amount}
    if service_date is not None:
        detail["ServiceDate"] = service_date.isoformat()
    return {
        "DetailType": "SalesItemLineDetail",
        "Amount": amount,
        "Description": _clip(description, MAX_DESCRIPTION),
        "SalesItemLineDetail": detail,
    }


def payment_payload(
    *,
    customer_ref: str,
    total: Decimal,
    txn_date: date,
    applications: Sequence[PaymentApplication],
    reference: str | None = None,
    payment_method_ref: str | None = None,
    deposit_account_ref: str | None = None,
) -> dict[str, Any]:
    """A received payment; whatever is not applied stays unapplied credit in QuickBooks too."""
    total = money(total)
    applied = sum((money(a.amount) for a in applications), Decimal("0.00"))
    if total < 0 or any(a.amount <= 0 for a in applications):
        raise ValueError("payment total and applied amounts must be positive")
    if applied > total:
        raise ValueError(f"applications ({applied}) exceed the payment ({total})")
    payload: dict[str, Any] = {
        "CustomerRef": _ref(customer_ref),
        "TotalAmt": total,
        "TxnDate": txn_date.isoformat(),
        "Line": [
            {
                "Amount": money(a.amount),
                "LinkedTxn": [{"TxnId": a.invoice_ref, "TxnType": "Invoice"}],
            }
            for a in applications
        ],
    }
    if reference:
        payload["PaymentRefNum"] = _clip(reference, MAX_PAYMENT_REF)
    if payment_method_ref:
        payload["PaymentMethodRef"] = _ref(payment_method_ref)
    if deposit_account_ref:
        payload["DepositToAccountRef"] = _ref(deposit_account_ref)
    return payload


def bill_payload(
    *,
    vendor_ref: str,
    doc_number: str,
    txn_date: date,
    due_date: date,
    lines: Sequence[BillLine],
) -> dict[str, Any]:
    """A vendor bill as a QuickBooks Bill, each line on its expense account."""
    if not lines:
        raise ValueError("a bill needs at least one line")
    return {
        "VendorRef": _ref(vendor_ref),
        "DocNumber": _doc_number(doc_number),
        "TxnDate": txn_date.isoformat(),
        "DueDate": due_date.isoformat(),
        "Line": [
            {
                "DetailType": "AccountBasedExpenseLineDetail",
                "Amount": money(line.amount),
                "Description": _clip(line.description, MAX_DESCRIPTION),
                "AccountBasedExpenseLineDetail": {"AccountRef": _ref(line.account_ref)},
            }
            for line in lines
        ],
    }


# --- webhooks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QboChange:
    """One change QuickBooks reports; the record itself must be read back through the API.

    `entity` uses QuickBooks' names (`Invoice`, `BillPayment`) and
    `operation` the legacy words (`Create`, `Update`, `Delete`, `Merge`,
    `Void`, `Emailed`) whichever format delivered it. `event_id` is the
    CloudEvents id, for deduplicating redeliveries (None in the legacy format).
    """

    realm_id: str
    entity: str
    entity_id: str
    operation: str
    last_updated: datetime | None
    event_id: str | None = None


class MalformedWebhook(ValueError):
    pass


#: CloudEvents `type` verbs (qbo.<entity>.<verb>.v1) in the legacy operation words.
_OPERATIONS = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "merged": "Merge",
    "voided": "Void",
    "emailed": "Emailed",
}
#: CloudEvents spell entities in lower case; these need more than a capital first letter.
_ENTITY_NAMES = {
    "billpayment": "BillPayment",
    "creditmemo": "CreditMemo",
    "journalentry": "JournalEntry",
    "purchaseorder": "PurchaseOrder",
    "salesreceipt": "SalesReceipt",
    "refundreceipt": "RefundReceipt",
    "paymentmethod": "PaymentMethod",
    "timeactivity": "TimeActivity",
    "vendorcredit": "VendorCredit",
    "taxagency": "TaxAgency",
    "journalcode": "JournalCode",
}


def verify_webhook(payload: bytes, signature: str, verifier_token: str) -> bool:
    """Intuit's `intuit-signature`: base64 HMAC-SHA256 of the raw body keyed by the verifier token."""
    if not signature or not verifier_token:
        return False
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(verifier_token.encode(), payload, hashlib.sha256).digest()
    return hmac.compare_digest(given, expected)


def parse_webhook(payload: bytes) -> list[QboChange]:
    """Both formats: CloudEvents (a JSON list, Intuit's only format since May 2026) and legacy."""
    try:
        document = json.loads(payload)
    except ValueError as exc:
        raise MalformedWebhook("webhook body is not JSON") from exc
    try:
        if isinstance(document, list):
            return [_cloud_event(event) for event in document]
        if isinstance(document, dict) and "eventNotifications" in document:
            return [
                _legacy_change(str(notification["realmId"]), entity)
                for notification in document["eventNotifications"]
                for entity in notification["dataChangeEvent"]["entities"]
            ]
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedWebhook(f"webhook body is missing {exc}") from exc
    raise MalformedWebhook("webhook body is neither CloudEvents nor eventNotifications")


def _cloud_event(event: Mapping[str, Any]) -> QboChange:
    parts = str(event["type"]).split(".")
    if len(parts) < 3 or parts[0] != "qbo" or parts[2] not in _OPERATIONS:
        raise ValueError(f"type {event['type']!r}")
    return QboChange(
        realm_id=str(event["intuitaccountid"]),
        entity=_ENTITY_NAMES.get(parts[1], parts[1].capitalize()),
        entity_id=str(event["intuitentityid"]),
        operation=_OPERATIONS[parts[2]],
        last_updated=_instant(event.get("time")),
        event_id=str(event["id"]),
    )


def _legacy_change(realm_id: str, entity: Mapping[str, Any]) -> QboChange:
    return QboChange(
        realm_id=realm_id,
        entity=str(entity["name"]),
        entity_id=str(entity["id"]),
        operation=str(entity["operation"]),
        last_updated=_instant(entity.get("lastUpdated")),
    )


def _instant(value: Any) -> datetime | None:
    """An aware UTC instant; Intuit sends nanoseconds, which Python's datetime cannot hold."""
    if not value:
        return None
    text = str(value)
    if "." in text:
        head, _, tail = text.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        text = f"{head}.{tail[:digits][:6]}{tail[digits:]}"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
