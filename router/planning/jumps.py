"""Entity jumps: which subgraphs serve the fields a fetch cannot.

Every combination of candidate subgraphs is planned in a sandbox (groups
are appended, measured and cut back) and the one with the least sequential
depth, then the fewest fetches, wins. Keys and @requires fields that the
source cannot give are planned as missing fields themselves, so chains of
jumps fall out of the same recursion.
"""

from __future__ import annotations

import itertools

from graphql import print_ast

from router.planning.capabilities import Target
from router.planning.operation import Item, Sel, selection_to_items
from router.planning.selection import SubSel
from router.planning.state import BuildState, Group, Option, PlanError
from router.supergraph.model import Subgraph

_MAX_COMBOS = 64


class EntityJumps(BuildState):
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
        options = combos(cands)
        best: tuple[tuple[int, int, int, int], Option] | None = None
        error: PlanError | None = None
        for combo in options:
            option = _group(missing, combo)
            if len(options) == 1:
                best = ((0, 0, 0, 0), option)
                break
            mark = len(self.groups)
            try:
                self.build_option(s, group, SubSel(), type_name, path, pv, None, option, chain)
                cost = (*self._measure(mark), len(option))
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
                    s,
                    group,
                    sel,
                    type_name,
                    path,
                    pv,
                    target,
                    bucket,
                    mirror,
                    chain,
                    siblings,
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
        """Plan what a jump's target cannot reach, from the source if possible.

        The original source may hold keys the target lacks; only when it
        cannot serve the parts are they planned from the target.
        """
        mark = len(self.groups)
        try:
            self.handle_missing(s, group, sel, type_name, spill, path, pv, mirror, chain)
            return
        except PlanError:
            del self.groups[mark:]
        self.handle_missing(g.subgraph, g, g.sel, g.view, spill, path, None, mirror, chain)

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
                    self.plan_object(
                        sib.subgraph,
                        sib,
                        sib.sel,
                        sib.view,
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
            if self.caps.resolves(g.subgraph, g.view, f, None):
                return g
        return None

    # -- results ---------------------------------------------------------------


def combos(cands: list[list[Target]] | list[list[str]]) -> list[list]:  # type: ignore[type-arg]
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
