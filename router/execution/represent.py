"""Representations for an entity fetch: one per distinct entity, and where its answer goes.

An entity fetch reads hundreds of objects per request (every vehicle of
every charter) that name far fewer entities (their vendors). For the usual
key, a few scalar fields (`id`), the loop over them is Python generated
per entity part: it reads the key fields, looks the entity up, and builds a
representation only for an entity not seen before. Anything else (nested
keys, @requires with fragments) goes through `merge.representation`.

The lookup is keyed by the key's values within one namespace per key shape
(the field names and the typename rule), so two parts keyed by different
fields never share an entry; a key holding a list or an object, which a
tuple cannot hash, is keyed by its sorted JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import orjson

from router.execution.codegen import compile_function
from router.execution.merge import MissingKey, Targets, representation

if TYPE_CHECKING:
    from router.planning.plan import EntityPart

#: (objects, their namespace's index, representations, targets, the path they are at)
Represent = Callable[
    [
        Iterable[dict[str, Any]],
        dict[Any, list[dict[str, Any]]],
        list[dict[str, Any]],
        list[Targets],
        tuple[str, ...],
    ],
    None,
]


class Representer:
    __slots__ = ("namespace", "represent")

    def __init__(self, namespace: Any, represent: Represent) -> None:
        #: parts with equal namespaces share one index (the same entity is fetched once)
        self.namespace = namespace
        self.represent = represent


def representer(part: EntityPart) -> Representer:
    rep, typename = part.rep, part.rep_typename
    fields = list(rep.fields.values())
    if rep.frags or any(f.sub is not None for f in fields):
        return Representer(None, _generic(part))
    values = [f"a{i}" for i in range(len(fields))]
    built = ", ".join(
        ['"__typename": t', *(f"{f.name!r}: {v}" for v, f in zip(values, fields, strict=True))]
    )
    key_values = values if typename else ["t", *values]
    # one value is its own key (a string keeps its hash); more are a tuple
    key_expr = key_values[0] if len(key_values) == 1 else f"({', '.join(key_values)})"
    lines = ["def represent(objects, index, reps, targets, at):", "    for obj in objects:"]
    lines.append("        try:")
    lines += [
        f"            {v} = obj[{(f.alias or f.name)!r}]"
        for v, f in zip(values, fields, strict=True)
    ]
    lines += [
        "        except KeyError:",
        "            continue  # not sent: a key field is missing",
    ]
    lines.append(f"        t = {typename!r}" if typename else '        t = obj.get("__typename")')
    lines += [
        f"        k = {key_expr}",
        "        try:",
        "            same = index.get(k)",
        "        except TypeError:",
        f"            k = orjson.dumps({{{built}}}, option=orjson.OPT_SORT_KEYS)",
        "            same = index.get(k)",
        "        if same is None:",
        "            same = index[k] = []",
        f"            reps.append({{{built}}})",
        "            targets.append(Targets(at, same))",
        "        same.append(obj)",
    ]
    names = {"orjson": orjson, "Targets": Targets}
    fn: Represent = compile_function(lines, "represent", names)
    namespace = ("flat", typename is not None, *(f.name for f in fields))
    return Representer(namespace, fn)


def _generic(part: EntityPart) -> Represent:
    rep_sel, typename, conditions = part.rep, part.rep_typename, part.conditions

    def represent(
        objects: Iterable[dict[str, Any]],
        index: dict[Any, list[dict[str, Any]]],
        reps: list[dict[str, Any]],
        targets: list[Targets],
        at: tuple[str, ...],
    ) -> None:
        for obj in objects:
            try:
                rep = representation(obj, rep_sel, typename, conditions)
            except MissingKey:
                continue
            k: Any = tuple(rep.items())
            try:
                same = index.get(k)
            except TypeError:
                k = orjson.dumps(rep, option=orjson.OPT_SORT_KEYS)
                same = index.get(k)
            if same is None:
                same = index[k] = []
                reps.append(rep)
                targets.append(Targets(at, same))
            same.append(obj)

    return represent
