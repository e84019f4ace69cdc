"""Sales' way to create a charter quote: charters' own GraphQL API, never its tables.

DESIGN.md: a write that spans subgraphs goes through the owning subgraph's
API with an idempotency key. Conversion (`service/conversion.py`) needs
one thing from charters, "create this quote, once per key", so the port is
that one method (`CharterQuotes`), and the adapter (`HttpCharterQuotes`)
calls `createCharter` over HTTP with the key.

Who is asking: the adapter forwards the caller's own bearer token, so
charters applies its own rules to the agent (an agent quotes as itself; a
manager may name the lead's agent). The subgraphs are one trust zone
behind the router: when subgraphs accept only router-signed requests
(`ROUTER_SECRETS` set), sales signs its body with the same credential
(`protocol/router_credential.sign`), as the router would. That credential
says only "from inside"; who the user is still comes from the token.

Failures are two kinds: `QuoteRefused` carries charters' user errors (the
request was wrong; retrying the same request will not help), and
`ChartersUnavailable` is a transport error, a 5xx or an internal GraphQL
error (nothing is known; retrying with the same key is safe). UNKNOWN_CLIENT
right after sales created the client means charters has not yet applied
sales' `sales.client_changed` event: the adapter retries it with a short
backoff (about 5 s in all) before giving up as unavailable.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from protocol import router_credential
from subgraphs.kit.errors import Problem

if TYPE_CHECKING:
    from subgraphs.kit.context import Services

CREATE_CHARTER = """
mutation SalesConvertLead($input: CreateCharterInput!) {
  createCharter(input: $input) {
    charter { id reference }
    userErrors { field code message }
  }
}"""
#: Charters' answer while it has not yet learned a client sales just created.
UNKNOWN_CLIENT = "UNKNOWN_CLIENT"
#: Pauses before each retry of UNKNOWN_CLIENT: about 5 s in all.
UNKNOWN_CLIENT_BACKOFF = (0.1, 0.2, 0.4, 0.8, 1.5, 2.0)
#: GraphQL error codes that are an answer about the caller, not an outage.
REFUSALS = frozenset({"FORBIDDEN", "UNAUTHENTICATED", "BAD_USER_INPUT"})
#: Where the pooled client lives (`Services.extra`), one per sales process.
SERVICE_KEY = "sales.charter_quotes"


@dataclass(frozen=True)
class QuoteStop:
    type: str  # charters' StopType name: PICKUP, DROPOFF, WAYPOINT
    address: str


@dataclass(frozen=True)
class QuoteRequest:
    """A new charter quote as charters' `CreateCharterInput` takes it."""

    client_id: uuid.UUID
    trip_type: str  # charters' TripType name, such as ONE_WAY
    passenger_count: int
    pickup_local: str  # local wall time, YYYY-MM-DDTHH:MM
    pickup_time_zone: str
    stops: tuple[QuoteStop, ...] = ()
    notes: str | None = None
    sales_agent_id: uuid.UUID | None = None

    def as_input(self, key: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "clientId": str(self.client_id),
            "tripType": self.trip_type,
            "passengerCount": self.passenger_count,
            "pickupLocal": self.pickup_local,
            "pickupTimeZone": self.pickup_time_zone,
            "stops": [{"type": s.type, "address": s.address} for s in self.stops],
            "idempotencyKey": key,
        }
        if self.notes is not None:
            data["notes"] = self.notes
        if self.sales_agent_id is not None:
            data["salesAgentId"] = str(self.sales_agent_id)
        return data


@dataclass(frozen=True)
class QuoteResult:
    charter_id: uuid.UUID
    reference: str


