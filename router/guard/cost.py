"""Demand control by `@cost` and `@listSize` (the IBM GraphQL cost directive specification).

Subgraphs state what their fields cost and how long their lists are;
composition keeps the directives in the supergraph, and `read_costs` turns
them into a table once per supergraph. The estimate itself is the one
traversal in `router/guard/limits.py` (depth, aliases and cost in one pass,
fragments memoised), which asks this table for each field's weight and list
size; `actual_cost` prices a finished response the same way with the list
lengths it really has.

Weights follow the specification as Apollo Router and Hive Router apply it:
an object, interface or union costs 1, a scalar or enum 0, `@cost(weight:)`
on a field or its type replaces that; a list multiplies its item's cost
(its own weight and its selections) by its size; a provided argument adds
its `@cost`; a mutation adds 10. A supergraph with none of these directives
is priced as before (every field 1), so an unannotated graph is refused
exactly where it was.

`@listSize(requireOneSlicingArgument:)` (true by default wherever slicing
arguments are named) is the one rule that refuses rather than prices: the
field must be given exactly one of its slicing arguments, else the
operation is refused before planning (`slicing_refusal`). An argument
counts as given when its value is not null: written in the operation, by a
variable the request sets, or by the argument's default (IBM's reading: a
default lets the operation leave the argument out); an explicit `null`, or
a variable the request sets to null, gives none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from graphql import (
    BooleanValueNode,
    ConstDirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    IntValueNode,
    ListValueNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ObjectValueNode,
    OperationDefinitionNode,
    ScalarTypeDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    Undefined,
    ValueNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)

__all__ = [
    "EMPTY",
    "MUTATION_COST",
    "SLICING_CODE",
    "CostTable",
    "ListSize",
    "actual_cost",
    "given_slicing_arguments",
    "read_costs",
    "refusal",
    "slicing_refusal",
]

#: what a mutation adds for being one (Apollo Router and Hive Router: 10)
MUTATION_COST = 10

#: the code of a refusal for not giving exactly one of a field's slicing arguments
SLICING_CODE = "COST_REQUIRES_ONE_SLICING_ARGUMENT"

_COST = ("cost", "cost__cost", "federation__cost")
_LIST_SIZE = ("listSize", "cost__listSize", "federation__listSize")


@dataclass(frozen=True, slots=True)
class ListSize:
    """`@listSize` on one field."""

    assumed_size: int | None = None
    slicing_arguments: tuple[str, ...] = ()
    sized_fields: tuple[str, ...] = ()
    require_one_slicing_argument: bool = True


@dataclass(slots=True)
class CostTable:
    """The supergraph's `@cost`/`@listSize`, keyed by type and field name."""

    #: @cost on a field definition: (type, field) -> weight
    fields: dict[tuple[str, str], int] = field(default_factory=dict)
    #: @cost on an argument: (type, field, argument) -> weight
    arguments: dict[tuple[str, str, str], int] = field(default_factory=dict)
    #: @cost on an input field: (input type, field) -> weight
    input_fields: dict[tuple[str, str], int] = field(default_factory=dict)
    #: @cost on a type (object, scalar, enum, ...): type -> weight
    types: dict[str, int] = field(default_factory=dict)
    list_sizes: dict[tuple[str, str], ListSize] = field(default_factory=dict)

    @property
    def annotated(self) -> bool:
        return bool(
            self.fields or self.arguments or self.input_fields or self.types or self.list_sizes
        )

    def leaf_weight(self, t: GraphQLNamedType) -> int:
        """A type's own weight: its @cost, else 1 for composites and 0 for leaves.

        Unannotated graphs weigh every field 1, as the router always has.
        """
        weight = self.types.get(t.name)
        if weight is not None:
            return weight
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            return 1
        return 0 if self.annotated else 1

    def arguments_cost(
        self,
        schema: GraphQLSchema,
        parent: str,
        node: FieldNode,
        variables: Mapping[str, Any],
    ) -> int:
        """What the provided arguments add (their @cost, and their input fields')."""
        if not self.arguments and not self.input_fields:
            return 0
        total = 0
        ptype = schema.get_type(parent)
        fdef = (
            ptype.fields.get(node.name.value)
            if isinstance(ptype, GraphQLObjectType | GraphQLInterfaceType)
            else None
        )
        for a in node.arguments or ():
            total += self.arguments.get((parent, node.name.value, a.name.value), 0)
            if fdef is not None and self.input_fields:
                adef = fdef.args.get(a.name.value)
                if adef is not None:
                    total += self._input_cost(adef.type, _plain(a.value, variables))
        return total

    def _input_cost(self, t: Any, value: Any) -> int:
        while isinstance(t, GraphQLNonNull):
            t = t.of_type
        if isinstance(t, GraphQLList):
            items = value if isinstance(value, list) else [value]
            return sum(self._input_cost(t.of_type, v) for v in items)
        if not isinstance(t, GraphQLInputObjectType) or not isinstance(value, dict):
            return 0
        total = 0
        for name, v in value.items():
            total += self.input_fields.get((t.name, name), 0)
            fdef = t.fields.get(name)
            if fdef is not None:
                total += self._input_cost(fdef.type, v)
        return total

    def slicing_size(
        self,
        rule: ListSize,
        node: FieldNode,
        defaults: Mapping[str, Any],
        variables: Mapping[str, Any],
    ) -> int | None:
        """The largest slicing argument given (else its default), else the assumed size."""
        sizes: list[int] = []
        given = {a.name.value: a.value for a in node.arguments or ()}
        for name in rule.slicing_arguments:
            raw = _plain(given[name], variables) if name in given else defaults.get(name)
            if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
                sizes.append(raw)
        if sizes:
            return max(sizes)
        return rule.assumed_size


