"""HTTP to subgraphs: one pooled keep-alive session per process.

Identical requests that are in flight at the same moment share one
round trip. They share the answer's bytes, not its parsed objects: the
executor merges into the objects it gets, so each caller parses its own. An optional
`on_fetch` hook sees every real round trip (not the shared ones) with its
duration and failure kind, which is what the metrics need.

Every request carries the router's credential when a secret is configured
(`subgraphs/kit/auth/router_credential.py`): subgraphs answer only the
router. It is signed per round trip, after the in-flight key is taken, so
its timestamp never keeps two identical fetches apart.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson

from subgraphs.kit.auth import router_credential

log = logging.getLogger("router.fetch")


#: (subgraph name, seconds, None | "timeout" | "transport" | "http" | "graphql")
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
                log.warning("subgraph %s timed out (%s)", service, url)
                raise FetchError(f"Subgraph '{service}' timed out.", "timeout") from exc
            except aiohttp.ClientError as exc:
                log.warning("subgraph %s unreachable (%s): %s", service, url, exc)
                raise FetchError(f"Subgraph '{service}' is unavailable.") from exc
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
            return (await self._observed(service, url, payload, headers))[1]
        key = (url, payload + orjson.dumps(headers or {}))
        pending = self._inflight.get(key)
        if pending is not None:
            return _parse(service, await asyncio.shield(pending))
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        try:
            raw, parsed = await self._observed(service, url, payload, headers)
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
        self, service: str, url: str, payload: bytes, headers: dict[str, str] | None
    ) -> tuple[bytes, dict[str, Any]]:
        if self.on_fetch is None:
            return await self._send(service, url, payload, headers)
        start = time.perf_counter()
        try:
            raw, parsed = await self._send(service, url, payload, headers)
        except FetchError as exc:
            self.on_fetch(service, time.perf_counter() - start, exc.kind)
            raise
        kind = "graphql" if parsed.get("errors") else None
        self.on_fetch(service, time.perf_counter() - start, kind)
        return raw, parsed

    async def _send(
        self, service: str, url: str, payload: bytes, headers: dict[str, str] | None
    ) -> tuple[bytes, dict[str, Any]]:
        """One round trip: the raw body (for joiners) and its parsed GraphQL answer."""
        import aiohttp

        session = await self._get_session()
        self.requests += 1
        h = {"content-type": "application/json", "accept": "application/json"}
        if headers:
            h.update(headers)
        h.update(self.credential(url, payload))
        timeout = aiohttp.ClientTimeout(total=self.timeouts.get(service, self.timeout))
        try:
            async with session.post(url, data=payload, headers=h, timeout=timeout) as resp:
                raw = await resp.read()
                status = resp.status
        except TimeoutError as exc:
            log.warning("subgraph %s timed out (%s)", service, url)
            raise FetchError(f"Subgraph '{service}' timed out.", "timeout") from exc
        except aiohttp.ClientError as exc:
            # the detail names internal hosts: logs only, not the client
            log.warning("subgraph %s unreachable (%s): %s", service, url, exc)
            raise FetchError(f"Subgraph '{service}' is unavailable.") from exc
        return raw, _parse(service, raw, status)


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
