"""The same operations give the same JSON answer through our router and Hive Gateway.

Hand-written operations are one test each; generated ones are grouped by
spelling (one test per group, listing every mismatch), because a test per
operation would spend most of its time in the suite's per-test database
clean-up. What "the same" means is in compare.py; where Hive Gateway is
wrong, an equivalent spelling it answers right is the reference
(operations.HIVE_WRONG).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.router_diff.compare import differences
from tests.router_diff.conftest import OPERATIONS
from tests.router_diff.generate import STYLES, Operation
from tests.router_diff.operations import HAND_WRITTEN, HIVE_WRONG

Answers = dict[str, tuple[dict[str, Any], dict[str, Any]]]


def _report(op: Operation, ours: dict[str, Any], hive: dict[str, Any], why: list[str]) -> str:
    return (
        f"{op.id}: {'; '.join(why)}\n  query: {op.query}\n  variables: {op.variables}\n"
        f"  ours: {json.dumps(ours)}\n  hive: {json.dumps(hive)}"
    )


def _mismatches(ops: list[Operation], answers: Answers) -> list[str]:
    found = []
    for op in ops:
        ours, hive = answers[op.id][0], answers[HIVE_WRONG.get(op.id, op.id)][1]
        why = differences(ours, hive)
        if why:
            found.append(_report(op, ours, hive, why))
    return found


@pytest.mark.parametrize("op", HAND_WRITTEN, ids=lambda op: op.id)
def test_hand_written(op: Operation, answers: Answers) -> None:
    assert not _mismatches([op], answers), _mismatches([op], answers)[0]


@pytest.mark.parametrize("group", [*STYLES, "random"])
def test_generated(group: str, answers: Answers) -> None:
    ops = [op for op in OPERATIONS if op.id.startswith(f"{group}:")]
    assert len(ops) >= 20, "the generator walked too little of the schema"
    found = _mismatches(ops, answers)
    assert not found, f"{len(found)} of {len(ops)} differ:\n" + "\n".join(found)
