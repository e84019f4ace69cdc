"""Planner groups -> fetch nodes with printed subgraph operations.

Entity fetches to one subgraph that wait for the same fetches are merged
into a single `_entities` call, whatever their paths (aliases, several
lists) or types (each concrete type at an abstract position): a subgraph
gets one request per plan step. Selections on the same type are merged;
fields that sibling fragments select with different types are renamed
(see `fix_fragment_conflicts`) and renamed back by the executor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphql import OperationDefinitionNode, print_ast

from router.planning.plan import EntityPart, FetchNode
from router.planning.selection import SubSel, fix_fragment_conflicts, merge_into, mergeable
from router.supergraph.model import Supergraph

if TYPE_CHECKING:
    from router.planning.state import Group


class _Bucket:
    def __init__(self, g: Group) -> None:
        self.groups = [g]
        self.sel = SubSel()
        if g.rep is None:
            self.sel = g.sel
        else:
            merge_into(self.sel.frag(g.view), g.sel)

    def accepts(self, g: Group) -> bool:
        first = self.groups[0]
        if first.rep is None or g.rep is None:
            return False
        if first.subgraph.id != g.subgraph.id or first.deps != g.deps:
            return False
        if any(x.path == g.path and x.view == g.view for x in self.groups):
            # planned apart on purpose: their @requires need one field with
            # different arguments, which one representation cannot carry
            return False
        mine = self.sel.frags.get(g.view)
        return mine is None or mergeable(mine, g.sel)

    def add(self, g: Group) -> None:
        self.groups.append(g)
        merge_into(self.sel.frag(g.view), g.sel)


def assemble(
    sg: Supergraph, groups: list[Group], op: OperationDefinitionNode, kind: str
) -> list[FetchNode]:
    var_defs = {v.variable.name.value: print_ast(v) for v in op.variable_definitions or ()}
    buckets: list[_Bucket] = []
    for g in groups:
        for b in buckets:
            if b.accepts(g):
                b.add(g)
                break
        else:
            buckets.append(_Bucket(g))
    renumber = {g.id: i for i, b in enumerate(buckets) for g in b.groups}
    nodes: list[FetchNode] = []
    for i, b in enumerate(buckets):
        first = b.groups[0]
        restores = (b.sel,) if fix_fragment_conflicts(b.sel) else ()
        used = tuple(sorted(b.sel.variables(set())))
        decls = [var_defs[v] for v in used if v in var_defs]
        deps = tuple(sorted({renumber[d] for g in b.groups for d in g.deps if d in renumber}))
        if first.rep is None:
            head = kind + (f"({','.join(decls)})" if decls else "")
            query = head + (b.sel.print() or "{__typename}")
            parts: tuple[EntityPart, ...] = ()
        else:
            for fs in b.sel.frags.values():
                if fs.is_empty():
                    fs.typename = True
            args = ",".join(["$representations:[_Any!]!", *decls])
            query = f"query({args}){{_entities(representations:$representations){b.sel.print()}}}"
            parts = tuple(_part(sg, g) for g in b.groups)
        nodes.append(
            FetchNode(
                id=i,
                service=first.subgraph.id,
                service_name=first.subgraph.name,
                url=first.subgraph.url,
                query=query,
                variables=used,
                path=parts[0].path if parts else first.path,
                parts=parts,
                deps=deps,
                restore=restores,
            )
        )
    return nodes


def _part(sg: Supergraph, g: Group) -> EntityPart:
    path = g.path
    types: frozenset[str] | None = None
    if path and path[-1].startswith("|"):
        types = frozenset({path[-1][1:]})
        path = path[:-1]
    rep = g.rep or SubSel()
    return EntityPart(
        path=path,
        types=types,
        rep=rep,
        rep_typename=g.rep_typename,
        conditions=_conditions(sg, rep),
    )


def _conditions(
    sg: Supergraph, rep: SubSel, out: dict[str, frozenset[str]] | None = None
) -> dict[str, frozenset[str]]:
    out = {} if out is None else out
    for t, fs in rep.frags.items():
        out[t] = frozenset({t, *sg.possible.get(t, ())})
        _conditions(sg, fs, out)
    for f in rep.fields.values():
        if f.sub is not None:
            _conditions(sg, f.sub, out)
    return out
