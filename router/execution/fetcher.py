"""HTTP to subgraphs: one pooled keep-alive session per process.

Identical requests that are in flight at the same moment share one
round trip; the first caller's answer is handed to all of them. An optional
`on_fetch` hook sees every real round trip (not the shared ones) with its
duration and failure kind, which is what the metrics need.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson

log = logging.getLogger("router.fetch")


#: (subgraph name, seconds, None | "timeout" | "transport" | "http" | "graphql")
FetchObserver = Callable[[str, float, str | None], None]


class FetchError(Exception):
    """A subgraph could not be reached or did not answer with GraphQL JSON."""

    def __init__(self, message: str, kind: str = "transport") -> None:
        super().__init__(message)
        self.kind = kind


class Fetcher:
    def __init__(
        self,
        timeout: float = 30.0,
        timeouts: dict[str, float] | None = None,
        on_fetch: FetchObserver | None = None,
    ) -> None:
        self.timeout = timeout
        self.timeouts = timeouts or {}
        self.on_fetch = on_fetch
        self._session: Any = None
        self._inflight: dict[tuple[str, bytes], asyncio.Future[dict[str, Any]]] = {}
        self.requests = 0

    async def _get_session(self) -> Any:
        if self._session is None or self._session.closed:
            import aiohttp

            connector = aiohttp.TCPConnector(limit=256, keepalive_timeout=30, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, json_serialize=lambda o: orjson.dumps(o).decode()
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(
        self, service: str, url: str, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        payload = orjson.dumps(body)
        key = (url, payload + orjson.dumps(headers or {}))
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        try:
            result = await self._observed(service, url, payload, headers)
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # mark retrieved: joiners re-raise it themselves
            raise
        else:
            fut.set_result(result)
            return result
        finally:
            del self._inflight[key]

    async def _observed(
        self, service: str, url: str, payload: bytes, headers: dict[str, str] | None
    ) -> dict[str, Any]:
        if self.on_fetch is None:
            return await self._send(service, url, payload, headers)
        start = time.perf_counter()
        try:
            result = await self._send(service, url, payload, headers)
        except FetchError as exc:
            self.on_fetch(service, time.perf_counter() - start, exc.kind)
            raise
        kind = "graphql" if result.get("errors") else None
        self.on_fetch(service, time.perf_counter() - start, kind)
        return result

    async def _send(
        self, service: str, url: str, payload: bytes, headers: dict[str, str] | None
    ) -> dict[str, Any]:
        import aiohttp

        session = await self._get_session()
        self.requests += 1
        h = {"content-type": "application/json", "accept": "application/json"}
        if headers:
            h.update(headers)
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
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise FetchError(
                f"Subgraph '{service}' answered HTTP {status} without JSON.", "http"
            ) from exc
        if not isinstance(parsed, dict) or ("data" not in parsed and "errors" not in parsed):
            raise FetchError(
                f"Subgraph '{service}' answered HTTP {status} without GraphQL.", "http"
            )
        return parsed
