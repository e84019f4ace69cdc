"""Per-subgraph circuit breakers: a dead subgraph costs a fast error, not a timeout.

Closed, a breaker lets every fetch through and watches the outcomes. It
opens after `failures` consecutive failures, or when more than
`failure_rate` of the fetches in the last `window` seconds failed (once
there were at least `min_calls` of them, so one failure of two is not a
50 % outage). Open, every fetch fails at once for `cool_down` seconds;
then the breaker is half-open: one fetch (the probe) goes through and the
others still fail fast. The probe's success closes the breaker, its failure
opens it for another cool-down.

A failure is what says the subgraph is unwell: no connection, a timeout, an
HTTP 5xx. A GraphQL error in a 200 answer is the subgraph working.

The clock is injected so the state machine is tested without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "CLOSED",
    "HALF_OPEN",
    "OPEN",
    "Breaker",
    "BreakerSettings",
    "Breakers",
    "StateObserver",
]

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"

#: (subgraph, new state)
StateObserver = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    #: consecutive failures that open the breaker
    failures: int = 5
    #: failure share in the window that opens it (0 < rate <= 1)
    failure_rate: float = 0.5
    #: seconds the failure rate is measured over
    window: float = 10.0
    #: fetches in the window before the rate is believed
    min_calls: int = 20
    #: seconds an open breaker fails fast before letting a probe through
    cool_down: float = 5.0
    #: buckets the window is counted in (a sliding window without a per-call list)
    buckets: int = 10


class Breaker:
    """One subgraph's breaker. Not thread-safe: the router runs on one event loop."""

    __slots__ = (
        "_calls",
        "_clock",
        "_fails",
        "_on_change",
        "_starts",
        "consecutive",
        "name",
        "opened_at",
        "probing",
        "settings",
        "state",
        "width",
    )

    def __init__(
        self,
        name: str,
        settings: BreakerSettings,
        clock: Callable[[], float] = time.monotonic,
        on_change: StateObserver | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self._clock = clock
        self._on_change = on_change
        self.state = CLOSED
        self.consecutive = 0
        self.opened_at = 0.0
        self.probing = False
        n = max(1, settings.buckets)
        self.width = settings.window / n
        self._starts = [-1] * n
        self._calls = [0] * n
        self._fails = [0] * n

    # -- asking --------------------------------------------------------------

    def allow(self) -> bool:
        """May a fetch go now? In half-open, True makes the caller the probe.

        A caller that was allowed must report `success()`, `failure()` or,
        when it ended without an outcome (cancelled), `release()`.
        """
        if self.state == CLOSED:
            return True
        if self.state == OPEN:
            if self._clock() - self.opened_at < self.settings.cool_down:
                return False
            self._set(HALF_OPEN)
        if self.probing:
            return False
        self.probing = True
        return True

    def retry_after(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when not open)."""
        if self.state != OPEN:
            return 0.0
        return max(0.0, self.settings.cool_down - (self._clock() - self.opened_at))

    # -- reporting -----------------------------------------------------------

    def success(self) -> None:
        self.consecutive = 0
        if self.state != CLOSED:
            self.probing = False
            self._reset_window()
            self._set(CLOSED)
            return
        self._count(failed=False)

    def failure(self) -> None:
        if self.state != CLOSED:
            self.probing = False
            self._open()
            return
        self.consecutive += 1
        self._count(failed=True)
        calls, fails = self._window()
        s = self.settings
        if self.consecutive >= s.failures or (
            calls >= s.min_calls and fails > s.failure_rate * calls
        ):
            self._open()

    def release(self) -> None:
        """An allowed fetch ended without an outcome: free the probe's slot."""
        if self.state == HALF_OPEN:
            self.probing = False

    # -- internals -----------------------------------------------------------

    def _open(self) -> None:
        self.opened_at = self._clock()
        self.consecutive = 0
        self._set(OPEN)

    def _set(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if self._on_change is not None:
                self._on_change(self.name, state)

    def _reset_window(self) -> None:
        for i in range(len(self._starts)):
            self._starts[i] = -1
            self._calls[i] = 0
            self._fails[i] = 0

    def _count(self, failed: bool) -> None:
        """Count one outcome in the current bucket (recycling a stale one)."""
        tick = int(self._clock() / self.width)
        i = tick % len(self._starts)
        if self._starts[i] != tick:
            self._starts[i] = tick
            self._calls[i] = 0
            self._fails[i] = 0
        self._calls[i] += 1
        if failed:
            self._fails[i] += 1

    def _window(self) -> tuple[int, int]:
        """(calls, failures) in the buckets of the last `window` seconds."""
        n = len(self._starts)
        oldest = int(self._clock() / self.width) - n + 1
        calls = fails = 0
        for j in range(n):
            if self._starts[j] >= oldest:
                calls += self._calls[j]
                fails += self._fails[j]
        return calls, fails


class Breakers:
    """One breaker per subgraph, made on first use."""

    def __init__(
        self,
        settings: BreakerSettings,
        clock: Callable[[], float] = time.monotonic,
        on_change: StateObserver | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.on_change = on_change
        self.by_name: dict[str, Breaker] = {}

    def __getitem__(self, name: str) -> Breaker:
        b = self.by_name.get(name)
        if b is None:
            b = self.by_name[name] = Breaker(name, self.settings, self.clock, self.on_change)
        return b
