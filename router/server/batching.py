"""Query batching: a JSON array of operations in one POST, answered as an array in order.

Apollo Client's BatchHttpLink (and urql's, Relay's batching network layers)
send the operations a page issues in the same tick as one request, to save
round trips on slow links. A batch is only a way of carrying operations: each
one passes every guard on its own (`Pipeline.admit_batched`: persisted and
trusted documents, validation, limits, authorization, rate limits) and is
counted in the metrics on its own, so a batch cannot smuggle an operation
past a check or multiply an allowance. A refused operation is an error
entry in its place in the answer; the others still run.

Queries between two mutations run concurrently (as separate requests would);
a mutation waits for everything before it and runs alone, so mutations run
in the order the client sent them, as in a single multi-field mutation.

Off by default (`Config.batching`, `ROUTER_BATCHING=true`): a batch sent to a
router without it gets a 400 that says so; at most `Config.batch_max_size`
operations per batch.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import TYPE_CHECKING, Any

import orjson
from starlette.responses import Response

from router.server.payload import Batch, Refusal, typed_payload
from router.server.pipeline import GRAPHQL_RESPONSE, JSON, Admitted, Refused, negotiate

if TYPE_CHECKING:
    from starlette.requests import Request

    from router.config import Config
    from router.gateway import GraphQLRequest
    from router.server.pipeline import Pipeline

__all__ = ["answer_batch", "batch_refusal"]

log = logging.getLogger("router")


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


def batch_refusal(config: Config, batch: Batch) -> Refused | None:
    """The whole batch refused (HTTP 400): batching off, empty, or too many operations."""
    if not config.batching:
        return Refused(
            [
                _error(
                    "Batched requests are not enabled on this router: send one operation "
                    "per request (or enable ROUTER_BATCHING).",
                    "BATCHING_NOT_ENABLED",
                )
            ]
        )
    if not batch.items:
        return Refused([_error("A batch must contain at least one operation.", "BAD_REQUEST")])
    if len(batch.items) > config.batch_max_size:
        return Refused(
            [
                _error(
                    f"A batch may contain at most {config.batch_max_size} operations "
                    f"(this one has {len(batch.items)}).",
                    "BATCH_LIMIT_EXCEEDED",
                )
            ]
        )
    return None


async def answer_batch(
    request: Request,
    pipeline: Pipeline,
    batch: Batch,
    caller: GraphQLRequest,
    started: float,
) -> Response:
    """Admit each operation on its own, run them (mutations in order), answer an array."""
    media = negotiate(request.headers.get("accept"), None)
    if media not in (JSON, GRAPHQL_RESPONSE):
        media = JSON  # a batch is answered in JSON whatever else the client accepts
    answers: list[dict[str, Any] | None] = [None] * len(batch.items)
    admitted: list[tuple[int, Admitted]] = []
    #: the longest Retry-After of the operations a rate limit refused
    retry_after: int | None = None
    limited = 0
    for i, item in enumerate(batch.items):
        payload = typed_payload(item)
        if isinstance(payload, Refusal):
            refused = Refused.of(payload)
        else:
            # each operation its own request: the pipeline writes the query into it
            outcome = await pipeline.admit_batched(payload, dataclasses.replace(caller))
            if isinstance(outcome, Admitted) and outcome.kind == "subscription":
                refused = Refused(
                    [
                        _error(
                            "Subscriptions cannot be batched: use graphql-transport-ws or SSE.",
                            "BAD_REQUEST",
                        )
                    ],
                    operation_name=outcome.label,
                )
            elif isinstance(outcome, Admitted):
                admitted.append((i, outcome))
                continue
            else:
                refused = outcome
        pipeline.observe(refused.operation_name, started, refused.body, True)
        answers[i] = refused.body
        if refused.retry_after is not None:
            retry_after = max(retry_after or 0, refused.retry_after)
            limited += 1

    # runs of queries go concurrently; each mutation alone, after everything before it
    group: list[tuple[int, Admitted]] = []
    for entry in admitted:
        if entry[1].kind == "mutation":
            await _run_all(pipeline, group, answers, started)
            group = []
            await _run_all(pipeline, [entry], answers, started)
        else:
            group.append(entry)
    await _run_all(pipeline, group, answers, started)
    # a batch the rate limit refused whole is a 429, as a single operation is; else 200
    status = 429 if limited == len(batch.items) else 200
    headers = {"retry-after": str(retry_after)} if retry_after is not None else None
    return Response(orjson.dumps(answers), status_code=status, media_type=media, headers=headers)


async def _run_all(
    pipeline: Pipeline,
    group: list[tuple[int, Admitted]],
    answers: list[dict[str, Any] | None],
    started: float,
) -> None:
    if not group:
        return
    bodies = await asyncio.gather(*(_run(pipeline, a, started) for _, a in group))
    for (i, _), body in zip(group, bodies, strict=True):
        answers[i] = body


async def _run(pipeline: Pipeline, admitted: Admitted, started: float) -> dict[str, Any]:
    try:
        resp = await admitted.gateway.execute(admitted.request, admitted.admission)
    except Exception:
        log.exception("batched operation failed")
        body: dict[str, Any] = {
            "data": None,
            "errors": [_error("Internal router error.", "INTERNAL")],
        }
        pipeline.observe(admitted.label, started, body, False)
        return body
    pipeline.observe(admitted.label, started, resp.body, resp.request_error)
    return resp.body
