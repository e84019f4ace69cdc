"""The pipeline behind every transport: parse, validate, plan, execute, shape.

Server, guard, subscriptions and metrics wrap `Gateway.execute`; none of
them needs to know how planning works. The guard steps that depend on the
operation (limits, then authorization) run here, after validation and
before planning, so every transport gets them and a refused or trimmed
operation never reaches a subgraph with what it may not ask.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, cast

from graphql import (
    SKIP,
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VisitorAction,
    parse,
    print_ast,
    specified_rules,
    validate,
)
from graphql.execution import experimental_execute_incrementally
from graphql.execution.values import get_variable_values
from graphql.pyutils import print_path_list
from graphql.type import GraphQLInputType
from graphql.utilities.validate_input_value import validate_input_literal
from graphql.validation import ASTValidationRule, ValuesOfCorrectTypeRule

from protocol.scalars import INPUT_RULES
from protocol.viewer import ANONYMOUS, Viewer
from router.config import Config
from router.execution.executor import Executor
from router.execution.fetcher import Fetcher, fetch_resilience
from router.execution.shaping import ShapeCompiler, Shaper
from router.guard.auth import AuthDecision, AuthIndex, authorize_operation
from router.guard.cost import actual_cost
from router.guard.limits import check_limits, measure
from router.planning.cache import LRU
from router.planning.operation import (
    OperationError,
    condition_variables,
    select_operation,
    to_items,
)
from router.planning.plan import QueryPlan
from router.planning.planner import PlanError, Planner
from router.supergraph.api_schema import check_scalar_inputs
from router.supergraph.model import Supergraph

log = logging.getLogger("router")


@dataclass(slots=True)
class GraphQLRequest:
    query: str | None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: the verified caller (None: anonymous); transports authenticate, the gateway authorizes
    viewer: Viewer | None = None
    #: `X-Forwarded-For` for the subgraphs: the incoming value with the peer
    #: appended (`router/server/forwarded.py`); None: not sent
    forwarded_for: str | None = None


@dataclass(slots=True)
class GraphQLResponse:
    body: dict[str, Any]
    #: the request never reached execution (parse, validation, variables)
    request_error: bool = False
    operation_kind: str | None = None


@dataclass(slots=True)
class Admission:
    """An operation the guard let through, ready to plan."""

    doc: DocumentNode
    op: OperationDefinitionNode
    conditions: list[str]
    normalized: str
    #: the client's variables with defaults applied
    variables: dict[str, Any]
    decision: AuthDecision
    #: the operation minus what the caller may not see, when authorization trimmed it
    allowed: tuple[DocumentNode, OperationDefinitionNode] | None

    @property
    def kind(self) -> str:
        return self.op.operation.value


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


class ArgumentValuesRule(ValuesOfCorrectTypeRule):
    """Literals of the right type; a bad argument literal names its argument.

    The message is the one execution (or a subgraph) would give,
    `Argument 'input' has invalid value at .vehicles[0].cost: ...`, as a bad
    variable gets `Variable '$input' has invalid value at ...`; the location
    is the literal in the client's document, and the code `BAD_USER_INPUT`,
    like the variable's. Other literals (variable defaults) are checked as
    graphql-core does.
    """

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.argument: str | None = None

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        self.argument = node.name.value

    def leave_argument(self, node: ArgumentNode, *_args: Any) -> None:
        self.argument = None

    def is_valid_value_node(
        self, node: ValueNode, input_type: GraphQLInputType | None
    ) -> VisitorAction:
        argument = self.argument
        if argument is None or input_type is None:
            return super().is_valid_value_node(node, input_type)

        def on_error(error: GraphQLError, path: list[str | int]) -> None:
            self.report_error(
                GraphQLError(
                    f"Argument '{argument}' has invalid value{print_path_list(path)}: "
                    f"{error.message}",
                    error.nodes,
                    original_error=error.original_error,
                    extensions={"code": "BAD_USER_INPUT"},
                )
            )

        validate_input_literal(
            node, input_type, on_error, None, None, self.context.hide_suggestions
        )
        return SKIP


#: graphql-core's rules, with argument literals checked by `ArgumentValuesRule`
VALIDATION_RULES: tuple[type[ASTValidationRule], ...] = tuple(
    ArgumentValuesRule if rule is ValuesOfCorrectTypeRule else rule for rule in specified_rules
)


class Gateway:
    def __init__(
        self, supergraph: Supergraph, config: Config | None = None, fetcher: Fetcher | None = None
    ) -> None:
        self.config = config or Config()
        self.fetcher = fetcher or Fetcher(
            self.config.subgraph_timeout,
            self.config.subgraph_timeouts,
            signing_secret=self.config.signing_secret,
            **fetch_resilience(self.config),
        )
        self.propagate = frozenset(("authorization", *self.config.propagate_headers))
        self.load(supergraph)

    def load(self, supergraph: Supergraph) -> None:
        """Swap in a new supergraph; requests already running keep the old one."""
        _override_urls(supergraph, self.config.subgraph_urls)
        # the kit's scalars (Money, DateTime, Date): bad inputs refused here, in
        # the client's terms, not by the subgraph about its own document
        check_scalar_inputs(supergraph.api_schema, INPUT_RULES)
        self.supergraph = supergraph
        self.auth_index = AuthIndex.build(supergraph.sdl, supergraph.api_schema)
        self.planner = Planner(supergraph)
        self.executor = Executor(self.fetcher, frozenset(supergraph.possible))
        self.documents: LRU[str, _Document] = LRU(self.config.plan_cache_size)
        self.plans: LRU[tuple[str, str | None, tuple[bool, ...], tuple[str, ...]], QueryPlan] = LRU(
            self.config.plan_cache_size
        )
        self.auth_decisions: LRU[
            tuple[str, str | None, bool, frozenset[str], tuple[bool, ...]], AuthDecision
        ] = LRU(self.config.plan_cache_size)
        #: limit checks of operations without variables (their measure never changes)
        self.limit_checks: LRU[tuple[str, str | None], list[dict[str, Any]]] = LRU(
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
            coded = [
                (e, (e.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED"))
                for e in validate(self.supergraph.api_schema, doc, VALIDATION_RULES)
            ]
            if not coded and not self.config.introspection:
                coded = [(e, "INTROSPECTION_DISABLED") for e in _introspection_errors(doc)]
            result = _Document(
                None if coded else doc,
                [_graphql_error(e, code) for e, code in coded],
                condition_variables(doc),
                "" if coded else print_ast(doc),
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
        allowed: tuple[DocumentNode, OperationDefinitionNode] | None = None,
        allowed_key: tuple[str, ...] = (),
    ) -> QueryPlan:
        """Plan `allowed` (the operation minus what the caller may not see) if given.

        The response is still shaped by the client's own operation, so removed
        fields come back as null; `allowed_key` tells trimmed plans apart.
        """
        key = (
            query,
            operation_name,
            tuple(bool(variables.get(v)) for v in conditions),
            allowed_key,
        )
        plan = self.plans.get(key)
        if plan is None:
            frags = _fragments(doc)
            pdoc, pop = allowed or (doc, op)
            items = to_items(pop.selection_set, _fragments(pdoc), variables) or []
            plan = self.planner.plan(pop, items)
            plan.conditions = {v: bool(variables.get(v)) for v in conditions}
            root = self.supergraph.api_schema.get_root_type(op.operation)
            if root is None:
                raise PlanError(f"the schema has no {op.operation.value} type")
            plan.shape = ShapeCompiler(self.supergraph.api_schema, frags, variables).root(
                root, op.selection_set
            )
            self.plans.put(key, plan)
        return plan

    def admit(self, request: GraphQLRequest) -> Admission | GraphQLResponse:
        """The operation-level guard every transport runs before anything is fetched.

        Parse and validate (cached), select the operation, coerce variables,
        limits, then authorization. Queries, mutations and subscriptions all
        pass here, whichever transport carried them, so a refusal is the same
        refusal everywhere; a `GraphQLResponse` is that refusal.
        """
        if not request.query:
            return GraphQLResponse(
                {"errors": [_error("Must provide query string.", "BAD_REQUEST")]}, True
            )
        d = self.document(request.query)
        if d.doc is None:
            return GraphQLResponse({"errors": d.errors}, True)
        try:
            op = select_operation(d.doc, request.operation_name)
        except OperationError as exc:
            return GraphQLResponse({"errors": [_error(str(exc), "BAD_REQUEST")]}, True)
        kind = op.operation.value
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
        refusal = self._check_limits(d, op, request.operation_name, variables)
        if refusal:
            return GraphQLResponse({"errors": refusal}, True, kind)
        decision = self._authorize(d, request.operation_name, variables, request.viewer)
        allowed = None
        if decision.changed:
            try:
                allowed = (
                    decision.document,
                    select_operation(decision.document, request.operation_name),
                )
            except OperationError as exc:  # cannot happen: names are kept
                return GraphQLResponse({"errors": [_error(str(exc), "BAD_REQUEST")]}, True, kind)
        return Admission(d.doc, op, d.conditions, d.normalized, variables, decision, allowed)

    def plan_admitted(self, a: Admission, operation_name: str | None) -> QueryPlan:
        return self.plan(
            a.doc,
            a.op,
            a.conditions,
            a.variables,
            a.normalized,
            operation_name,
            a.allowed,
            a.decision.cache_key,
        )

    async def execute(
        self, request: GraphQLRequest, admission: Admission | None = None
    ) -> GraphQLResponse:
        """Run a query or mutation; `admission`: the guard already passed (edge pipeline)."""
        admitted = admission or self.admit(request)
        if isinstance(admitted, GraphQLResponse):
            return admitted
        kind = admitted.kind
        if kind == "subscription":
            return GraphQLResponse(
                {
                    "errors": [
                        _error("Subscriptions need a WebSocket or SSE transport.", "BAD_REQUEST")
                    ]
                },
                True,
                kind,
            )
        try:
            plan = self.plan_admitted(admitted, request.operation_name)
        except PlanError as exc:
            return GraphQLResponse(
                {
                    "data": None,
                    "errors": [_error(f"Query planning failed: {exc}", "QUERY_PLANNING_FAILED")],
                },
                False,
                kind,
            )
        variables = admitted.variables
        data, errors = await self.executor.run(plan, variables, self.forwarded_headers(request))
        if plan.introspection:
            self._introspect(admitted.doc, admitted.op, variables, data, errors)
        if admitted.decision.errors:
            # the decision is cached: copies
            errors[:0] = [dict(e) for e in admitted.decision.errors]
        shaped = Shaper(errors).shape_root(plan.shape, data)
        body: dict[str, Any] = {"data": shaped}
        if errors:
            body["errors"] = errors
        if self.config.cost_in_extensions or (
            request.extensions and request.extensions.get("cost")
        ):
            body.setdefault("extensions", {})["cost"] = self.cost_report(
                admitted, request.operation_name, shaped
            )
        return GraphQLResponse(body, False, kind)

    def cost_report(self, a: Admission, operation_name: str | None, data: Any) -> dict[str, int]:
        """`extensions.cost`: the estimate the operation was admitted on, and what it returned."""
        schema = self.supergraph.api_schema
        costs = self.supergraph.costs
        m = measure(a.doc, operation_name, schema, a.variables, self.config.limits, costs)
        return {
            "estimated": m.cost if m is not None else 0,
            "actual": actual_cost(a.doc, a.op, schema, costs, data, a.variables),
        }

    def _check_limits(
        self,
        d: _Document,
        op: OperationDefinitionNode,
        operation_name: str | None,
        variables: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Limit errors for this operation; memoised when no variable can change them."""
        if d.doc is None:
            return []
        if op.variable_definitions:
            return check_limits(
                d.doc,
                operation_name,
                self.supergraph.api_schema,
                variables,
                self.config.limits,
                self.supergraph.costs,
            )
        key = (d.normalized, operation_name)
        cached = self.limit_checks.get(key)
        if cached is None:
            cached = check_limits(
                d.doc,
                operation_name,
                self.supergraph.api_schema,
                None,
                self.config.limits,
                self.supergraph.costs,
            )
            self.limit_checks.put(key, cached)
        return cached

    def _authorize(
        self,
        d: _Document,
        operation_name: str | None,
        variables: dict[str, Any],
        viewer: Viewer | None,
    ) -> AuthDecision:
        """What the viewer may run; memoised per operation and kind of viewer.

        The result depends on the document, whether the viewer is signed in,
        their scopes and (for the reported paths) the @skip/@include values.
        """
        assert d.doc is not None  # noqa: S101 - callers pass validated documents
        viewer = viewer or ANONYMOUS
        if self.auth_index.empty:
            return AuthDecision(d.doc)
        key = (
            d.normalized,
            operation_name,
            viewer.is_authenticated,
            viewer.scopes,
            tuple(bool(variables.get(v)) for v in d.conditions),
        )
        cached = self.auth_decisions.get(key)
        if cached is None:
            cached = authorize_operation(self.auth_index, d.doc, operation_name, variables, viewer)
            self.auth_decisions.put(key, cached)
        return cached

    def forwarded_headers(self, request: GraphQLRequest) -> dict[str, str] | None:
        """Authorization and the configured headers as the client sent them, and the caller.

        `X-Forwarded-For` is always the transport's value (the peer appended),
        even when it is also listed among the propagated headers.
        """
        out = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in self.propagate and k.lower() != "x-forwarded-for"
        }
        if request.forwarded_for:
            out["x-forwarded-for"] = request.forwarded_for
        return out or None

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
        # the API schema defines @defer (the router delivers it), which graphql-core's
        # plain `execute` refuses; an introspection answer is never incremental
        res = experimental_execute_incrementally(
            self.supergraph.api_schema,
            DocumentNode(definitions=tuple(defs)),
            variable_values=variables,
        )
        res = getattr(res, "initial_result", res)
        if res.data:  # type: ignore[union-attr]
            data.update(res.data)  # type: ignore[union-attr]
        for e in res.errors or ():  # type: ignore[union-attr]
            errors.append(dict(e.formatted))


