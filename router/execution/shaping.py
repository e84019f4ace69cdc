"""Shape merged subgraph data into exactly what the client asked for.

Aliases, fragments and @skip/@include come from the client's own
operation; everything the planner added (keys, @requires fields, private
aliases, __typename) is dropped because only selected keys are copied.
Non-null violations bubble to the nearest nullable parent, as the GraphQL
spec's value completion does.
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

from router.planning.operation import included

_BUBBLE = object()


class Shaper:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        errors: list[dict[str, Any]],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.errors = errors
        self.error_paths = [tuple(e["path"]) for e in errors if isinstance(e.get("path"), list)]

    def shape_root(
        self, root: GraphQLObjectType, selection: SelectionSetNode, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        out = self._object(root, [selection], data, [])
        return None if out is _BUBBLE else out  # type: ignore[return-value]

    def _collect(
        self,
        type_: GraphQLObjectType | GraphQLInterfaceType,
        sets: list[SelectionSetNode],
        out: dict[str, list[FieldNode]] | None = None,
        seen: set[str] | None = None,
    ) -> dict[str, list[FieldNode]]:
        out = {} if out is None else out
        seen = set() if seen is None else seen
        for ss in sets:
            for s in ss.selections:
                if not included(s, self.variables):
                    continue
                if isinstance(s, FieldNode):
                    key = s.alias.value if s.alias else s.name.value
                    out.setdefault(key, []).append(s)
                elif isinstance(s, InlineFragmentNode):
                    if s.type_condition is None or self._applies(
                        s.type_condition.name.value, type_
                    ):
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

    def _object(
        self,
        type_: GraphQLObjectType | GraphQLInterfaceType,
        sets: list[SelectionSetNode],
        obj: dict[str, Any],
        path: list[str | int],
    ) -> Any:
        out: dict[str, Any] = {}
        for key, nodes in self._collect(type_, sets).items():
            name = nodes[0].name.value
            if name == "__typename":
                out[key] = type_.name
                continue
            if name in ("__schema", "__type"):
                out[key] = obj.get(key)
                continue
            fdef = type_.fields.get(name)
            if fdef is None:
                continue
            v = self._value(fdef.type, nodes, obj.get(key), [*path, key], type_.name, name)
            if v is _BUBBLE:
                return _BUBBLE
            out[key] = v
        return out

    def _value(
        self,
        t: GraphQLOutputType,
        nodes: list[FieldNode],
        v: Any,
        path: list[str | int],
        parent: str,
        field: str,
    ) -> Any:
        if isinstance(t, GraphQLNonNull):
            r = self._value(t.of_type, nodes, v, path, parent, field)
            if r is None or r is _BUBBLE:
                if r is None:
                    self._null_error(path, parent, field)
                return _BUBBLE
            return r
        if v is None:
            return None
        if isinstance(t, GraphQLList):
            if not isinstance(v, list):
                return None
            items = []
            for i, x in enumerate(v):
                r = self._value(t.of_type, nodes, x, [*path, i], parent, field)
                if r is _BUBBLE:
                    return None
                items.append(r)
            return items
        if isinstance(t, GraphQLEnumType):
            if v not in t.values:
                self._error(f'Enum "{t.name}" cannot represent value: {v!r}', path)
                return None
            return v
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            if not isinstance(v, dict):
                return None
            runtime = self._runtime(t, v)
            if runtime is None:
                return None
            sets = [n.selection_set for n in nodes if n.selection_set is not None]
            r = self._object(runtime, sets, v, path)
            return None if r is _BUBBLE else r
        return v

    def _runtime(
        self, t: GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType, v: dict[str, Any]
    ) -> GraphQLObjectType | GraphQLInterfaceType | None:
        if isinstance(t, GraphQLObjectType):
            return t
        tn = v.get("__typename")
        rt = self.schema.get_type(tn) if isinstance(tn, str) else None
        if isinstance(rt, GraphQLObjectType) and self.schema.is_sub_type(t, rt):
            return rt
        if isinstance(t, GraphQLInterfaceType) and (rt is t or tn is None):
            return t
        return None

    def _null_error(self, path: list[str | int], parent: str, field: str) -> None:
        p = tuple(path)
        for ep in self.error_paths:
            n = min(len(ep), len(p))
            if ep[:n] == p[:n]:
                return
        self._error(f"Cannot return null for non-nullable field {parent}.{field}.", path)

    def _error(self, message: str, path: list[str | int]) -> None:
        self.errors.append({"message": message, "path": list(path)})
        self.error_paths.append(tuple(path))
