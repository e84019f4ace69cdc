"""A selection of plain reads completed by Python generated for its shape.

A page of the board completes ~550 objects and ~850 leaves per request, and
even the kit's short paths (`kit/execution.py`) pay for each a response
path, a results dict filled field by field, and per field the tests of its
plan. When every field of a selection, nested ones included, is read from
its object without a resolve info (`READS`, after a `GUARD` where a policy
governs it), the whole selection is one function of (object, context),
generated once per shape (the types, response names and fields of the
selection, however deep), the way the router generates its shaping code.

It is a fast path with no semantics of its own: it answers only when
nothing needs graphql-core's judgement. Anything else (a null where the
schema forbids one, a value the scalar cannot take as it is and cannot
serialize, an error returned or raised, a guard that refuses or cannot
decide, a child not preloaded) raises, and the executor completes the same
value by its general path, which reads the same pure `READS` functions again
and answers (errors, paths, null propagation) as graphql-core does.
"""

from __future__ import annotations

import types
from asyncio import Future
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from graphql.pyutils import Undefined

#: a completed selection: its object and the request's context in, its answer out
Completer = Callable[[Any, Any], dict[str, Any]]

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
#: distinct shapes kept per schema; past it the cache starts again (documents are bounded)
MAX_SHAPES: Final = 2048


class Fallback(Exception):
    """The fast path cannot answer this value; the general one will."""


@dataclass(frozen=True, slots=True)
class ShapeField:
    """One response field of a shape: a constant `__typename`, a leaf, or objects."""

    response_name: str
    #: the field's plan (`kit.execution.FieldPlan`); None for `__typename`
    plan: Any = None
    #: the completer of its objects' selection (an object or list field)
    completer: Completer | None = None
    typename: str | None = None


_PLAIN_CLASSES: set[type] = set()
_NOT_PLAIN = (BaseException, Future, types.CoroutineType, types.GeneratorType)


def _check_plain(value: Any) -> None:
    """Refuse a value that is not a plain object to complete: None, an error, an awaitable."""
    cls = value.__class__
    if value is None or isinstance(value, _NOT_PLAIN) or hasattr(cls, "__await__"):
        raise Fallback
    _PLAIN_CLASSES.add(cls)


def _leaf_completer(plan: Any, unread: object) -> Callable[[Any], Any]:
    """A leaf's value as graphql-core's `complete_leaf_value` gives it, or Fallback."""
    non_null, leaf_type = plan.non_null, plan.leaf

    def leaf(value: Any) -> Any:
        if value is None or value is Undefined:
            if non_null:
                raise Fallback
            return None
        if value is unread or isinstance(value, BaseException):
            raise Fallback
        serialized = leaf_type.serialize(value)
        if serialized is None or serialized is Undefined:
            raise Fallback
        return serialized

    return leaf


def _object_completer(plan: Any, completer: Completer, unread: object) -> Callable[..., Any]:
    non_null, in_list = plan.non_null, plan.in_list

    def objects(value: Any, context: Any) -> Any:
        if value is None or value is Undefined:
            if non_null:
                raise Fallback
            return None
        if value is unread:
            raise Fallback
        if not in_list:
            return completer(value, context)
        if value.__class__ is not list and value.__class__ is not tuple:
            raise Fallback  # another iterable: graphql-core's own completion
        return [completer(item, context) for item in value]

    return objects


def compile_shape(type_name: str, fields: list[ShapeField], unread: object) -> Completer:
    """The generated completer of one selection shape."""
    namespace: dict[str, Any] = {
        "FALLBACK": Fallback,
        "PLAIN": _PLAIN_CLASSES,
        "check_plain": _check_plain,
    }
    body = ["def complete(source, context):", "    if source.__class__ not in PLAIN:"]
    body.append("        check_plain(source)")
    answer: list[str] = []
    for i, field in enumerate(fields):
        key = repr(field.response_name)
        if field.typename is not None:
            answer.append(f"{key}: {field.typename!r}")
            continue
        plan = field.plan
        namespace[f"r{i}"] = plan.reads
        if plan.guard is not None:
            namespace[f"g{i}"] = plan.guard
            body.append(f"    if not g{i}(source, context):")
            body.append("        raise FALLBACK")
        body.append(f"    v{i} = r{i}(source)")
        if plan.leaf is not None:
            namespace[f"leaf{i}"] = _leaf_completer(plan, unread)
            unchanged = plan.unchanged
            if unchanged is int:
                test = f"v{i}.__class__ is not int or not {_INT_MIN} <= v{i} <= {_INT_MAX}"
            elif unchanged is not None:
                namespace[f"c{i}"] = unchanged
                test = f"v{i}.__class__ is not c{i}"
            else:
                test = "True"
            body.append(f"    if {test}:")
            body.append(f"        v{i} = leaf{i}(v{i})")
        else:
            if field.completer is None:
                raise ValueError(
                    f"{type_name}.{field.response_name}: an object field needs a completer"
                )
            namespace[f"obj{i}"] = _object_completer(plan, field.completer, unread)
            body.append(f"    v{i} = obj{i}(v{i}, context)")
        answer.append(f"{key}: v{i}")
    body.append("    return {" + ", ".join(answer) + "}")
    source = "\n".join(body) + "\n"
    exec(compile(source, f"<kit selection {type_name}>", "exec"), namespace)  # noqa: S102 - our own text
    completer: Completer = namespace["complete"]
    return completer


class ShapeCache:
    """Completers by shape key, per schema; bounded so unique documents cannot grow it."""

    def __init__(self) -> None:
        self._completers: dict[Any, Completer] = {}

    def get(self, key: Any, type_name: str, fields: list[ShapeField], unread: object) -> Completer:
        found = self._completers.get(key)
        if found is None:
            if len(self._completers) >= MAX_SHAPES:
                self._completers.clear()
            found = self._completers[key] = compile_shape(type_name, fields, unread)
        return found


__all__ = ["Completer", "Fallback", "ShapeCache", "ShapeField", "compile_shape"]
