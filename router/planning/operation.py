"""The client operation in a form the planner can walk.

Fragments are inlined and @skip/@include are decided here, from the
request's variables; the plan cache key carries those decisions, so a
cached plan is only reused for requests that take the same branches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)


class OperationError(ValueError):
    """The request names no runnable operation."""


@dataclass(slots=True)
class Sel:
    """One field of a selection (client's, or added by the planner)."""

    key: str
    name: str
    args: tuple[ArgumentNode, ...] = ()
    children: list[Item] | None = None
    internal: bool = False
    #: subgraphs already found unable to serve this (split-off) field
    avoid: frozenset[str] = frozenset()


@dataclass(slots=True)
class Frag:
    type_condition: str | None
    children: list[Item] = field(default_factory=list)


Item = Sel | Frag


def select_operation(doc: DocumentNode, name: str | None) -> OperationDefinitionNode:
    ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        for op in ops:
            if op.name and op.name.value == name:
                return op
        raise OperationError(f'Unknown operation named "{name}".')
    if len(ops) != 1:
        raise OperationError("Must provide operation name if query contains multiple operations.")
    return ops[0]


def condition_variables(doc: DocumentNode) -> list[str]:
    """Variables that decide @skip/@include anywhere in the document."""
    out: list[str] = []

    def walk(node: Any) -> None:
        for d in getattr(node, "directives", None) or ():
            if d.name.value in ("skip", "include"):
                for a in d.arguments or ():
                    if isinstance(a.value, VariableNode) and a.value.name.value not in out:
                        out.append(a.value.name.value)
        ss = getattr(node, "selection_set", None)
        if ss is not None:
            for s in ss.selections:
                walk(s)

    for d in doc.definitions:
        walk(d)
    return out


def included(node: Any, variables: Mapping[str, Any]) -> bool:
    for d in getattr(node, "directives", None) or ():
        name = d.name.value
        if name not in ("skip", "include"):
            continue
        value = _if_value(d, variables)
        if name == "skip" and value:
            return False
        if name == "include" and not value:
            return False
    return True


def _if_value(d: DirectiveNode, variables: Mapping[str, Any]) -> bool:
    for a in d.arguments or ():
        if a.name.value == "if":
            if isinstance(a.value, BooleanValueNode):
                return a.value.value
            if isinstance(a.value, VariableNode):
                return bool(variables.get(a.value.name.value))
    return False


def to_items(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> list[Item] | None:
    if selection_set is None:
        return None
    out: list[Item] = []
    for s in selection_set.selections:
        if not included(s, variables):
            continue
        if isinstance(s, FieldNode):
            out.append(
                Sel(
                    key=s.alias.value if s.alias else s.name.value,
                    name=s.name.value,
                    args=tuple(s.arguments or ()),
                    children=to_items(s.selection_set, fragments, variables),
                )
            )
        elif isinstance(s, InlineFragmentNode):
            cond = s.type_condition.name.value if s.type_condition else None
            out.append(Frag(cond, to_items(s.selection_set, fragments, variables) or []))
        elif isinstance(s, FragmentSpreadNode):
            frag = fragments.get(s.name.value)
            if frag is not None:
                out.append(
                    Frag(
                        frag.type_condition.name.value,
                        to_items(frag.selection_set, fragments, variables) or [],
                    )
                )
    return out


def collect_fields(
    items: list[Item], type_name: str, applies: Any, into: dict[str, Sel] | None = None
) -> dict[str, Sel]:
    """Fields that apply to an object of `type_name`, merged by response key.

    `applies(condition, type_name)` says whether a fragment's type condition
    matches the runtime type.
    """
    out: dict[str, Sel] = {} if into is None else into
    for it in items:
        if isinstance(it, Sel):
            prev = out.get(it.key)
            if prev is None:
                out[it.key] = Sel(
                    it.key, it.name, it.args, _copy(it.children), it.internal, it.avoid
                )
            elif it.children is not None:
                prev.children = (prev.children or []) + it.children
        elif it.type_condition is None or applies(it.type_condition, type_name):
            collect_fields(it.children, type_name, applies, out)
    return out


def _copy(children: list[Item] | None) -> list[Item] | None:
    return None if children is None else list(children)


def selection_to_items(ss: SelectionSetNode) -> list[Item]:
    """Planner-internal selections (keys, @requires) as items."""
    items = to_items(ss, {}, {}) or []

    def mark(xs: list[Item]) -> None:
        for x in xs:
            if isinstance(x, Sel):
                x.internal = True
                if x.children:
                    mark(x.children)
            else:
                mark(x.children)

    mark(items)
    return items
