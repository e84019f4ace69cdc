"""Straight-line Python for one selection at one runtime type.

Shaping walks every object of every answer, so it is the router's hottest
loop. Interpreting the compiled shape (a loop over field descriptors with a
kind switch and three calls per value) cost about a third of a request's
CPU; the same walk written out as Python for the selection at hand, with
the checks a field's type needs and no others, costs a fraction of it.
The code is generated once per (selection, runtime type), cached with the
plan, and keeps value completion's semantics exactly: a null or a value of
the wrong shape in a non-null position bubbles to the nearest nullable
parent, an enum value the schema does not know is an error and a null.

An entity's answer merged into several objects (the vendor of 150
vehicles) is one value in each of them: a composite value is shaped once
per place (`Shaper.memo`, keyed by its identity during one shaping run)
unless shaping it reported anything, whose paths differ by place.

Tracebacks and profilers show the generated source under `<shape Type#n>`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from router.execution.codegen import compile_function

if TYPE_CHECKING:
    from router.execution.shaping import FieldShape, SelectionShape, Shaper, TypeInfo

#: a compiled object shaper: (object, its LinkedPath, the Shaper) -> dict, or BUBBLE
ObjectFn = Callable[[dict[str, Any], Any, "Shaper"], Any]

#: tells apart the places a value can be shaped at, in `Shaper.memo`'s keys
_sites = itertools.count()


class _Source:
    """Lines of one generated function and the constants it refers to by name."""

    def __init__(self, bubble: object) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"BUBBLE": bubble}
        self._n = 0

    def line(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def var(self, stem: str) -> str:
        self._n += 1
        return f"{stem}{self._n}"

    def const(self, value: Any) -> str:
        """A name bound to `value` in the function's globals (labels, enum sets, shapes)."""
        name = f"C{len(self.names)}"
        self.names[name] = value
        return name


def generate(
    shape: SelectionShape, type_name: str, fields: list[FieldShape], bubble: object
) -> ObjectFn:
    """The object is built as one dict literal once every field has passed its checks."""
    src = _Source(bubble)
    src.line(0, "def shape(obj, path, sh):")
    entries: list[str] = []
    memo = False
    for f in fields:
        key = repr(f.key)
        info = f.info
        if f.kind == 1:
            entries.append(f"{key}: {type_name!r}")
        elif f.kind != 3 or info is None:
            entries.append(f"{key}: obj.get({key})")
        elif _is_leaf(info) and info.non_null:
            v = src.var("v")
            src.line(1, f"{v} = obj.get({key})")
            src.line(1, f"if {v} is None:")
            src.line(2, f"sh.null_error((path, {key}), {src.const(info.label)})")
            src.line(2, "return BUBBLE")
            entries.append(f"{key}: {v}")
        elif info.item is None and info.shape is None:  # an enum
            v, res = src.var("v"), src.var("r")
            src.line(1, f"{v} = obj.get({key})")
            _value(src, info, v, f"(path, {key})", res, 1)
            if info.non_null:
                src.line(1, f"if {res} is BUBBLE:")
                src.line(2, "return BUBBLE")
            entries.append(f"{key}: {res}")
        else:
            v, res, k, n = src.var("v"), src.var("r"), src.var("k"), src.var("n")
            memo = True
            src.line(1, f"{v} = obj.get({key})")
            # an entity's answer merged into several objects is one value in each:
            # shaped once, unless shaping it reported anything (paths differ)
            src.line(1, f"{k} = (id({v}), {src.const(next(_sites))})")
            src.line(1, f"{res} = memo.get({k})")
            src.line(1, f"if {res} is None:")
            src.line(2, f"{n} = sh.reports")
            _value(src, info, v, f"(path, {key})", res, 2)
            src.line(2, f"if {res} is not None and sh.reports == {n}:")
            src.line(3, f"memo[{k}] = {res}")
            if info.non_null:
                src.line(1, f"if {res} is BUBBLE:")
                src.line(2, "return BUBBLE")
            entries.append(f"{key}: {res}")
    src.line(1, "return {" + ", ".join(entries) + "}")
    if memo:
        src.lines.insert(1, "    memo = sh.memo")
    fn: ObjectFn = compile_function(src.lines, f"shape {type_name}", src.names)
    return fn


