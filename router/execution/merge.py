"""Walking and merging the response tree that fetches build up together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from router.planning.selection import SubSel

Path = list[str | int]
#: a response path as a linked list, (parent, key), materialised only for errors
LinkedPath = tuple[Any, str | int] | None


class MissingKey(Exception):
    """An object lacks a field its representation needs; it is not sent."""


def collect(data: Any, path: tuple[str, ...]) -> list[dict[str, Any]]:
    """Objects at a flatten path, in response order.

    One pass per path step over plain lists, and no response paths: an
    entity fetch reads hundreds of objects per request and paths are only
    needed for an error, which finds them again with `path_to`.
    """
    level: list[dict[str, Any]] = []
    _objects(data, level)
    for head in path:
        if head == "@":
            continue
        if head[0] == "|":
            typename = head[1:]
            level = [v for v in level if v.get("__typename") == typename]
            continue
        nxt: list[dict[str, Any]] = []
        for v in level:
            child = v.get(head)
            if isinstance(child, dict):
                nxt.append(child)
            elif isinstance(child, list):
                _objects(child, nxt)
        level = nxt
    return level


def _objects(v: Any, out: list[dict[str, Any]]) -> None:
    """A dict as it is, a list flattened into its dicts (at any depth), the rest dropped."""
    if isinstance(v, dict):
        out.append(v)
    elif isinstance(v, list):
        for x in v:
            if isinstance(x, dict):
                out.append(x)
            elif isinstance(x, list):
                _objects(x, out)


def path_to(data: Any, path: tuple[str, ...], target: dict[str, Any]) -> Path | None:
    """The response path of `target`, an object `collect(data, path)` found."""
    level: list[tuple[Any, LinkedPath]] = [(data, None)]
    for head in (*path, None):
        nxt: list[tuple[Any, LinkedPath]] = []
        while level:
            v, at = level.pop()
            if isinstance(v, list):
                level.extend((x, (at, i)) for i, x in enumerate(v))
            elif not isinstance(v, dict):
                continue
            elif head is None:
                if v is target:
                    return materialize(at)
            elif head == "@" or (head[0] == "|" and v.get("__typename") == head[1:]):
                nxt.append((v, at))
            elif head[0] != "|" and v.get(head) is not None:
                nxt.append((v[head], (at, head)))
        level = nxt
    return None


@dataclass(slots=True)
class Targets:
    """The objects one representation's answer is merged into, found at `at`."""

    at: tuple[str, ...]
    objects: list[dict[str, Any]]

    def first_path(self, data: dict[str, Any]) -> Path | None:
        """The first object's response path (for errors only: found by walking again)."""
        return path_to(data, self.at, self.objects[0]) if self.objects else None


def materialize(path: LinkedPath) -> Path:
    out: Path = []
    while path is not None:
        path, key = path
        out.append(key)
    out.reverse()
    return out


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
