"""Complete one upstream event into the client's answer.

The event is exactly what the plan's root fetch would have returned, so the
gateway's executor runs the whole plan with a fetcher that answers the root
fetch from the event and sends every other fetch (the entity jumps to other
subgraphs) over HTTP as usual; the shaper then cuts the merged data to the
client's operation. Nothing about planning or merging is duplicated here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from router.execution.executor import Executor
from router.execution.fetcher import Fetcher
from router.execution.shaping import Shaper
from router.gateway import Gateway
from router.subscriptions.operation import Subscription
from router.subscriptions.registry import SubscriptionRegistry
from router.subscriptions.upstream import upstream_events


class _EventFetcher(Fetcher):
    """The gateway's fetcher, except that the root fetch is answered by the event."""

    def __init__(self, inner: Fetcher, root_query: str, event: dict[str, Any]) -> None:
        super().__init__(inner.timeout, inner.timeouts)
        self._inner = inner
        self._root_query = root_query
        self._event = event

    async def post(
        self,
        service: str,
        url: str,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
        *,
        dedupe: bool = True,
    ) -> dict[str, Any]:
        if body.get("query") == self._root_query:
            return self._event
        return await self._inner.post(service, url, body, headers, dedupe=dedupe)


async def complete_event(
    gw: Gateway, sub: Subscription, event: dict[str, Any], headers: dict[str, str] | None
) -> dict[str, Any]:
    executor = Executor(_EventFetcher(gw.fetcher, sub.root.query, event), gw.executor.abstract)
    data, errors = await executor.run(sub.plan, sub.variables, headers)
    if event.get("data") is None:
        # the stream itself failed: its errors say why, no shaping to add to them
        return {"data": None, "errors": errors}
    errors[:0] = [dict(e) for e in sub.denied]
    shaped = Shaper(errors).shape_root(sub.plan.shape, data)
    body: dict[str, Any] = {"data": shaped}
    if errors:
        body["errors"] = errors
    return body


async def results(
    gw: Gateway,
    sub: Subscription,
    authorization: str | None,
    registry: SubscriptionRegistry,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Each upstream event, completed; ends when the subgraph completes.

    `headers` go with every entity fetch (`Gateway.forwarded_headers`); the
    upstream socket's upgrade request carries their `X-Forwarded-For` and
    the router's credential, its `connection_init` the Authorization.
    Raises `UpstreamError` when the subgraph refuses or drops the stream.
    """
    root = sub.root
    body: dict[str, Any] = {"query": root.query}
    vars_ = {v: sub.variables[v] for v in root.variables if v in sub.variables}
    if vars_:
        body["variables"] = vars_
    init = {"Authorization": authorization} if authorization else None
    if headers is None:
        headers = {"authorization": authorization} if authorization else None
    upgrade = {k: v for k, v in (headers or {}).items() if k.lower() == "x-forwarded-for"}
    upgrade.update(gw.fetcher.credential(root.url, b""))
    events = upstream_events(
        root.url, root.service_name, init, body, registry, headers=upgrade or None
    )
    async with aclosing(events):
        async for event in events:
            yield await complete_event(gw, sub, event, headers)
