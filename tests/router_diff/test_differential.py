"""Every operation gives the same JSON answer through our router and Hive Gateway."""

from __future__ import annotations

from typing import Any

import pytest

from tests.router_diff.compare import comparable
from tests.router_diff.conftest import OPERATIONS


@pytest.mark.parametrize("op_id", [op.id for op in OPERATIONS])
def test_same_answer(op_id: str, answers: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> None:
    ours, theirs = answers[op_id]
    assert comparable(ours) == comparable(theirs), f"ours: {ours}\nhive: {theirs}"
