"""HTTP to subgraphs: one pooled keep-alive session per process.

Identical requests that are in flight at the same moment share one
round trip. They share the answer's bytes, not its parsed objects: the
executor merges into the objects it gets, so each caller parses its own. An optional
`on_fetch` hook sees every real round trip (not the shared ones) with its
duration and failure kind, which is what the metrics need.

Every request carries the router's credential when a secret is configured
(`protocol/router_credential.py`): subgraphs answer only the
router. It is signed per round trip, after the in-flight key is taken, so
its timestamp never keeps two identical fetches apart.

Each subgraph has a circuit breaker (`breaker.py`): while it is open a
fetch fails at once with the error an unreachable subgraph gives. A read
(never a mutation or an upload) whose connection failed before any answer
came back (refused, reset, closed) is retried up to `retries` times after
an exponential backoff with full jitter; a timeout or an HTTP error is not
retried: the subgraph may have done the work, or is slow rather than gone.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypedDict
from urllib.parse import urlsplit

import orjson

from protocol import router_credential
from router.execution.breaker import CLOSED, Breaker, Breakers, StateObserver
from router.observability.logs import current_request_id

if TYPE_CHECKING:
    from router.config import Config

log = logging.getLogger("router.fetch")


#: (subgraph name, seconds, None | "timeout" | "transport" | "http" | "graphql" | "circuit_open")
FetchObserver = Callable[[str, float, str | None], None]


class FetchError(Exception):
    """A subgraph could not be reached or did not answer with GraphQL JSON."""

    def __init__(self, message: str, kind: str = "transport") -> None:
        super().__init__(message)
        self.kind = kind


class StreamedBody(Protocol):
    """A request body sent as a stream (an upload), known by its length and SHA-256."""

    @property
    def content_type(self) -> str: ...

    @property
    def length(self) -> int: ...

    def sha256(self) -> hashlib._Hash:
        """A copy of the hash of the whole body (the signature adds the URL's query)."""
        ...

    def chunks(self) -> AsyncIterator[bytes]:
        """The body, from the start, each time it is called."""
        ...


class Fetcher:
    def __init__(
        self,
        timeout: float = 30.0,
        timeouts: dict[str, float] | None = None,
        on_fetch: FetchObserver | None = None,
        signing_secret: Callable[[], str | None] | None = None,
        *,
        breakers: Breakers | None = None,
        retries: int = 0,
        retry_base_seconds: float = 0.05,
        retry_max_seconds: float = 1.0,
    ) -> None:
        self.timeout = timeout
        self.timeouts = timeouts or {}
        self.on_fetch = on_fetch
        #: resolved on the first request (reading the shared Settings is slow to import)
        self._signing_secret = signing_secret
        self._secret: str | None = None
        self._secret_resolved = signing_secret is None
        self._session: Any = None
        self._inflight: dict[tuple[str, bytes], asyncio.Future[bytes]] = {}
        self.requests = 0
        #: None: no circuit breaking
        self.breakers = breakers
        #: extra attempts of a read whose connection failed before any answer
        self.retries = retries
        self.retry_base_seconds = retry_base_seconds
        self.retry_max_seconds = retry_max_seconds

    async def _get_session(self) -> Any:
        if self._session is None or self._session.closed:
            import aiohttp

            connector = aiohttp.TCPConnector(limit=256, keepalive_timeout=30, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, json_serialize=lambda o: orjson.dumps(o).decode()
            )
        return self._session

    def credential(self, url: str, body: bytes) -> dict[str, str]:
        """The router's credential for one request to `url` with `body`; {} when unsigned.

        A subgraph verifies the body followed by the URL's query string (a
        WebSocket upgrade has no body: its credential signs b"" plus that).
        """
        secret = self._secret_now()
        if not secret:
            return {}
        signed = body + urlsplit(url).query.encode()
        return {router_credential.HEADER: router_credential.sign(secret, signed)}

    def _secret_now(self) -> str | None:
        if not self._secret_resolved:
            assert self._signing_secret is not None  # noqa: S101 - set when unresolved
            self._secret = self._signing_secret()
            self._secret_resolved = True
        return self._secret

    def streamed_credential(self, url: str, body: StreamedBody) -> dict[str, str]:
        """`credential` for a streamed body: signed by its SHA-256 plus the URL's query."""
        secret = self._secret_now()
        if not secret:
            return {}
        digest = body.sha256()
        digest.update(urlsplit(url).query.encode())
        return {router_credential.HEADER: router_credential.sign_digest(secret, digest.hexdigest())}

    async def post_streamed(
        self,
        service: str,
        url: str,
        body: StreamedBody,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One round trip with a streamed body (never shared with another caller)."""
        import aiohttp

        start = time.perf_counter()
        breaker = self._admit(service)
        session = await self._get_session()
        self.requests += 1
        h = {"accept": "application/json"}
        if headers:
            h.update(headers)
        h["content-type"] = body.content_type
        h["content-length"] = str(body.length)
        h.update(self.streamed_credential(url, body))
        timeout = aiohttp.ClientTimeout(total=self.timeouts.get(service, self.timeout))
        try:
            try:
                async with session.post(
                    url, data=body.chunks(), headers=h, timeout=timeout
                ) as resp:
                    raw = await resp.read()
                    status = resp.status
            except TimeoutError as exc:
                _failed(breaker)
                log.warning("subgraph %s timed out (%s)", service, url)
                raise FetchError(f"Subgraph '{service}' timed out.", "timeout") from exc
            except aiohttp.ClientError as exc:
                _failed(breaker)
                log.warning("subgraph %s unreachable (%s): %s", service, url, exc)
                raise FetchError(f"Subgraph '{service}' is unavailable.") from exc
            except BaseException:
                if breaker is not None:
                    breaker.release()
                raise
            _answered(breaker, status)
            parsed = _parse(service, raw, status)
        except FetchError as exc:
            if self.on_fetch is not None:
                self.on_fetch(service, time.perf_counter() - start, exc.kind)
            raise
        if self.on_fetch is not None:
            kind = "graphql" if parsed.get("errors") else None
            self.on_fetch(service, time.perf_counter() - start, kind)
        return parsed

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(
        self,
        service: str,
        url: str,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
        *,
        dedupe: bool = True,
    ) -> dict[str, Any]:
        payload = orjson.dumps(body)
        if not dedupe:
            return (await self._observed(service, url, payload, headers, False))[1]
        key = (url, payload + orjson.dumps(headers or {}))
        pending = self._inflight.get(key)
        if pending is not None:
            return _parse(service, await asyncio.shield(pending))
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        try:
            raw, parsed = await self._observed(service, url, payload, headers, True)
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # mark retrieved: joiners re-raise it themselves
            raise
        else:
            fut.set_result(raw)
            return parsed
        finally:
            del self._inflight[key]

    async def _observed(
        self,
        service: str,
        url: str,
        payload: bytes,
        headers: dict[str, str] | None,
        read: bool,
    ) -> tuple[bytes, dict[str, Any]]:
        """`read`: the fetch may be retried (a query's, never a mutation's)."""
        if self.on_fetch is None:
            return await self._send(service, url, payload, headers, read)
        start = time.perf_counter()
        try:
            raw, parsed = await self._send(service, url, payload, headers, read)
        except FetchError as exc:
            self.on_fetch(service, time.perf_counter() - start, exc.kind)
            raise
        kind = "graphql" if parsed.get("errors") else None
        self.on_fetch(service, time.perf_counter() - start, kind)
        return raw, parsed

    async def _send(
        self,
        service: str,
        url: str,
        payload: bytes,
        headers: dict[str, str] | None,
        read: bool = False,
    ) -> tuple[bytes, dict[str, Any]]:
        """One round trip: the raw body (for joiners) and its parsed GraphQL answer.

        `read`: a query's fetch, retried when its connection failed before
        any answer (never a mutation's: the subgraph may have run it).
        """
        import aiohttp

        breaker = self._admit(service)
        session = await self._get_session()
        h = {"content-type": "application/json", "accept": "application/json"}
        if headers:
            h.update(headers)
        h.update(self.credential(url, payload))
        request_id = current_request_id()
        if request_id is not None:  # LOG_FORMAT=json: the subgraph logs under the same id
            h["x-request-id"] = request_id
        timeout = aiohttp.ClientTimeout(total=self.timeouts.get(service, self.timeout))
        attempt = 0
        while True:
            self.requests += 1
            try:
                async with session.post(url, data=payload, headers=h, timeout=timeout) as resp:
                    raw = await resp.read()
                    status = resp.status
            except TimeoutError as exc:
                _failed(breaker)
                log.warning("subgraph %s timed out (%s)", service, url)
                raise FetchError(f"Subgraph '{service}' timed out.", "timeout") from exc
            except aiohttp.ClientError as exc:
                if (
                    read
                    and attempt < self.retries
                    and isinstance(
                        exc,
                        # refused, reset, or closed before any answer came back
                        aiohttp.ClientOSError | aiohttp.ServerDisconnectedError,
                    )
                    and (breaker is None or breaker.state == CLOSED)
                ):
                    attempt += 1
                    log.info("subgraph %s: %s; retry %d", service, exc, attempt)
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                _failed(breaker)
                # the detail names internal hosts: logs only, not the client
                log.warning("subgraph %s unreachable (%s): %s", service, url, exc)
                raise FetchError(f"Subgraph '{service}' is unavailable.") from exc
            except BaseException:
                if breaker is not None:
                    breaker.release()
                raise
            _answered(breaker, status)
            return raw, _parse(service, raw, status)

    def _backoff(self, attempt: int) -> float:
        """Full jitter: anywhere up to the exponential step, so retries spread out."""
        ceiling = min(self.retry_max_seconds, self.retry_base_seconds * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret

    def _admit(self, service: str) -> Breaker | None:
        """The subgraph's breaker, having let this fetch through; FetchError when open."""
        if self.breakers is None:
            return None
        breaker = self.breakers[service]
        if not breaker.allow():
            raise FetchError(f"Subgraph '{service}' is unavailable.", "circuit_open")
        return breaker


class Resilience(TypedDict):
    breakers: Breakers | None
    retries: int
    retry_base_seconds: float
    retry_max_seconds: float


def fetch_resilience(config: Config, on_change: StateObserver | None = None) -> Resilience:
    """The Fetcher's breaker and retry arguments from the router's Config."""
    return Resilience(
        breakers=Breakers(config.breaker, on_change=on_change) if config.breaker else None,
        retries=config.fetch_retries,
        retry_base_seconds=config.fetch_retry_base_seconds,
        retry_max_seconds=config.fetch_retry_max_seconds,
    )


def _failed(breaker: Breaker | None) -> None:
    if breaker is not None:
        breaker.failure()


def _answered(breaker: Breaker | None, status: int) -> None:
    """A 5xx is the subgraph failing even when its body is GraphQL JSON."""
    if breaker is not None:
        if status >= 500:
            breaker.failure()
        else:
            breaker.success()


def _parse(service: str, raw: bytes, status: int = 200) -> dict[str, Any]:
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FetchError(
            f"Subgraph '{service}' answered HTTP {status} without JSON.", "http"
        ) from exc
    if not isinstance(parsed, dict) or ("data" not in parsed and "errors" not in parsed):
        raise FetchError(f"Subgraph '{service}' answered HTTP {status} without GraphQL.", "http")
    return parsed
