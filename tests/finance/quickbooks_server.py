"""A small QuickBooks Online stand-in: the Accounting API entity POSTs and Intuit's token endpoint.

It keeps what the adapter depends on and nothing more: bearer tokens that
can be expired, refresh tokens that rotate (the old one dies), `requestid`
replay (a repeated id gets the first answer and writes nothing), SyncToken
checks on sparse updates, QuickBooks' fault shapes (`Fault/Error` on 400,
lower-case `fault/error` on 401), and queued 5xx/429 failures. Amounts are
read with `parse_float=Decimal`, so tests see exactly what was sent.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.live_server import LiveServer, serve

ENTITIES = {
    "customer": "Customer",
    "vendor": "Vendor",
    "invoice": "Invoice",
    "payment": "Payment",
    "bill": "Bill",
}
TOKEN_PATH = "/oauth2/v1/tokens/bearer"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        _exact(body), status_code=status, media_type="application/json", headers=headers
    )


def _exact(value: Any) -> str:
    """JSON as QuickBooks writes it: amounts are plain numbers, kept exact (no float on the way)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_exact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_exact(v) for v in value) + "]"
    return json.dumps(value)


def fault(code: str, message: str, detail: str, element: str = "") -> dict[str, Any]:
    return {
        "Fault": {
            "Error": [{"Message": message, "Detail": detail, "code": code, "element": element}],
            "type": "ValidationFault",
        },
        "time": "2026-01-01T00:00:00.000-08:00",
    }


@dataclass
class Failure:
    status: int
    retry_after: str | None = None


