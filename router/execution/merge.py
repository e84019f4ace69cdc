"""Walking and merging the response tree that fetches build up together."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from router.planning.selection import SubSel

Path = list[str | int]


class MissingKey(Exception):
    """An object lacks a field its representation needs; it is not sent."""


def walk(
    data: Any, path: tuple[str, ...], at: Path | None = None
) -> Iterator[tuple[dict[str, Any], Path]]:
    """Objects at a flatten path, with their response paths."""
    at = [] if at is None else at
    if not path:
        if isinstance(data, dict):
            yield data, at
        elif isinstance(data, list):
            for i, x in enumerate(data):
                yield from walk(x, path, [*at, i])
        return
    head, rest = path[0], path[1:]
    if isinstance(data, list):
        for i, x in enumerate(data):
            yield from walk(x, path, [*at, i])
        return
    if not isinstance(data, dict):
        return
    if head == "@":
        yield from walk(data, rest, at)
    elif head[0] == "|":
        if data.get("__typename") == head[1:]:
            yield from walk(data, rest, at)
    else:
        v = data.get(head)
        if v is not None:
            yield from walk(v, rest, [*at, head])


def representation(
    obj: dict[str, Any],
    rep: SubSel,
    typename: str | None,
    conditions: dict[str, frozenset[str]],
) -> dict[str, Any]:
    out: dict[str, Any] = {"__typename": typename or obj.get("__typename")}
    _fill(out, obj, rep, conditions)
    return out


def _fill(
    out: dict[str, Any], obj: dict[str, Any], sel: SubSel, cond: dict[str, frozenset[str]]
) -> None:
    for f in sel.fields.values():
        read = f.alias or f.name
        if read not in obj:
            raise MissingKey(read)
        v = obj[read]
        if f.sub is not None and v is not None:
            v = _project(v, f.sub, cond)
        out[f.name] = v
    if sel.frags:
        tn = obj.get("__typename")
        for t, fs in sel.frags.items():
            if tn in cond.get(t, (t,)):
                _fill(out, obj, fs, cond)


def _project(v: Any, sel: SubSel, cond: dict[str, frozenset[str]]) -> Any:
    if isinstance(v, list):
        return [_project(x, sel, cond) for x in v]
    if not isinstance(v, dict):
        return v
    out: dict[str, Any] = {}
    if sel.frags and "__typename" in v:
        out["__typename"] = v["__typename"]
    _fill(out, v, sel, cond)
    return out


def deep_merge(target: dict[str, Any], src: dict[str, Any], abstract: frozenset[str]) -> None:
    for k, v in src.items():
        if k in target:
            cur = target[k]
            if isinstance(cur, dict) and isinstance(v, dict):
                deep_merge(cur, v, abstract)
                continue
            if isinstance(cur, list) and isinstance(v, list) and len(cur) == len(v):
                _merge_lists(cur, v, abstract)
                continue
            if k == "__typename" and v in abstract:
                continue
        target[k] = v


def _merge_lists(cur: list[Any], new: list[Any], abstract: frozenset[str]) -> None:
    for i, (a, b) in enumerate(zip(cur, new, strict=True)):
        if isinstance(a, dict) and isinstance(b, dict):
            deep_merge(a, b, abstract)
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            _merge_lists(a, b, abstract)
        elif a is None:
            cur[i] = b
