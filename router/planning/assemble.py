"""Planner groups -> fetch nodes with printed subgraph operations.

Entity fetches planned separately for each concrete type at one abstract
position (same subgraph, same inputs) are merged into a single `_entities`
call here, so a subgraph gets one request per plan step however many types
the list holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphql import OperationDefinitionNode, print_ast

from router.planning.plan import EntityPart, FetchNode
from router.planning.selection import SubSel, fix_fragment_conflicts
from router.supergraph.model import Supergraph

if TYPE_CHECKING:
    from router.planning.state import Group


def assemble(
    sg: Supergraph, groups: list[Group], op: OperationDefinitionNode, kind: str
) -> list[FetchNode]:
    var_defs = {v.variable.name.value: print_ast(v) for v in op.variable_definitions or ()}
    buckets = _merge(groups)
    renumber: dict[int, int] = {}
    for i, bucket in enumerate(buckets):
        for g in bucket:
            renumber[g.id] = i
    nodes: list[FetchNode] = []
    for i, bucket in enumerate(buckets):
        first = bucket[0]
        restores = tuple(g.sel for g in bucket if fix_fragment_conflicts(g.sel))
        used_set: set[str] = set()
        for g in bucket:
            g.sel.variables(used_set)
        used = tuple(sorted(used_set))
        decls = [var_defs[v] for v in used if v in var_defs]
        deps = tuple(sorted({renumber[d] for g in bucket for d in g.deps if d in renumber}))
        if first.rep is None:
            head = kind + (f"({','.join(decls)})" if decls else "")
            query = head + (first.sel.print() or "{__typename}")
            parts: tuple[EntityPart, ...] = ()
            path = first.path
        else:
            frags: list[str] = []
            for g in bucket:
                frag = f"...on {g.view}{g.sel.print() or '{__typename}'}"
                if frag not in frags:
                    frags.append(frag)
            args = ",".join(["$representations:[_Any!]!", *decls])
            query = (
                f"query({args}){{_entities(representations:$representations){{{' '.join(frags)}}}}}"
            )
            parts = tuple(_part(sg, g) for g in bucket)
            path = _prefix(first.path) if len(bucket) > 1 else first.path
            if len(bucket) == 1 and _filter(first.path) is not None:
                path = _prefix(first.path)
        nodes.append(
            FetchNode(
                id=i,
                service=first.subgraph.id,
                service_name=first.subgraph.name,
                url=first.subgraph.url,
                query=query,
                variables=used,
                path=path,
                parts=parts,
                deps=deps,
                restore=restores,
            )
        )
    return nodes


def _filter(path: tuple[str, ...]) -> str | None:
    return path[-1][1:] if path and path[-1].startswith("|") else None


def _prefix(path: tuple[str, ...]) -> tuple[str, ...]:
    return path[:-1] if _filter(path) is not None else path


def _part(sg: Supergraph, g: Group) -> EntityPart:
    t = _filter(g.path)
    rep = g.rep or SubSel()
    return EntityPart(
        types=frozenset({t}) if t is not None else None,
        rep=rep,
        rep_typename=g.rep_typename,
        conditions=_conditions(sg, rep),
    )


def _merge(groups: list[Group]) -> list[list[Group]]:
    """Bucket entity groups that differ only in the type they filter on."""
    out: list[list[Group]] = []
    open_: dict[object, list[Group]] = {}
    for g in groups:
        t = _filter(g.path)
        if g.rep is None or t is None:
            out.append([g])
            continue
        key = (g.subgraph.id, _prefix(g.path), frozenset(g.deps))
        bucket = open_.get(key)
        if bucket is not None and all(_filter(x.path) != t for x in bucket):
            bucket.append(g)
            continue
        bucket = [g]
        open_[key] = bucket
        out.append(bucket)
    return out


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
