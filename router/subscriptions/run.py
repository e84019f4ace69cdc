"""One operation received on a subscription transport, as a stream of messages.

Both transports (graphql-transport-ws and SSE) say the same things, only in
different framing: `next` payloads, then either `complete` or, when the
operation was refused before it started, `error`. This module decides what
to say; the transports only frame it.

A subscription started with a token checks before each event that the
token is still good (`SessionLimit`): when it is not, the operation ends
with an `UNAUTHENTICATED` error and `SessionEnded` tells the transport,
which ends whatever else ran on the same credential.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from router.gateway import Admission, Gateway, GraphQLRequest
from router.guard.sessions import SessionEnded, SessionLimit
from router.subscriptions.events import results
from router.subscriptions.operation import Refused, operation_kind, prepare
from router.subscriptions.registry import SubscriptionRegistry
from router.subscriptions.upstream import UpstreamError


@dataclass(slots=True)
class Message:
    #: "next", "error" or "complete"
    kind: str
    payload: Any = None


Emit = Callable[[Message], Awaitable[None]]


async def run_operation(
    gw: Gateway,
    request: GraphQLRequest,
    authorization: str | None,
    registry: SubscriptionRegistry,
    emit: Emit,
    limit: SessionLimit | None = None,
    admission: Admission | None = None,
) -> None:
    """Run one operation to its end, emitting each message in order.

    Queries and mutations are answered once through `Gateway.execute`;
    subscriptions stream until the subgraph completes or the caller cancels
    this coroutine (which closes the upstream socket). With a `limit`, an
    event that arrives after the token expired or its session was revoked
    is not delivered: the operation emits an `error` and raises `SessionEnded`.
    """
    kind = admission.kind if admission is not None else operation_kind(gw, request)
    if kind in ("query", "mutation"):
        resp = await gw.execute(request, admission)
        if resp.request_error:
            await emit(Message("error", resp.body.get("errors", [])))
            return
        await emit(Message("next", resp.body))
        await emit(Message("complete"))
        return
    sub = prepare(gw, request, admission)
    if isinstance(sub, Refused):
        await emit(Message("error", sub.errors))
        return
    try:
        async for body in results(gw, sub, authorization, registry, gw.forwarded_headers(request)):
            if limit is not None:
                await limit.check()
            await emit(Message("next", body))
    except SessionEnded as ended:
        await emit(Message("error", [ended.error]))
        raise
    except UpstreamError as exc:
        if exc.refused:
            await emit(Message("error", exc.errors))
            return
        await emit(Message("next", {"data": None, "errors": exc.errors}))
    await emit(Message("complete"))
