"""Check a subscription request against the API schema and plan it.

The gateway's own document cache, planner and shape compiler do the work:
a subscription is planned exactly like a query whose root is the
Subscription type, so its first fetch is the subgraph's root selection
(plus the keys later entity jumps need) and the rest of the plan completes
each event from the other subgraphs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from router.gateway import Admission, Gateway, GraphQLRequest, GraphQLResponse
from router.planning.operation import OperationError, select_operation
from router.planning.plan import FetchNode, QueryPlan
from router.planning.planner import PlanError


@dataclass(slots=True)
class Subscription:
    plan: QueryPlan
    #: the fetch the owning subgraph answers over its socket, once per event
    root: FetchNode
    variables: dict[str, Any]
    #: fields authorization removed: their errors go with every event
    denied: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class Refused:
    """The request never reaches a subgraph: these errors go to the client."""

    errors: list[dict[str, Any]]


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


def operation_kind(gw: Gateway, request: GraphQLRequest) -> str | None:
    """query, mutation or subscription; None when the request is not valid."""
    if not request.query:
        return None
    d = gw.document(request.query)
    if d.doc is None:
        return None
    try:
        return select_operation(d.doc, request.operation_name).operation.value
    except OperationError:
        return None


def prepare(
    gw: Gateway, request: GraphQLRequest, admission: Admission | None = None
) -> Subscription | Refused:
    """Plan a subscription the gateway's guard admitted (limits and authorization included).

    `admission`: the edge pipeline already ran the guard; else it runs here.
    """
    a = admission or gw.admit(request)
    if isinstance(a, GraphQLResponse):
        return Refused(list(a.body.get("errors", [])))
    if a.kind != "subscription":
        return Refused([_error("Not a subscription operation.", "BAD_REQUEST")])
    try:
        plan = gw.plan_admitted(a, request.operation_name)
    except PlanError as exc:
        return Refused([_error(f"Query planning failed: {exc}", "QUERY_PLANNING_FAILED")])
    roots = [n for n in plan.nodes if not n.is_entity]
    if len(roots) != 1:
        # e.g. a child only another subgraph's root field reaches: that would
        # need a second upstream subscription, which no subgraph can correlate
        return Refused(
            [
                _error(
                    "Query planning failed: a subscription must be served by one subgraph's "
                    "root field plus entity fetches.",
                    "QUERY_PLANNING_FAILED",
                )
            ]
        )
    return Subscription(plan, roots[0], a.variables, [dict(e) for e in a.decision.errors])
