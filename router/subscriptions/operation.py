"""Check a subscription request against the API schema and plan it.

The gateway's own document cache, planner and shape compiler do the work:
a subscription is planned exactly like a query whose root is the
Subscription type, so its first fetch is the subgraph's root selection
(plus the keys later entity jumps need) and the rest of the plan completes
each event from the other subgraphs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from graphql import GraphQLError
from graphql.execution.values import get_variable_values

from router.gateway import Gateway, GraphQLRequest
from router.planning.operation import OperationError, select_operation
from router.planning.plan import FetchNode, QueryPlan
from router.planning.planner import PlanError


@dataclass(slots=True)
class Subscription:
    plan: QueryPlan
    #: the fetch the owning subgraph answers over its socket, once per event
    root: FetchNode
    variables: dict[str, Any]


@dataclass(slots=True)
class Refused:
    """The request never reaches a subgraph: these errors go to the client."""

    errors: list[dict[str, Any]]


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


def _graphql_error(e: GraphQLError, code: str) -> dict[str, Any]:
    out: dict[str, Any] = dict(e.formatted)
    out["extensions"] = {**(out.get("extensions") or {}), "code": code}
    return out


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


def prepare(gw: Gateway, request: GraphQLRequest) -> Subscription | Refused:
    if not request.query:
        return Refused([_error("Must provide query string.", "BAD_REQUEST")])
    d = gw.document(request.query)
    if d.doc is None:
        return Refused(d.errors)
    try:
        op = select_operation(d.doc, request.operation_name)
    except OperationError as exc:
        return Refused([_error(str(exc), "BAD_REQUEST")])
    if op.operation.value != "subscription":
        return Refused([_error("Not a subscription operation.", "BAD_REQUEST")])
    raw = request.variables or {}
    variables = dict(raw)
    if op.variable_definitions:
        coerced = get_variable_values(gw.supergraph.api_schema, op.variable_definitions, raw)
        if isinstance(coerced, list):
            return Refused([_graphql_error(e, "BAD_USER_INPUT") for e in coerced])
        # graphql-core 3.3 wraps the values; 3.2 returns the dict itself
        values = cast("dict[str, Any]", getattr(coerced, "coerced", coerced))
        for name, value in values.items():
            variables.setdefault(name, value)
    try:
        plan = gw.plan(d.doc, op, d.conditions, variables, d.normalized, request.operation_name)
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
    return Subscription(plan, roots[0], variables)