@dataclass
class FakeQuickBooks:
    realm_id: str = "9341453001"
    client_id: str = "athena-client"
    client_secret: str = "athena-secret"
    access_tokens: set[str] = field(default_factory=set)
    refresh_token: str = ""
    #: (entity, Id) -> the stored record.
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    #: requestid -> the first successful answer (status, body).
    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    #: Every entity POST as (entity, requestid, bearer token).
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    refreshes: int = 0
    failures: list[Failure] = field(default_factory=list)
    server: LiveServer | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # --- test controls ---------------------------------------------------------------------

    def issue_tokens(self) -> tuple[str, str]:
        """A fresh (access, refresh) pair, as the OAuth2 authorisation would give."""
        access, self.refresh_token = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.access_tokens.add(access)
        return access, self.refresh_token

    def expire_access_tokens(self) -> None:
        self.access_tokens.clear()

    def fail_next(self, status: int, retry_after: str | None = None) -> None:
        self.failures.append(Failure(status, retry_after))

    def count(self, entity: str) -> int:
        return sum(1 for kind, _ in self.records if kind == entity)

    def record(self, entity: str, qbo_id: str) -> dict[str, Any]:
        return self.records[(entity, qbo_id)]

    def change(self, entity: str, qbo_id: str, **fields: Any) -> dict[str, Any]:
        """Someone edits the record in QuickBooks itself: new values and a new SyncToken."""
        current = self.records[(entity, qbo_id)]
        record = {**current, **fields, "SyncToken": str(int(current["SyncToken"]) + 1)}
        self.records[(entity, qbo_id)] = record
        return record

    def sent(self, request_id: str) -> int:
        """How many entity POSTs carried this request id (resends included)."""
        return sum(1 for _, rid, _ in self.calls if rid == request_id)

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return self.server.base_url

    # --- endpoints -------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return _json({"error": "invalid_client"}, 401)
        form = await request.form()
        if (
            form.get("grant_type") != "refresh_token"
            or form.get("refresh_token") != self.refresh_token
        ):
            return _json({"error": "invalid_grant"}, 400)
        self.refreshes += 1
        access, refresh = self.issue_tokens()
        return _json(
            {
                "token_type": "bearer",
                "access_token": access,
                "expires_in": 3600,
                "refresh_token": refresh,
                "x_refresh_token_expires_in": 8726400,
            }
        )

    async def entity(self, request: Request) -> Response:
        realm, entity = request.path_params["realm"], request.path_params["entity"]
        request_id = request.query_params.get("requestid", "")
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.calls.append((entity, request_id, bearer))
        if bearer not in self.access_tokens:
            return _json(_auth_fault(), 401)
        if self.failures:
            failure = self.failures.pop(0)
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else None
            return _json({"error": "unavailable"}, failure.status, headers)
        if (
            realm != self.realm_id
            or entity not in ENTITIES
            or "minorversion" not in request.query_params
        ):
            return _json(fault("2010", "Request has invalid or unsupported property", entity), 400)
        if request.headers.get("content-type") != "application/json":
            return _json(fault("2500", "Invalid Request", "content type"), 415)
        if request_id in self.answers:
            status, body = self.answers[request_id]
            return _json(body, status)
        payload = json.loads(await request.body(), parse_float=Decimal)
        if (
            request.query_params.get("operation") == "void"
            or request.query_params.get("include") == "void"
        ):
            status, body = self._void(entity, request.query_params, payload)
        else:
            status, body = self._write(entity, payload)
        if status == 200:
            self.answers[request_id] = (status, body)
        return _json(body, status)

    async def read(self, request: Request) -> Response:
        """GET one record, as the API's read endpoint answers it."""
        entity, qbo_id = request.path_params["entity"], request.path_params["qbo_id"]
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer not in self.access_tokens:
            return _json(_auth_fault(), 401)
        record = self.records.get((entity, qbo_id))
        if entity not in ENTITIES or record is None:
            return _json(fault("610", "Object Not Found", f"{entity} {qbo_id}"), 400)
        return _json({ENTITIES[entity]: record, "time": "2026-01-01T00:00:00.000-08:00"})

    def _write(self, entity: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        problem = self._validate(entity, payload)
        if problem is not None:
            return 400, problem
        if "Id" in payload:
            current = self.records.get((entity, str(payload["Id"])))
            if current is None:
                return 400, fault("610", "Object Not Found", f"{ENTITIES[entity]} {payload['Id']}")
            if payload.get("SyncToken") != current["SyncToken"]:
                return 400, fault(
                    "5010",
                    "Stale Object Error",
                    f"You and {current['SyncToken']} were working on this at the same time.",
                )
            record = {**current, **payload} if payload.get("sparse") else dict(payload)
            record.pop("sparse", None)
            record["SyncToken"] = str(int(current["SyncToken"]) + 1)
        else:
            record = {**payload, "Id": str(next(self._ids)), "SyncToken": "0"}
        self.records[(entity, record["Id"])] = record
        return 200, {ENTITIES[entity]: record, "time": "2026-01-01T00:00:00.000-08:00"}

    def _void(
        self, entity: str, params: Any, payload: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """Invoices: `operation=void` with Id and SyncToken only; payments: `operation=update&include=void`."""
        expected = {"invoice": ("void", None), "payment": ("update", "void")}.get(entity)
        if expected != (params.get("operation"), params.get("include")):
            return 400, fault("2010", "Unsupported Operation", f"void {entity}")
        if entity == "invoice" and set(payload) != {"Id", "SyncToken"}:
            return 400, fault(
                "2010", "Request has invalid or unsupported property", str(sorted(payload))
            )
        current = self.records.get((entity, str(payload.get("Id"))))
        if current is None:
            return 400, fault("610", "Object Not Found", f"{ENTITIES[entity]} {payload.get('Id')}")
        if payload.get("SyncToken") != current["SyncToken"]:
            return 400, fault("5010", "Stale Object Error", "stale SyncToken")
        record = {
            **current,
            "SyncToken": str(int(current["SyncToken"]) + 1),
            "PrivateNote": "Voided",
            "Balance": Decimal("0"),
        }
        for line in record.get("Line", []):
            line["Amount"] = Decimal("0")
        record["TotalAmt"] = Decimal("0")
        self.records[(entity, record["Id"])] = record
        return 200, {ENTITIES[entity]: record, "time": "2026-01-01T00:00:00.000-08:00"}

    def _validate(self, entity: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if entity in ("customer", "vendor"):
            name = payload.get("DisplayName")
            if not name and "Id" not in payload:
                return fault("2020", "Required param missing", "DisplayName", "DisplayName")
            clash = next(
                (
                    qbo_id
                    for (kind, qbo_id), other in self.records.items()
                    if kind in ("customer", "vendor")
                    and name
                    and other.get("DisplayName") == name
                    and qbo_id != str(payload.get("Id"))
                ),
                None,
            )
            if clash is not None:
                return fault(
                    "6240",
                    "Duplicate Name Exists Error",
                    f"The name supplied already exists. : Id={clash}",
                )
        for ref, target in (("CustomerRef", "customer"), ("VendorRef", "vendor")):
            if ref in payload and (target, payload[ref]["value"]) not in self.records:
                return fault("2500", "Invalid Reference Id", f"{ref} {payload[ref]['value']}")
        for line in payload.get("Line", []):
            detail = line.get("SalesItemLineDetail")
            if detail and detail["Qty"] * detail["UnitPrice"] != line["Amount"]:
                return fault("6070", "Amount is not equal to UnitPrice * Qty", str(line["Amount"]))
            for linked in line.get("LinkedTxn", []):
                if ("invoice", linked["TxnId"]) not in self.records:
                    return fault("2500", "Invalid Reference Id", f"Invoice {linked['TxnId']}")
        return None


def _auth_fault() -> dict[str, Any]:
    return {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": "Token expired",
                    "code": "3200",
                    "element": None,
                }
            ],
            "type": "AUTHENTICATION",
        },
        "time": 1767225600000,
    }


def create_app(fake: FakeQuickBooks) -> Starlette:
    return Starlette(
        routes=[
            Route(TOKEN_PATH, fake.token, methods=["POST"]),
            Route("/v3/company/{realm}/{entity}", fake.entity, methods=["POST"]),
            Route("/v3/company/{realm}/{entity}/{qbo_id}", fake.read, methods=["GET"]),
        ]
    )


@asynccontextmanager
async def running() -> AsyncIterator[FakeQuickBooks]:
    fake = FakeQuickBooks()
    async with serve(create_app(fake)) as server:
        fake.server = server
        yield fake
