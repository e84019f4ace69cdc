"""Refuse operations that are too deep, too wide or too expensive before planning.

A single small request can ask a federated graph for an enormous amount of
work (nested lists, thousands of aliases of one expensive field), so the
router measures every operation against configurable limits and refuses it
with a coded error before any subgraph is called.

Fragments are measured once each and memoised, so a document whose
fragments spread each other many times is measured in linear time (a naive
expansion would be exponential: that is itself a denial of service), and a
fragment cycle (which validation rejects anyway) counts as empty instead of
recursing forever. `@skip`/`@include` are honoured with the request's
variables, so what is measured is what would run. `__typename` is free;
introspection fields count like any other field.

A list's length is its own slicing argument (`first`/`last`/`limit`), else
the default. A Relay connection is not a list: the field that takes
`first` returns an object whose `edges`/`nodes` are the lists, so the
connection field's slicing argument is what multiplies those selections
(otherwise `charters(first: 100)` would cost the same as `first: 1`).

The cost is the one estimate the router makes: where the supergraph carries
`@cost`/`@listSize` (`router/guard/cost.py`), a field weighs what they say
and a list is as long as its `@listSize` makes it, by the specification;
where it carries none, every field weighs 1 and lists are sized as above.
With demand control on (`max_cost` set), the same pass refuses a field
given other than exactly one of the slicing arguments its `@listSize`
requires one of; a supergraph without `@listSize` pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from router.guard.cost import (
    EMPTY,
    MUTATION_COST,
    CostTable,
    ListSize,
    given_slicing_arguments,
    refusal,
    slicing_refusal,
)

__all__ = ["Limits", "Measurement", "check_limits", "measure"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Configurable ceilings; `None` switches one check off."""

    max_depth: int | None = 15
    max_aliases: int | None = 30
    max_root_fields: int | None = 20
    max_cost: int | None = 50_000
    #: assumed length of a list field that has no size argument
    default_list_size: int = 10
    #: arguments whose integer value bounds a list field's length
    list_size_arguments: tuple[str, ...] = ("first", "last", "limit")
    #: list fields of a connection type whose length the connection field's
    #: slicing argument sets (Relay's `edges`, and the `nodes` shortcut)
    connection_list_fields: tuple[str, ...] = ("edges", "nodes")
    #: list length assumed under `__schema`/`__type`: the router answers those
    #: from the in-memory API schema, so their lists are bounded by the schema's
    #: size, not by the request; 1 keeps GraphiQL's introspection query (about
    #: 100 fields, depth 15) well inside the default limits
    introspection_list_size: int = 1


@dataclass(frozen=True, slots=True)
class Measurement:
    depth: int
    aliases: int
    root_fields: int
    cost: int
    #: fields given other than exactly one of the slicing arguments they require one of
    slicing: tuple[dict[str, Any], ...] = ()