EMPTY = CostTable()


def _plain(node: ValueNode, variables: Mapping[str, Any]) -> Any:
    """An argument's value with variables resolved (only what pricing needs)."""
    if isinstance(node, VariableNode):
        return variables.get(node.name.value)
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, ObjectValueNode):
        return {f.name.value: _plain(f.value, variables) for f in node.fields}
    if isinstance(node, ListValueNode):
        return [_plain(v, variables) for v in node.values]
    if isinstance(node, StringValueNode | BooleanValueNode):
        return node.value
    return None


def _int(d: ConstDirectiveNode, name: str) -> int | None:
    for a in d.arguments or ():
        if a.name.value == name and isinstance(a.value, IntValueNode):
            return int(a.value.value)
    return None


def _strings(d: ConstDirectiveNode, name: str) -> tuple[str, ...]:
    for a in d.arguments or ():
        if a.name.value == name and isinstance(a.value, ListValueNode):
            return tuple(v.value for v in a.value.values if isinstance(v, StringValueNode))
    return ()


def _bool(d: ConstDirectiveNode, name: str, default: bool) -> bool:
    for a in d.arguments or ():
        if a.name.value == name and isinstance(a.value, BooleanValueNode):
            return a.value.value
    return default


def _weight(node: Any) -> int | None:
    for d in getattr(node, "directives", None) or ():
        if d.name.value in _COST:
            return _int(d, "weight")
    return None


def read_costs(doc: DocumentNode) -> CostTable:
    """The cost table of a supergraph (or any SDL) document; empty when it has none."""
    table = CostTable()
    for node in doc.definitions:
        if not isinstance(
            node,
            ObjectTypeDefinitionNode
            | ObjectTypeExtensionNode
            | InterfaceTypeDefinitionNode
            | InputObjectTypeDefinitionNode
            | ScalarTypeDefinitionNode
            | EnumTypeDefinitionNode
            | EnumTypeExtensionNode,
        ):
            continue
        tname = node.name.value
        w = _weight(node)
        if w is not None:
            table.types[tname] = w
        if isinstance(node, InputObjectTypeDefinitionNode):
            for f in node.fields or ():
                w = _weight(f)
                if w is not None:
                    table.input_fields[(tname, f.name.value)] = w
            continue
        for fdef in getattr(node, "fields", None) or ():
            key = (tname, fdef.name.value)
            w = _weight(fdef)
            if w is not None:
                table.fields[key] = w
            for arg in fdef.arguments or ():
                w = _weight(arg)
                if w is not None:
                    table.arguments[(*key, arg.name.value)] = w
            for d in fdef.directives or ():
                if d.name.value in _LIST_SIZE:
                    table.list_sizes[key] = ListSize(
                        assumed_size=_int(d, "assumedSize"),
                        slicing_arguments=_strings(d, "slicingArguments"),
                        sized_fields=_strings(d, "sizedFields"),
                        require_one_slicing_argument=_bool(d, "requireOneSlicingArgument", True),
                    )
    return table


def _default(definition: GraphQLArgument | GraphQLInputField) -> Any:
    """A definition's default value (the API schema keeps it only in the AST); Undefined if none."""
    node = definition.ast_node.default_value if definition.ast_node is not None else None
    if node is not None:
        return value_from_ast_untyped(node)
    return definition.default_value


def _slicing_value(
    path: str, fdef: GraphQLField, given: Mapping[str, ValueNode], variables: Mapping[str, Any]
) -> Any:
    """The value a slicing argument has (`filter.max`: an input field of one); None if none."""
    head, *rest = path.split(".")
    arg = fdef.args.get(head)
    if arg is None:
        return None
    value: Any = Undefined
    if head in given:
        value = value_from_ast_untyped(given[head], cast("dict[str, Any]", variables))
    if value is Undefined:  # left out, or a variable the request does not set
        value = _default(arg)
    t: Any = arg.type
    for part in rest:
        named = get_named_type(t)
        if not isinstance(value, dict) or not isinstance(named, GraphQLInputObjectType):
            return None
        ifield = named.fields.get(part)
        if ifield is None:
            return None
        value = value.get(part, Undefined)
        if value is Undefined:
            value = _default(ifield)
        t = ifield.type
    return None if value is Undefined else value


