"""The pipeline behind every transport: parse, validate, plan, execute, shape.

Server, guard, subscriptions and metrics wrap `Gateway.execute`; none of
them needs to know how planning works.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    execute,
    parse,
    print_ast,
    validate,
)
from graphql.execution.values import get_variable_values

from router.config import Config
from router.execution.executor import Executor
from router.execution.fetcher import Fetcher
from router.execution.shaping import ShapeCompiler, Shaper
from router.planning.cache import LRU
from router.planning.operation import (
    OperationError,
    condition_variables,
    select_operation,
    to_items,
)
from router.planning.plan import QueryPlan
from router.planning.planner import PlanError, Planner
from router.supergraph.model import Supergraph


@dataclass(slots=True)
class GraphQLRequest:
    query: str | None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class GraphQLResponse:
    body: dict[str, Any]
    #: the request never reached execution (parse, validation, variables)
    request_error: bool = False
    operation_kind: str | None = None


@dataclass(slots=True)
class _Document:
    doc: DocumentNode | None
    errors: list[dict[str, Any]]
    conditions: list[str]
    #: printed document: spelling variants of one operation share a plan
    normalized: str = ""


def _error(message: str, code: str | None = None) -> dict[str, Any]:
    e: dict[str, Any] = {"message": message}
    if code:
        e["extensions"] = {"code": code}
    return e


def _graphql_error(e: GraphQLError, code: str) -> dict[str, Any]:
    out = e.formatted
    out.setdefault("extensions", {})["code"] = code
    return dict(out)


class Gateway:
    def __init__(
        self, supergraph: Supergraph, config: Config | None = None, fetcher: Fetcher | None = None
    ) -> None:
        self.config = config or Config()
        self.fetcher = fetcher or Fetcher(
            self.config.subgraph_timeout, self.config.subgraph_timeouts
        )
        self.load(supergraph)

    def load(self, supergraph: Supergraph) -> None:
        """Swap in a new supergraph; requests already running keep the old one."""
        self.supergraph = supergraph
        self.planner = Planner(supergraph)
        self.executor = Executor(self.fetcher, frozenset(supergraph.possible))
        self.documents: LRU[str, _Document] = LRU(self.config.plan_cache_size)
        self.plans: LRU[tuple[str, str | None, tuple[bool, ...]], QueryPlan] = LRU(
            self.config.plan_cache_size
        )

    async def close(self) -> None:
        await self.fetcher.close()

    def document(self, query: str) -> _Document:
        cached = self.documents.get(query)
        if cached is not None:
            return cached
        try:
            doc = parse(query)
        except GraphQLError as exc:
            result = _Document(None, [_graphql_error(exc, "GRAPHQL_PARSE_FAILED")], [])
        else:
            errs = validate(self.supergraph.api_schema, doc)
            if not self.config.introspection:
                errs += _introspection_errors(doc)
            result = _Document(
                None if errs else doc,
                [_graphql_error(e, "GRAPHQL_VALIDATION_FAILED") for e in errs],
                condition_variables(doc),
                "" if errs else print_ast(doc),
            )
        self.documents.put(query, result)
        return result

    def plan(
        self,
        doc: DocumentNode,
        op: OperationDefinitionNode,
        conditions: list[str],
        variables: dict[str, Any],
        query: str,
        operation_name: str | None,
    ) -> QueryPlan:
        key = (query, operation_name, tuple(bool(variables.get(v)) for v in conditions))
        plan = self.plans.get(key)
        if plan is None:
            frags = _fragments(doc)
            items = to_items(op.selection_set, frags, variables) or []
            plan = self.planner.plan(op, items)
            plan.conditions = {v: bool(variables.get(v)) for v in conditions}
            root = self.supergraph.api_schema.get_root_type(op.operation)
            if root is None:
                raise PlanError(f"the schema has no {op.operation.value} type")
            plan.shape = ShapeCompiler(self.supergraph.api_schema, frags, variables).root(
                root, op.selection_set
            )
            self.plans.put(key, plan)
        return plan

    async def execute(self, request: GraphQLRequest) -> GraphQLResponse:
        if not request.query:
            return GraphQLResponse({"errors": [_error("Must provide query string.")]}, True)
        d = self.document(request.query)
        if d.doc is None:
            return GraphQLResponse({"errors": d.errors}, True)
        try:
            op = select_operation(d.doc, request.operation_name)
        except OperationError as exc:
            return GraphQLResponse({"errors": [_error(str(exc))]}, True)
        kind = op.operation.value
        if kind == "subscription":
            return GraphQLResponse(
                {"errors": [_error("Subscriptions need a WebSocket or SSE transport.")]}, True, kind
            )
        raw_vars = request.variables or {}
        variables = dict(raw_vars)
        if op.variable_definitions:
            coerced = get_variable_values(
                self.supergraph.api_schema, op.variable_definitions, raw_vars
            )
            if isinstance(coerced, list):
                return GraphQLResponse(
                    {"errors": [_graphql_error(e, "BAD_USER_INPUT") for e in coerced]}, True, kind
                )
            # graphql-core 3.3 wraps the values; 3.2 returns the dict itself
            values = cast("dict[str, Any]", getattr(coerced, "coerced", coerced))
            for name, value in values.items():
                variables.setdefault(name, value)
        try:
            plan = self.plan(
                d.doc, op, d.conditions, variables, d.normalized, request.operation_name
            )
        except PlanError as exc:
            return GraphQLResponse(
                {
                    "data": None,
                    "errors": [_error(f"Query planning failed: {exc}", "QUERY_PLANNING_FAILED")],
                },
                False,
                kind,
            )
        data, errors = await self.executor.run(plan, variables, _forwarded(request.headers))
        if plan.introspection:
            self._introspect(d.doc, op, variables, data, errors)
        shaped = Shaper(errors).shape_root(plan.shape, data)
        body: dict[str, Any] = {"data": shaped}
        if errors:
            body["errors"] = errors
        return GraphQLResponse(body, False, kind)

    def _introspect(
        self,
        doc: DocumentNode,
        op: OperationDefinitionNode,
        variables: dict[str, Any],
        data: dict[str, Any],
        errors: list[dict[str, Any]],
    ) -> None:
        """Answer __schema/__type from the API schema; subgraphs never see them."""
        from dataclasses import replace

        sels = tuple(
            s
            for s in op.selection_set.selections
            if isinstance(s, FieldNode) and s.name.value in ("__schema", "__type")
        )
        only = replace(op, selection_set=replace(op.selection_set, selections=sels))
        defs = [only, *(x for x in doc.definitions if isinstance(x, FragmentDefinitionNode))]
        res = execute(
            self.supergraph.api_schema,
            DocumentNode(definitions=tuple(defs)),
            variable_values=variables,
        )
        if res.data:  # type: ignore[union-attr]
            data.update(res.data)  # type: ignore[union-attr]
        for e in res.errors or ():  # type: ignore[union-attr]
            errors.append(dict(e.formatted))


def _fragments(doc: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}


def _introspection_errors(doc: DocumentNode) -> list[GraphQLError]:
    for d in doc.definitions:
        if isinstance(d, OperationDefinitionNode):
            for s in d.selection_set.selections:
                if isinstance(s, FieldNode) and s.name.value in ("__schema", "__type"):
                    return [GraphQLError("Introspection is disabled.")]
    return []


_FORWARD = ("authorization",)


def _forwarded(headers: dict[str, str]) -> dict[str, str] | None:
    out = {k: v for k, v in headers.items() if k.lower() in _FORWARD}
    return out or None
