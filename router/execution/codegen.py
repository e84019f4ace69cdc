"""Compiling the Python the executor generates for a plan's hot loops.

Shaping and representation building run once per object of every answer;
the code for them is generated per plan (see `shape_code.py` and
`represent.py`) and compiled here. Plans of different operations mostly
generate the same functions (the same type with the same selection), and
compiling is what a new operation pays most for: code objects are kept by
their source text (bounded, least recently used first out), and each use
binds its own constants. Each source is kept in `linecache` under its own
file name while its code is kept, so tracebacks and profilers show the
generated lines, and the cache does not grow without bound.
"""

from __future__ import annotations

import itertools
import linecache
from collections import OrderedDict
from types import CodeType
from typing import Any

#: distinct generated sources kept compiled
MAX_CODES = 2048

_serial = itertools.count()
_codes: OrderedDict[str, tuple[CodeType, str]] = OrderedDict()


def compile_function(lines: list[str], label: str, names: dict[str, Any]) -> Any:
    """The function `lines` define (the first line names it), its globals `names`."""
    namespace = dict(names)
    exec(_code("\n".join(lines) + "\n", label), namespace)  # noqa: S102 - our own generated code
    name = lines[0].split()[1].split("(")[0]
    return namespace[name]


def _code(text: str, label: str) -> CodeType:
    kept = _codes.get(text)
    if kept is not None:
        _codes.move_to_end(text)
        return kept[0]
    filename = f"<{label}#{next(_serial)}>"
    code = compile(text, filename, "exec")
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    _codes[text] = (code, filename)
    if len(_codes) > MAX_CODES:
        _, (_, dropped) = _codes.popitem(last=False)
        linecache.cache.pop(dropped, None)
    return code
