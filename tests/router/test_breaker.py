"""Per-subgraph circuit breakers: the state machine on an injected clock, then a real router.

Through the router, the proof that an open breaker fails fast is not a
timing: the subgraph is back and listening, yet receives nothing until the
(injected) cool-down has passed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from db.embedded import free_port
from router.config import load_config
from router.execution.breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    Breaker,
    Breakers,
    BreakerSettings,
)
from router.server.app import create_app
from router.server.holder import GatewayHolder
from tests.router_edge.router_harness import (
    Subgraph,
    _subgraph_app,
    base_config,
    write_supergraph,
)
from tests.support.live_server import LiveServer, serve


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _breaker(**settings: float) -> tuple[Breaker, Clock, list[str]]:
    clock = Clock()
    changes: list[str] = []
    b = Breaker(
        "vendors",
        BreakerSettings(**settings),  # type: ignore[arg-type]
        clock,
        lambda name, state: changes.append(f"{name}:{state}"),
    )
    return b, clock, changes


def test_consecutive_failures_open_it_and_a_success_resets_the_count() -> None:
    b, _, changes = _breaker(failures=3, min_calls=100)
    for _ in range(2):
        assert b.allow()
        b.failure()
    b.success()  # the run is broken: two more failures are not enough
    for _ in range(2):
        b.failure()
    assert b.state == CLOSED
    assert b.allow()
    b.failure()
    assert b.state == OPEN
    assert not b.allow()
    assert changes == ["vendors:open"]


def test_a_failure_rate_over_the_window_opens_it_once_there_are_enough_calls() -> None:
    b, _clock, _ = _breaker(failures=100, failure_rate=0.5, window=10.0, min_calls=6)
    for _ in range(2):  # f s f s f: 3 of 5, but fewer than min_calls
        b.failure()
        b.success()
    b.failure()
    assert b.state == CLOSED
    b.failure()  # 4 of 6 > 50 %
    assert b.state == OPEN


def test_old_outcomes_leave_the_window() -> None:
    b, clock, _ = _breaker(failures=100, failure_rate=0.5, window=10.0, min_calls=4)
    for _ in range(3):
        b.failure()
    clock.now += 30  # those failures are history
    b.success()
    b.success()
    b.success()
    b.failure()  # 1 of 4 in the window
    assert b.state == CLOSED


def test_open_fails_fast_until_the_cool_down_then_lets_one_probe() -> None:
    b, clock, changes = _breaker(failures=1, cool_down=5.0)
    b.failure()
    clock.now += 4.9
    assert not b.allow()
    assert round(b.retry_after(), 3) == 0.1
    clock.now += 0.2
    assert b.allow()  # the probe
    assert b.state == HALF_OPEN
    assert not b.allow()  # everyone else still fails fast while it is out
    b.success()
    assert b.state == CLOSED
    assert b.allow()
    assert b.allow()
    assert changes == ["vendors:open", "vendors:half_open", "vendors:closed"]


def test_a_failed_probe_reopens_for_another_cool_down() -> None:
    b, clock, changes = _breaker(failures=1, cool_down=5.0)
    b.failure()
    clock.now += 5
    assert b.allow()
    b.failure()
    assert b.state == OPEN
    assert not b.allow()
    clock.now += 4
    assert not b.allow()
    clock.now += 1
    assert b.allow()
    assert changes == ["vendors:open", "vendors:half_open", "vendors:open", "vendors:half_open"]


def test_a_probe_that_ended_without_an_outcome_frees_its_slot() -> None:
    b, clock, _ = _breaker(failures=1, cool_down=1.0)
    b.failure()
    clock.now += 1
    assert b.allow()
    b.release()  # cancelled: no verdict on the subgraph
    assert b.state == HALF_OPEN
    assert b.allow()


def test_each_subgraph_has_its_own_breaker() -> None:
    breakers = Breakers(BreakerSettings(failures=1), Clock())
    breakers["finance"].failure()
    assert breakers["finance"].state == OPEN
    assert breakers["vendors"].state == CLOSED
    assert breakers["finance"] is breakers["finance"]


def test_config_has_breakers_on_by_default_and_reads_the_environment() -> None:
    assert load_config([], {}).breaker == BreakerSettings()
    assert load_config([], {"ROUTER_BREAKER": "off"}).breaker is None
    tuned = load_config(
        [],
        {"ROUTER_BREAKER_FAILURES": "3", "ROUTER_BREAKER_COOL_DOWN_SECONDS": "1.5"},
    ).breaker
    assert tuned is not None
    assert (tuned.failures, tuned.cool_down) == (3, 1.5)


# -- through a real router ----------------------------------------------------


@contextlib.asynccontextmanager
async def _accounts_on(port: int) -> AsyncIterator[Subgraph]:
    record = Subgraph(LiveServer("127.0.0.1", port))
    async with serve(_subgraph_app(record), port=port):
        yield record


async def test_a_dead_subgraph_fails_fast_while_open_and_recovers_after_a_probe(
    tmp_path: Path,
) -> None:
    port = free_port()
    config = base_config(
        write_supergraph(tmp_path, f"http://127.0.0.1:{port}/graphql"),
        breaker=BreakerSettings(failures=2, cool_down=30.0),
        fetch_retries=0,
    )
    holder = GatewayHolder(config)
    holder.try_load()
    assert holder.gateway is not None
    assert holder.gateway.fetcher.breakers is not None
    clock = Clock()
    holder.gateway.fetcher.breakers.clock = clock
    query = {"query": "{ hello }"}
    async with (
        serve(create_app(config, holder)) as r,
        httpx.AsyncClient(timeout=10) as http,
    ):
        async with _accounts_on(port) as accounts:
            ok = await http.post(r.graphql_url, json=query)
            assert ok.json() == {"data": {"hello": "world"}}
        # the subgraph died: two real failures (connection refused) open the breaker
        failed = [(await http.post(r.graphql_url, json=query)).json() for _ in range(2)]
        assert failed[0]["errors"][0]["message"] == "Subgraph 'accounts' is unavailable."
        assert failed[0]["errors"][0]["extensions"]["serviceName"] == "accounts"
        async with _accounts_on(port) as accounts:
            # back and listening, but the breaker is open: the same answer, nothing sent
            fast = (await http.post(r.graphql_url, json=query)).json()
            assert fast == failed[0]
            assert accounts.bodies == []
            metrics = (await http.get(f"{r.base_url}/metrics")).text
            assert 'router_subgraph_circuit_state{subgraph="accounts"} 2.0' in metrics
            assert (
                'router_subgraph_errors_total{kind="circuit_open",subgraph="accounts"} 1.0'
                in metrics
            )
            # after the cool-down one probe goes through; its success closes the breaker
            clock.now += 30.0
            for _ in range(2):
                ok = await http.post(r.graphql_url, json=query)
                assert ok.json() == {"data": {"hello": "world"}}
            assert len(accounts.bodies) == 2
            metrics = (await http.get(f"{r.base_url}/metrics")).text
            assert 'router_subgraph_circuit_state{subgraph="accounts"} 0.0' in metrics
