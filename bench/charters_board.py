"""Charters benchmark: nested charter query, and dispatch board fan-out latency.

    .venv/bin/python -m bench.charters_board [--duration 10] [--connections 16]
        [--subscribers 100] [--mutations 30]

A script that prints figures, never a test. It starts its own throwaway
PostgreSQL and Redis (`db.embedded.temporary_servers`), migrates them, runs
the identity and charters subgraphs as separate uvicorn processes (and the
router, when `router/` and `schema/supergraph.graphql` are there), seeds 50
charters of 3 vehicles and 4 stops each, measures, prints and cleans up.

(a) p50/p99 latency and throughput of the nested charter query, directly
    against the charters subgraph and through the router. Load comes from
    `wrk` (POST body from a small Lua script) when installed, otherwise from
    a bounded closed loop of httpx clients; the output says which.
(b) Time from a `setDispatchStatus` mutation (sent over HTTP) until the
    `dispatchBoard` event reached every one of N subscribers connected over
    graphql-transport-ws: per mutation, the time for the LAST subscriber,
    and over all deliveries; p50 and p99.
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
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.typing import Subprotocol

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

NESTED = (
    "query { charters(first: 50) { edges { node { reference stops { address } "
    "vehicles { capacity cost vehicleType { name } } } } } }"
)
BOARD = """
subscription($from: DateTime!, $to: DateTime!) {
  dispatchBoard(from: $from, to: $to) {
    eventId changes charter { id reference status vehicles { id dispatchStatus } }
  }
}"""
SET_DISPATCH = """
mutation($id: ID!, $status: DispatchStatus!) {
  setDispatchStatus(charterVehicleId: $id, status: $status) { userErrors { code message } }
}"""


@dataclass
class Figures:
    target: str
    tool: str
    p50_ms: float
    p99_ms: float
    rps: float
    requests: int
    errors: int


def free_port() -> int:
    from db.embedded import free_port as pick

    return pick()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# --- processes -------------------------------------------------------------


@contextlib.contextmanager
def process(
    args: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} not healthy after {timeout}s:\n{log.read_text()[-3000:]}")


# --- data ------------------------------------------------------------------


async def seed(database_url: str, readers: int = 1) -> tuple[str, list[str]]:
    """50 charters, 3 vehicles and 4 stops each; one booked. Returns a manager token.

    With `readers` above 1, the token is that many tokens of distinct staff people,
    space-separated (`board_latency` spreads its subscribers over them).
    """
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
    booked_vehicles: list[str] = []
    try:
        async with sessions() as session, session.begin():
            coach = await fleet.create_vehicle_type(
                session, name="Executive Coach", capacity=56, description=None
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
            start = datetime.now() + timedelta(days=3)
            for n in range(50):
                local = (start + timedelta(hours=6 * n)).replace(second=0, microsecond=0)
                charter = await charter_service.create(
                    session,
                    charter_service.NewCharter(
                        client_id=client_id,
                        trip_type="round_trip",
                        passenger_count=150,
                        pickup_local=local,
                        pickup_time_zone="America/Chicago",
                        stops=[
                            {"stop_type": kind, "address": f"{n}-{i} Bench Street", "id": None}
                            for i, kind in enumerate(["pickup", "waypoint", "waypoint", "dropoff"])
                        ],
                        vehicles=[
                            {
                                "vehicle_type_id": str(coach.id),
                                "cost": "1850.00",
                                "capacity": 56,
                                "id": None,
                            }
                            for _ in range(3)
                        ],
                    ),
                    manager,
                )
                if n == 0:
                    await charter_service.transition(session, charter.id, "booked", manager)
                    await session.flush()
                    from sqlalchemy import select

                    from subgraphs.charters.models import CharterVehicle

                    booked_vehicles = [
                        str(i)
                        for i in await session.scalars(
                            select(CharterVehicle.id).where(CharterVehicle.charter_id == charter.id)
                        )
                    ]
        keyring = Keyring(sessions, access_ttl_seconds=3600)
        key = await keyring.active()
        tokens = [
            issue_access_token(
                key,
                settings.model_copy(update={"jwt_access_ttl_seconds": 3600}),
                user_id=uuid.uuid4(),
                roles=["manager", "dispatcher"],
                session_id=uuid.uuid4(),
            )[0]
            for _ in range(max(readers, 1))
        ]
        token = " ".join(tokens)
    finally:
        await engine.dispose()
    return token, booked_vehicles


# --- (a) query load ----------------------------------------------------------


def check_query(url: str, token: str) -> None:
    response = httpx.post(
        url,
        json={"query": NESTED},
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )
    body = response.json()
    edges = ((body.get("data") or {}).get("charters") or {}).get("edges") or []
    if response.status_code != 200 or body.get("errors") or len(edges) != 50:
        raise RuntimeError(f"{url}: unexpected answer {str(body)[:500]}")
    nodes = [e["node"] for e in edges]
    if not all(len(n["vehicles"]) == 3 and len(n["stops"]) == 4 for n in nodes):
        raise RuntimeError(f"{url}: charters without 3 vehicles and 4 stops")


def run_wrk(
    url: str, token: str, duration: int, connections: int, workdir: Path, target: str
) -> Figures:
    body = json.dumps({"query": NESTED})
    script = workdir / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = [==[{body}]==]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
    )
    threads = min(4, connections)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "--timeout",
            "60s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Figures(
        target,
        f"wrk -t{threads} -c{connections} -d{duration}s",
        wrk_percentile_ms(out, "50"),
        wrk_percentile_ms(out, "99"),
        rps,
        requests,
        errors,
    )


async def closed_loop(
    url: str, token: str, duration: int, connections: int, target: str
) -> Figures:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                began = time.perf_counter()
                response = await client.post(
                    url, json={"query": NESTED}, headers={"authorization": f"Bearer {token}"}
                )
                latencies.append((time.perf_counter() - began) * 1000)
                if response.status_code != 200 or "errors" in response.json():
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    return Figures(
        target,
        f"httpx closed loop, {connections} workers, {duration}s",
        percentile(latencies, 50),
        percentile(latencies, 99),
        len(latencies) / elapsed,
        len(latencies),
        errors,
    )


# --- (b) board fan-out -------------------------------------------------------


def wrk_percentile_ms(out: str, label: str) -> float:
    """A latency percentile (`label`: "50", "99") from `wrk --latency` output, in ms."""
    match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if not match:
        raise RuntimeError(f"cannot read {label}% from wrk:\n{out}")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


async def board_latency(
    ws_url: str, http_url: str, token: str, vehicle_id: str, subscribers: int, mutations: int
) -> dict[str, Any]:
    arrivals: dict[int, list[float]] = {}
    current = -1
    ready = asyncio.Event()
    connected = 0
    protocol = Subprotocol("graphql-transport-ws")
    window = {
        "from": datetime.now(UTC).isoformat(),
        "to": (datetime.now(UTC) + timedelta(days=60)).isoformat(),
    }

    #: Subscribers that have had at least one event: only then is their listener surely live.
    seen: set[int] = set()

    #: distinct people subscribing (`seed(readers=)`); the mutation is the first one's
    people = token.split()
    token = people[0]

    async def subscriber(n: int) -> None:
        nonlocal connected
        mine = people[n % len(people)]
        async with websockets.connect(ws_url, subprotocols=[protocol], max_size=None) as ws:
            await ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"Authorization": f"Bearer {mine}"}}
                )
            )
            ack = json.loads(await ws.recv())
            if ack["type"] != "connection_ack":
                raise RuntimeError(f"connection refused: {ack}")
            await ws.send(
                json.dumps(
                    {
                        "id": "board",
                        "type": "subscribe",
                        "payload": {"query": BOARD, "variables": window},
                    }
                )
            )
            connected += 1
            if connected == subscribers:
                ready.set()
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif message["type"] == "next":
                    if "errors" in message["payload"]:
                        raise RuntimeError(message["payload"]["errors"])
                    arrivals.setdefault(current, []).append(time.perf_counter())
                    seen.add(n)
                else:
                    raise RuntimeError(f"unexpected {message}")

    tasks = [asyncio.create_task(subscriber(n)) for n in range(subscribers)]
    per_mutation: list[float] = []
    deliveries: list[float] = []
    mutation_ms: list[float] = []
    try:
        await asyncio.wait_for(ready.wait(), 60)
        async with httpx.AsyncClient(timeout=30) as client:
            headers = {"authorization": f"Bearer {token}"}
            statuses = ["READY", "NOT_READY"]
            # A subscriber counts as ready once it SENT its subscribe; the server registers
            # the listener a little later. Warm up until every one has had an event, so the
            # measured rounds time deliveries, not registrations.
            warm_until = time.perf_counter() + 120
            warm = 0
            while len(seen) < subscribers:
                if time.perf_counter() > warm_until:
                    raise RuntimeError(f"warm-up: {len(seen)}/{subscribers} subscribers live")
                current, warm = -1, warm + 1
                response = await client.post(
                    http_url,
                    json={
                        "query": SET_DISPATCH,
                        "variables": {"id": vehicle_id, "status": statuses[warm % 2]},
                    },
                    headers=headers,
                )
                await asyncio.sleep(2)
            await asyncio.sleep(1)  # let the warm-up's last deliveries land before round 1
            # Round 0 replays one mutation for every subscriber before timing starts.
            for round_ in range(mutations + 1):
                current = round_
                arrivals[round_] = []
                began = time.perf_counter()
                response = await client.post(
                    http_url,
                    json={
                        "query": SET_DISPATCH,
                        # Alternating on from the warm-up's last status: every round changes it.
                        "variables": {
                            "id": vehicle_id,
                            "status": statuses[(warm + 1 + round_) % 2],
                        },
                    },
                    headers=headers,
                )
                mutation_ms.append((time.perf_counter() - began) * 1000)
                errors = response.json()["data"]["setDispatchStatus"]["userErrors"]
                if errors:
                    raise RuntimeError(errors)
                deadline = time.perf_counter() + (30 if round_ == 0 else 10)
                while len(arrivals[round_]) < subscribers:
                    if time.perf_counter() > deadline:
                        raise RuntimeError(
                            f"round {round_}: {len(arrivals[round_])}/{subscribers} delivered"
                        )
                    await asyncio.sleep(0.0005)
                if round_ == 0:
                    continue
                times = [(t - began) * 1000 for t in arrivals[round_]]
                per_mutation.append(max(times))
                deliveries.extend(times)
                await asyncio.sleep(0.05)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "all_p50": percentile(per_mutation, 50),
        "all_p99": percentile(per_mutation, 99),
        "each_p50": percentile(deliveries, 50),
        "each_p99": percentile(deliveries, 99),
        "mutation_p50": percentile(mutation_ms[1:], 50),
        "deliveries": len(deliveries),
        "mean_all": statistics.fmean(per_mutation),
    }


# --- main --------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per target")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--mutations", type=int, default=30)
    parser.add_argument("--no-router", action="store_true")
    args = parser.parse_args()

    from db.embedded import make_temp_dir, temporary_servers
    from db.migrate import upgrade_all
    from subgraphs.kit.settings import get_settings

    workdir = make_temp_dir("athena-bench-")
    try:
        with temporary_servers("athena-bench-db-") as servers, contextlib.ExitStack() as stack:
            identity_port, charters_port, router_port = free_port(), free_port(), free_port()
            env = {
                **os.environ,
                "DATABASE_URL": servers.postgres.url,
                "REDIS_URL": servers.redis.url,
                "IDENTITY_PORT": str(identity_port),
                "CHARTERS_PORT": str(charters_port),
                "JWT_JWKS_URL": f"http://127.0.0.1:{identity_port}/.well-known/jwks.json",
                "LOG_LEVEL": "warning",
            }
            os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL")})
            get_settings.cache_clear()
            print("migrating and seeding 50 charters x 3 vehicles x 4 stops ...", flush=True)
            asyncio.run(upgrade_all(servers.postgres.url))
            token, vehicles = asyncio.run(seed(servers.postgres.url))

            procs = {}
            for name, port in (("identity", identity_port), ("charters", charters_port)):
                log = workdir / f"{name}.log"
                proc = stack.enter_context(process([PYTHON, "-m", f"subgraphs.{name}"], env, log))
                wait_healthy(f"http://127.0.0.1:{port}/health", proc, log)
                procs[name] = proc
            charters_url = f"http://127.0.0.1:{charters_port}/graphql"
            check_query(charters_url, token)
            targets = [("charters subgraph (direct)", charters_url)]

            supergraph = ROOT / "schema" / "supergraph.graphql"
            if not args.no_router and (ROOT / "router").is_dir() and supergraph.exists():
                text = supergraph.read_text()
                text = text.replace("127.0.0.1:4103/", f"127.0.0.1:{charters_port}/")
                text = text.replace("127.0.0.1:4101/", f"127.0.0.1:{identity_port}/")
                local = workdir / "supergraph.graphql"
                local.write_text(text)
                log = workdir / "router.log"
                router = stack.enter_context(
                    process(
                        [
                            PYTHON,
                            "-m",
                            "router",
                            "--supergraph",
                            str(local),
                            "--port",
                            str(router_port),
                        ],
                        env,
                        log,
                    )
                )
                try:
                    wait_healthy(f"http://127.0.0.1:{router_port}/health", router, log)
                    router_url = f"http://127.0.0.1:{router_port}/graphql"
                    check_query(router_url, token)
                    targets.append(("through the router", router_url))
                except Exception as exc:  # report and go on with the direct figures
                    print(f"router skipped: {str(exc)[:400]}")

            use_wrk = shutil.which("wrk") is not None
            print(
                f"\n(a) nested charter query, 50 charters x 3 vehicles x 4 stops; load: "
                f"{'wrk' if use_wrk else 'httpx closed loop (wrk not installed)'}"
            )
            for target, url in targets:
                for _ in range(2):  # warm plan caches, pools and JIT-ish paths
                    check_query(url, token)
                if use_wrk:
                    fig = run_wrk(url, token, args.duration, args.connections, workdir, target)
                else:
                    fig = asyncio.run(
                        closed_loop(url, token, args.duration, args.connections, target)
                    )
                print(
                    f"  {fig.target:28s} p50 {fig.p50_ms:8.2f} ms  p99 {fig.p99_ms:8.2f} ms  "
                    f"{fig.rps:8.1f} req/s  ({fig.requests} requests, {fig.errors} errors; "
                    f"{fig.tool})"
                )

            print(
                f"\n(b) setDispatchStatus -> dispatchBoard event at {args.subscribers} "
                f"subscribers (one charters process), {args.mutations} mutations"
            )
            result = asyncio.run(
                board_latency(
                    f"ws://127.0.0.1:{charters_port}/graphql",
                    charters_url,
                    token,
                    vehicles[0],
                    args.subscribers,
                    args.mutations,
                )
            )
            print(
                f"  until ALL subscribers had it: p50 {result['all_p50']:7.2f} ms  "
                f"p99 {result['all_p99']:7.2f} ms  (mean {result['mean_all']:.2f} ms)\n"
                f"  each delivery ({result['deliveries']}):   p50 {result['each_p50']:7.2f} ms  "
                f"p99 {result['each_p99']:7.2f} ms\n"
                f"  the mutation's own HTTP round trip: p50 {result['mutation_p50']:.2f} ms"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