class QuoteRefused(Exception):
    """Charters refused the request: its user errors, as charters named them."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(p.message for p in self.problems))


class ChartersUnavailable(Exception):
    """Charters could not be asked or did not answer; the same key may be retried."""


class CharterQuotes(Protocol):
    async def create_quote(self, request: QuoteRequest, *, key: str, bearer: str) -> QuoteResult:
        """The quote for `key`: created now, or the one charters made for it before."""
        ...


@dataclass
class HttpCharterQuotes:
    """`CharterQuotes` over charters' GraphQL endpoint, with a pooled HTTP client."""

    http: httpx.AsyncClient
    url: str
    router_secrets: Sequence[str] = ()
    backoff: Sequence[float] = field(default=UNKNOWN_CLIENT_BACKOFF)

    async def create_quote(self, request: QuoteRequest, *, key: str, bearer: str) -> QuoteResult:
        body = json.dumps(
            {"query": CREATE_CHARTER, "variables": {"input": request.as_input(key)}}
        ).encode()
        for pause in self.backoff:
            try:
                return _result(await self._post(body, bearer))
            except QuoteRefused as refused:
                if not _client_unknown(refused):
                    raise
            await asyncio.sleep(pause)
        try:
            return _result(await self._post(body, bearer))
        except QuoteRefused as refused:
            if _client_unknown(refused):
                raise ChartersUnavailable(
                    "Charters has not learned the client yet; retry with the same key."
                ) from refused
            raise

    async def _post(self, body: bytes, bearer: str) -> dict[str, Any]:
        headers = {"content-type": "application/json", "accept": "application/json"}
        if bearer:
            headers["authorization"] = f"Bearer {bearer}"
        if self.router_secrets:
            headers[router_credential.HEADER] = router_credential.sign(self.router_secrets[0], body)
        try:
            response = await self.http.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ChartersUnavailable(f"Charters could not be reached: {exc!r}") from exc
        if response.status_code >= 500:
            raise ChartersUnavailable(f"Charters answered {response.status_code}.")
        try:
            answer = response.json()
        except ValueError as exc:
            raise ChartersUnavailable(
                f"Charters answered {response.status_code} without JSON."
            ) from exc
        if not isinstance(answer, dict):
            raise ChartersUnavailable("Charters answered something other than a GraphQL result.")
        return answer


def _client_unknown(refused: QuoteRefused) -> bool:
    return any(p.code == UNKNOWN_CLIENT for p in refused.problems)


def _result(answer: dict[str, Any]) -> QuoteResult:
    errors = answer.get("errors") or []
    if errors:
        codes = [(e.get("extensions") or {}).get("code") for e in errors]
        refusals = [
            Problem(str(code), str(e.get("message") or code), None)
            for e, code in zip(errors, codes, strict=True)
            if code in REFUSALS
        ]
        if refusals:
            raise QuoteRefused(refusals)
        raise ChartersUnavailable(f"Charters failed: {codes}.")
    payload = (answer.get("data") or {}).get("createCharter") or {}
    problems = [
        Problem(str(e.get("code")), str(e.get("message")), e.get("field"))
        for e in payload.get("userErrors") or []
    ]
    if problems:
        raise QuoteRefused(problems)
    charter = payload.get("charter")
    if not charter:
        raise ChartersUnavailable("Charters answered neither a charter nor a reason.")
    return QuoteResult(charter_id=uuid.UUID(charter["id"]), reference=str(charter["reference"]))


def charter_quotes(services: Services) -> CharterQuotes:
    """The process's one adapter, made on first use with one pooled HTTP client.

    `close_charter_quotes` (an `on_shutdown` hook) closes the pool.
    """
    quotes = services.extra.get(SERVICE_KEY)
    if quotes is None:
        settings = services.settings
        quotes = HttpCharterQuotes(
            http=httpx.AsyncClient(
                timeout=httpx.Timeout(15.0, connect=3.0),
                limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
            ),
            url=settings.charters_graphql_url,
            router_secrets=settings.router_secret_list,
        )
        services.extra[SERVICE_KEY] = quotes
    return quotes


async def close_charter_quotes(services: Services) -> None:
    quotes = services.extra.pop(SERVICE_KEY, None)
    if isinstance(quotes, HttpCharterQuotes):
        await quotes.http.aclose()