@dataclass(slots=True)
class _Tally:
    """Measure of one selection set, relative to where it appears."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0
    cost: int = 0

    def add(self, other: _Tally) -> None:
        self.depth = max(self.depth, other.depth)
        self.aliases += other.aliases
        self.fields += other.fields
        self.cost += other.cost


def _named_output(t: GraphQLOutputType) -> tuple[GraphQLNamedType, bool]:
    """The named type under wrappers, and whether a list wrapper was crossed."""
    is_list = False
    while isinstance(t, GraphQLNonNull | GraphQLList):
        if isinstance(t, GraphQLList):
            is_list = True
        t = t.of_type
    return t, is_list


#: list fields named by the enclosing field (a connection's `edges`/`nodes`, or its
#: `@listSize(sizedFields:)`) and the size it gives them (None: the default)
_Sized = tuple[tuple[str, ...], int | None] | None


def _default(arg: GraphQLArgument) -> Any:
    """An argument's default (the API schema keeps it only in the definition's AST)."""
    node = arg.ast_node.default_value if arg.ast_node is not None else None
    if isinstance(node, IntValueNode):
        return int(node.value)
    return arg.default_value


class _Measurer:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        limits: Limits,
        costs: CostTable = EMPTY,
    ) -> None:
        self.costs = costs
        self.annotated = costs.annotated
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.limits = limits
        #: (fragment, meta, the list fields sized by the field it sits in, and their size)
        self.memo: dict[tuple[str, bool, _Sized], _Tally] = {}
        self.in_progress: set[str] = set()
        #: slicing refusals by field coordinate (first occurrence); made when one is found
        self.slicing: dict[tuple[str, str], dict[str, Any]] | None = None

    def included(self, node: SelectionNode) -> bool:
        for d in node.directives or ():
            name = d.name.value
            if name not in ("skip", "include"):
                continue
            value: Any = name == "include"  # unknown variable: measure the branch
            for a in d.arguments or ():
                if a.name.value != "if":
                    continue
                if isinstance(a.value, BooleanValueNode):
                    value = a.value.value
                elif isinstance(a.value, VariableNode):
                    value = self.variables.get(a.value.name.value, value)
            if name == "skip" and value is True:
                return False
            if name == "include" and value is False:
                return False
        return True

    def explicit_size(self, node: FieldNode) -> int | None:
        """The field's slicing argument (variables resolved); None when it has none."""
        for a in node.arguments or ():
            if a.name.value not in self.limits.list_size_arguments:
                continue
            raw: Any = None
            if isinstance(a.value, IntValueNode):
                raw = int(a.value.value)
            elif isinstance(a.value, VariableNode):
                raw = self.variables.get(a.value.name.value)
            if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
                return raw
        return None

    def require_one_slice(
        self,
        parent: GraphQLNamedType,
        name: str,
        rule: ListSize,
        fdef: GraphQLField,
        node: FieldNode,
    ) -> None:
        """Note a refusal when the field is not given exactly one of its slicing arguments."""
        given = given_slicing_arguments(rule, fdef, node, self.variables)
        if len(given) == 1:
            return
        if self.slicing is None:
            self.slicing = {}
        self.slicing.setdefault(
            (parent.name, name), slicing_refusal(parent.name, rule, node, given)
        )

    def is_connection(self, t: GraphQLNamedType | None) -> bool:
        """An object or interface with an `edges`/`nodes` list: a Relay-style connection."""
        if not isinstance(t, GraphQLObjectType | GraphQLInterfaceType):
            return False
        for name in self.limits.connection_list_fields:
            fdef = t.fields.get(name)
            if fdef is not None and _named_output(fdef.type)[1]:
                return True
        return False

    def selection_set(
        self,
        parent: GraphQLNamedType | None,
        ss: SelectionSetNode,
        meta: bool = False,
        slice_size: _Sized = None,
    ) -> _Tally:
        """Tally one selection set.

        `meta` is true under `__schema`/`__type`; `slice_size` is the slicing
        argument of the connection field whose selection this is (it sizes
        the `edges`/`nodes` lists selected here, fragments included).
        """
        total = _Tally()
        for sel in ss.selections:
            if not self.included(sel):
                continue
            if isinstance(sel, FieldNode):
                total.add(self.field(parent, sel, meta, slice_size))
            elif isinstance(sel, InlineFragmentNode):
                cond = (
                    self.schema.get_type(sel.type_condition.name.value)
                    if sel.type_condition
                    else parent
                )
                total.add(self.selection_set(cond, sel.selection_set, meta, slice_size))
            elif isinstance(sel, FragmentSpreadNode):
                total.add(self.fragment(sel.name.value, meta, slice_size))
        return total

    def fragment(self, name: str, meta: bool, slice_size: _Sized = None) -> _Tally:
        key = (name, meta, slice_size)
        cached = self.memo.get(key)
        if cached is not None:
            return cached
        frag = self.fragments.get(name)
        if frag is None or name in self.in_progress:
            return _Tally()  # unknown or cyclic: validation reports it; never loop
        self.in_progress.add(name)
        try:
            tally = self.selection_set(
                self.schema.get_type(frag.type_condition.name.value),
                frag.selection_set,
                meta,
                slice_size,
            )
        finally:
            self.in_progress.discard(name)
        self.memo[key] = tally
        return tally

    def field(
        self,
        parent: GraphQLNamedType | None,
        node: FieldNode,
        meta: bool,
        slice_size: _Sized = None,
    ) -> _Tally:
        name = node.name.value
        if name == "__typename":
            return _Tally()
        child_parent: GraphQLNamedType | None = None
        is_list = False
        fdef = None
        if name == "__schema":
            child_parent, is_list = _named_output(SchemaMetaFieldDef.type)
            meta = True
        elif name == "__type":
            child_parent, is_list = _named_output(TypeMetaFieldDef.type)
            meta = True
        elif isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            fdef = parent.fields.get(name)
            if fdef is not None:
                child_parent, is_list = _named_output(fdef.type)
        costs = self.costs
        rule = (
            costs.list_sizes.get((parent.name, name))
            if fdef is not None and parent is not None and costs.list_sizes
            else None
        )
        rule_size: int | None = None
        if rule is not None and fdef is not None:
            defaults = {k: _default(a) for k, a in fdef.args.items() if k in rule.slicing_arguments}
            rule_size = costs.slicing_size(rule, node, defaults, self.variables)
            if rule.require_one_slicing_argument and rule.slicing_arguments and parent:
                self.require_one_slice(parent, name, rule, fdef, node)
        # a connection field passes its slicing argument down to its edges/nodes
        child_slice: _Sized = None
        if rule is not None and rule.sized_fields:
            child_slice = (rule.sized_fields, rule_size)
        elif not is_list and not meta and self.is_connection(child_parent):
            child_slice = (self.limits.connection_list_fields, self.explicit_size(node))
        children = (
            self.selection_set(child_parent, node.selection_set, meta, child_slice)
            if node.selection_set is not None
            else _Tally()
        )
        multiplier = 1
        if is_list:
            if meta:
                multiplier = self.limits.introspection_list_size
            else:
                size = rule_size if rule is not None and not rule.sized_fields else None
                if size is None:
                    size = self.explicit_size(node)
                if size is None and slice_size is not None and name in slice_size[0]:
                    size = slice_size[1]
                multiplier = self.limits.default_list_size if size is None else size
        weight = 1
        extra = 0
        if self.annotated:
            own = costs.fields.get((parent.name, name)) if fdef is not None and parent else None
            if own is not None:
                weight = own
            elif child_parent is not None:
                weight = costs.leaf_weight(child_parent)
            if fdef is not None and parent is not None:
                extra = costs.arguments_cost(self.schema, parent.name, node, self.variables)
        return _Tally(
            depth=children.depth + 1,
            aliases=children.aliases + (1 if node.alias is not None else 0),
            fields=1,
            cost=multiplier * (weight + children.cost) + extra,
        )