def _fragments(doc: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}


def _introspection_errors(doc: DocumentNode) -> list[GraphQLError]:
    """Refuse `__schema`/`__type` at the root, also through fragments; `__typename` is fine."""
    frags = _fragments(doc)
    seen: set[str] = set()

    def found(sel: SelectionSetNode) -> bool:
        for s in sel.selections:
            if isinstance(s, FieldNode):
                if s.name.value in ("__schema", "__type"):
                    return True
            elif isinstance(s, InlineFragmentNode):
                if found(s.selection_set):
                    return True
            elif isinstance(s, FragmentSpreadNode) and s.name.value not in seen:
                seen.add(s.name.value)
                f = frags.get(s.name.value)
                if f is not None and found(f.selection_set):
                    return True
        return False

    for d in doc.definitions:
        if isinstance(d, OperationDefinitionNode) and found(d.selection_set):
            return [GraphQLError("Introspection is disabled.")]
    return []


def _override_urls(supergraph: Supergraph, urls: dict[str, str]) -> None:
    """Point subgraphs at the configured URLs (hosts differ between deployments)."""
    for name, url in urls.items():
        sub = next(
            (
                s
                for s in supergraph.subgraphs.values()
                if name in (s.name, s.id) or name.lower() == s.id.lower()
            ),
            None,
        )
        if sub is None:
            log.warning("ROUTER_SUBGRAPH_URLS names %r, which the supergraph lacks", name)
        else:
            sub.url = url
