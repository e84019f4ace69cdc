"""Questions about what one subgraph can resolve at one place in a query."""

from __future__ import annotations

from dataclasses import dataclass

from router.planning.operation import Item, Sel, collect_fields, selection_to_items
from router.supergraph.model import FieldInGraph, Key, Subgraph, Supergraph


@dataclass(frozen=True, slots=True)
class Target:
    """A subgraph reached by an entity jump, seeing the object as `view`.

    `view` is the object type itself, or an interface that the subgraph
    models as an @interfaceObject.
    """

    subgraph: str
    view: str


class Capabilities:
    def __init__(self, sg: Supergraph) -> None:
        self.sg = sg

    def applies(self, condition: str, type_name: str) -> bool:
        if condition == type_name:
            return True
        return type_name in self.sg.possible.get(condition, ())

    def fields(self, items: list[Item], type_name: str) -> dict[str, Sel]:
        return collect_fields(items, type_name, self.applies)

    def is_key_field(self, s: Subgraph, type_name: str, name: str) -> bool:
        t = s.types.get(type_name)
        if t is None:
            return False
        for k in t.keys:
            for sel in k.selection.selections:
                if getattr(sel, "name", None) is not None and sel.name.value == name:  # type: ignore[attr-defined]
                    return True
        return False

    def resolves(
        self,
        s: Subgraph,
        type_name: str,
        f: Sel,
        pv: list[Item] | None,
        allow_requires: bool = False,
    ) -> bool:
        if f.name == "__typename":
            return True
        fi = s.field(type_name, f.name)
        if fi is None or fi.used_overridden:
            return False
        if fi.requires is not None and not allow_requires:
            return False
        if not fi.external:
            return True
        return pv is not None and f.name in self.fields(pv, type_name)

    def child_provides(
        self, fi: FieldInGraph | None, f: Sel, type_name: str, pv: list[Item] | None
    ) -> list[Item] | None:
        out: list[Item] = []
        if pv is not None:
            pf = self.fields(pv, type_name).get(f.name)
            if pf is not None and pf.children:
                out.extend(pf.children)
        if fi is not None and fi.provides is not None:
            out.extend(selection_to_items(fi.provides))
        return out or None

    def provides_all(
        self, s: Subgraph, type_name: str, items: list[Item], pv: list[Item] | None
    ) -> bool:
        """Whether `s` alone can return all of `items` (keys, requirements)."""
        for f in self.fields(items, type_name).values():
            if not self.resolves(s, type_name, f, pv):
                return False
            if f.children:
                fi = s.field(type_name, f.name)
                if fi is None:
                    return False
                child = named_type(fi.type)
                cpv = self.child_provides(fi, f, type_name, pv)
                for c in self.concrete_in(s, child):
                    if not self.provides_all(s, c, f.children, cpv):
                        return False
        return True

    def concrete_in(self, s: Subgraph, type_name: str) -> list[str]:
        t = s.types.get(type_name)
        if t is None:
            return []
        if t.kind == "object":
            return [type_name]
        return sorted(s.possible.get(type_name, ()))

    def targets(self, type_name: str, f: Sel, exclude: str | None = None) -> list[Target]:
        """Subgraphs that can resolve `f` on an object of `type_name` by key."""
        out: list[Target] = []
        views = [type_name, *sorted(self.sg.interfaces_of.get(type_name, ()))]
        for sid, s in self.sg.subgraphs.items():
            for view in views:
                t = s.types.get(view)
                if t is None or not t.resolvable_keys:
                    continue
                if view != type_name and not t.interface_object:
                    continue
                if f.name == "__typename" or self.resolves(s, view, f, None, allow_requires=True):
                    fi = s.field(view, f.name)
                    # Back into the same subgraph only to feed it its @requires.
                    if sid == exclude and (fi is None or fi.requires is None):
                        continue
                    out.append(Target(sid, view))
                    break
        return out

    def keys(self, target: Target) -> list[Key]:
        return self.sg.subgraphs[target.subgraph].types[target.view].resolvable_keys


def named_type(type_str: str) -> str:
    return type_str.replace("[", "").replace("]", "").replace("!", "").strip()


def list_depth(type_str: str) -> int:
    return type_str.count("[")
