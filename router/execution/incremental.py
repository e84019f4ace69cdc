"""Run an operation split by `@defer` and produce its incremental payloads.

The initial operation and every deferred part start together (each is an
ordinary `Gateway.execute`, so each passes validation, limits and
authorization on its own and is planned and cached like any operation);
the initial payload goes first, then each part as soon as it is done and
its parent part (for a nested `@defer`) has gone. Payloads follow the
`deferSpec=20220824` format Apollo Client and urql read:

- `{"data": ..., "errors"?: [...], "hasNext": true}` first;
- `{"incremental": [{"data": ..., "path": [...], "label"?: ..., "errors"?: [...]}], "hasNext": ...}`,
  one incremental item per object the fragment applies to (a fragment under
  a list applies to each element); a fragment under a null parent sends
  nothing;
- the last payload says `"hasNext": false`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from graphql import print_ast

from router.gateway import Gateway, GraphQLRequest, GraphQLResponse
from router.planning.defer import DeferredPart, DeferSplit

log = logging.getLogger("router")

_INTERNAL = {"message": "Internal router error.", "extensions": {"code": "INTERNAL"}}


async def incremental_payloads(
    gw: Gateway, request: GraphQLRequest, split: DeferSplit
) -> AsyncIterator[dict[str, Any]]:
    """The initial payload, then one per deferred part that has something to say."""
    parts = split.parts

    async def run(doc_request: GraphQLRequest) -> GraphQLResponse:
        try:
            return await gw.execute(doc_request)
        except Exception:
            log.exception("deferred request failed")
            return GraphQLResponse({"data": None, "errors": [dict(_INTERNAL)]})

    def part_request(part: DeferredPart) -> GraphQLRequest:
        return replace(request, query=print_ast(part.document))

    initial_task = asyncio.ensure_future(run(replace(request, query=print_ast(split.initial))))
    tasks = [asyncio.ensure_future(run(part_request(p))) for p in parts]
    try:
        initial = await initial_task
        first = dict(initial.body)
        if initial.request_error:
            first["hasNext"] = False
            yield first
            return
        first["hasNext"] = True
        yield first
        delivered: set[int] = set()
        pending = {p.index for p in parts}
        while pending:
            ready = [
                i for i in sorted(pending) if tasks[i].done() and _parent_sent(parts[i], delivered)
            ]
            if not ready:
                waiting = [tasks[i] for i in pending if not tasks[i].done()]
                if waiting:
                    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                continue  # pragma: no cover - a done part always has its parent done or waiting
            for i in ready:
                pending.discard(i)
                delivered.add(i)
                items = incremental_items(parts[i], tasks[i].result().body)
                if items:
                    yield {"incremental": items, "hasNext": bool(pending)}
                elif not pending:
                    yield {"hasNext": False}
    finally:
        for t in (initial_task, *tasks):
            t.cancel()


def _parent_sent(part: DeferredPart, delivered: set[int]) -> bool:
    return part.parent is None or part.parent in delivered


def incremental_items(part: DeferredPart, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The part's answer as incremental items, each object with the errors under it."""
    found: list[tuple[list[str | int], dict[str, Any]]] = []

    def walk(value: Any, keys: tuple[str, ...], at: list[str | int]) -> None:
        if isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, keys, [*at, i])
        elif not isinstance(value, dict):
            return  # null parent: nothing to send
        elif not keys:
            if value:  # empty: a type condition that does not apply here
                found.append((at, value))
        else:
            walk(value.get(keys[0]), keys[1:], [*at, keys[0]])

    walk(body.get("data"), part.path, [])
    items: list[dict[str, Any]] = []
    for at, data in found:
        item: dict[str, Any] = {"data": data, "path": at}
        if part.label is not None:
            item["label"] = part.label
        items.append(item)
    orphans: list[dict[str, Any]] = []
    for err in body.get("errors") or ():
        epath = err.get("path")
        owner = None
        if isinstance(epath, list):
            owner = max(
                (it for it in items if epath[: len(it["path"])] == it["path"]),
                key=lambda it: len(it["path"]),
                default=None,
            )
        if owner is None:
            orphans.append(err)
        else:
            owner.setdefault("errors", []).append(err)
    # an error that nulled the fragment's parent (or came before the path) is
    # still reported: in an item with null data where the path reaches
    nulled: dict[tuple[str | int, ...], dict[str, Any]] = {}
    for err in orphans:
        at = _error_path(part, err.get("path"))
        group = nulled.get(tuple(at))
        if group is None:
            group = nulled[tuple(at)] = {"data": None, "path": at}
            if part.label is not None:
                group["label"] = part.label
            group["errors"] = []
            items.append(group)
        group["errors"].append(err)
    return items


def _error_path(part: DeferredPart, epath: Any) -> list[str | int]:
    """The error's path cut to the fragment's place (list indices kept)."""
    if not isinstance(epath, list):
        return []
    out: list[str | int] = []
    keys = list(part.path)
    for p in epath:
        if not keys and not isinstance(p, int):
            break
        out.append(p)
        if isinstance(p, str) and p == keys[0]:
            keys.pop(0)
    return out
