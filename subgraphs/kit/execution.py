"""The kit's graphql-core execution context: leaf fields completed in one step.

Most fields of a nested read are leaves (a scalar or an enum, often
non-null) without arguments: 450 of the board query's 590 fields per
request. graphql-core completes each through `complete_value` for the
non-null wrapper, again for the inner type, then through its list, leaf,
abstract and object tests, and checks the completed value for an awaitable:
eight calls that decide what is known once per (type, field). Here that is
decided once, and a plain leaf is resolved, null-checked and coerced
directly, with graphql-core's own coercion and its own error handling and
messages, so answers and errors are the same.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    is_leaf_type,
)
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, Undefined

from subgraphs.kit.event_sharing import SharedEventExecution

#: (parent type, field name) -> how to complete it: (field, resolve, leaf type,
#: non-null, the attribute a plain field reads), or None where graphql-core's
#: general path is needed.
_Plan = tuple[Any, Any, GraphQLLeafType, bool, str | None] | None
_PLANS = "_kit_leaf_plans"

#: Set on the kit's resolver of a plain field (`schema.attribute_resolver`): the
#: attribute it reads, so a leaf's value is read without building a resolve info.
ATTRIBUTE = "_kit_attribute"


def _plans(schema: GraphQLSchema) -> dict[tuple[GraphQLObjectType, str], _Plan]:
    plans: dict[tuple[GraphQLObjectType, str], _Plan] | None = getattr(schema, _PLANS, None)
    if plans is None:
        plans = {}
        setattr(schema, _PLANS, plans)
    return plans


def _plan(schema: GraphQLSchema, parent_type: GraphQLObjectType, name: str) -> _Plan:
    field = schema.get_field(parent_type, name)
    if field is None or field.args or field.resolve is None:
        return None
    return_type = field.type
    non_null = isinstance(return_type, GraphQLNonNull)
    inner = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
    if not is_leaf_type(inner):
        return None
    return field, field.resolve, inner, non_null, getattr(field.resolve, ATTRIBUTE, None)


class KitExecution(SharedEventExecution):
    """graphql-core's executor with the argument-less leaf field done in one step."""

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        first = field_details_list[0]
        node = first.node
        middleware = self.middleware_manager
        if node.arguments or (middleware is not None and middleware.middlewares):
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        plans = _plans(self.schema)
        key = (parent_type, node.name.value)
        try:
            plan = plans[key]
        except KeyError:
            plan = plans[key] = _plan(self.schema, parent_type, node.name.value)
        if plan is None:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        field, resolve, leaf_type, non_null, attribute = plan
        try:
            if attribute is not None:  # a plain field: no resolver reads an info
                value = getattr(source, attribute)
            else:
                info = self.build_resolve_info(
                    field, to_nodes(field_details_list), parent_type, path
                )
                value = resolve(source, info)
                if self.is_awaitable(value):
                    return self.complete_awaitable_value(
                        field.type, field_details_list, info, path, value, position_context
                    )
            if isinstance(value, Exception):
                raise value
            if value is None or value is Undefined:
                if non_null:
                    raise TypeError(  # graphql-core's message, word for word
                        "Cannot return null for non-nullable field"
                        f" {parent_type.name}.{node.name.value}."
                    )
                return None
            return self.complete_leaf_value(leaf_type, value)
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.type, field_details_list, path)
            return None
