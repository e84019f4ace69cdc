"""Split an operation that uses `@defer` into its initial part and one part per fragment.

Each part is an ordinary operation that the existing planner and executor
run unchanged, so a deferred fragment becomes its own fetches: the initial
operation lacks the fragment (its fields are not fetched at all), and the
fragment's operation reaches it from the root through the fields on its
path and selects only the fragment there. A fragment whose fields live in
another subgraph than its parent is fetched there through the usual entity
jump; the fields on the path (and the keys the jump needs) are fetched
again from the root (re-entering at the parent's keys from the initial
answer would save that: not done). Non-deferred operations never come here.

A nested `@defer` belongs to the innermost deferred fragment around it: it
is cut out of that fragment's operation and becomes its own part, delivered
after its parent (`parent`), as the incremental delivery spec orders them.
`@defer(if: false)` (literal or variable) is an ordinary fragment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    Visitor,
    visit,
)

from router.planning.operation import included

DEFER = "defer"
#: what stands in for a selection set left empty by a cut-out fragment
_TYPENAME = FieldNode(name=NameNode(value="__typename"))


@dataclass(slots=True)
class DeferredPart:
    """One deferred fragment, as an operation that fetches only it."""

    index: int
    label: str | None
    #: response keys from the root to the object the fragment applies to
    path: tuple[str, ...]
    document: DocumentNode
    #: index of the deferred part this one is nested in (delivered first)
    parent: int | None = None


@dataclass(slots=True)
class DeferSplit:
    initial: DocumentNode
    parts: list[DeferredPart]


def uses_defer(doc: DocumentNode) -> bool:
    """Whether `@defer` appears anywhere in the document (cheap, no variables)."""
    found = False

    class Find(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> Any:
            nonlocal found
            if node.name.value == DEFER:
                found = True
                return Visitor.BREAK
            return None

    visit(doc, Find())
    return found


def _defer_directive(
    node: InlineFragmentNode | FragmentSpreadNode, variables: Mapping[str, Any]
) -> tuple[bool, str | None]:
    """(active, label) of the node's `@defer`; inactive when absent or `if` is false."""
    for d in node.directives or ():
        if d.name.value != DEFER:
            continue
        active = True
        label: str | None = None
        for a in d.arguments or ():
            if a.name.value == "if":
                if isinstance(a.value, BooleanValueNode):
                    active = a.value.value
                elif isinstance(a.value, VariableNode):
                    # an absent variable takes the directive's default, true
                    active = bool(variables.get(a.value.name.value, True))
            elif a.name.value == "label" and isinstance(a.value, StringValueNode):
                label = a.value.value
        return active, label
    return False, None


def _without_defer(directives: Any) -> tuple[DirectiveNode, ...]:
    return tuple(d for d in directives or () if d.name.value != DEFER)


class _Splitter:
    def __init__(
        self,
        op: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.op = op
        self.fragments = fragments
        self.variables = variables
        self.parts: list[DeferredPart] = []

    def selections(
        self,
        ss: SelectionSetNode,
        wrappers: tuple[SelectionNode, ...],
        parent: int | None,
    ) -> SelectionSetNode:
        """`ss` with its active deferred fragments cut out (each recorded as a part)."""
        out: list[SelectionNode] = []
        for s in ss.selections:
            if isinstance(s, FragmentSpreadNode):
                frag = self.fragments.get(s.name.value)
                if frag is None:
                    continue
                # inline named fragments: every part is one self-contained operation
                s = InlineFragmentNode(
                    type_condition=frag.type_condition,
                    directives=tuple(s.directives or ()),
                    selection_set=frag.selection_set,
                )
            if isinstance(s, FieldNode):
                if s.selection_set is not None:
                    s = replace(
                        s,
                        selection_set=self.selections(s.selection_set, (*wrappers, s), parent),
                    )
                out.append(s)
                continue
            assert isinstance(s, InlineFragmentNode)  # noqa: S101 - the three selection kinds
            active, label = _defer_directive(s, self.variables)
            plain = replace(s, directives=_without_defer(s.directives))
            # a type condition stays on the way to a fragment nested below it
            inner_wrappers = (*wrappers, plain) if s.type_condition is not None else wrappers
            if not active:
                out.append(
                    replace(
                        plain,
                        selection_set=self.selections(s.selection_set, inner_wrappers, parent),
                    )
                )
                continue
            if not included(s, self.variables):
                continue  # skipped: neither now nor later
            index = len(self.parts)
            part = DeferredPart(index, label, _path(wrappers), DocumentNode(), parent)
            self.parts.append(part)
            inner = replace(
                plain, selection_set=self.selections(s.selection_set, inner_wrappers, index)
            )
            part.document = self.document(_wrap(wrappers, inner))
        return replace(ss, selections=tuple(out) or (_TYPENAME,))

    def document(self, selection_set: SelectionSetNode) -> DocumentNode:
        op = replace(self.op, selection_set=selection_set)
        used = _variables(selection_set)
        op = replace(
            op,
            variable_definitions=tuple(
                v for v in op.variable_definitions or () if v.variable.name.value in used
            ),
        )
        return DocumentNode(definitions=(op,))


def _path(wrappers: tuple[SelectionNode, ...]) -> tuple[str, ...]:
    return tuple((w.alias or w.name).value for w in wrappers if isinstance(w, FieldNode))


def _wrap(wrappers: tuple[SelectionNode, ...], inner: SelectionNode) -> SelectionSetNode:
    """The root selection that reaches `inner` through `wrappers` (outermost first)."""
    node = inner
    for w in reversed(wrappers):
        node = replace(w, selection_set=SelectionSetNode(selections=(node,)))  # type: ignore[call-arg]
    return SelectionSetNode(selections=(node,))


def _variables(node: Any) -> set[str]:
    names: set[str] = set()

    class Collect(Visitor):
        def enter_variable(self, v: VariableNode, *_: Any) -> None:
            names.add(v.name.value)

    visit(node, Collect())
    return names


def split_defer(
    doc: DocumentNode, op: OperationDefinitionNode, variables: Mapping[str, Any]
) -> DeferSplit | None:
    """The initial operation and the deferred parts; None when nothing is deferred.

    Only queries are split: a deferred part runs its own operation, and a
    mutation must run once (a deferred mutation is answered whole).
    """
    if op.operation.value != "query" or not uses_defer(doc):
        return None
    fragments = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    splitter = _Splitter(op, fragments, variables)
    initial = splitter.selections(op.selection_set, (), None)
    if not splitter.parts:
        return None
    return DeferSplit(splitter.document(initial), splitter.parts)
