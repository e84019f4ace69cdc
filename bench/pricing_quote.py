"""Pricing benchmark: the engine alone, and what `Charter.quote` (`@requires`) costs through the router.

    .venv/bin/python -m bench.pricing_quote [--iterations 10000] [--engine-rounds 5]
        [--duration 20] [--round 5] [--warmup 3] [--connections 16] [--engine-only]

A script that prints figures, never a test; nothing here asserts a time.

(1) The engine alone (`subgraphs.pricing.engine.price`, pure, in this
    process): one weekend quote of an Executive Coach over 200 miles under
    demo data's price list (seed 002's rules plus the per-vehicle-type rate
    card, 16 rules for the engine to select from), with the Wi-Fi amenity and
    the SPRING50 code. Priced lines: base, mileage, the weekend multiplier,
    the weekend fee, fuel, the amenity and the promo: 7 (the brief's list
    names seven kinds; the issue says "6-line"; the count priced is printed).
    Before timing, the seed's own figure is checked: the same trip without
    amenity and promo totals 1,114.50. Prints N, elapsed, calc/s and µs/calc
    per round.
(2) Through the real router as a manager, against 50 charters (3 vehicle
    mixes, weekdays and weekends, entered miles) with demo data's price list:
    `charters(first: 50) { edges { node { reference quote { total } } } }`
    and the same query without `quote`, in alternating rounds (ABBA order,
    so drift over the run falls on both), same concurrency, after a warm-up
    of each. Prints p50, p99, req/s per query and the ratio with / without.

Part (2) starts its own throwaway PostgreSQL and Redis, migrates them, seeds
through the subgraphs' services (pricing's through demo data's loader), runs
identity, charters, pricing and the router (a copy of
`schema/supergraph.graphql` re-pointed at the benchmark's ports) as separate
uvicorn processes, measures, prints and cleans up.

Load: a closed loop of N keep-alive HTTP/1.1 connections written on asyncio
streams in this process (cheaper per request than httpx, and every latency
is kept, so rounds of one query merge into exact percentiles). A request
counts as an error when the status is not 200 or the body carries
`"errors"`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import httpx

from bench.charters_board import PYTHON, ROOT, free_port, percentile, process, wait_healthy

if TYPE_CHECKING:
    from subgraphs.pricing.engine import AmenityLine, Promo, Rule, TripFacts

WITH_QUOTE = "query { charters(first: 50) { edges { node { reference quote { total } } } } }"
WITHOUT_QUOTE = "query { charters(first: 50) { edges { node { reference } } } }"
CHARTERS = 50
#: Charter 0 is seed 002's weekday example: one Executive Coach, 150 miles.
SEED_WEEKDAY_TOTAL = "726.50"
BENCH_NS = uuid.UUID("6f1c2f52-3d7e-4a51-9d55-4b0d5f2a9c10")


# --- (1) the engine alone ------------------------------------------------------


def engine_inputs() -> tuple[TripFacts, tuple[Rule, ...], AmenityLine, Promo]:
    """Demo data's price list as the engine receives it, and a weekend trip."""
    from db.demo.pricing import AMENITIES, CODES, RATE_CARD, SEED_RULES
    from subgraphs.pricing.engine import AmenityLine, Promo, Rule, TripFacts, VehicleFacts
    from subgraphs.pricing.engine.inputs import Conditions

    types = {name: uuid.uuid5(BENCH_NS, name) for name in ["Executive Coach", *RATE_CARD]}
    rules = [
        Rule(
            id=uuid.uuid5(BENCH_NS, f"rule {r.name}"),
            name=r.name or "",
            rule_type=r.rule_type or "",
            value=r.value or Decimal(0),
            conditions=Conditions(days_of_week=frozenset(r.days_of_week or ())),
        )
        for r in SEED_RULES
    ]
    for name, (base, mile, hour) in RATE_CARD.items():
        for rule_type, value in (
            ("base_rate", base),
            ("mileage_rate", mile),
            ("hourly_rate", hour),
        ):
            if value is not None:
                rules.append(
                    Rule(
                        id=uuid.uuid5(BENCH_NS, f"rule {name} {rule_type}"),
                        name=f"{name} {rule_type.split('_')[0]}",
                        rule_type=rule_type,
                        value=Decimal(value),
                        scope="vehicle_type",
                        scope_value=str(types[name]),
                    )
                )
    wifi = AMENITIES[0]
    amenity = AmenityLine(
        name=wifi.name or "",
        pricing=wifi.pricing_type or "",
        unit_price=wifi.price or Decimal(0),
    )
    code = next(c for c in CODES if c.code == "SPRING50")
    promo = Promo(
        code=code.code or "",
        discount_type=code.discount_type or "",
        value=code.value or Decimal(0),
        minimum_amount=code.minimum_amount,
    )
    trip = TripFacts(
        pickup_local=datetime(2026, 12, 5, 9, 0),  # a Saturday
        hours=Decimal("4.0"),
        miles=Decimal(200),
        trip_type="one_way",
        passengers=40,
        vehicles=(VehicleFacts(types["Executive Coach"], "Executive Coach"),),
        client_id=str(uuid.uuid5(BENCH_NS, "client")),
    )
    return trip, tuple(rules), amenity, promo


