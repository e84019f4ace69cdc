"""Operation + supergraph -> plan.

Each selection is planned inside the subgraph that fetches its parent.  A
field that subgraph cannot resolve is reached by an entity jump; when
several subgraphs (or several combinations of them) could serve the
missing fields, every combination is planned in a sandbox and the one with
the least sequential depth, then the fewest fetches, wins.  Keys and
@requires fields that the source cannot give are themselves planned as
missing fields, so chains of jumps fall out of the same recursion.
"""

from __future__ import annotations

from graphql import OperationDefinitionNode

from router.planning.assemble import assemble
from router.planning.capabilities import Capabilities
from router.planning.jumps import EntityJumps, combos
from router.planning.operation import Item, Sel
from router.planning.plan import QueryPlan
from router.planning.state import Group, PlanError
from router.planning.walk import SelectionWalker
from router.supergraph.model import Subgraph, Supergraph

__all__ = ["PlanError", "Planner"]


class Planner:
    def __init__(self, sg: Supergraph) -> None:
        self.sg = sg
        self.caps = Capabilities(sg)

    def plan(self, op: OperationDefinitionNode, items: list[Item]) -> QueryPlan:
        return _Build(self.sg, self.caps).run(op, items)


class _Build(SelectionWalker, EntityJumps):
    def run(self, op: OperationDefinitionNode, items: list[Item]) -> QueryPlan:
        kind = op.operation.value
        root = self._root_name(kind)
        fields = [
            f
            for f in self.caps.fields(items, root).values()
            if f.name not in ("__typename", "__schema", "__type")
        ]
        introspection = any(
            f.name in ("__schema", "__type") for f in self.caps.fields(items, root).values()
        )
        if kind == "mutation":
            self._plan_mutation(root, fields)
        elif fields:
            self._plan_query(root, fields)
        return QueryPlan(kind, assemble(self.sg, self.groups, op, kind), introspection)

    def _root_name(self, kind: str) -> str:
        t = {
            "query": self.sg.schema.query_type,
            "mutation": self.sg.schema.mutation_type,
            "subscription": self.sg.schema.subscription_type,
        }[kind]
        if t is None:
            raise PlanError(f"the schema has no {kind} type")
        return t.name

    def _root_candidates(self, root: str, f: Sel) -> list[str]:
        out = [
            sid
            for sid, s in self.sg.subgraphs.items()
            if root in s.types and self.caps.resolves(s, root, f, None)
        ]
        if not out:
            raise PlanError(f"no subgraph resolves {root}.{f.name}")
        return out

    def _plan_mutation(self, root: str, fields: list[Sel]) -> None:
        prev: Group | None = None
        for f in fields:
            cands = self._root_candidates(root, f)
            if prev is not None and prev.subgraph.id in cands and prev is self.groups[-1]:
                self.plan_object(prev.subgraph, prev, prev.sel, root, [f], (), None, None)
                continue
            # after everything planned so far, so mutations run in written order
            g = self._new_group(self.sg.subgraphs[cands[0]], (), deps={x.id for x in self.groups})
            self.plan_object(g.subgraph, g, g.sel, root, [f], (), None, None)
            prev = g

    def _plan_query(self, root: str, fields: list[Sel]) -> None:
        cands = [self._root_candidates(root, f) for f in fields]
        best: tuple[tuple[int, int, int, int], list[str]] | None = None
        options = combos(cands)
        error: PlanError | None = None
        for combo in options:
            mark = len(self.groups)
            try:
                self._build_root(root, fields, combo)
                cost = (*self._measure(mark), len(set(combo)))
            except PlanError as exc:
                error = exc
                continue
            finally:
                del self.groups[mark:]
            if best is None or cost < best[0]:
                best = (cost, combo)
            if len(options) == 1:
                break
        if best is None:
            raise error or PlanError("no subgraph combination resolves the root fields")
        self._build_root(root, fields, best[1])

    def _build_root(self, root: str, fields: list[Sel], combo: list[str]) -> None:
        by_sg: dict[str, list[Sel]] = {}
        for f, sid in zip(fields, combo, strict=True):
            by_sg.setdefault(sid, []).append(f)
        for sid, fs in by_sg.items():
            g = self._new_group(self.sg.subgraphs[sid], ())
            self.plan_object(g.subgraph, g, g.sel, root, fs, (), None, None)

    # -- selections inside one subgraph ---------------------------------------

    def root_missing(self, root: str, fields: list[Sel], exclude: Subgraph) -> None:
        for f in fields:
            cands = [
                c for c in self._root_candidates(root, f) if c != exclude.id and c not in f.avoid
            ]
            if not cands:
                raise PlanError(f"no other subgraph resolves {root}.{f.name}")
            existing = [
                g for g in self.groups if g.rep is None and g.subgraph.id in cands and not g.deps
            ]
            g = existing[0] if existing else self._new_group(self.sg.subgraphs[cands[0]], ())
            self.plan_object(g.subgraph, g, g.sel, root, [f], (), None, None)
