"""Explicit tables of allowed transitions, one per lifecycle.

A state machine is data: reviewers read the table, tests walk it, and an
invalid move is a user error naming both states, never a silent write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from subgraphs.kit.errors import ServiceError

INVALID_TRANSITION = "INVALID_TRANSITION"


@dataclass(frozen=True)
class StateMachine:
    name: str
    transitions: Mapping[str, frozenset[str]]

    def __post_init__(self) -> None:
        unknown = {t for targets in self.transitions.values() for t in targets} - set(
            self.transitions
        )
        if unknown:
            raise ValueError(f"{self.name}: transitions to undeclared states {sorted(unknown)}")

    @property
    def states(self) -> frozenset[str]:
        return frozenset(self.transitions)

    def allowed(self, current: str) -> frozenset[str]:
        return self.transitions.get(current, frozenset())

    def can(self, current: str, target: str) -> bool:
        return target in self.allowed(current)

    def check(self, current: str, target: str, field: str | None = "status") -> None:
        if target not in self.transitions:
            raise ServiceError.of("INVALID", f"{target!r} is not a {self.name} status.", field)
        if not self.can(current, target):
            allowed = ", ".join(sorted(self.allowed(current))) or "none"
            raise ServiceError.of(
                INVALID_TRANSITION,
                f"A {self.name} cannot go from {current} to {target} (allowed: {allowed}).",
                field,
            )


def machine(name: str, table: Mapping[str, set[str] | frozenset[str]]) -> StateMachine:
    return StateMachine(name, {k: frozenset(v) for k, v in table.items()})