def bench_engine(iterations: int, rounds: int) -> None:
    from subgraphs.pricing.engine import price

    trip, rules, amenity, promo = engine_inputs()
    seed = price(trip, rules)
    if seed.total != Decimal("1114.50"):
        raise RuntimeError(f"seed 002's weekend example priced {seed.total}, not 1114.50")
    quote = price(trip, rules, (), (amenity,), promo)
    print(
        f"(1) engine alone: `price` on one quote of {len(quote.lines)} lines "
        f"(from {len(rules)} rules), total {quote.total}:"
    )
    for line in quote.lines:
        print(f"      {line.kind:16s} {line.amount:>9}  {line.label}")
    for _ in range(min(iterations, 2000)):  # warm-up: caches, allocator, branch history
        price(trip, rules, (), (amenity,), promo)
    rates = []
    for n in range(1, rounds + 1):
        began = time.perf_counter()
        for _ in range(iterations):
            price(trip, rules, (), (amenity,), promo)
        elapsed = time.perf_counter() - began
        rates.append(iterations / elapsed)
        print(
            f"    round {n}: N {iterations}  elapsed {elapsed:.3f} s  "
            f"{iterations / elapsed:,.0f} calc/s  {elapsed / iterations * 1e6:.1f} µs/calc"
        )
    median = statistics.median(rates)
    print(f"    median of {rounds} rounds: {median:,.0f} calc/s  {1e6 / median:.1f} µs/calc")


# --- (2) seeding -----------------------------------------------------------------


def _first_monday(after: date) -> date:
    return after + timedelta(days=(7 - after.weekday()) % 7 or 7)


