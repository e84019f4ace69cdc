"""`make run`'s stand-in for Stripe: the client portal really pays, nothing leaves the machine.

The card sandbox is to payments what the mail catcher (stack/mailbox.py)
is to SMTP. Finance's Stripe adapter uses the official `stripe` library
unchanged; the launcher points it here (`STRIPE_API_BASE`) unless the user
configured a payment provider. Production refuses to start with these
credentials or a loopback API base (kit/startup_checks.py).

It speaks Stripe's wire format (form-encoded requests, JSON objects and
`{"error": {...}}` bodies with Stripe's status codes) so the real `stripe`
library talks to it unchanged. Like Stripe it replays the stored answer for
an idempotency key it has seen, errors included. Behaviour follows Stripe's
test payment methods: `pm_card_visa` succeeds, `pm_card_chargeDeclined` is
declined (402), `pm_usBankAccount` is accepted as processing (ACH settles
later); `outage` answers 500 to everything. Finance's tests use the same
server (`FakeStripe`), so what the demo does is what the tests prove.

State lives in memory: a restart forgets earlier payment intents (a
refund of one answers "No such payment_intent"), which a sandbox may.
uvicorn serves it on a thread with its own event loop, as aiosmtpd does
for the mail catcher, so the launcher stays a plain synchronous supervisor.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from subgraphs.kit.startup_checks import SANDBOX_STRIPE_API_KEY, SANDBOX_STRIPE_WEBHOOK_SECRET

API_KEY = SANDBOX_STRIPE_API_KEY
WEBHOOK_SECRET = SANDBOX_STRIPE_WEBHOOK_SECRET

CARD_OK = "pm_card_visa"
CARD_DECLINED = "pm_card_chargeDeclined"
BANK_ACCOUNT = "pm_usBankAccount"


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class FakeStripe:
    requests: list[SeenRequest] = field(default_factory=list)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: (path, idempotency key) -> the answer first given, replayed on a repeat as Stripe does.
    answers: dict[tuple[str, str], tuple[int, dict[str, Any]]] = field(default_factory=dict)
    outage: bool = False
    #: The status new refunds get: "pending" stands for a method that settles refunds later.
    refund_status: str = "succeeded"
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    #: Told one line per confirmed charge (the stack prints it, as the mail catcher does).
    announce: Callable[[str], None] | None = None

    def reset(self) -> None:
        self.requests.clear()
        self.intents.clear()
        self.refunds.clear()
        self.answers.clear()
        self.outage = False
        self.refund_status = "succeeded"

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/payment_intents", self.create_intent, methods=["POST"]),
                Route("/v1/refunds", self.create_refund, methods=["POST"]),
                Route("/v1/payment_methods/{method_id}", self.retrieve_method, methods=["GET"]),
            ]
        )

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    async def _seen(self, request: Request) -> SeenRequest:
        form = await request.form()
        seen = SeenRequest(
            method=request.method,
            path=request.url.path,
            form={key: str(value) for key, value in form.items()},
            headers={key.lower(): value for key, value in request.headers.items()},
        )
        self.requests.append(seen)
        return seen

    async def _answer(self, request: Request, handler: Any) -> Response:
        seen = await self._seen(request)
        if seen.headers.get("authorization") != f"Bearer {API_KEY}":
            return _error(401, "invalid_request_error", "Invalid API Key provided.")
        if self.outage:
            return _error(500, "api_error", "Something went wrong on Stripe's end.")
        key = seen.idempotency_key
        if key is not None and (seen.path, key) in self.answers:
            status, body = self.answers[(seen.path, key)]
            return JSONResponse(body, status_code=status, headers={"idempotent-replayed": "true"})
        status, body = handler(seen.form)
        if key is not None:
            self.answers[(seen.path, key)] = (status, body)
        return JSONResponse(body, status_code=status)

    async def create_intent(self, request: Request) -> Response:
        return await self._answer(request, self._create_intent)

    async def create_refund(self, request: Request) -> Response:
        return await self._answer(request, self._create_refund)

    async def retrieve_method(self, request: Request) -> Response:
        seen = await self._seen(request)
        if seen.headers.get("authorization") != f"Bearer {API_KEY}":
            return _error(401, "invalid_request_error", "Invalid API Key provided.")
        method_id = request.path_params["method_id"]
        known = METHODS.get(method_id)
        if known is None:
            status, body = _error_body(
                404,
                "invalid_request_error",
                f"No such PaymentMethod: '{method_id}'",
                code="resource_missing",
                param="payment_method",
            )
            return JSONResponse(body, status_code=status)
        return JSONResponse({"id": method_id, "object": "payment_method", **known})

    def _create_intent(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        method = form.get("payment_method", "")
        intent: dict[str, Any] = {
            "id": self._id("pi"),
            "object": "payment_intent",
            "amount": int(form["amount"]),
            "amount_received": 0,
            "currency": form["currency"],
            "customer": form.get("customer"),
            "payment_method": method,
            "confirmation_method": "automatic",
            "created": int(time.time()),
            "livemode": False,
            "metadata": {
                key[len("metadata[") : -1]: value
                for key, value in form.items()
                if key.startswith("metadata[")
            },
            "last_payment_error": None,
            "status": "requires_confirmation",
        }
        self.intents[intent["id"]] = intent
        if form.get("confirm") != "true":
            return 200, intent
        if method == CARD_DECLINED:
            error = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
            }
            intent.update(status="requires_payment_method", last_payment_error=error)
            self._told(intent, "declined")
            return 402, {"error": {**error, "payment_intent": intent}}
        if method == BANK_ACCOUNT:
            intent.update(status="processing")
        else:
            intent.update(status="succeeded", amount_received=intent["amount"])
        intent["amount_refunded"] = 0
        self._told(intent, intent["status"])
        return 200, intent

    def _told(self, intent: dict[str, Any], outcome: str) -> None:
        if self.announce is None:
            return
        amount = Decimal(intent["amount"]).scaleb(-2)  # minor units; the sandbox charges USD
        self.announce(
            f"cards: {intent['payment_method'] or '(no method)'} "
            f"{amount} {intent['currency'].upper()}: {outcome} ({intent['id']})"
        )

    def _create_refund(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return _error_body(
                404 if intent is None else 400,
                "invalid_request_error",
                f"No such payment_intent: '{form.get('payment_intent')}'",
                code="resource_missing" if intent is None else "payment_intent_unexpected_state",
                param="payment_intent",
            )
        remaining = intent["amount_received"] - intent["amount_refunded"]
        amount = int(form["amount"]) if "amount" in form else remaining
        if remaining == 0:
            return _error_body(
                400,
                "invalid_request_error",
                "Charge has already been refunded.",
                code="charge_already_refunded",
            )
        if amount > remaining:
            return _error_body(
                400,
                "invalid_request_error",
                "Refund amount is greater than unrefunded amount on charge.",
                code="amount_too_large",
                param="amount",
            )
        intent["amount_refunded"] += amount
        refund = {
            "id": self._id("re"),
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "status": self.refund_status,
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        return 200, refund


#: Stripe's test payment methods as `GET /v1/payment_methods/{id}` describes them.
METHODS: dict[str, dict[str, Any]] = {
    CARD_OK: {
        "type": "card",
        "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
    },
    CARD_DECLINED: {
        "type": "card",
        "card": {"brand": "visa", "last4": "0002", "exp_month": 12, "exp_year": 2030},
    },
    BANK_ACCOUNT: {
        "type": "us_bank_account",
        "us_bank_account": {"bank_name": "STRIPE TEST BANK", "last4": "6789"},
    },
}


def _error_body(
    status: int, kind: str, message: str, *, code: str | None = None, param: str | None = None
) -> tuple[int, dict[str, Any]]:
    error: dict[str, Any] = {"type": kind, "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    return status, {"error": error}


def _error(status: int, kind: str, message: str) -> Response:
    status, body = _error_body(status, kind, message)
    return JSONResponse(body, status_code=status)


def signature_header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header as Stripe computes it: HMAC-SHA256 of `"{t}.{body}"`.

    Written out here rather than borrowed from the library, so the adapter's
    check is tested against the documented scheme, not against itself.
    """
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def event_payload(event_type: str, obj: dict[str, Any], *, event_id: str = "evt_1") -> bytes:
    """A webhook body as Stripe sends it (a v1 snapshot event)."""
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": 1_767_225_600,
            "livemode": False,
            "pending_webhooks": 1,
            "type": event_type,
            "data": {"object": obj},
        },
        separators=(",", ":"),
    ).encode()


class CardSandbox:
    """The stack's Stripe stand-in on its own port, started and stopped like the mail catcher.

    The socket is bound here, in the caller's thread, so a taken port fails
    at `start()` with the OS's error instead of inside the server's thread.
    """

    def __init__(self, port: int, announce: Callable[[str], None] | None = None) -> None:
        self.port = port
        self.stripe = FakeStripe(announce=announce)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def provider_env(self) -> dict[str, str]:
        """What finance needs to pay through the sandbox (the launcher's `child_env`)."""
        return {
            "PAYMENT_PROVIDER": "stripe",
            "STRIPE_API_BASE": self.base_url,
            "STRIPE_API_KEY": API_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }

    def start(self, timeout: float = 10.0) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", self.port))
        except OSError:
            sock.close()
            raise
        config = uvicorn.Config(
            self.stripe.app(), log_level="warning", lifespan="off", loop="asyncio"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="card-sandbox", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(timeout)
                sock.close()
                raise RuntimeError(f"the card sandbox did not start on port {self.port}")
            time.sleep(0.01)
        self._server, self._thread = server, thread
        # uvicorn closes the socket it was given on shutdown; ours is that socket.

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        self._server = self._thread = None