def given_slicing_arguments(
    rule: ListSize, fdef: GraphQLField, node: FieldNode, variables: Mapping[str, Any]
) -> tuple[str, ...]:
    """The slicing arguments of `rule` this occurrence of the field gives a non-null value."""
    given = {a.name.value: a.value for a in node.arguments or ()}
    return tuple(
        path
        for path in rule.slicing_arguments
        if _slicing_value(path, fdef, given, variables) is not None
    )


def slicing_refusal(
    type_name: str, rule: ListSize, node: FieldNode, given: tuple[str, ...]
) -> dict[str, Any]:
    """The error for a field given none, or more than one, of its slicing arguments."""
    coordinate = f"{type_name}.{node.name.value}"
    gives = "none" if not given else f"{len(given)} ({', '.join(given)})"
    error: dict[str, Any] = {
        "message": f'Field "{coordinate}" must be given exactly one of its slicing arguments '
        f"({', '.join(rule.slicing_arguments)}); the operation gives {gives}.",
        "extensions": {
            "code": SLICING_CODE,
            "field": coordinate,
            "slicingArguments": list(rule.slicing_arguments),
            "given": list(given),
        },
    }
    if node.loc is not None:
        start = node.loc.source.get_location(node.loc.start)
        error["locations"] = [{"line": start.line, "column": start.column}]
    return error


def refusal(estimated: int, maximum: int) -> dict[str, Any]:
    return {
        "message": f"Operation is too costly: estimated cost {estimated} exceeds the limit of "
        f"{maximum}.",
        "extensions": {
            "code": "COST_ESTIMATED_TOO_EXPENSIVE",
            "cost": {"estimated": estimated, "max": maximum},
        },
    }


# -- actual cost: the same weights, the lists' real lengths -------------------------------------


class _Actual:
    def __init__(
        self,
        schema: GraphQLSchema,
        table: CostTable,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.table = table
        self.fragments = fragments
        self.variables = variables

    def collect(
        self, parent: GraphQLNamedType, ss: SelectionSetNode, out: dict[str, list[FieldNode]]
    ) -> None:
        """Fields by response key, every branch collected.

        A fragment whose condition the object does not meet has no keys in
        the response, so nothing of it is priced.
        """
        for sel in ss.selections:
            if isinstance(sel, FieldNode):
                key = sel.alias.value if sel.alias else sel.name.value
                out.setdefault(key, []).append(sel)
            elif isinstance(sel, InlineFragmentNode):
                self.collect(parent, sel.selection_set, out)
            elif isinstance(sel, FragmentSpreadNode):
                frag = self.fragments.get(sel.name.value)
                if frag is not None:
                    self.collect(parent, frag.selection_set, out)

    def object(self, parent: GraphQLNamedType, sets: list[SelectionSetNode], value: Any) -> int:
        if not isinstance(value, dict):
            return 0
        typename = value.get("__typename")
        if isinstance(typename, str):
            runtime = self.schema.get_type(typename)
            if runtime is not None:
                parent = runtime
        fields: dict[str, list[FieldNode]] = {}
        for ss in sets:
            self.collect(parent, ss, fields)
        total = 0
        for key, nodes in fields.items():
            if key not in value or nodes[0].name.value == "__typename":
                continue
            total += self.field(parent, nodes, value[key])
        return total

    def field(self, parent: GraphQLNamedType, nodes: list[FieldNode], value: Any) -> int:
        name = nodes[0].name.value
        fdef = (
            parent.fields.get(name)
            if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
            else None
        )
        if fdef is None:
            return 0  # introspection and unknown fields are not priced after the fact
        named = get_named_type(fdef.type)
        weight = self.table.fields.get((parent.name, name))
        if weight is None:
            weight = self.table.leaf_weight(named)
        args = self.table.arguments_cost(self.schema, parent.name, nodes[0], self.variables)
        sets = [n.selection_set for n in nodes if n.selection_set is not None]
        return args + self.value(named, weight, sets, value)

    def value(
        self, named: GraphQLNamedType, weight: int, sets: list[SelectionSetNode], value: Any
    ) -> int:
        if value is None:
            return 0
        if isinstance(value, list):
            return sum(self.value(named, weight, sets, v) for v in value)
        return weight + (self.object(named, sets, value) if sets else 0)


def actual_cost(
    doc: DocumentNode,
    op: OperationDefinitionNode,
    schema: GraphQLSchema,
    table: CostTable,
    data: Any,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The cost of what was returned: each list priced at the length it came back with."""
    fragments = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    root = schema.get_root_type(op.operation)
    if root is None or not isinstance(data, dict):
        return 0
    base = MUTATION_COST if op.operation.value == "mutation" and table.annotated else 0
    return base + _Actual(schema, table, fragments, variables or {}).object(
        root, [op.selection_set], data
    )
