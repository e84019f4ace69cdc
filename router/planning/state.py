"""Shared state of one planning run, and the groups it builds.

A group is one future fetch: a subgraph, the position in the response its
objects live at, and the selection it will ask for.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from router.planning.capabilities import Capabilities, Target
from router.planning.operation import Item, Sel
from router.planning.selection import SubSel
from router.supergraph.model import Subgraph, Supergraph


class PlanError(Exception):
    """No subgraph combination can serve the operation."""


@dataclass(slots=True)
class Group:
    id: int
    subgraph: Subgraph
    path: tuple[str, ...]
    sel: SubSel
    target: Target | None = None
    rep: SubSel | None = None
    rep_typename: str | None = None
    deps: set[int] = field(default_factory=set)

    @property
    def view(self) -> str:
        """The type an entity fetch selects on (`... on View`)."""
        if self.target is None:
            raise PlanError("a root fetch has no entity view")
        return self.target.view


Option = list[tuple[Target, list[Sel]]]


class BuildState:
    """What the walker and the jump planner share; each fills in the other's hooks."""

    def __init__(self, sg: Supergraph, caps: Capabilities) -> None:
        self.sg = sg
        self.caps = caps
        self.groups: list[Group] = []
        self.ids = itertools.count()
        self.choices: dict[object, Option] = {}
        #: response path of a field -> (parent type, field name, parent path)
        self.field_at: dict[tuple[str, ...], tuple[str, str, tuple[str, ...]]] = {}
        self.roots = {
            t.name
            for t in (sg.schema.query_type, sg.schema.mutation_type, sg.schema.subscription_type)
            if t is not None
        }

    # -- entry ---------------------------------------------------------------

    def _new_group(
        self,
        s: Subgraph,
        path: tuple[str, ...],
        target: Target | None = None,
        rep: SubSel | None = None,
        rep_typename: str | None = None,
        deps: set[int] | None = None,
    ) -> Group:
        g = Group(next(self.ids), s, path, SubSel(), target, rep, rep_typename, deps or set())
        self.groups.append(g)
        return g

    def _measure(self, mark: int) -> tuple[int, int, int]:
        """Cost of the groups built since `mark`: depth, fetches, fields fetched by jumps.

        The last term breaks ties towards plans that take more from the
        first fetch (a @provides path) and send less through entity calls.
        """
        depth: dict[int, int] = {}
        jumped = 0
        for g in self.groups[mark:]:
            depth[g.id] = 1 + max((depth.get(d, 0) for d in g.deps), default=0)
            if g.rep is not None:
                jumped += _size(g.sel)
        return (max(depth.values(), default=0), len(depth), jumped)

    # hooks implemented by the mixins -----------------------------------------

    def plan_object(
        self,
        s: Subgraph,
        group: Group,
        sel: SubSel,
        type_name: str,
        fields: Iterable[Sel],
        path: tuple[str, ...],
        pv: list[Item] | None,
        mirror: SubSel | None,
        chain: frozenset[Target] = frozenset(),
        allow_requires: bool = False,
        spill: list[Sel] | None = None,
    ) -> None:
        raise NotImplementedError

    def handle_missing(
        self,
        s: Subgraph,
        group: Group,
        sel: SubSel,
        type_name: str,
        missing: list[Sel],
        path: tuple[str, ...],
        pv: list[Item] | None,
        mirror: SubSel | None,
        chain: frozenset[Target],
    ) -> None:
        raise NotImplementedError

    def build_target(
        self,
        s: Subgraph,
        group: Group,
        sel: SubSel,
        type_name: str,
        path: tuple[str, ...],
        pv: list[Item] | None,
        target: Target,
        fields: list[Sel],
        mirror: SubSel | None,
        chain: frozenset[Target],
        siblings: list[Group],
        spill: list[Sel] | None = None,
    ) -> Group:
        raise NotImplementedError

    def root_missing(self, root: str, fields: list[Sel], exclude: Subgraph) -> None:
        raise NotImplementedError


def _size(sel: SubSel) -> int:
    n = len(sel.fields)
    for f in sel.fields.values():
        if f.sub is not None:
            n += _size(f.sub)
    for fs in sel.frags.values():
        n += _size(fs)
    return n
