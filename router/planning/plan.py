"""The plan: fetch nodes with explicit dependencies.

The executor starts each fetch as soon as the fetches it depends on have
merged their data; `describe()` renders the same plan as the familiar
Sequence/Parallel/Flatten tree for logs and tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from router.planning.selection import SubSel


@dataclass(slots=True)
class EntityPart:
    """Where one merged entity fetch finds its objects, and how to represent them."""

    #: where the objects live in the merged response; "@" walks a list
    path: tuple[str, ...]
    #: __typename values this part applies to; None: every object
    types: frozenset[str] | None
    #: key and @requires fields sent in each representation
    rep: SubSel
    #: typename for representations when the target knows the type only
    #: through an @interfaceObject
    rep_typename: str | None = None
    #: for fragments in `rep`: type condition -> object types it matches
    conditions: dict[str, frozenset[str]] = field(default_factory=dict)
    #: the executor's compiled representer (execution/represent.py), made at first use
    build: Any = field(default=None, repr=False, compare=False)


@dataclass(slots=True)
class FetchNode:
    id: int
    service: str
    service_name: str
    url: str
    query: str
    variables: tuple[str, ...]
    #: root fetches: where the data goes (always the root); entity fetches:
    #: the first part's path, for display
    path: tuple[str, ...] = ()
    #: entity fetches: one part per type condition merged into this fetch
    parts: tuple[EntityPart, ...] = ()
    deps: tuple[int, ...] = ()
    #: selections to rename aliased fields back by (see fix_fragment_conflicts)
    restore: tuple[SubSel, ...] = ()

    @property
    def is_entity(self) -> bool:
        return bool(self.parts)


@dataclass(slots=True)
class QueryPlan:
    kind: str
    nodes: list[FetchNode]
    #: root fields answered by the router itself (introspection)
    introspection: bool = False
    #: the compiled response shape (router.execution.shaping), cached with the plan
    shape: Any = None
    #: @skip/@include variables this plan was specialised for
    conditions: dict[str, bool] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        levels: dict[int, int] = {}
        by_id = {n.id: n for n in self.nodes}

        def level(n: FetchNode) -> int:
            if n.id not in levels:
                levels[n.id] = 1 + max((level(by_id[d]) for d in n.deps), default=0)
            return levels[n.id]

        steps: dict[int, list[dict[str, Any]]] = {}
        for n in self.nodes:
            fetch: dict[str, Any] = {"kind": "Fetch", "service": n.service_name, "query": n.query}
            paths = ", ".join(
                ".".join(p.path) + (f"|[{','.join(sorted(p.types))}]" if p.types else "")
                for p in n.parts
            )
            node = {"kind": "Flatten", "path": paths, "node": fetch} if n.parts else fetch
            steps.setdefault(level(n), []).append(node)
        seq = [
            s[0] if len(s) == 1 else {"kind": "Parallel", "nodes": s}
            for _, s in sorted(steps.items())
        ]
        out: dict[str, Any] = seq[0] if len(seq) == 1 else {"kind": "Sequence", "nodes": seq}
        for var, value in sorted(self.conditions.items(), reverse=True):
            branch = "then" if value else "else"
            out = {"kind": "Condition", "if": f"${var}", branch: out}
        return out
