"""Compiling the Python the executor generates for a plan's hot loops.

Shaping and representation building run once per object of every answer;
the code for them is generated per plan (see `shape_code.py` and
`merge.representation_builder`) and compiled here. Each source is kept in
`linecache` under its own file name, so tracebacks and profilers show the
generated lines.
"""

from __future__ import annotations

import itertools
import linecache
from typing import Any

_serial = itertools.count()


def compile_function(lines: list[str], label: str, names: dict[str, Any]) -> Any:
    """The function `lines` define (the first line names it), its globals `names`."""
    filename = f"<{label}#{next(_serial)}>"
    text = "\n".join(lines) + "\n"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = dict(names)
    exec(compile(text, filename, "exec"), namespace)  # noqa: S102 - our own generated code
    name = lines[0].split()[1].split("(")[0]
    return namespace[name]
