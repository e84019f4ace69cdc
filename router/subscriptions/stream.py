"""One admitted operation streamed over a plain HTTP response, whatever the framing.

SSE (`sse.py`) and multipart subscriptions (`multipart.py`) run an operation
the same way and differ only in the bytes they write: the operation runs as
a registry task feeding a small queue (a slow reader slows the upstream
socket instead of growing memory; a client that disconnects cancels the
task, which closes the upstream socket), a heartbeat goes out while nothing
arrives (proxies close idle responses), and a stream on a verified token
ends when the token expires or its session is revoked (`SessionLimit`), as
graphql-transport-ws ends the connection. A `Framing` turns each of these
moments into bytes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, Protocol

from starlette.responses import StreamingResponse

from router.gateway import Admission, Gateway, GraphQLRequest
from router.guard.sessions import SessionEnded, SessionLimit, ended_error
from router.observability.metrics import SubscriptionWatch
from router.subscriptions.registry import SubscriptionRegistry
from router.subscriptions.run import Message, run_operation

log = logging.getLogger("router.subscriptions")


class Framing(Protocol):
    """How one transport writes a stream's moments."""

    #: written before anything else (b"" for none)
    opening: bytes

    def next(self, body: dict[str, Any]) -> bytes:
        """One result (`data` and/or `errors`)."""
        ...

    def error(self, errors: list[dict[str, Any]]) -> bytes:
        """The operation ends without a result; `complete` follows."""
        ...

    def heartbeat(self) -> bytes: ...

    def complete(self) -> bytes: ...


async def frames(
    framing: Framing,
    gw: Gateway,
    registry: SubscriptionRegistry,
    req: GraphQLRequest,
    authorization: str | None,
    *,
    admission: Admission,
    limit: SessionLimit | None = None,
    keepalive: float = 12.0,
    on_end: Callable[[dict[str, Any], bool], None] | None = None,
    watch: Callable[[], SubscriptionWatch] | None = None,
) -> AsyncIterator[bytes]:
    """Run one admitted operation, yielding its framed messages until it ends.

    `on_end(last body, errored)` runs once when the stream ends, for the metrics;
    `watch` (a subscription's) is called when the stream starts, its watch ended with it.
    """
    queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=8)

    async def emit(m: Message) -> None:
        await queue.put(m)

    task = registry.start(
        _guarded(run_operation(gw, req, authorization, registry, emit, limit, admission), queue)
    )
    # the token's end, watched while nothing arrives (each event is checked too)
    ended = asyncio.ensure_future(limit.wait()) if limit is not None else None
    last: dict[str, Any] = {}
    errored = False
    watched = watch() if watch is not None else None
    try:
        if framing.opening:
            yield framing.opening
        while True:
            get = asyncio.ensure_future(queue.get())
            waiting: set[asyncio.Future[Any]] = {get} if ended is None else {get, ended}
            done, _ = await asyncio.wait(
                waiting, timeout=keepalive, return_when=asyncio.FIRST_COMPLETED
            )
            if ended is not None and ended in done:
                get.cancel()
                task.cancel()
                errors = [ended_error(ended.result())]
                last, errored = {"errors": errors}, True
                if watched is not None:
                    watched.error()
                yield framing.error(errors)
                yield framing.complete()
                return
            if get not in done:
                get.cancel()
                yield framing.heartbeat()
                continue
            m = get.result()
            if m.kind == "error":
                last, errored = {"errors": m.payload}, True
                if watched is not None:
                    watched.error()
                yield framing.error(m.payload)
                yield framing.complete()
                return
            if m.kind == "complete":
                if watched is not None:
                    watched.complete()
                yield framing.complete()
                return
            last = m.payload
            yield framing.next(m.payload)
            if watched is not None:
                watched.event(m.payload)
    finally:
        task.cancel()
        if ended is not None:
            ended.cancel()
        if on_end is not None:
            on_end(last, errored)
        if watched is not None:
            watched.end()


def stream_response(
    framing: Framing,
    media_type: str,
    gw: Gateway,
    registry: SubscriptionRegistry,
    req: GraphQLRequest,
    authorization: str | None,
    *,
    admission: Admission,
    limit: SessionLimit | None = None,
    keepalive: float = 12.0,
    on_end: Callable[[dict[str, Any], bool], None] | None = None,
    watch: Callable[[], SubscriptionWatch] | None = None,
) -> StreamingResponse:
    """One admitted operation streamed in `framing` (SSE, multipart) until it ends.

    `on_end(last body, errored)` runs once when the stream ends, for the metrics;
    so does a subscription's `watch` (`frames`).
    """
    return StreamingResponse(
        frames(
            framing,
            gw,
            registry,
            req,
            authorization,
            admission=admission,
            limit=limit,
            keepalive=keepalive,
            on_end=on_end,
            watch=watch,
        ),
        media_type=media_type,
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


async def _guarded(run: Coroutine[Any, Any, None], queue: asyncio.Queue[Message]) -> None:
    """Run the operation; if it crashes, the stream still ends with an error."""
    try:
        await run
    except SessionEnded:
        pass  # its error is already queued: the stream ends with it
    except Exception:
        log.exception("subscription over HTTP failed")
        await queue.put(Message("error", [internal_error()]))


def internal_error() -> dict[str, Any]:
    return {"message": "Internal router error.", "extensions": {"code": "INTERNAL"}}