def _operation(doc: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((o for o in ops if o.name is not None and o.name.value == name), None)
    return ops[0] if len(ops) == 1 else None


def measure(
    doc: DocumentNode,
    operation_name: str | None,
    schema: GraphQLSchema,
    variables: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    costs: CostTable = EMPTY,
) -> Measurement | None:
    """Measure the selected operation; `None` when the name selects nothing.

    Aliases are counted per occurrence after fragment expansion, so one
    aliased fragment spread ten times counts ten times.
    """
    limits = limits or Limits()
    op = _operation(doc, operation_name)
    if op is None:
        return None
    fragments = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    m = _Measurer(schema, fragments, variables or {}, limits, costs)
    tally = m.selection_set(schema.get_root_type(op.operation), op.selection_set)
    base = MUTATION_COST if costs.annotated and op.operation.value == "mutation" else 0
    return Measurement(
        depth=tally.depth,
        aliases=tally.aliases,
        root_fields=tally.fields,
        cost=base + tally.cost,
        slicing=tuple(m.slicing.values()) if m.slicing else (),
    )


def _refusal(message: str, code: str, limit: int, measured: int) -> dict[str, Any]:
    return {
        "message": message,
        "extensions": {"code": code, "limit": limit, "measured": measured},
    }


def check_limits(
    doc: DocumentNode,
    operation_name: str | None,
    schema: GraphQLSchema,
    variables: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    costs: CostTable = EMPTY,
) -> list[dict[str, Any]]:
    """GraphQL error dicts for every limit the operation exceeds; `[]` when it may run.

    An operation name that selects nothing yields `[]`: reporting that is the
    gateway's job, with its own message.
    """
    limits = limits or Limits()
    m = measure(doc, operation_name, schema, variables, limits, costs)
    if m is None:
        return []
    errors: list[dict[str, Any]] = []
    if limits.max_depth is not None and m.depth > limits.max_depth:
        errors.append(
            _refusal(
                f"Operation is too deep: depth {m.depth} exceeds the limit of {limits.max_depth}.",
                "OPERATION_TOO_DEEP",
                limits.max_depth,
                m.depth,
            )
        )
    if limits.max_aliases is not None and m.aliases > limits.max_aliases:
        errors.append(
            _refusal(
                f"Operation has too many aliases: {m.aliases} exceeds the limit of "
                f"{limits.max_aliases}.",
                "TOO_MANY_ALIASES",
                limits.max_aliases,
                m.aliases,
            )
        )
    if limits.max_root_fields is not None and m.root_fields > limits.max_root_fields:
        errors.append(
            _refusal(
                f"Operation has too many root fields: {m.root_fields} exceeds the limit of "
                f"{limits.max_root_fields}.",
                "TOO_MANY_ROOT_FIELDS",
                limits.max_root_fields,
                m.root_fields,
            )
        )
    if limits.max_cost is not None and m.slicing:
        errors.extend(m.slicing)
    if limits.max_cost is not None and m.cost > limits.max_cost and costs.annotated:
        errors.append(refusal(m.cost, limits.max_cost))
    elif limits.max_cost is not None and m.cost > limits.max_cost:
        errors.append(
            _refusal(
                f"Operation is too costly: estimated cost {m.cost} exceeds the limit of "
                f"{limits.max_cost}.",
                "OPERATION_TOO_COSTLY",
                limits.max_cost,
                m.cost,
            )
        )
    return errors
