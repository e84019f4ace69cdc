"""The kit's GraphQL view, counting each operation it executes (see kit/metrics.py).

Apart from kit/metrics.py because it extends the view, which depends on the
request context and so on the loaders; the loaders report to kit/metrics.py.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from cross_web import HTTPException  # what Strawberry's views raise (its HTTP layer)

from subgraphs.kit import metrics
from subgraphs.kit.graphql_http import SubgraphGraphQL

if TYPE_CHECKING:
    from strawberry.http import GraphQLRequestData
    from strawberry.schema.base import BaseSchema
    from strawberry.types.execution import ExecutionResult


def outcome(result: ExecutionResult) -> str:
    """'success', 'partial' (data and errors) or 'error' (no data), as the router counts."""
    if not result.errors:
        return "success"
    return "error" if result.data is None else "partial"


class MeteredGraphQL(SubgraphGraphQL):
    """`SubgraphGraphQL`, plus a count, a duration and the error codes of each operation.

    `execute_single` runs once per operation (each of a batch too): the
    place where the operation's name, its result and its time are all at
    hand. Subscriptions stream elsewhere and are not counted here.
    """

    def __init__(self, schema: BaseSchema, *, graphiql: bool, subgraph: str) -> None:
        super().__init__(schema, graphiql=graphiql)
        self.subgraph = subgraph

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        started = time.perf_counter()
        operation = metrics.operation_label(request_data.operation_name, request_data.query)
        try:
            result = await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException:  # no query, or a mutation over GET: nothing ran
            metrics.observe_operation(self.subgraph, operation, None, "error", ("BAD_REQUEST",))
            raise
        metrics.observe_operation(
            self.subgraph,
            operation,
            time.perf_counter() - started,
            outcome(result),
            ((e.extensions or {}).get("code") for e in result.errors or ()),
        )
        return result
