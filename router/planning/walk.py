"""Walking a selection inside one subgraph's fetch.

Fields the subgraph resolves stay in its selection; the rest are handed
to the entity-jump planner. Abstract types are expanded to the concrete
types the subgraph can return, and an @interfaceObject position gets one
jump to learn the real type when the client needs it.
"""

from __future__ import annotations

from collections.abc import Iterable

from router.planning.capabilities import Target, list_depth, named_type
from router.planning.operation import Item, Sel, selection_to_items
from router.planning.selection import SubSel
from router.planning.state import BuildState, Group, PlanError
from router.supergraph.model import Subgraph


class SelectionWalker(BuildState):
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
            if fi is None:
                missing.append(f)
                continue
            if f.children is not None:
                cpv = self.caps.child_provides(fi, f, type_name, pv)
                local, remote = self._split_unreachable(s, fi.type, f, cpv)
                if remote is not None:
                    missing.append(remote)
                    if local is None:
                        continue
                    f = local
            composite = f.children is not None
            known = set(sel.fields)
            sf = sel.add(f.name, f.args, f.key, composite, f.internal, fi.type)
            msub: SubSel | None = None
            if mirror is not None:
                mf = mirror.add(f.name, f.args, f.name, composite, False)
                mf.alias = sf.key if sf.key != f.name else None
                msub = mf.sub
            if sf.sub is not None and f.children is not None:
                self.field_at[(*path, sf.key)] = (type_name, f.name, path)
                cpv = self.caps.child_provides(fi, f, type_name, pv)
                mark = len(self.groups)
                try:
                    self.plan_child(
                        s, group, sf.sub, fi.type, f.children, (*path, sf.key), cpv, msub
                    )
                except PlanError:
                    # Below this field the subgraph is stuck; another subgraph
                    # may serve the whole field. Only a field added just now
                    # can be taken back out.
                    if sf.key in known or mirror is not None:
                        raise
                    del self.groups[mark:]
                    del sel.fields[sf.key]
                    missing.append(
                        Sel(f.key, f.name, f.args, f.children, f.internal, f.avoid | {s.id})
                    )
        if missing and spill is not None:
            spill.extend(missing)
        elif missing:
            if type_name in self.roots:
                self.root_missing(type_name, missing, s)
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
            if any(
                t.types.get(ptype) and t.types[ptype].resolvable_keys
                for t in self.sg.subgraphs.values()
            ):
                for other in self.sg.subgraphs.values():
                    t = other.types.get(ptype)
                    if other is s or t is None or not t.resolvable_keys:
                        continue
                    if all(self.caps.resolves(other, pt, Sel(fn, fn), None) for pt, fn in chain):
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


def _strip(path: tuple[str, ...]) -> tuple[str, ...]:
    while path and (path[-1] == "@" or path[-1][0] == "|"):
        path = path[:-1]
    return path
