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

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from graphql import OperationDefinitionNode, print_ast

from router.planning.capabilities import Capabilities, Target, list_depth, named_type
from router.planning.operation import Item, Sel, selection_to_items
from router.planning.assemble import assemble
from router.planning.plan import FetchNode, QueryPlan
from router.planning.selection import SubSel
from router.supergraph.model import Subgraph, Supergraph

_MAX_COMBOS = 64


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


Option = list[tuple[Target, list[Sel]]]


class Planner:
    def __init__(self, sg: Supergraph) -> None:
        self.sg = sg
        self.caps = Capabilities(sg)

    def plan(self, op: OperationDefinitionNode, items: list[Item]) -> QueryPlan:
        return _Build(self.sg, self.caps).run(op, items)


class _Build:
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
        return QueryPlan(kind, self._nodes(op, kind), introspection)

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
            mark = len(self.groups)
            g = self._new_group(self.sg.subgraphs[cands[0]], (), deps={x.id for x in self.groups})
            self.plan_object(g.subgraph, g, g.sel, root, [f], (), None, None)
            prev = g
            del mark

    def _plan_query(self, root: str, fields: list[Sel]) -> None:
        cands = [self._root_candidates(root, f) for f in fields]
        best: tuple[tuple[int, int, int], list[str]] | None = None
        combos = _combos(cands)
        error: PlanError | None = None
        for combo in combos:
            mark = len(self.groups)
            try:
                self._build_root(root, fields, combo)
                cost = (*self._measure(mark, None), len(set(combo)))
            except PlanError as exc:
                error = exc
                continue
            finally:
                del self.groups[mark:]
            if best is None or cost < best[0]:
                best = (cost, combo)
            if len(combos) == 1:
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
        missing: list[Sel] = []
        for f in fields:
            if f.name == "__typename":
                sel.typename = True
                continue
            if not self.caps.resolves(s, type_name, f, pv, allow_requires):
                missing.append(f)
                continue
            fi = s.field(type_name, f.name)
            assert fi is not None
            if f.children is not None:
                cpv = self.caps.child_provides(fi, f, type_name, pv)
                local, remote = self._split_unreachable(s, fi.type, f, cpv)
                if remote is not None:
                    missing.append(remote)
                    if local is None:
                        continue
                    f = local
            composite = f.children is not None
            sf = sel.add(f.name, f.args, f.key, composite, f.internal, fi.type)
            msub: SubSel | None = None
            if mirror is not None:
                mf = mirror.add(f.name, f.args, f.name, composite, False)
                mf.alias = sf.key if sf.key != f.name else None
                msub = mf.sub
            if composite:
                assert sf.sub is not None and f.children is not None
                self.field_at[(*path, sf.key)] = (type_name, f.name, path)
                cpv = self.caps.child_provides(fi, f, type_name, pv)
                self.plan_child(s, group, sf.sub, fi.type, f.children, (*path, sf.key), cpv, msub)
        if missing and spill is not None:
            spill.extend(missing)
        elif missing:
            if type_name in self.roots:
                self._root_missing(type_name, missing, s)
            else:
                self.handle_missing(s, group, sel, type_name, missing, path, pv, mirror, chain)

    def _split_unreachable(
        self, s: Subgraph, type_str: str, f: Sel, pv: list[Item] | None
    ) -> tuple[Sel | None, Sel | None]:
        """Split off the children `s` cannot reach, even through an entity jump.

        They are fetched by asking another subgraph for the same parent field
        (shared root fields, parent entity calls); the answers merge by key.
        """
        name = named_type(type_str)
        t = s.types.get(name)
        if t is None or t.kind != "object" or t.interface_object or not f.children:
            return f, None
        fields = self.caps.fields(f.children, name)
        remote = [
            g
            for g in fields.values()
            if not self.caps.resolves(s, name, g, pv)
            and not self.caps.targets(name, g, exclude=s.id)
        ]
        if not remote:
            return f, None
        keep = [g for k, g in fields.items() if all(r.key != k for r in remote)]
        local = Sel(f.key, f.name, f.args, list(keep), f.internal, f.avoid) if keep else None
        return local, Sel(f.key, f.name, f.args, list(remote), f.internal, f.avoid | {s.id})

    def _root_missing(self, root: str, fields: list[Sel], exclude: Subgraph) -> None:
        for f in fields:
            cands = [
                c for c in self._root_candidates(root, f) if c != exclude.id and c not in f.avoid
            ]
            if not cands:
                raise PlanError(f"no other subgraph resolves {root}.{f.name}")
            existing = [
                g for g in self.groups if g.rep is None and g.subgraph.id in cands and not g.deps
            ]
            if existing:
                g = existing[0]
            else:
                g = self._new_group(self.sg.subgraphs[cands[0]], ())
            self.plan_object(g.subgraph, g, g.sel, root, [f], (), None, None)

    def plan_child(
        self,
        s: Subgraph,
        group: Group,
        sel: SubSel,
        type_str: str,
        items: list[Item],
        path: tuple[str, ...],
        pv: list[Item] | None,
        mirror: SubSel | None,
    ) -> None:
        name = named_type(type_str)
        path = path + ("@",) * list_depth(type_str)
        t = s.types.get(name)
        if t is None:
            raise PlanError(f"subgraph {s.name} does not know type {name}")
        sel.typename = True
        if t.interface_object:
            self.plan_interface_object(s, group, sel, name, items, path, pv, mirror)
        elif t.kind == "object":
            self.plan_object(
                s, group, sel, name, self.caps.fields(items, name).values(), path, pv, mirror
            )
        elif not s.possible_types(name):
            # The subgraph knows no implementation: only interface fields can be asked.
            fields = self.caps.fields(items, name).values()
            self.plan_object(s, group, sel, name, fields, path, pv, mirror)
        else:
            for c in sorted(self._safe_members(s, name, path)):
                fc = self.caps.fields(items, c)
                if fc:
                    self.plan_object(
                        s,
                        group,
                        sel.frag(c),
                        c,
                        fc.values(),
                        (*path, "|" + c),
                        pv,
                        mirror.frag(c) if mirror is not None else None,
                    )

    def _safe_members(self, s: Subgraph, abstract: str, path: tuple[str, ...]) -> set[str]:
        """Members of `abstract` that every subgraph able to serve this path knows.

        Below a shareable path that starts at an entity, another subgraph
        could have produced the same objects; only members they all know
        are safe to ask for, the rest come back as nulls.
        """
        members = set(s.possible_types(abstract))
        chain: list[tuple[str, str]] = []
        key = _strip(path)
        while key in self.field_at:
            ptype, fname, ppath = self.field_at[key]
            chain.insert(0, (ptype, fname))
            if any(t.types.get(ptype) and t.types[ptype].resolvable_keys for t in self.sg.subgraphs.values()):
                for other in self.sg.subgraphs.values():
                    t = other.types.get(ptype)
                    if other is s or t is None or not t.resolvable_keys:
                        continue
                    if all(
                        self.caps.resolves(other, pt, Sel(fn, fn), None) for pt, fn in chain
                    ):
                        members &= other.possible_types(abstract)
                break
            key = _strip(ppath)
        return members

    def plan_interface_object(
        self,
        s: Subgraph,
        group: Group,
        sel: SubSel,
        iface: str,
        items: list[Item],
        path: tuple[str, ...],
        pv: list[Item] | None,
        mirror: SubSel | None,
    ) -> None:
        """An @interfaceObject answers with the interface's name as __typename.

        Anything beyond the interface's own fields (concrete fragments,
        __typename) needs the real type, which only a subgraph that knows
        the implementations can tell: one jump there resolves it, and
        concrete fields are planned from that jump.
        """
        at_iface = self.caps.fields(items, iface)
        per_type = {c: self.caps.fields(items, c) for c in sorted(self.sg.possible_types(iface))}
        typename = any(f.name == "__typename" for f in at_iface.values()) or any(
            f.name == "__typename" for fs in per_type.values() for f in fs.values()
        )
        rest = {c: [f for k, f in fs.items() if k not in at_iface] for c, fs in per_type.items()}
        self.plan_object(
            s,
            group,
            sel,
            iface,
            [f for f in at_iface.values() if f.name != "__typename"],
            path,
            pv,
            mirror,
        )
        if not typename and not any(rest.values()):
            return
        target = self._type_resolver(s, iface, pv)
        g = self.build_target(s, group, sel, iface, path, pv, target, [], None, frozenset(), [])
        g.sel.typename = True
        s2 = g.subgraph
        for c in sorted(s2.possible_types(iface)):
            if rest.get(c):
                self.plan_object(
                    s2,
                    g,
                    g.sel.frag(c),
                    c,
                    rest[c],
                    (*path, "|" + c),
                    None,
                    mirror.frag(c) if mirror is not None else None,
                )

    def _type_resolver(self, s: Subgraph, iface: str, pv: list[Item] | None) -> Target:
        fallback: Target | None = None
        for sid, s2 in self.sg.subgraphs.items():
            t = s2.types.get(iface)
            if t is None or t.interface_object or t.kind != "interface" or not t.resolvable_keys:
                continue
            target = Target(sid, iface)
            for k in t.resolvable_keys:
                if self.caps.provides_all(s, iface, selection_to_items(k.selection), pv):
                    return target
            fallback = fallback or target
        if fallback is None:
            raise PlanError(f"no subgraph can tell the concrete type of {iface}")
        return fallback

    # -- entity jumps ----------------------------------------------------------

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
        option = self.choose(s, group, type_name, missing, path, pv, chain)
        self.build_option(s, group, sel, type_name, path, pv, mirror, option, chain)

    def choose(
        self,
        s: Subgraph,
        group: Group,
        type_name: str,
        missing: list[Sel],
        path: tuple[str, ...],
        pv: list[Item] | None,
        chain: frozenset[Target],
    ) -> Option:
        memo_key = (s.id, type_name, path, tuple(_shape(f) for f in missing), chain)
        cached = self.choices.get(memo_key)
        if cached is not None:
            return cached
        cands: list[list[Target]] = []
        for f in missing:
            ts = [
                t
                for t in self.caps.targets(type_name, f, exclude=s.id)
                if t not in chain and t.subgraph not in f.avoid
            ]
            if not ts:
                raise PlanError(f"cannot plan field {type_name}.{f.name}")
            cands.append(ts)
        combos = _combos(cands)
        best: tuple[tuple[int, int, int], Option] | None = None
        error: PlanError | None = None
        for combo in combos:
            option = _group(missing, combo)
            if len(combos) == 1:
                best = ((0, 0, 0), option)
                break
            mark = len(self.groups)
            try:
                self.build_option(s, group, SubSel(), type_name, path, pv, None, option, chain)
                cost = (*self._measure(mark, group.id), len(option))
            except PlanError as exc:
                error = exc
                continue
            finally:
                del self.groups[mark:]
            if best is None or cost < best[0]:
                best = (cost, option)
        if best is None:
            raise error or PlanError(f"cannot plan fields of {type_name} at {'.'.join(path)}")
        self.choices[memo_key] = best[1]
        return best[1]

    def build_option(
        self,
        s: Subgraph,
        group: Group,
        sel: SubSel,
        type_name: str,
        path: tuple[str, ...],
        pv: list[Item] | None,
        mirror: SubSel | None,
        option: Option,
        chain: frozenset[Target],
    ) -> None:
        siblings: list[Group] = []
        for target, fields in option:
            for bucket in self._split_conflicting_requires(target, fields):
                spill: list[Sel] = []
                g = self.build_target(
                    s, group, sel, type_name, path, pv, target, bucket, mirror, chain, siblings,
                    spill,
                )
                siblings.append(g)
                if spill:
                    self._replan_spill(s, group, sel, g, type_name, path, pv, mirror, chain, spill)

    def _replan_spill(
        self,
        s: Subgraph,
        group: Group,
        sel: SubSel,
        g: Group,
        type_name: str,
        path: tuple[str, ...],
        pv: list[Item] | None,
        mirror: SubSel | None,
        chain: frozenset[Target],
        spill: list[Sel],
    ) -> None:
        """Parts of a jumped field that its target cannot reach are planned
        from the original source first (it may hold keys the target lacks),
        then from the target."""
        mark = len(self.groups)
        try:
            self.handle_missing(s, group, sel, type_name, spill, path, pv, mirror, chain)
            return
        except PlanError:
            del self.groups[mark:]
        assert g.target is not None
        self.handle_missing(g.subgraph, g, g.sel, g.target.view, spill, path, None, mirror, chain)

    def _split_conflicting_requires(self, target: Target, fields: list[Sel]) -> list[list[Sel]]:
        """Fields whose @requires ask one field with different arguments need separate fetches."""
        s2 = self.sg.subgraphs[target.subgraph]
        buckets: list[tuple[dict[str, str], list[Sel]]] = []
        for f in fields:
            fi = s2.field(target.view, f.name)
            sig: dict[str, str] = {}
            if fi is not None and fi.requires is not None:
                for r in fi.requires.selections:
                    sig[r.name.value] = print_ast(r)  # type: ignore[attr-defined]
            for bsig, bfields in buckets:
                if all(bsig.get(k, v) == v for k, v in sig.items()):
                    bsig.update(sig)
                    bfields.append(f)
                    break
            else:
                buckets.append((sig, [f]))
        return [b for _, b in buckets]

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
        s2 = self.sg.subgraphs[target.subgraph]
        rep = SubSel()
        deps = {group.id}
        mark = len(self.groups)
        keys = self.caps.keys(target)
        direct = [
            k
            for k in keys
            if self.caps.provides_all(s, type_name, selection_to_items(k.selection), pv)
        ]
        key = direct[0] if direct else None
        if key is not None:
            self.plan_object(
                s,
                group,
                sel,
                type_name,
                self.caps.fields(selection_to_items(key.selection), type_name).values(),
                path,
                pv,
                rep,
            )
        else:
            if target in chain:
                raise PlanError("cyclic key requirement")
            error: PlanError | None = None
            for k in keys:
                try:
                    self.plan_object(
                        s,
                        group,
                        sel,
                        type_name,
                        self.caps.fields(selection_to_items(k.selection), type_name).values(),
                        path,
                        pv,
                        rep,
                        chain | {target},
                    )
                    break
                except PlanError as exc:
                    error = exc
                    del self.groups[mark:]
                    rep = SubSel()
            else:
                raise error or PlanError(f"{target.subgraph} has no resolvable key")
        requires: list[Item] = []
        for f in fields:
            fi = s2.field(target.view, f.name)
            if fi is not None and fi.requires is not None:
                requires.extend(selection_to_items(fi.requires))
        if requires:
            rest: list[Sel] = []
            for f in self.caps.fields(requires, type_name).values():
                sib = self._sibling_for(f, type_name, siblings, s, pv)
                if sib is not None:
                    assert sib.target is not None
                    self.plan_object(
                        sib.subgraph,
                        sib,
                        sib.sel,
                        sib.target.view,
                        [f],
                        path,
                        None,
                        rep,
                        chain | {target},
                    )
                    deps.add(sib.id)
                else:
                    rest.append(f)
            if rest:
                self.plan_object(s, group, sel, type_name, rest, path, pv, rep, chain)
        deps.update(g.id for g in self.groups[mark:])
        view_type = s2.types[target.view]
        g = self._new_group(
            s2,
            path,
            target,
            rep,
            target.view if view_type.interface_object else None,
            deps,
        )
        self.plan_object(
            s2, g, g.sel, target.view, fields, path, None, mirror, allow_requires=True, spill=spill
        )
        return g

    def _sibling_for(
        self,
        f: Sel,
        type_name: str,
        siblings: list[Group],
        s: Subgraph,
        pv: list[Item] | None,
    ) -> Group | None:
        if self.caps.resolves(s, type_name, f, pv):
            return None
        for g in siblings:
            assert g.target is not None
            if self.caps.resolves(g.subgraph, g.target.view, f, None):
                return g
        return None

    # -- results ---------------------------------------------------------------

    def _measure(self, mark: int, source: int | None) -> tuple[int, int]:
        depth: dict[int, int] = {}
        for g in self.groups[mark:]:
            depth[g.id] = 1 + max((depth.get(d, 0) for d in g.deps), default=0)
        return (max(depth.values(), default=0), len(depth))

    def _nodes(self, op: OperationDefinitionNode, kind: str) -> list[FetchNode]:
        return assemble(self.sg, self.groups, op, kind)


def _combos(cands: list[list[Target]] | list[list[str]]) -> list[list]:  # type: ignore[type-arg]
    total = 1
    for c in cands:
        total *= len(c)
    if total <= _MAX_COMBOS:
        return [list(c) for c in itertools.product(*cands)]
    # Too many: prefer candidates that cover the most fields, greedily.
    score: dict[object, int] = {}
    for c in cands:
        for t in c:
            score[t] = score.get(t, 0) + 1
    return [[max(c, key=lambda t: score[t]) for c in cands]]


def _group(fields: list[Sel], combo: list[Target]) -> Option:
    out: dict[Target, list[Sel]] = {}
    for f, t in zip(fields, combo, strict=True):
        out.setdefault(t, []).append(f)
    return list(out.items())


def _shape(f: Sel) -> object:
    """Identity of a field selection for the choice memo (split parts differ)."""
    kids: list[object] = []
    for c in f.children or ():
        kids.append(_shape(c) if isinstance(c, Sel) else (c.type_condition, len(c.children)))
    return (f.key, f.avoid, tuple(kids))


def _strip(path: tuple[str, ...]) -> tuple[str, ...]:
    while path and (path[-1] == "@" or path[-1][0] == "|"):
        path = path[:-1]
    return path
