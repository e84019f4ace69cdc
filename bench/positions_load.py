"""GPS positions under load: V vehicles posting a fix every 5 s through `postPositions`.

    .venv/bin/python -m bench.positions_load [--vehicles 200] [--duration 120] [--every 5]

Issue 13 §7. A script that prints figures, never a test. Throwaway
PostgreSQL and Redis, migrated; V started trips (50 vehicles a charter,
each with its own driver) seeded through charters' services; identity runs
as a separate process (its JWKS verifies the drivers' tokens). The charters
app runs IN THIS PROCESS (uvicorn on a real port), so that its position
writer's own figures (batches, rows and SQL statements per batch, counted
on the batch's connection) can be read; the load comes from a separate
process (this script with `--generate`), so it does not share the app's
event loop or interpreter lock. Each vehicle posts one fix every `--every`
seconds (staggered over the interval) for `--duration` seconds over HTTP.

Printed: requests, accepted and dropped fixes, accepted positions per
second, p50/p99 of the mutation's round trip, and the writer's batches:
count, rows per batch, SQL statements per batch (min/max).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from bench.charters_board import PYTHON, ROOT, free_port, percentile, process, wait_healthy

POST = """
mutation($trip: ID!, $positions: [PositionInput!]!) {
  postPositions(tripId: $trip, positions: $positions) { accepted dropped userErrors { code } }
}"""
PER_CHARTER = 50


async def seed(database_url: str, vehicles: int) -> list[tuple[str, str]]:
    """`vehicles` started trips, each with its own driver; (trip id, driver token) pairs."""
    from sqlalchemy import select, update

    from db.engine import make_engine, session_factory
    from protocol.roles import Role
    from protocol.viewer import Viewer
    from subgraphs.charters.models import CharterVehicle
    from subgraphs.charters.service import charters as charter_service
    from subgraphs.charters.service import directory, fleet
    from subgraphs.identity.access_tokens import issue_access_token
    from subgraphs.identity.keys import Keyring
    from subgraphs.kit.settings import get_settings

    settings = get_settings().model_copy(update={"jwt_access_ttl_seconds": 3 * 3600})
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    manager = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.MANAGER}))
    trips: list[tuple[str, uuid.UUID]] = []
    try:
        async with sessions() as session, session.begin():
            coach = await fleet.create_vehicle_type(
                session, name="Executive Coach", capacity=56, description=None
            )
            client_id = uuid.uuid4()
            await directory.apply_client_event(
                session,
                {
                    "occurredAt": datetime.now(UTC).isoformat(),
                    "payload": {"clientId": str(client_id), "name": "Bench Client"},
                },
            )
            start = (datetime.now() + timedelta(days=1)).replace(second=0, microsecond=0)
            for n in range(-(-vehicles // PER_CHARTER)):
                count = min(PER_CHARTER, vehicles - n * PER_CHARTER)
                charter = await charter_service.create(
                    session,
                    charter_service.NewCharter(
                        client_id=client_id,
                        trip_type="one_way",
                        passenger_count=count * 50,
                        pickup_local=start + timedelta(hours=n),
                        pickup_time_zone="America/Chicago",
                        stops=[
                            {"stop_type": kind, "address": f"{n}-{i} Bench Street", "id": None}
                            for i, kind in enumerate(["pickup", "dropoff"])
                        ],
                        vehicles=[
                            {
                                "vehicle_type_id": str(coach.id),
                                "cost": "1850.00",
                                "capacity": 56,
                                "id": None,
                            }
                            for _ in range(count)
                        ],
                    ),
                    manager,
                )
                await charter_service.transition(session, charter.id, "booked", manager)
                await session.flush()
                for vehicle_id in await session.scalars(
                    select(CharterVehicle.id).where(CharterVehicle.charter_id == charter.id)
                ):
                    user_id = uuid.uuid4()
                    driver = await fleet.create_driver(
                        session,
                        user_id=user_id,
                        name=f"Driver {len(trips)}",
                        licence_class="CDL-B",
                        licence_expires_on=date.today() + timedelta(days=800),
                    )
                    # As the driver app's startTrip leaves it (the bench seeds; it does not drive).
                    await session.execute(
                        update(CharterVehicle)
                        .where(CharterVehicle.id == vehicle_id)
                        .values(driver_id=driver.id, trip_started_at=datetime.now(UTC))
                    )
                    trips.append((str(vehicle_id), user_id))
        keyring = Keyring(sessions, access_ttl_seconds=3 * 3600)
        key = await keyring.active()
        return [
            (
                trip,
                issue_access_token(
                    key, settings, user_id=user, roles=["driver"], session_id=uuid.uuid4()
                )[0],
            )
            for trip, user in trips
        ]
    finally:
        await engine.dispose()


# --- the load (a separate process) ----------------------------------------------


async def generate(url: str, trips: list[tuple[str, str]], duration: float, every: float) -> None:
    latencies: list[float] = []
    totals = {"requests": 0, "accepted": 0, "dropped": 0, "errors": 0}
    limits = httpx.Limits(max_connections=len(trips), max_keepalive_connections=len(trips))
    began = time.monotonic()

    async def vehicle(index: int, trip: str, token: str, client: httpx.AsyncClient) -> None:
        await asyncio.sleep(index * every / len(trips))
        step = 0
        while (due := began + index * every / len(trips) + step * every) < began + duration:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            fix = {
                "latitude": 41.8 + index / 1000,
                "longitude": -87.6 - step / 10000,
                "speedKph": 70.0,
                "heading": 90.0,
                "accuracyM": 5.0,
                "recordedAt": datetime.now(UTC).isoformat(),
            }
            sent = time.perf_counter()
            try:
                response = await client.post(
                    url,
                    json={"query": POST, "variables": {"trip": trip, "positions": [fix]}},
                    headers={"authorization": f"Bearer {token}"},
                )
                answer = response.json()["data"]["postPositions"]
                if answer["userErrors"]:
                    raise RuntimeError(answer["userErrors"])
                totals["accepted"] += answer["accepted"]
                totals["dropped"] += answer["dropped"]
            except Exception as error:  # counted and shown, the load goes on
                totals["errors"] += 1
                if totals["errors"] <= 3:
                    print(f"error: {str(error)[:300]}", file=sys.stderr)
            latencies.append((time.perf_counter() - sent) * 1000)
            totals["requests"] += 1
            step += 1

    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        await asyncio.gather(*(vehicle(i, t, k, client) for i, (t, k) in enumerate(trips)))
    elapsed = time.monotonic() - began
    print(
        json.dumps(
            {
                **totals,
                "elapsed": elapsed,
                "p50_ms": percentile(latencies, 50),
                "p99_ms": percentile(latencies, 99),
            }
        )
    )


# --- main ----------------------------------------------------------------------


async def run(args: argparse.Namespace, env: dict[str, str], workdir: Path) -> None:
    from subgraphs.charters.app import create_app
    from subgraphs.charters.service.positions import writer_of
    from subgraphs.kit.settings import get_settings
    from tests.support.live_server import serve

    trips = await seed(env["DATABASE_URL"], args.vehicles)
    plan = workdir / "trips.json"
    plan.write_text(json.dumps(trips))
    app = create_app(get_settings())
    async with serve(app) as charters:
        url = charters.graphql_url
        print(
            f"\n{args.vehicles} vehicles, one fix every {args.every:g} s each, for "
            f"{args.duration:g} s, against charters at {url} (in this process); "
            f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.2f} before",
            flush=True,
        )
        generator = await asyncio.create_subprocess_exec(
            PYTHON,
            "-m",
            "bench.positions_load",
            "--generate",
            str(plan),
            "--url",
            url,
            "--duration",
            str(args.duration),
            "--every",
            str(args.every),
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        out, _ = await generator.communicate()
        if generator.returncode != 0:
            raise RuntimeError(f"the load generator failed ({generator.returncode})")
        result = json.loads(out.decode().strip().splitlines()[-1])
        stats = writer_of(app.state.services).stats
    per_batch = stats.per_batch or [0]
    print(
        f"  requests {result['requests']}  accepted {result['accepted']}  dropped "
        f"{result['dropped']}  errors {result['errors']}  in {result['elapsed']:.1f} s\n"
        f"  accepted positions per second: {result['accepted'] / result['elapsed']:.1f}\n"
        f"  postPositions round trip: p50 {result['p50_ms']:.2f} ms  "
        f"p99 {result['p99_ms']:.2f} ms\n"
        f"  writer: {stats.batches} batches, {stats.rows / max(stats.batches, 1):.1f} rows "
        f"per batch, SQL statements per batch min {min(per_batch)} max {max(per_batch)} "
        f"(last {len(stats.per_batch)} batches)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vehicles", type=int, default=200)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between fixes")
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        trips = [tuple(t) for t in json.loads(Path(args.generate).read_text())]
        asyncio.run(generate(args.url, trips, args.duration, args.every))  # type: ignore[arg-type]
        return

    from db.embedded import make_temp_dir, temporary_servers
    from db.migrate import upgrade_all
    from subgraphs.kit.settings import get_settings

    workdir = make_temp_dir("athena-bench-")
    try:
        with temporary_servers("athena-bench-db-") as servers, contextlib.ExitStack() as stack:
            identity_port = free_port()
            env = {
                **os.environ,
                "DATABASE_URL": servers.postgres.url,
                "REDIS_URL": servers.redis.url,
                "IDENTITY_PORT": str(identity_port),
                "JWT_JWKS_URL": f"http://127.0.0.1:{identity_port}/.well-known/jwks.json",
                "LOG_LEVEL": "warning",
                "JOBS_ENABLED": "0",
            }
            os.environ.update(
                {k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "JWT_JWKS_URL", "JOBS_ENABLED")}
            )
            get_settings.cache_clear()
            print(f"migrating and seeding {args.vehicles} started trips ...", flush=True)
            asyncio.run(upgrade_all(servers.postgres.url))
            log = workdir / "identity.log"
            proc = stack.enter_context(process([PYTHON, "-m", "subgraphs.identity"], env, log))
            wait_healthy(f"http://127.0.0.1:{identity_port}/health", proc, log)
            asyncio.run(run(args, env, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