def _is_leaf(info: TypeInfo) -> bool:
    return info.item is None and info.shape is None and info.enum_values is None


def _value(src: _Source, info: TypeInfo, v: str, path: str, res: str, ind: int) -> None:
    """`res` = the completed value of `v` (a variable), BUBBLE only in a non-null place.

    The common case (a value of the right shape) is tested first; a null and
    a value of the wrong shape both complete to null, which a non-null place
    reports and bubbles.
    """
    if _is_leaf(info):
        src.line(ind, f"{res} = {v}")
        if info.non_null:
            src.line(ind, f"if {res} is None:")
            src.line(ind + 1, f"sh.null_error({path}, {src.const(info.label)})")
            src.line(ind + 1, f"{res} = BUBBLE")
        return
    if info.item is not None:
        src.line(ind, f"if isinstance({v}, list):")
        _list(src, info.item, v, path, res, ind + 1)
    elif info.shape is not None:
        shape = info.shape
        src.line(ind, f"if isinstance({v}, dict):")
        if shape.possible is None:
            # an object type: its one shaper, bound now (selections are finite trees)
            fn = src.const(shape.shaper_for(shape.static))  # type: ignore[arg-type]
            src.line(ind + 1, f"{res} = {fn}({v}, {path}, sh)")
        else:
            # None when the object's runtime type is not one the field can have
            src.line(ind + 1, f"{res} = {src.const(shape)}.dispatch({v}, {path}, sh)")
            if info.non_null:
                src.line(ind + 1, f"if {res} is None:")
                src.line(ind + 2, f"sh.null_error({path}, {src.const(info.label)})")
                src.line(ind + 2, f"{res} = BUBBLE")
    else:
        src.line(ind, f"if {v}.__class__ is str and {v} in {src.const(info.enum_values)}:")
        src.line(ind + 1, f"{res} = {v}")
    if not info.non_null and _may_bubble(info):
        src.line(ind + 1, f"if {res} is BUBBLE:")
        src.line(ind + 2, f"{res} = None")
    src.line(ind, "else:")
    if info.enum_values is not None:
        src.line(ind + 1, f"if {v} is not None:")
        src.line(ind + 2, f"sh.enum_error({src.const(info.label)}, {v}, {path})")
    if info.non_null:
        src.line(ind + 1, f"sh.null_error({path}, {src.const(info.label)})")
        src.line(ind + 1, f"{res} = BUBBLE")
    else:
        src.line(ind + 1, f"{res} = None")


def _may_bubble(info: TypeInfo) -> bool:
    """Whether completing a value of the right shape can give BUBBLE (a non-null inside)."""
    if info.shape is not None:
        return True
    return info.item is not None and info.item.non_null


def _list(src: _Source, item: TypeInfo, v: str, path: str, res: str, ind: int) -> None:
    """`res` = the list `v` completed item by item; BUBBLE when a non-null item is null."""
    if _is_leaf(item) and not item.non_null:
        src.line(ind, f"{res} = {v}[:]")
        return
    if _is_leaf(item):
        # nothing to complete unless an item is null, which bubbles
        src.line(ind, f"if None in {v}:")
        i = src.var("i")
        src.line(ind + 1, f"{i} = {v}.index(None)")
        src.line(ind + 1, f"sh.null_error(({path}, {i}), {src.const(item.label)})")
        src.line(ind + 1, f"{res} = BUBBLE")
        src.line(ind, "else:")
        src.line(ind + 1, f"{res} = {v}[:]")
        return
    items, i, x, r = src.var("items"), src.var("i"), src.var("x"), src.var("r")
    at = src.var("at")
    src.line(ind, f"{at} = {path}")
    src.line(ind, f"{items} = []")
    src.line(ind, f"for {i}, {x} in enumerate({v}):")
    _value(src, item, x, f"({at}, {i})", r, ind + 1)
    if item.non_null:
        src.line(ind + 1, f"if {r} is BUBBLE:")
        src.line(ind + 2, f"{res} = BUBBLE")
        src.line(ind + 2, "break")
        src.line(ind + 1, f"{items}.append({r})")
        src.line(ind, "else:")
        src.line(ind + 1, f"{res} = {items}")
    else:
        src.line(ind + 1, f"{items}.append({r})")
        src.line(ind, f"{res} = {items}")
