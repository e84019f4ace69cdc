"""Shape merged subgraph data into exactly what the client asked for.

Aliases, fragments and @skip/@include come from the client's own
operation; everything the planner added (keys, @requires fields, private
aliases, __typename) is dropped because only selected keys are copied.
Non-null violations bubble to the nearest nullable parent, as the GraphQL
spec's value completion does.

The operation is compiled once per cached plan into `SelectionShape`s
(field lists per runtime type, with precomputed type information), and each
(selection, runtime type) into a Python function (`shape_code.py`), so
shaping a response runs straight-line code over the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    SelectionSetNode,
)

from router.execution.merge import LinkedPath, materialize
from router.execution.shape_code import ObjectFn, generate
from router.planning.operation import included

_BUBBLE = object()
Composite = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType


#: the code of what the shaper reports: a value the schema does not allow in its place
RESPONSE_VALIDATION_FAILED = "RESPONSE_VALIDATION_FAILED"


class TypeInfo:
    __slots__ = ("enum_values", "item", "label", "non_null", "shape")

    def __init__(self, label: str) -> None:
        self.non_null = False
        self.item: TypeInfo | None = None
        self.enum_values: frozenset[str] | None = None
        self.shape: SelectionShape | None = None
        self.label = label


class FieldShape:
    __slots__ = ("info", "key", "kind")

    def __init__(self, key: str, kind: int, info: TypeInfo | None) -> None:
        self.key = key
        #: 0 plain value, 1 __typename, 2 copied as is (introspection), 3 completed
        self.kind = kind
        self.info = info


class SelectionShape:
    """A selection at one static type; field lists are built per runtime type."""

    __slots__ = ("by_type", "compiled", "compiler", "possible", "sets", "static")

    def __init__(self, compiler: ShapeCompiler, static: Composite, sets: list[SelectionSetNode]):
        self.compiler = compiler
        self.static = static
        self.sets = sets
        self.by_type: dict[str, list[FieldShape]] = {}
        self.compiled: dict[str, ObjectFn] = {}
        self.possible: frozenset[str] | None = None
        if isinstance(static, GraphQLInterfaceType | GraphQLUnionType):
            schema = compiler.schema
            self.possible = frozenset(t.name for t in schema.get_possible_types(static))

    def fields_for(self, runtime: GraphQLObjectType | GraphQLInterfaceType) -> list[FieldShape]:
        fields = self.by_type.get(runtime.name)
        if fields is None:
            fields = self.by_type[runtime.name] = self.compiler.fields(runtime, self.sets)
        return fields

    def shaper_for(self, runtime: GraphQLObjectType | GraphQLInterfaceType) -> ObjectFn:
        fn = self.compiled.get(runtime.name)
        if fn is None:
            fields = self.fields_for(runtime)
            fn = self.compiled[runtime.name] = generate(self, runtime.name, fields, _BUBBLE)
        return fn

    def dispatch(self, v: dict[str, Any], path: LinkedPath, shaper: Shaper) -> Any:
        """An abstract type's object: shaped as its runtime type, None when it has none."""
        runtime = self.runtime(v)
        if runtime is None:
            return None
        return self.shaper_for(runtime)(v, path, shaper)

    def runtime(self, v: dict[str, Any]) -> GraphQLObjectType | GraphQLInterfaceType | None:
        static = self.static
        if self.possible is None:
            return static  # type: ignore[return-value]
        tn = v.get("__typename")
        if tn in self.possible:
            t = self.compiler.schema.get_type(tn)
            return t if isinstance(t, GraphQLObjectType) else None
        if isinstance(static, GraphQLInterfaceType) and (tn == static.name or tn is None):
            # an @interfaceObject answer whose concrete type nobody asked for
            return static
        return None


class ShapeCompiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def root(self, root: GraphQLObjectType, selection: SelectionSetNode) -> SelectionShape:
        return SelectionShape(self, root, [selection])

    def fields(
        self, type_: GraphQLObjectType | GraphQLInterfaceType, sets: list[SelectionSetNode]
    ) -> list[FieldShape]:
        out: list[FieldShape] = []
        for key, nodes in self._collect(type_, sets, {}, set()).items():
            name = nodes[0].name.value
            if name == "__typename":
                out.append(FieldShape(key, 1, None))
            elif name in ("__schema", "__type"):
                out.append(FieldShape(key, 2, None))
            else:
                fdef = type_.fields.get(name)
                if fdef is None:
                    continue
                sub = [n.selection_set for n in nodes if n.selection_set is not None]
                info = self._info(fdef.type, sub, f"{type_.name}.{name}")
                plain = not info.non_null and info.item is None and info.shape is None
                plain = plain and info.enum_values is None
                out.append(FieldShape(key, 0 if plain else 3, info))
        return out

    def _info(self, t: GraphQLOutputType, sub: list[SelectionSetNode], label: str) -> TypeInfo:
        info = TypeInfo(label)
        if isinstance(t, GraphQLNonNull):
            info.non_null = True
            t = t.of_type
        if isinstance(t, GraphQLList):
            info.item = self._info(t.of_type, sub, label)
        elif isinstance(t, GraphQLEnumType):
            info.enum_values = frozenset(t.values)
        elif isinstance(t, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            info.shape = SelectionShape(self, t, sub)
        return info

    def _collect(
        self,
        type_: GraphQLObjectType | GraphQLInterfaceType,
        sets: list[SelectionSetNode],
        out: dict[str, list[FieldNode]],
        seen: set[str],
    ) -> dict[str, list[FieldNode]]:
        for ss in sets:
            for s in ss.selections:
                if not included(s, self.variables):
                    continue
                if isinstance(s, FieldNode):
                    key = s.alias.value if s.alias else s.name.value
                    out.setdefault(key, []).append(s)
                elif isinstance(s, InlineFragmentNode):
                    cond = s.type_condition
                    if cond is None or self._applies(cond.name.value, type_):
                        self._collect(type_, [s.selection_set], out, seen)
                elif isinstance(s, FragmentSpreadNode):
                    name = s.name.value
                    frag = self.fragments.get(name)
                    if frag is None or name in seen:
                        continue
                    seen.add(name)
                    if self._applies(frag.type_condition.name.value, type_):
                        self._collect(type_, [frag.selection_set], out, seen)
        return out

    def _applies(self, cond: str, type_: GraphQLObjectType | GraphQLInterfaceType) -> bool:
        if cond == type_.name:
            return True
        t = self.schema.get_type(cond)
        if isinstance(t, GraphQLAbstractType) and isinstance(type_, GraphQLObjectType):
            return self.schema.is_sub_type(t, type_)
        return False


class Shaper:
    """Runs a compiled shape over one response's data, collecting errors."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        self.error_paths = [tuple(e["path"]) for e in errors if isinstance(e.get("path"), list)]
        #: (id of a composite value, the place it is shaped at) -> its shaped value,
        #: valid while the data is alive: one shaping run
        self.memo: dict[tuple[int, int], Any] = {}
        #: null and enum reports so far, reported or not: a value whose shaping
        #: made none is the same wherever it sits
        self.reports = 0

    def shape_root(self, shape: SelectionShape, data: dict[str, Any]) -> dict[str, Any] | None:
        runtime = shape.static
        if not isinstance(runtime, GraphQLObjectType):
            return None
        out = shape.shaper_for(runtime)(data, None, self)
        return None if out is _BUBBLE else out

    def null_error(self, path: LinkedPath, label: str) -> None:
        """A null in a non-null place, unless a subgraph's error already explains it."""
        self.reports += 1
        p = tuple(materialize(path))
        for ep in self.error_paths:
            n = min(len(ep), len(p))
            if ep[:n] == p[:n] or _list_wildcard_match(ep[:n], p[:n]):
                return
        self._error(f"Cannot return null for non-nullable field {label}.", list(p))

    def enum_error(self, label: str, v: Any, path: LinkedPath) -> None:
        self.reports += 1
        self._error(f'Enum "{label}" cannot represent value: {v!r}', materialize(path))

    def _error(self, message: str, path: list[str | int]) -> None:
        """An error the router adds itself: coded, like every error it words."""
        self.errors.append(
            {"message": message, "path": path, "extensions": {"code": RESPONSE_VALIDATION_FAILED}}
        )
        self.error_paths.append(tuple(path))


def _list_wildcard_match(error_path: tuple[Any, ...], path: tuple[Any, ...]) -> bool:
    """Authorization errors write "@" for every position of a list they cross."""
    return "@" in error_path and all(
        e == q or (e == "@" and isinstance(q, int)) for e, q in zip(error_path, path, strict=True)
    )
