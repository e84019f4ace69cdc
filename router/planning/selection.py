"""Selection sets of subgraph queries, built up by the planner and printed once."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from graphql import ArgumentNode, ListValueNode, ObjectValueNode, ValueNode, VariableNode, print_ast

_alias_ids = count(1)


@dataclass(slots=True)
class SubField:
    name: str
    alias: str | None
    args: tuple[ArgumentNode, ...]
    sub: SubSel | None = None
    args_text: str = ""
    type_str: str = ""
    #: response key the client expects, when this field had to be renamed
    #: because sibling fragments select the key with another type
    restore: str | None = None

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass(slots=True)
class SubSel:
    fields: dict[str, SubField] = field(default_factory=dict)
    frags: dict[str, SubSel] = field(default_factory=dict)
    typename: bool = False

    def add(
        self,
        name: str,
        args: tuple[ArgumentNode, ...],
        key: str,
        composite: bool,
        internal: bool,
        type_str: str = "",
    ) -> SubField:
        """Add a field (or find the same one) and return it.

        Planner-added fields with arguments always get a private alias so
        they never collide with what the client asked for under that name.
        """
        args_text = ",".join(print_ast(a) for a in args)
        if internal and args:
            for f in self.fields.values():
                if f.name == name and f.args_text == args_text and f.alias and f.alias[0] == "_":
                    return f
            key = f"_r{next(_alias_ids)}_{name}"
        existing = self.fields.get(key)
        if existing is not None:
            if existing.name == name and existing.args_text == args_text:
                if composite and existing.sub is None:
                    existing.sub = SubSel()
                return existing
            if not internal:
                raise ValueError(f"conflicting selections for response key {key!r}")
            key = f"_r{next(_alias_ids)}_{name}"
        f = SubField(name, key if key != name else None, args, SubSel() if composite else None)
        f.args_text = args_text
        f.type_str = type_str
        self.fields[key] = f
        return f

    def frag(self, type_name: str) -> SubSel:
        s = self.frags.get(type_name)
        if s is None:
            s = self.frags[type_name] = SubSel()
        return s

    def is_empty(self) -> bool:
        return (
            not self.fields and not self.typename and all(f.is_empty() for f in self.frags.values())
        )

    def print(self) -> str:
        parts: list[str] = []
        if self.typename:
            parts.append("__typename")
        for f in self.fields.values():
            s = f"{f.alias}:{f.name}" if f.alias else f.name
            if f.args:
                s += "(" + f.args_text + ")"
            if f.sub is not None:
                inner = f.sub.print()
                s += inner if inner else "{__typename}"
            parts.append(s)
        for t, fs in self.frags.items():
            if not fs.is_empty():
                parts.append(f"...on {t}" + fs.print())
        return "{" + " ".join(parts) + "}" if parts else ""

    def variables(self, out: set[str]) -> set[str]:
        for f in self.fields.values():
            for a in f.args:
                _vars(a.value, out)
            if f.sub is not None:
                f.sub.variables(out)
        for fs in self.frags.values():
            fs.variables(out)
        return out


def _vars(v: ValueNode, out: set[str]) -> None:
    if isinstance(v, VariableNode):
        out.add(v.name.value)
    elif isinstance(v, ListValueNode):
        for x in v.values:
            _vars(x, out)
    elif isinstance(v, ObjectValueNode):
        for f in v.fields:
            _vars(f.value, out)


def fix_fragment_conflicts(sel: SubSel) -> bool:
    """Rename fields that sibling fragments select with different types.

    Subgraphs reject `... on A { id } ... on B { id }` when A.id is `ID`
    and B.id is `ID!`; the second gets a private alias and the executor
    renames it back. Returns whether anything was renamed.
    """
    changed = False
    seen: dict[str, tuple[str, str, str]] = {}
    for f in sel.fields.values():
        seen[f.key] = (f.name, f.args_text, f.type_str)
    for fs in sel.frags.values():
        for f in list(fs.fields.values()):
            sig = (f.name, f.args_text, f.type_str)
            prev = seen.get(f.key)
            if prev is None:
                seen[f.key] = sig
            elif prev != sig:
                alias = f"_c{next(_alias_ids)}_{f.key}"
                del fs.fields[f.key]
                f.restore = f.key
                f.alias = alias
                fs.fields[alias] = f
                changed = True
    for f in sel.fields.values():
        if f.sub is not None:
            changed = fix_fragment_conflicts(f.sub) or changed
    for fs in sel.frags.values():
        for f in fs.fields.values():
            if f.sub is not None:
                changed = fix_fragment_conflicts(f.sub) or changed
    return changed


def restore_aliases(value: object, sel: SubSel) -> None:
    if isinstance(value, list):
        for v in value:
            restore_aliases(v, sel)
        return
    if not isinstance(value, dict):
        return
    for f in sel.fields.values():
        key = f.key
        if f.restore is not None and key in value:
            value[f.restore] = value.pop(key)
            key = f.restore
        if f.sub is not None and value.get(key) is not None:
            restore_aliases(value[key], f.sub)
    for fs in sel.frags.values():
        restore_aliases(value, fs)


def mergeable(a: SubSel, b: SubSel) -> bool:
    """Whether `b` can be merged into `a` without a same-key conflict."""
    for key, fb in b.fields.items():
        fa = a.fields.get(key)
        if fa is None:
            continue
        if fa.name != fb.name or fa.args_text != fb.args_text:
            return False
        if (fa.sub is None) != (fb.sub is None):
            return False
        if fa.sub is not None and fb.sub is not None and not mergeable(fa.sub, fb.sub):
            return False
    for t, sb in b.frags.items():
        sa = a.frags.get(t)
        if sa is not None and not mergeable(sa, sb):
            return False
    return True


def merge_into(a: SubSel, b: SubSel) -> None:
    a.typename = a.typename or b.typename
    for key, fb in b.fields.items():
        fa = a.fields.get(key)
        if fa is None:
            a.fields[key] = SubField(
                fb.name, fb.alias, fb.args, None, fb.args_text, fb.type_str, fb.restore
            )
            fa = a.fields[key]
            if fb.sub is not None:
                fa.sub = SubSel()
        if fa.sub is not None and fb.sub is not None:
            merge_into(fa.sub, fb.sub)
    for t, sb in b.frags.items():
        merge_into(a.frag(t), sb)
