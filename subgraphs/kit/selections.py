"""What an operation selects under the field being resolved, as execution will read it.

For a resolver that saves work its selection does not need (a page's
children loaded at once, a count nobody asked for): fields are walked
through inline fragments and named fragments, with @skip/@include decided
as execution decides them, so a field is seen exactly when it will be
resolved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
    VariableNode,
)


def included_fields(
    selection_set: SelectionSetNode | None, raw_info: Any, seen: set[str] | None = None
) -> Iterable[FieldNode]:
    """The included fields of a selection set, through fragments (@skip/@include honoured)."""
    if selection_set is None:
        return
    variables = raw_info.variable_values
    for node in selection_set.selections:
        if not included(node, variables):
            continue
        if isinstance(node, FieldNode):
            yield node
        elif isinstance(node, InlineFragmentNode):
            yield from included_fields(node.selection_set, raw_info, seen)
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            seen = seen if seen is not None else set()
            fragment = raw_info.fragments.get(name)
            if fragment is None or name in seen:
                continue
            seen.add(name)
            yield from included_fields(fragment.selection_set, raw_info, seen)


def included(node: Any, variables: dict[str, Any]) -> bool:
    """`@skip(if:)` and `@include(if:)` as execution reads them (`if` is a `Boolean!`)."""
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        condition = next((a.value for a in directive.arguments if a.name.value == "if"), None)
        if isinstance(condition, VariableNode):
            flag = variables.get(condition.name.value)
        elif isinstance(condition, BooleanValueNode):
            flag = condition.value
        else:
            continue
        if (name == "skip") is bool(flag):
            return False
    return True


def child_fields(nodes: Iterable[FieldNode], name: str, raw_info: Any) -> list[FieldNode]:
    return [
        child
        for node in nodes
        for child in included_fields(node.selection_set, raw_info)
        if child.name.value == name
    ]


def selects(raw_info: Any, name: str) -> bool:
    """Whether the field being resolved selects `name` directly (graphql-core's resolve info)."""
    return bool(child_fields(raw_info.field_nodes, name, raw_info))
