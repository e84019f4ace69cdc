"""The kit's graphql-core execution context: the common field completed in one step.

Most fields of a nested read are argument-less leaves read from their
object, and most of the rest are objects and lists of objects: of the board
query's ~590 fields per request, 450 are leaves and 550 are objects in
lists. graphql-core completes each through `complete_value` for the
non-null wrapper, again for the inner type, then through its list, leaf,
abstract and object tests, collects the object's subfields from a memo, and
checks every completed value for an awaitable: calls that decide, per value,
what is known once per (type, field). Here that is decided once
(`FieldPlan`), and:

- a leaf whose resolver reads only its object (`READS`, after a synchronous
  `GUARD` where a field policy governs it) is read, null-checked and coerced
  without a resolve info or a response path, which are built only when it
  fails;
- an object, or a list of objects, is completed by executing its subfields
  directly, item after item.

Everything else (arguments, abstract types, @defer/@stream, middleware,
awaitable values and items, a type with `is_type_of`) takes graphql-core's
general path. The same coercion, error handling and messages are used, so
answers, errors, their paths and null propagation are graphql-core's
(`tests/kit/test_leaf_execution.py` runs both and compares).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    is_leaf_type,
)
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, Undefined, gather_with_cancel

from subgraphs.kit.compiled_selections import Completer, ShapeCache, ShapeField
from subgraphs.kit.event_sharing import SharedEventExecution

#: Set on a synchronous resolver that needs nothing but its object:
#: `reads(source)` is the field's value (never an awaitable), or `UNREAD`, so
#: it is read without a resolve info.
READS = "_kit_reads"
_F = TypeVar("_F", bound=Callable[..., Any])
#: Set beside `READS` where a rule governs the field (charters' field policy):
#: `guard(source, context)` is True when the reader may read it, raises the
#: refusal when not, and is False when only the resolver can tell (it awaits).
GUARD = "_kit_guard"

#: What a `READS` function returns when only the resolver can answer (a child
#: that was not preloaded, say): the resolver is then called as usual.
UNREAD: Final = object()

_PLANS = "_kit_field_plans"
_SHAPES = "_kit_selection_shapes"

#: graphql-core's built-in scalars whose coercion returns a value of this class as it
#: is (an Int only within 32 bits): such a value needs no call to be coerced.
_UNCHANGED: dict[Any, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
    GraphQLInt: int,
}
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def reads_first(reads: Callable[[Any], Any]) -> Callable[[_F], _F]:
    """Mark a resolver: `reads(source)` answers it without a resolve info, or is UNREAD."""

    def mark(resolver: _F) -> _F:
        setattr(resolver, READS, reads)
        return resolver

    return mark


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """How to complete one (object type, field), decided once per schema."""

    field: GraphQLField
    reads: Callable[[Any], Any] | None
    guard: Callable[[Any, Any], bool] | None
    non_null: bool
    #: set for a leaf field (scalar or enum)
    leaf: GraphQLLeafType | None
    #: set for an object field, or a list of objects (`in_list`)
    object_type: GraphQLObjectType | None
    in_list: bool
    item_non_null: bool
    #: the list's item type as the schema has it (for graphql-core's error handling)
    item_type: Any
    #: "Cannot return null for non-nullable field Parent.field.", graphql-core's words
    null_message: str
    #: the value class the leaf's coercion returns as it is (`_UNCHANGED`), or None
    unchanged: type | None = None


def _unwrap(graphql_type: Any) -> tuple[bool, Any]:
    if isinstance(graphql_type, GraphQLNonNull):
        return True, graphql_type.of_type
    return False, graphql_type


def _make_plan(
    schema: GraphQLSchema, parent_type: GraphQLObjectType, name: str
) -> FieldPlan | None:
    field = schema.get_field(parent_type, name)
    if field is None or field.args or field.resolve is None:
        return None
    non_null, inner = _unwrap(field.type)
    leaf = object_type = item_type = None
    in_list = item_non_null = False
    if is_leaf_type(inner):
        leaf = inner
    elif isinstance(inner, GraphQLObjectType):
        object_type = inner
    elif isinstance(inner, GraphQLList):
        item_type = inner.of_type
        item_non_null, item = _unwrap(item_type)
        if not isinstance(item, GraphQLObjectType):
            return None
        object_type, in_list = item, True
    else:
        return None
    if object_type is not None and object_type.is_type_of is not None:
        return None
    reads = getattr(field.resolve, READS, None)
    return FieldPlan(
        field=field,
        reads=reads,
        guard=getattr(field.resolve, GUARD, None) if reads is not None else None,
        non_null=non_null,
        leaf=leaf,
        object_type=object_type,
        in_list=in_list,
        item_non_null=item_non_null,
        item_type=item_type,
        null_message=f"Cannot return null for non-nullable field {parent_type.name}.{name}.",
        unchanged=_UNCHANGED.get(leaf) if leaf is not None else None,
    )


def field_plan(
    schema: GraphQLSchema, parent_type: GraphQLObjectType, name: str
) -> FieldPlan | None:
    """The schema's plan for a field (None: graphql-core's general path), made on first use."""
    plans: dict[tuple[GraphQLObjectType, str], FieldPlan | None] | None = getattr(
        schema, _PLANS, None
    )
    if plans is None:
        plans = {}
        setattr(schema, _PLANS, plans)
    key = (parent_type, name)
    try:
        return plans[key]
    except KeyError:
        plan = plans[key] = _make_plan(schema, parent_type, name)
        return plan


#: One field of a selection: response name, graphql-core's field details, plan
_Entry = tuple[str, Any, FieldPlan | None]
#: A selection's shape key and its generated completer
_Fast = tuple[Any, Completer]
_UNDECIDED: Final = object()


class _Selection:
    """One collected selection of an execution: its planned fields, its completer once decided."""

    __slots__ = ("entries", "fast", "grouped_field_set")

    def __init__(self, grouped_field_set: Any, entries: list[_Entry]) -> None:
        self.grouped_field_set = grouped_field_set
        self.entries = entries
        self.fast: _Fast | object | None = _UNDECIDED


#: What a completed (never awaitable) field value is, most of the time: no need to ask
_COMPLETED = frozenset({dict, list, str, int, float, bool, type(None)})


class KitExecution(SharedEventExecution):
    """graphql-core's executor with the common field done in one step."""

    _kit_selections: dict[int, _Selection] | None = None
    _kit_general: bool | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._kit_selections = None  # as the other memos: one execution's own
        return executor

    def _selection(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> _Selection:
        """What the kit knows of one collected selection, made once per execution.

        graphql-core collects a selection once per execution and hands the
        same grouped field set to every object it applies to; the set is
        kept beside what was learnt of it so its id cannot be reused meanwhile.
        """
        memo = self._kit_selections
        if memo is None:
            memo = self._kit_selections = {}
        known = memo.get(id(grouped_field_set))
        if known is not None:
            return known
        schema = self.schema
        entries: list[_Entry] = []
        for response_name, details in grouped_field_set.items():
            node = details[0].node
            plan = None
            if not node.arguments and not node.directives:
                plan = field_plan(schema, parent_type, node.name.value)
            entries.append((response_name, details, plan))
        known = memo[id(grouped_field_set)] = _Selection(grouped_field_set, entries)
        return known

    def _entries(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[_Entry]:
        """The plans of one collected selection's fields."""
        return self._selection(parent_type, grouped_field_set).entries

    def _fast(self, object_type: GraphQLObjectType, grouped_field_set: Any) -> _Fast | None:
        """The generated completer of a selection of plain reads (`kit/compiled_selections`).

        None when a field of it, however deep, needs more than its `READS`:
        decided once per execution and collected selection, compiled once per shape.
        """
        selection = self._selection(object_type, grouped_field_set)
        if selection.fast is _UNDECIDED:
            selection.fast = self._make_fast(object_type, selection.entries)
        return selection.fast  # type: ignore[return-value]

    def _make_fast(self, object_type: GraphQLObjectType, entries: list[_Entry]) -> _Fast | None:
        fields: list[ShapeField] = []
        key: list[tuple[str, str, Any]] = []
        for response_name, details, plan in entries:
            node = details[0].node
            name = node.name.value
            if name == "__typename" and not node.directives:
                fields.append(ShapeField(response_name, typename=object_type.name))
                key.append((response_name, name, None))
                continue
            if plan is None or plan.reads is None:
                return None
            if plan.leaf is not None:
                fields.append(ShapeField(response_name, plan))
                key.append((response_name, name, None))
                continue
            child_type: GraphQLObjectType = plan.object_type  # type: ignore[assignment]
            grouped, new_defer_usages, _ = self.collect_subfields(child_type, details)
            if new_defer_usages:
                return None
            child = self._fast(child_type, grouped)
            if child is None:
                return None
            fields.append(ShapeField(response_name, plan, completer=child[1]))
            key.append((response_name, name, child[0]))
        shape = (object_type.name, tuple(key))
        cache: ShapeCache | None = getattr(self.schema, _SHAPES, None)
        if cache is None:
            cache = ShapeCache()
            setattr(self.schema, _SHAPES, cache)
        return shape, cache.get(shape, object_type.name, fields, UNREAD)

    def _general(self) -> bool:
        """Whether middleware wraps resolvers: then every field takes graphql-core's path."""
        general = self._kit_general
        if general is None:
            middleware = self.middleware_manager
            general = self._kit_general = middleware is not None and bool(middleware.middlewares)
        return general

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if position_context is not None or self._general():
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        return self._execute_entries(
            parent_type, source_value, path, self._entries(parent_type, grouped_field_set)
        )

    def _execute_entries(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        entries: list[_Entry],
    ) -> Any:
        """graphql-core's `execute_fields` over planned entries (no defer, no middleware)."""
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        is_awaitable = self.is_awaitable
        context = self.context_value
        value: Any
        try:
            for response_name, details, plan in entries:
                if plan is not None and plan.leaf is not None and plan.reads is not None:
                    guard = plan.guard
                    try:
                        if guard is None or guard(source_value, context):
                            value = plan.reads(source_value)
                            if value is None or value is Undefined:
                                if plan.non_null:
                                    raise TypeError(plan.null_message)
                                results[response_name] = None
                                continue
                            if value is not UNREAD:
                                if isinstance(value, Exception):
                                    raise value
                                if value.__class__ is plan.unchanged and (
                                    plan.unchanged is not int or _INT_MIN <= value <= _INT_MAX  # type: ignore[operator]
                                ):
                                    results[response_name] = value  # what coercion returns
                                else:
                                    results[response_name] = self.complete_leaf_value(
                                        plan.leaf, value
                                    )
                                continue
                    except Exception as raw_error:
                        self.handle_field_error(
                            raw_error,
                            plan.field.type,
                            details,
                            Path(path, response_name, parent_type.name),
                        )
                        results[response_name] = None
                        continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    details,
                    Path(path, response_name, parent_type.name),
                    None,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if result.__class__ not in _COMPLETED and is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._await_fields(results, awaitable_fields)

    async def _await_fields(
        self, results: dict[str, Any], awaitable_fields: list[str]
    ) -> dict[str, Any]:
        """graphql-core's `get_results`: the awaitable fields awaited together."""
        if len(awaitable_fields) == 1:
            name = awaitable_fields[0]
            results[name] = await results[name]
            return results
        awaited = await gather_with_cancel(*(results[name] for name in awaitable_fields))
        results.update(zip(awaitable_fields, awaited, strict=True))
        return results

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        plan = None
        if position_context is None and not self._general():
            node = field_details_list[0].node
            if not node.arguments and not node.directives:
                plan = field_plan(self.schema, parent_type, node.name.value)
        if plan is None:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        field = plan.field
        try:
            info = None
            value = UNREAD
            guard = plan.guard
            if plan.reads is not None and (guard is None or guard(source, self.context_value)):
                value = plan.reads(source)
            if value is UNREAD:
                info = self.build_resolve_info(
                    field, to_nodes(field_details_list), parent_type, path
                )
                value = field.resolve(source, info)  # type: ignore[misc]
                if self.is_awaitable(value):
                    return self.complete_awaitable_value(
                        field.type, field_details_list, info, path, value, None
                    )
            if isinstance(value, Exception):
                raise value
            if value is None or value is Undefined:
                if plan.non_null:
                    raise TypeError(plan.null_message)
                return None
            if plan.leaf is not None:
                return self.complete_leaf_value(plan.leaf, value)
            if plan.in_list:
                if not isinstance(value, list | tuple):  # an iterable of another kind
                    info = info or self.build_resolve_info(
                        field, to_nodes(field_details_list), parent_type, path
                    )
                    completed = self.complete_value(
                        field.type, field_details_list, info, path, value, None
                    )
                else:
                    completed = self._complete_objects(
                        plan, parent_type, field_details_list, path, value
                    )
            else:
                completed = self._complete_object(plan.object_type, field_details_list, path, value)
            if self.is_awaitable(completed):
                return self._await_completed(completed, field.type, field_details_list, path)
            return completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.type, field_details_list, path)
            return None

    async def _await_completed(
        self, completed: Any, return_type: Any, field_details_list: Any, path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None

    def _complete_object(
        self, object_type: Any, field_details_list: Any, path: Path, value: Any
    ) -> Any:
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(
            object_type, field_details_list
        )
        if new_defer_usages:
            return self.execute_collected_subfields(
                object_type, value, path, grouped_field_set, new_defer_usages, None
            )
        entries = self._entries(object_type, grouped_field_set)
        fast = self._fast(object_type, grouped_field_set)
        if fast is not None:
            try:
                return fast[1](value, self.context_value)
            except Exception:  # noqa: S110 - the general path answers it, errors and all
                pass
        return self._execute_entries(object_type, value, path, entries)

    def _complete_objects(
        self,
        plan: FieldPlan,
        parent_type: GraphQLObjectType,
        field_details_list: Any,
        path: Path,
        items: list[Any] | tuple[Any, ...],
    ) -> Any:
        """A list of objects, as `complete_iterable_value` completes it, without @stream."""
        object_type = plan.object_type
        item_type = plan.item_type
        is_awaitable = self.is_awaitable
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(
            object_type,  # type: ignore[arg-type]
            field_details_list,
        )
        entries = self._entries(object_type, grouped_field_set)  # type: ignore[arg-type]
        if not new_defer_usages:
            fast = self._fast(object_type, grouped_field_set)  # type: ignore[arg-type]
            if fast is not None:
                complete, context = fast[1], self.context_value
                try:
                    return [complete(item, context) for item in items]
                except Exception:  # noqa: S110 - the general path answers it, errors and all
                    pass
        try:
            for index, item in enumerate(items):
                item_path = path.add_key(index, None)
                try:
                    if item is None or item is Undefined:
                        if plan.item_non_null:
                            raise TypeError(plan.null_message)
                        completed.append(None)
                        continue
                    if is_awaitable(item) or isinstance(item, Exception) or new_defer_usages:
                        info = self.build_resolve_info(
                            plan.field, to_nodes(field_details_list), parent_type, path
                        )
                        if self._complete_item_generally(
                            item, completed, item_type, field_details_list, info, item_path
                        ):
                            awaitable_indices.append(index)
                        continue
                    value = self._execute_entries(
                        object_type,  # type: ignore[arg-type]
                        item,
                        item_path,
                        entries,
                    )
                    if value.__class__ is not dict and is_awaitable(value):
                        completed.append(
                            self._await_completed(value, item_type, field_details_list, item_path)
                        )
                        awaitable_indices.append(index)
                    else:
                        completed.append(value)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                    completed.append(None)
        except Exception:
            if awaitable_indices:
                self.settle_in_background([completed[index] for index in awaitable_indices])
            raise
        if not awaitable_indices:
            return completed
        return self._await_items(completed, awaitable_indices)

    def _complete_item_generally(
        self,
        item: Any,
        completed: list[Any],
        item_type: Any,
        field_details_list: Any,
        info: Any,
        item_path: Path,
    ) -> bool:
        """graphql-core's own completion of one item; True when it is awaitable."""
        if self.is_awaitable(item):
            completed.append(
                self.complete_awaitable_list_item_value(
                    item, item_type, field_details_list, info, item_path, None
                )
            )
            return True
        return self.complete_list_item_value(
            item, completed, item_type, field_details_list, info, item_path, None
        )

    async def _await_items(self, completed: list[Any], awaitable_indices: list[int]) -> list[Any]:
        if len(awaitable_indices) == 1:
            index = awaitable_indices[0]
            completed[index] = await completed[index]
            return completed
        awaited = await gather_with_cancel(*(completed[index] for index in awaitable_indices))
        for index, value in zip(awaitable_indices, awaited, strict=True):
            completed[index] = value
        return completed