async def seed(database_url: str) -> str:
    """50 charters and demo data's price list; returns a manager's token."""
    from db.demo import pricing as pricing_demo
    from db.engine import make_engine, session_factory
    from protocol.roles import Role
    from protocol.viewer import Viewer
    from subgraphs.charters.service import charters as charter_service
    from subgraphs.charters.service import directory, fleet
    from subgraphs.identity.access_tokens import issue_access_token
    from subgraphs.identity.keys import Keyring
    from subgraphs.kit.settings import get_settings

    settings = get_settings()
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    manager = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.MANAGER}))
    try:
        async with sessions() as session, session.begin():
            coach = await fleet.create_vehicle_type(
                session, name="Executive Coach", capacity=56, description=None
            )
            mini = await fleet.create_vehicle_type(
                session, name="Mini Coach", capacity=30, description=None
            )
            client_id = uuid.uuid4()
            # As sales would announce it: charters learns clients from sales' events.
            await directory.apply_client_event(
                session,
                {
                    "occurredAt": datetime.now(UTC).isoformat(),
                    "payload": {"clientId": str(client_id), "name": "Bench Client"},
                },
            )
            monday = _first_monday(date.today() + timedelta(days=3))
            for n in range(CHARTERS):
                day = monday + timedelta(days=n // 2)  # 25 days: weekdays and weekends
                pickup = datetime(day.year, day.month, day.day, 8 if n % 2 == 0 else 14)
                mix = [coach] if n % 3 == 0 else [coach, coach] if n % 3 == 1 else [coach, mini]
                await charter_service.create(
                    session,
                    charter_service.NewCharter(
                        client_id=client_id,
                        trip_type="one_way",
                        passenger_count=30 * len(mix),
                        pickup_local=pickup,
                        pickup_time_zone="America/Chicago",
                        estimated_miles=Decimal(150 if n == 0 else 40 + (n * 37) % 400),
                        stops=[
                            {"stop_type": kind, "address": f"{n}-{i} Bench Street", "id": None}
                            for i, kind in enumerate(["pickup", "dropoff"])
                        ],
                        vehicles=[
                            {
                                "vehicle_type_id": str(v.id),
                                "cost": "1200.00",
                                "capacity": v.capacity,
                                "id": None,
                            }
                            for v in mix
                        ],
                    ),
                    manager,
                )
        async with sessions() as session, session.begin():
            # Seed 002's rules, the rate card (Mini Coach), amenities, codes, weekend modifier.
            await pricing_demo.load(session)
        keyring = Keyring(sessions, access_ttl_seconds=3600)
        token, _ = issue_access_token(
            await keyring.active(),
            settings.model_copy(update={"jwt_access_ttl_seconds": 3600}),
            user_id=uuid.uuid4(),
            roles=["manager"],
            session_id=uuid.uuid4(),
        )
    finally:
        await engine.dispose()
    return token


def check(url: str, token: str) -> None:
    """Both queries answer 50 charters; with `quote`, every charter has a total."""
    headers = {"authorization": f"Bearer {token}"}
    for query in (WITH_QUOTE, WITHOUT_QUOTE):
        body = httpx.post(url, json={"query": query}, headers=headers, timeout=60).json()
        edges = ((body.get("data") or {}).get("charters") or {}).get("edges") or []
        if body.get("errors") or len(edges) != CHARTERS:
            raise RuntimeError(f"unexpected answer to {query}: {str(body)[:600]}")
        if query is WITH_QUOTE:
            totals = {
                e["node"]["reference"]: (e["node"]["quote"] or {}).get("total") for e in edges
            }
            if None in totals.values():
                raise RuntimeError(f"charters without a quote: {totals}")
            if SEED_WEEKDAY_TOTAL not in totals.values():
                raise RuntimeError(f"no charter at seed 002's {SEED_WEEKDAY_TOTAL}: {totals}")


# --- (2) load --------------------------------------------------------------------


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0
    rounds: list[float] = field(default_factory=list)  # req/s of each round


def request_bytes(port: int, token: str, query: str) -> bytes:
    body = json.dumps({"query": query}).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.I)


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> bool:
    """One request on a kept-alive connection; True when it was answered without errors."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = CONTENT_LENGTH.search(head)
    if length is None:
        raise RuntimeError(f"answer without Content-Length: {head[:300]!r}")
    body = await reader.readexactly(int(length.group(1)))
    return head.startswith(b"HTTP/1.1 200") and b'"errors"' not in body


async def run_round(port: int, request: bytes, seconds: float, connections: int) -> Tally:
    tally = Tally()
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(connections)]
    stop_at = time.perf_counter() + seconds

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while time.perf_counter() < stop_at:
            began = time.perf_counter()
            ok = await exchange(reader, writer, request)
            tally.latencies_ms.append((time.perf_counter() - began) * 1000)
            tally.errors += not ok

    began = time.perf_counter()
    try:
        await asyncio.gather(*(worker(r, w) for r, w in streams))
    finally:
        for _, writer in streams:
            writer.close()
    tally.seconds = time.perf_counter() - began
    tally.rounds.append(len(tally.latencies_ms) / tally.seconds)
    return tally


async def side_by_side(
    port: int, token: str, duration: int, round_seconds: int, warmup: int, connections: int
) -> dict[str, Tally]:
    requests = {
        "with quote": request_bytes(port, token, WITH_QUOTE),
        "without quote": request_bytes(port, token, WITHOUT_QUOTE),
    }
    for request in requests.values():  # plan caches, pools, pricing's stored calculations
        await run_round(port, request, warmup, connections)
    names = list(requests)
    rounds = max(1, round(duration / round_seconds))
    tallies = {name: Tally() for name in names}
    for n in range(rounds):
        order = names if n % 2 == 0 else names[::-1]  # A B, B A, A B, ...
        for name in order:
            got = await run_round(port, requests[name], round_seconds, connections)
            total = tallies[name]
            total.latencies_ms += got.latencies_ms
            total.seconds += got.seconds
            total.errors += got.errors
            total.rounds += got.rounds
    return tallies


# --- main --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--iterations", type=int, default=10000, help="engine calls per round")
    parser.add_argument("--engine-rounds", type=int, default=5)
    parser.add_argument(
        "--duration", type=int, default=20, help="seconds of timed load per query (total)"
    )
    parser.add_argument("--round", type=int, default=5, help="seconds per alternating round")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per query")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--engine-only", action="store_true")
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} CPUs; everything below runs on it\n", flush=True)
    bench_engine(args.iterations, args.engine_rounds)
    if args.engine_only:
        return

    from db.embedded import make_temp_dir, temporary_servers
    from db.migrate import upgrade_all
    from subgraphs.kit.settings import get_settings

    workdir = make_temp_dir("athena-bench-")
    try:
        with temporary_servers("athena-bench-db-") as servers, contextlib.ExitStack() as stack:
            names = ("identity", "charters", "pricing")
            ports = {name: free_port() for name in (*names, "router")}
            env = {
                **os.environ,
                "DATABASE_URL": servers.postgres.url,
                "REDIS_URL": servers.redis.url,
                **{f"{name.upper()}_PORT": str(ports[name]) for name in names},
                "JWT_JWKS_URL": f"http://127.0.0.1:{ports['identity']}/.well-known/jwks.json",
                "LOG_LEVEL": "warning",
            }
            os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL")})
            get_settings.cache_clear()
            print(
                f"\nmigrating, seeding {CHARTERS} charters and demo data's price list ...",
                flush=True,
            )
            asyncio.run(upgrade_all(servers.postgres.url))
            token = asyncio.run(seed(servers.postgres.url))
            for name in names:
                log = workdir / f"{name}.log"
                proc = stack.enter_context(process([PYTHON, "-m", f"subgraphs.{name}"], env, log))
                wait_healthy(f"http://127.0.0.1:{ports[name]}/health", proc, log)
            text = (ROOT / "schema" / "supergraph.graphql").read_text()
            # Subgraphs not started here point at a closed port: the queries need none.
            text = re.sub(
                r'@join__graph\(name: "(\w+)", url: "[^"]*"\)',
                lambda m: (
                    f'@join__graph(name: "{m[1]}", url: "http://127.0.0.1:'
                    f'{ports.get(m[1], 9)}/graphql")'
                ),
                text,
            )
            local = workdir / "supergraph.graphql"
            local.write_text(text)
            log, router_port = workdir / "router.log", str(ports["router"])
            router = stack.enter_context(
                process(
                    [PYTHON, "-m", "router", "--supergraph", str(local), "--port", router_port],
                    env,
                    log,
                )
            )
            wait_healthy(f"http://127.0.0.1:{ports['router']}/health", router, log)
            check(f"http://127.0.0.1:{ports['router']}/graphql", token)

            rounds = max(1, round(args.duration / args.round))
            print(
                f"\n(2) through the router as a manager, {CHARTERS} charters; "
                f"{args.connections} connections (closed loop, asyncio keep-alive HTTP/1.1); "
                f"warm-up {args.warmup} s each, then {rounds} x {args.round} s per query in "
                f"alternating rounds",
                flush=True,
            )
            tallies = asyncio.run(
                side_by_side(
                    ports["router"],
                    token,
                    args.duration,
                    args.round,
                    args.warmup,
                    args.connections,
                )
            )
            rates, p50s, p99s = {}, {}, {}
            for name, tally in tallies.items():
                count = len(tally.latencies_ms)
                rates[name] = count / tally.seconds
                p50s[name] = percentile(tally.latencies_ms, 50)
                p99s[name] = percentile(tally.latencies_ms, 99)
                per_round = ", ".join(f"{r:.0f}" for r in tally.rounds)
                print(
                    f"  {name:14s} p50 {p50s[name]:8.2f} ms  p99 {p99s[name]:8.2f} ms  "
                    f"{rates[name]:7.1f} req/s  ({count} requests, {tally.errors} errors; "
                    f"req/s per round: {per_round})"
                )
            w, wo = "with quote", "without quote"
            print(
                f"  with / without quote: p50 x {p50s[w] / p50s[wo]:.2f}, "
                f"p99 x {p99s[w] / p99s[wo]:.2f}, req/s x {rates[w] / rates[wo]:.2f}"
            )
            print(
                f"  everything (PostgreSQL, Redis, 3 subgraphs, router, load) on this one "
                f"{os.cpu_count()}-CPU machine"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
