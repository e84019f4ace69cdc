"""Vendors benchmark: the contract's headline query through the router.

    .venv/bin/python -m bench.vendors_headline [--duration 10] [--connections 16]

A script that prints figures, never a test. It starts its own throwaway
PostgreSQL and Redis, migrates them, seeds one charter with 10 vehicles
served by 5 vendors holding 4 certifications each, runs identity, charters,
vendors and the router as separate uvicorn processes (the router with a
copy of `schema/supergraph.graphql` pointed at the benchmark's ports), and
measures p50/p99 latency and throughput of

    charter(id) { reference vehicles { capacity vendor { name certifications
      { type number expiresOn status } } } vendorCompliance { allVendorsCompliant } }

through the router. Load comes from `wrk` when installed, else from a
bounded httpx closed loop; the output says which.

Seeding copies the charter into vendors' projection directly (as the demo
loader does) instead of waiting for charters' event stream: the bench is
not a subgraph.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import select

from bench.charters_board import (
    PYTHON,
    ROOT,
    Figures,
    free_port,
    percentile,
    process,
    wait_healthy,
    wrk_percentile_ms,
)

HEADLINE = (
    "query($id: ID!) { charter(id: $id) { reference vehicles { capacity vendor { name "
    "certifications { type number expiresOn status } } } vendorCompliance { allVendorsCompliant } } }"
)
VEHICLES, VENDORS, CERTS = 10, 5, ("dot", "mc", "insurance", "business_license")


async def seed(database_url: str) -> tuple[str, str]:
    """The charter (10 vehicles, 5 vendors x 4 certifications); returns (charter id, token)."""
    from db.demo.vendors import _project_demo_charters
    from db.engine import make_engine, session_factory
    from protocol.roles import Role
    from protocol.viewer import Viewer
    from subgraphs.charters.service import charters as charter_service
    from subgraphs.charters.service import directory, fleet
    from subgraphs.identity.access_tokens import issue_access_token
    from subgraphs.identity.keys import Keyring
    from subgraphs.kit.settings import get_settings
    from subgraphs.vendors.models import CharterVehicleFacts
    from subgraphs.vendors.service import assignments, certifications, vendors

    settings = get_settings()
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    manager = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.MANAGER}))
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
            local = (datetime.now() + timedelta(days=5)).replace(
                hour=9, minute=0, second=0, microsecond=0
            )
            charter = await charter_service.create(
                session,
                charter_service.NewCharter(
                    client_id=client_id,
                    trip_type="one_way",
                    passenger_count=500,
                    pickup_local=local,
                    pickup_time_zone="America/Chicago",
                    stops=[
                        {"stop_type": "pickup", "address": "1 Bench Street", "id": None},
                        {"stop_type": "dropoff", "address": "9 Bench Avenue", "id": None},
                    ],
                    vehicles=[
                        {
                            "vehicle_type_id": str(coach.id),
                            "cost": "1850.00",
                            "capacity": 56,
                            "id": None,
                        }
                        for _ in range(VEHICLES)
                    ],
                ),
                manager,
            )
            await charter_service.transition(session, charter.id, "booked", manager)
            charter_id = charter.id
        async with sessions() as session, session.begin():
            await _project_demo_charters(session)
            made = []
            for n in range(VENDORS):
                vendor = await vendors.create(
                    session,
                    vendors.VendorProfile(
                        business_name=f"Bench Coaches {n + 1}", vendor_type="fleet_operator"
                    ),
                    manager,
                )
                for cert in CERTS:
                    await certifications.add(
                        session,
                        vendor.id,
                        certifications.NewCertification(
                            cert_type=cert,
                            number=f"{cert.upper()}-{n}",
                            issued_on=date.today() - timedelta(days=30),
                            expires_on=date.today() + timedelta(days=300),
                        ),
                        manager,
                    )
                await vendors.set_status(session, vendor.id, "active", manager)
                made.append(vendor)
            vehicles = list(
                await session.scalars(
                    select(CharterVehicleFacts.charter_vehicle_id).where(
                        CharterVehicleFacts.charter_id == charter_id
                    )
                )
            )
            for n, vehicle_id in enumerate(vehicles):
                await assignments.assign(
                    session,
                    charter_vehicle_id=vehicle_id,
                    vendor_id=made[n % VENDORS].id,
                    amount=Decimal("900.00"),
                    actor=manager,
                    required=settings.required_certifications,
                )
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
    return str(charter_id), token


def body_of(charter_id: str) -> str:
    return json.dumps({"query": HEADLINE, "variables": {"id": charter_id}})


def check(url: str, token: str, charter_id: str) -> None:
    response = httpx.post(
        url,
        content=body_of(charter_id),
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        timeout=30,
    )
    body = response.json()
    charter = (body.get("data") or {}).get("charter") or {}
    vehicles = charter.get("vehicles") or []
    certs = sum(len((v.get("vendor") or {}).get("certifications") or []) for v in vehicles)
    names = {(v.get("vendor") or {}).get("name") for v in vehicles}
    if body.get("errors") or len(vehicles) != VEHICLES or len(names) != VENDORS or certs != 40:
        raise RuntimeError(f"{url}: unexpected answer {str(body)[:600]}")


def run_wrk(
    url: str, token: str, charter_id: str, duration: int, connections: int, workdir: Path
) -> Figures:
    script = workdir / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = [==[{body_of(charter_id)}]==]\n"
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
    sock = re.search(r"Socket errors: (.*)", out)
    errors = (int(bad.group(1)) if bad else 0) + (
        sum(int(n) for n in re.findall(r"\d+", sock.group(1))) if sock else 0
    )
    return Figures(
        "router",
        f"wrk -t{threads} -c{connections} -d{duration}s",
        wrk_percentile_ms(out, "50"),
        wrk_percentile_ms(out, "99"),
        rps,
        requests,
        errors,
    )


async def closed_loop(
    url: str, token: str, charter_id: str, duration: int, connections: int
) -> Figures:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                began = time.perf_counter()
                response = await client.post(url, content=body_of(charter_id), headers=headers)
                latencies.append((time.perf_counter() - began) * 1000)
                if response.status_code != 200 or "errors" in response.json():
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    return Figures(
        "router",
        f"httpx closed loop, {connections} workers, {duration}s",
        percentile(latencies, 50),
        percentile(latencies, 99),
        len(latencies) / elapsed,
        len(latencies),
        errors,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    from db.embedded import make_temp_dir, temporary_servers
    from db.migrate import upgrade_all
    from subgraphs.kit.settings import get_settings

    workdir = make_temp_dir("athena-bench-")
    try:
        with temporary_servers("athena-bench-db-") as servers, contextlib.ExitStack() as stack:
            ports = {name: free_port() for name in ("identity", "charters", "vendors", "router")}
            env = {
                **os.environ,
                "DATABASE_URL": servers.postgres.url,
                "REDIS_URL": servers.redis.url,
                "IDENTITY_PORT": str(ports["identity"]),
                "CHARTERS_PORT": str(ports["charters"]),
                "VENDORS_PORT": str(ports["vendors"]),
                "JWT_JWKS_URL": f"http://127.0.0.1:{ports['identity']}/.well-known/jwks.json",
                "LOG_LEVEL": "warning",
            }
            os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL")})
            get_settings.cache_clear()
            print(
                f"migrating and seeding 1 charter x {VEHICLES} vehicles, {VENDORS} vendors x "
                f"{len(CERTS)} certifications ...",
                flush=True,
            )
            asyncio.run(upgrade_all(servers.postgres.url))
            charter_id, token = asyncio.run(seed(servers.postgres.url))
            for name in ("identity", "charters", "vendors"):
                log = workdir / f"{name}.log"
                proc = stack.enter_context(process([PYTHON, "-m", f"subgraphs.{name}"], env, log))
                wait_healthy(f"http://127.0.0.1:{ports[name]}/health", proc, log)
            text = (ROOT / "schema" / "supergraph.graphql").read_text()
            for name in ("identity", "charters", "vendors"):
                text = re.sub(
                    rf'(@join__graph\(name: "{name}", url: ")[^"]*(")',
                    rf"\g<1>http://127.0.0.1:{ports[name]}/graphql\g<2>",
                    text,
                )
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
                        str(ports["router"]),
                    ],
                    env,
                    log,
                )
            )
            wait_healthy(f"http://127.0.0.1:{ports['router']}/health", router, log)
            url = f"http://127.0.0.1:{ports['router']}/graphql"
            for _ in range(3):
                check(url, token, charter_id)
            use_wrk = shutil.which("wrk") is not None
            print(
                f"headline query through the router; load: "
                f"{'wrk' if use_wrk else 'httpx closed loop (wrk not installed)'}"
            )
            fig = (
                run_wrk(url, token, charter_id, args.duration, args.connections, workdir)
                if use_wrk
                else asyncio.run(
                    closed_loop(url, token, charter_id, args.duration, args.connections)
                )
            )
            print(f"  {fig.tool}")
            print(
                f"  p50 {fig.p50_ms:.2f} ms  p99 {fig.p99_ms:.2f} ms  "
                f"{fig.rps:.1f} req/s  ({fig.requests} requests, {fig.errors} errors)"
            )
            print(
                f"  machine: {os.cpu_count()} CPUs; everything (db, redis, 3 subgraphs, router, "
                f"load) on this one machine"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
