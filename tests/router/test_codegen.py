"""Generated code: compiled once per source text, bounded, each use with its own constants."""

from __future__ import annotations

import linecache

import pytest

from router.execution import codegen


def test_the_same_source_is_compiled_once_and_binds_its_own_constants() -> None:
    lines = ["def f():", "    return VALUE"]
    one = codegen.compile_function(lines, "test", {"VALUE": 1})
    two = codegen.compile_function(lines, "test", {"VALUE": 2})
    assert (one(), two()) == (1, 2)
    assert one.__code__ is two.__code__
    assert linecache.getlines(one.__code__.co_filename) == ["def f():\n", "    return VALUE\n"]


def test_the_kept_code_is_bounded_and_its_source_leaves_linecache_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(codegen, "MAX_CODES", 2)
    monkeypatch.setattr(codegen, "_codes", codegen.OrderedDict())
    fns = [codegen.compile_function(["def g():", f"    return {n}"], "test", {}) for n in range(3)]
    assert [f() for f in fns] == [0, 1, 2]
    first = fns[0].__code__.co_filename
    assert linecache.getlines(first) == [], "the oldest source went with its code"
    assert len(codegen._codes) == 2
    again = codegen.compile_function(["def g():", "    return 0"], "test", {})
    assert again.__code__ is not fns[0].__code__, "compiled anew after it was dropped"
