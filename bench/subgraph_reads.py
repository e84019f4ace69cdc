"""Subgraph reads under varied requests: each subgraph, the router, and the floor (issue 18 §1).

    .venv/bin/python -m bench.subgraph_reads [--duration 8] [--warmup 3] [--connections 16]
        [--reads board,vendors,quote_balance,dashboard,leads] [--variants 128]
        [--subgraph-core N] [--load-core N]

A script that prints figures, never a test. It starts throwaway PostgreSQL
and Redis, migrates, loads the demo data (`db.demo`) and multiplies it in
SQL (charters with their stops and vehicles shifted in time, vendors with
their certifications, leads with their activities) so that windows, filters
and pages really select different rows. Identity, charters, vendors, sales,
pricing, finance and the router run as separate processes; the subgraphs
(and the floor) are pinned with `taskset` to one core, wrk and the router
to another.

For each read, `--variants` request bodies differ in their variables (a
window, a filter, a set of keys); wrk sends them from a Lua script, each
request a random one of them, so neither the router's in-flight
deduplication nor any cache answers two requests alike. Each read is
measured:

- directly against the owning subgraph, every body signed with the router's
  credential (`protocol/router_credential.py`; the signature's time is set
  ahead so it stays fresh for the whole run: the subgraph verifies it as it
  verifies the router's);
- through the router (a read whose root the router exposes);
- against the FLOOR: the SQL statements the subgraph issued for each body
  (recorded once per body, in a process of its own, by a SQLAlchemy
  `before_cursor_execute` listener scoped to requests), replayed with their
  parameters on a plain asyncpg pool, in one transaction, the rows
  serialised with orjson, by a raw ASGI app under the same uvicorn settings
  and on the same core, the same bodies signed and verified the same way.
  No GraphQL: it is the cost of the data, and the `x floor` columns say how
  far the subgraph sits above it.

Printed per read and target: req/s, p50, p99, errors, and the CPU per
request of the pinned processes (utime+stime from /proc before and after
the timed run, divided by wrk's requests): the owning subgraph for direct
and floor rows, every involved subgraph for router rows.

Internal modes (used by the script itself): `--capture NAME IN OUT` and
`--floor PICKLE PORT`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import pickle
import random
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.charters_board import PYTHON, ROOT, free_port, process, wait_healthy, wrk_percentile_ms
from bench.reports_profit import table_columns

SECRET = "bench-router-secret"  # noqa: S105 - a throwaway run's own
SUBGRAPHS = ("identity", "charters", "vendors", "sales", "pricing", "finance")

BOARD = (
    "query($where: CharterFilter) { charters(first: 50, where: $where) { edges { node { "
    "reference stops { address } vehicles { capacity cost vehicleType { name } } } } } }"
)
VENDORS = (
    "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Vendor { "
    "name certifications { type number expiresOn status } } } }"
)
VENDORS_ROUTER = (
    "query($search: String, $status: [VendorStatus!]) { vendors(first: 50, search: $search, "
    "status: $status) { edges { node { name certifications { type number expiresOn status } } } } }"
)
QUOTE_BALANCE = (
    "query($where: CharterFilter) { charters(first: 50, where: $where) { edges { node { "
    "reference quote { total lines { label kind amount } } balance { due } } } } }"
)
BALANCE_ENTITIES = (
    "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Charter { "
    "balance { due } } } }"
)
DASHBOARD = (
    "query($reps: [_Any!]!, $n: Int!) { _entities(representations: $reps) { ... on Client { "
    "upcomingTrips(first: $n) { reference status pickupAt } "
    "quotesAwaitingAnswer(first: $n) { reference status quoteRevision totalCost } } } }"
)
DASHBOARD_ROUTER = (
    "query($id: ID!, $n: Int!) { client(id: $id) { name "
    "upcomingTrips(first: $n) { reference status pickupAt } "
    "quotesAwaitingAnswer(first: $n) { reference status quoteRevision totalCost } } }"
)
LEADS = (
    "query($filter: LeadFilter) { leads(first: 50, filter: $filter) { edges { node { "
    "id status firstName lastName company activityCount "
    "activities(first: 5) { type notes fromStatus toStatus at } } } } }"
)


@dataclass
class Read:
    """One benchmarked read: its query on the owning subgraph and through the router."""

    name: str
    title: str
    owner: str
    direct: str | None
    router: str | None
    #: (ids, rng) -> variables, one per variant; the router's variables from the same rng
    direct_vars: Callable[[dict[str, Any], random.Random], dict[str, Any]] | None
    router_vars: Callable[[dict[str, Any], random.Random], dict[str, Any]] | None
    #: subgraphs a router request reaches (their CPU is summed)
    involved: tuple[str, ...] = ()


def _window(ids: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A pickup window holding 50-150 charters (before any status filter), anywhere in the data."""
    pickups = ids["pickups"]
    first = rng.randrange(0, max(1, len(pickups) - 150))
    last = min(len(pickups) - 1, first + rng.randrange(50, 150))
    where: dict[str, Any] = {
        "pickupFrom": pickups[first].isoformat(),
        "pickupTo": (pickups[last] + timedelta(seconds=1)).isoformat(),
    }
    if rng.random() < 0.3:
        where["status"] = rng.sample(["QUOTE", "BOOKED", "CONFIRMED", "COMPLETED"], 3)
    return {"where": where}


def _vendor_reps(ids: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    chosen = rng.sample(ids["vendors"], min(50, len(ids["vendors"])))
    return {"reps": [{"__typename": "Vendor", "id": v} for v in chosen]}


def _vendor_search(ids: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    variables: dict[str, Any] = {"search": rng.choice(ids["vendor_prefixes"])}
    if rng.random() < 0.5:
        variables["status"] = ["ACTIVE"]
    return variables


def _balance_reps(ids: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    chosen = rng.sample(ids["charters"], min(50, len(ids["charters"])))
    return {"reps": [{"__typename": "Charter", "id": c} for c in chosen]}


def _client_reps(ids: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    return {
        "reps": [{"__typename": "Client", "id": rng.choice(ids["clients"])}],
        "n": rng.randrange(3, 21),
    }


def _client_id(ids: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    return {"id": rng.choice(ids["clients"]), "n": rng.randrange(3, 21)}


def _lead_filter(ids: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A creation window holding 50-120 leads (before any status filter)."""
    created = ids["leads_created"]
    first = rng.randrange(0, max(1, len(created) - 120))
    last = min(len(created) - 1, first + rng.randrange(50, 120))
    flt: dict[str, Any] = {
        "createdFrom": created[first].isoformat(),
        "createdTo": (created[last] + timedelta(seconds=1)).isoformat(),
    }
    if rng.random() < 0.3:
        flt["status"] = rng.sample(["NEW", "CONTACTED", "QUALIFIED", "QUOTED", "LOST"], 3)
    return {"filter": flt}


READS: dict[str, Read] = {
    r.name: r
    for r in (
        Read("board", "board: charters(first: 50) stops vehicles vehicleType", "charters",
             BOARD, BOARD, _window, _window, ("charters",)),
        Read("vendors", "vendors: _entities 50 Vendor + certifications (router: vendors(first: 50))",
             "vendors", VENDORS, VENDORS_ROUTER, _vendor_reps, _vendor_search, ("vendors",)),
        Read("quote_balance", "charters(first: 50) quote { total lines } balance { due } "
             "(direct: finance _entities 50 Charter balance)", "finance",
             BALANCE_ENTITIES, QUOTE_BALANCE, _balance_reps, _window,
             ("charters", "pricing", "finance")),
        Read("dashboard", "client portal dashboard: upcomingTrips + quotesAwaitingAnswer",
             "charters", DASHBOARD, DASHBOARD_ROUTER, _client_reps, _client_id,
             ("sales", "charters")),
        Read("leads", "leads(first: 50) with activities(first: 5)", "sales",
             LEADS, LEADS, _lead_filter, _lead_filter, ("sales",)),
    )
}  # fmt: skip


# --- data ------------------------------------------------------------------


async def multiply(database_url: str, copies: int) -> None:
    """Copy the demo's charters (shifted by 3 weeks per copy), vendors and leads in SQL."""
    from sqlalchemy import text

    from db.engine import make_engine

    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:

            async def columns(table: str) -> list[str]:
                return await table_columns(conn, table)

            async def copy(table: str, overrides: dict[str, str], join: str) -> None:
                cols = await columns(table)
                select_list = ", ".join(overrides.get(c, f"t.{c}") for c in cols)
                await conn.execute(
                    text(
                        f"INSERT INTO {table} ({', '.join(cols)}) "  # noqa: S608 - our own names
                        f"SELECT {select_list} FROM {table} t {join}"
                    )
                )

            async def clone_map(name: str, source: str, where: str = "true") -> None:
                await conn.execute(
                    text(
                        f"CREATE TEMP TABLE {name} ON COMMIT DROP AS "  # noqa: S608 - our names
                        f"SELECT s.id AS old_id, gen_random_uuid() AS new_id, n "
                        f"FROM {source} s CROSS JOIN generate_series(1, :copies) n WHERE {where}"
                    ),
                    {"copies": copies},
                )

            await clone_map("charter_map", "charters.charters", "NOT s.is_template")
            shift = "make_interval(days => 21 * m.n)"
            chosen = {"id": "m.new_id", "series_id": "NULL", "occurrence_date": "NULL",
                      "tour_slot_id": "NULL", "cloned_from_id": "NULL", "split_from_id": "NULL",
                      "reference": "left(t.reference, 14) || '-' || m.n",
                      "pickup_at": f"t.pickup_at + {shift}",
                      "pickup_local": f"t.pickup_local + {shift}",
                      "ends_at": f"t.ends_at + {shift}"}  # fmt: skip
            join = "JOIN charter_map m ON m.old_id = t.id"
            await copy("charters.charters", chosen, join)
            join = "JOIN charter_map m ON m.old_id = t.charter_id"
            await copy("charters.stops", {"id": "gen_random_uuid()", "charter_id": "m.new_id",
                       "planned_arrival": f"t.planned_arrival + {shift}",
                       "planned_departure": f"t.planned_departure + {shift}"}, join)  # fmt: skip
            await copy("charters.charter_vehicles", {"id": "gen_random_uuid()",
                       "charter_id": "m.new_id", "vehicle_id": "NULL", "driver_id": "NULL"},
                       join)  # fmt: skip
            await copy("finance.charter_facts", {"charter_id": "m.new_id",
                       "reference": "left(t.reference, 14) || '-' || m.n"}, join)  # fmt: skip

            await clone_map("vendor_map", "vendors.vendors")
            vendor_cols = await columns("vendors.vendors")
            names: dict[str, str] = {c: f"t.{c} || ' ' || m.n" for c in ("business_name", "legal_name", "name")
                     if c in vendor_cols}  # fmt: skip
            uniques: dict[str, str] = {c: f"m.n || '.' || t.{c}" for c in ("email", "contact_email")
                       if c in vendor_cols}  # fmt: skip
            await copy("vendors.vendors", {"id": "m.new_id", **names, **uniques},
                       "JOIN vendor_map m ON m.old_id = t.id")  # fmt: skip
            await copy("vendors.certifications", {"id": "gen_random_uuid()",
                       "vendor_id": "m.new_id", "document_id": "NULL"},
                       "JOIN vendor_map m ON m.old_id = t.vendor_id")  # fmt: skip

            await clone_map("lead_map", "sales.leads")
            lead_shift = "make_interval(days => 9 * m.n)"
            await copy("sales.leads", {"id": "m.new_id", "charter_id": "NULL",
                       "created_at": f"t.created_at - {lead_shift}",
                       "email": "m.n || '.' || t.email", "converted_at": "NULL",
                       "status": "CASE t.status WHEN 'converted' THEN 'quoted' ELSE t.status END",
                       "charter_status": "NULL", "charter_status_at": "NULL"},
                       "JOIN lead_map m ON m.old_id = t.id")  # fmt: skip
            await copy("sales.lead_activities", {"id": "gen_random_uuid()",
                       "lead_id": "m.new_id", "at": f"t.at - {lead_shift}"},
                       "JOIN lead_map m ON m.old_id = t.lead_id")  # fmt: skip
    finally:
        await engine.dispose()


async def facts(database_url: str) -> dict[str, Any]:
    """Ids and spans the variants pick from, and a manager's token."""
    from sqlalchemy import text

    from db.engine import make_engine, session_factory
    from subgraphs.identity.access_tokens import issue_access_token
    from subgraphs.identity.keys import Keyring
    from subgraphs.kit.settings import get_settings

    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:

            async def column(sql: str) -> list[Any]:
                return [r[0] for r in await conn.execute(text(sql))]

            ids: dict[str, Any] = {
                "pickups": await column(
                    "SELECT pickup_at FROM charters.charters WHERE NOT is_template ORDER BY 1"
                ),
                "leads_created": await column("SELECT created_at FROM sales.leads ORDER BY 1"),
                "vendors": [str(v) for v in await column("SELECT id FROM vendors.vendors")],
                "vendor_prefixes": sorted(
                    {n[:2] for n in await column("SELECT business_name FROM vendors.vendors") if n}
                ),
                "charters": [
                    str(c)
                    for c in await column(
                        "SELECT charter_id FROM finance.charter_facts ORDER BY charter_id"
                    )
                ],
                "clients": [
                    str(c)
                    for c in await column(
                        "SELECT DISTINCT client_id FROM charters.charters "
                        "WHERE client_id IS NOT NULL ORDER BY 1"
                    )
                ],
                "counts": {
                    t: await conn.scalar(text(f"SELECT count(*) FROM {t}"))  # noqa: S608
                    for t in (
                        "charters.charters",
                        "charters.charter_vehicles",
                        "charters.stops",
                        "vendors.vendors",
                        "vendors.certifications",
                        "sales.leads",
                        "sales.lead_activities",
                    )
                },
            }
        settings = get_settings()
        keyring = Keyring(session_factory(engine), access_ttl_seconds=3600)
        ids["token"] = issue_access_token(
            await keyring.active(),
            settings.model_copy(update={"jwt_access_ttl_seconds": 3600}),
            user_id=uuid.uuid4(),
            roles=["manager"],
            session_id=uuid.uuid4(),
        )[0]
    finally:
        await engine.dispose()
    return ids


def bodies_of(read: Read, ids: dict[str, Any], variants: int) -> tuple[list[str], list[str]]:
    """Direct and router bodies: distinct variables (a fixed seed, so runs compare)."""

    def make(query: str | None, fn: Any, seed: int) -> list[str]:
        if query is None or fn is None:
            return []
        rng, seen = random.Random(seed), dict[str, None]()
        for _ in range(variants * 20):
            seen[json.dumps({"query": query, "variables": fn(ids, rng)})] = None
            if len(seen) == variants:
                break
        return list(seen)

    return make(read.direct, read.direct_vars, 18), make(read.router, read.router_vars, 81)


# --- helpers ---------------------------------------------------------------


def signed(body: str, ahead: float = 0) -> dict[str, str]:
    from protocol import router_credential

    return {
        router_credential.HEADER: router_credential.sign(
            SECRET, body.encode(), now=time.time() + ahead
        ),
        "content-type": "application/json",
    }


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def check(url: str, body: str, token: str, sign: bool) -> int:
    """Post once; raise on an error; return the answer's size in bytes."""
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    if sign:
        headers.update(signed(body))
    response = httpx.post(url, content=body, headers=headers, timeout=60)
    answer = response.json()
    if response.status_code != 200 or answer.get("errors") or not answer.get("data"):
        raise RuntimeError(f"{url}: {response.status_code} {response.text[:600]}\nfor {body[:300]}")
    return len(response.content)


@dataclass
class Row:
    read: str
    target: str
    rps: float = float("nan")
    p50: float = float("nan")
    p99: float = float("nan")
    requests: int = 0
    errors: int = 0
    cpu_ms: float = float("nan")
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def run_wrk(
    url: str,
    bodies: list[str],
    token: str,
    *,
    sign: bool,
    seconds: int,
    connections: int,
    workdir: Path,
    core: str,
) -> dict[str, Any]:
    """wrk with a Lua script sending a random body of `bodies` per request."""
    ahead = 50  # a signature is fresh 60 s either side: valid from now-10 s to now+110 s
    lines = [
        "local bodies = {",
        *(f"[==[{b}]==]," for b in bodies),
        "}",
        "local sigs = {",
        *((f'"{signed(b, ahead)["x-athena-router"]}",' for b in bodies) if sign else ()),
        "}",
        "local n = 0",
        "function setup(thread) n = n + 1; thread:set('seed', n * 7919) end",
        "function init(args) math.randomseed(seed or 1) end",
        "function request()",
        "  local k = math.random(#bodies)",
        "  local headers = {}",
        '  headers["Content-Type"] = "application/json"',
        f'  headers["Authorization"] = "Bearer {token}"',
        '  if #sigs > 0 then headers["X-Athena-Router"] = sigs[k] end',
        '  return wrk.format("POST", nil, headers, bodies[k])',
        "end",
    ]
    script = workdir / "varied.lua"
    script.write_text("\n".join(lines) + "\n")
    threads = min(2, connections)
    out = subprocess.run(
        ["taskset", "-c", core, "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
         "--latency", "--timeout", "60s", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    errors = (int(bad.group(1)) if bad else 0) + (
        sum(int(n) for n in re.findall(r"\d+", sock.group(1))) if sock else 0
    )
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": wrk_percentile_ms(out, "50"),
        "p99": wrk_percentile_ms(out, "99"),
        "requests": requests,
        "errors": errors,
    }


# --- internal mode: record the statements of each body ---------------------


def capture_main(name: str, bodies_file: str, out_file: str) -> None:
    """Serve subgraph `name` in this process and record each body's statements with parameters."""
    import uvicorn
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from db.engine import in_request

    current: list[tuple[str, Any]] = []

    def on_execute(_c: Any, _cur: Any, statement: str, parameters: Any, *_a: Any) -> None:
        if in_request.get():
            current.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", on_execute)
    app = importlib.import_module(f"subgraphs.{name}.app").app
    spec = json.loads(Path(bodies_file).read_text())
    port = free_port()

    async def run() -> dict[str, list[tuple[str, Any]]]:
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        )
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
            await asyncio.sleep(0.05)
        recorded: dict[str, list[tuple[str, Any]]] = {}
        try:
            async with httpx.AsyncClient(timeout=60) as client:
                for body in spec["bodies"]:
                    current.clear()
                    headers = {"authorization": f"Bearer {spec['token']}", **signed(body)}
                    response = await client.post(
                        f"http://127.0.0.1:{port}/graphql", content=body, headers=headers
                    )
                    if response.status_code != 200 or response.json().get("errors"):
                        raise RuntimeError(f"capture {name}: {response.text[:500]}")
                    recorded[body] = list(current)
        finally:
            server.should_exit = True
            await task
        return recorded

    Path(out_file).write_bytes(pickle.dumps(asyncio.run(run())))


# --- internal mode: the floor ----------------------------------------------


def floor_main(pickle_file: str, port: int) -> None:
    """A raw ASGI app: verify the credential, replay the body's statements, orjson the rows."""
    import asyncpg
    import orjson
    import uvicorn

    from protocol import router_credential
    from subgraphs.kit.settings import get_settings

    recorded = pickle.loads(Path(pickle_file).read_bytes())  # noqa: S301 - our own file
    statements: dict[bytes, list[tuple[str, Any]]] = {
        body.encode(): stmts for body, stmts in recorded.items()
    }
    dsn = get_settings().database_url.replace("postgresql+asyncpg://", "postgresql://")
    pool: list[asyncpg.Pool] = []
    secrets = (SECRET,)

    async def answer(send: Any, status: int, body: bytes) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    pool.append(await asyncpg.create_pool(dsn, min_size=2, max_size=10))
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await pool[0].close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["path"] == "/health":
            await answer(send, 200, b"{}")
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        header = next((v.decode() for k, v in scope["headers"] if k == b"x-athena-router"), None)
        if not router_credential.verify(secrets, header, body):
            await answer(send, 401, b'{"errors":[{"message":"unsigned"}]}')
            return
        todo = statements.get(body)
        if todo is None:
            await answer(send, 404, b'{"errors":[{"message":"unknown body"}]}')
            return
        async with pool[0].acquire() as conn, conn.transaction():
            data = [[tuple(r) for r in await conn.fetch(sql, *params)] for sql, params in todo]
        await answer(send, 200, orjson.dumps({"data": data}, default=str))

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                loop="uvloop", http="httptools", lifespan="on")  # fmt: skip


# --- main ------------------------------------------------------------------


@contextlib.contextmanager
def pinned(
    core: str | None, args: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT
) -> Iterator[Any]:
    prefix = ["taskset", "-c", core] if core is not None else []
    with process([*prefix, *args], env, log, cwd) as proc:
        yield proc


def settle(pids: list[int], within: float = 15) -> None:
    """Wait until the pinned processes are idle: wrk leaves requests queued when it stops."""
    deadline = time.monotonic() + within
    last = cpu_seconds(pids)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = cpu_seconds(pids)
        if now - last < 0.02:
            return
        last = now


def measure(
    row: Row, url: str, bodies: list[str], token: str, pids: list[int], *,
    sign: bool, args: argparse.Namespace, workdir: Path,
) -> Row:  # fmt: skip
    common: dict[str, Any] = {"token": token, "sign": sign, "connections": args.connections,
                              "workdir": workdir, "core": args.load_core}  # fmt: skip
    if args.warmup:
        run_wrk(url, bodies, seconds=args.warmup, **common)
    settle(pids)
    before = cpu_seconds(pids)
    figures = run_wrk(url, bodies, seconds=args.duration, **common)
    spent = cpu_seconds(pids) - before
    row.rps, row.p50, row.p99 = figures["rps"], figures["p50"], figures["p99"]
    row.requests, row.errors = figures["requests"], figures["errors"]
    row.cpu_ms = spent / max(1, figures["requests"]) * 1000
    return row


def alternate(
    read: Read, other: tuple[Any, int, Path], url: str, bodies: list[str], token: str,
    pid: int, against: Path, args: argparse.Namespace, workdir: Path,
) -> list[Row]:  # fmt: skip
    """The read against the other checkout's subgraph and this one's, in turns.

    Both run pinned to the same core on the same data; alternating them spreads
    whatever else the machine does over both, so the printed ratio (other's CPU
    per request / ours, ours' req/s / other's) is a fair one even when the
    absolute figures drift.
    """
    proc, port, _log = other
    commit = subprocess.run(["git", "-C", str(against), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or against.name  # fmt: skip
    theirs: list[Row] = []
    ours: list[Row] = []
    for turn in range(args.rounds):
        theirs.append(measure(Row(read.name, f"was #{turn + 1}", note=f"{read.owner} @ {commit}"),
                              f"http://127.0.0.1:{port}/graphql", bodies, token, [proc.pid],
                              sign=True, args=args, workdir=workdir))  # fmt: skip
        ours.append(measure(Row(read.name, f"now #{turn + 1}", note=f"{read.owner}"), url, bodies,
                            token, [pid], sign=True, args=args, workdir=workdir))  # fmt: skip
    was_cpu = sum(r.cpu_ms for r in theirs) / len(theirs)
    now_cpu = sum(r.cpu_ms for r in ours) / len(ours)
    was_rps = sum(r.rps for r in theirs) / len(theirs)
    now_rps = sum(r.rps for r in ours) / len(ours)
    summary = Row(read.name, "now / was", rps=now_rps / was_rps, cpu_ms=was_cpu / now_cpu,
                  note=f"req/s ratio, and CPU per request was/now (x less), over {args.rounds} "
                  f"turns each")  # fmt: skip
    return [*[r for pair in zip(theirs, ours, strict=True) for r in pair], summary]


def _ms(value: float) -> str:
    return f"{value:9.1f}" if value == value else " " * 9  # NaN: not a latency row


def print_table(rows: list[Row]) -> None:
    print(
        f"\n{'read':14s} {'target':10s} {'req/s':>8s} {'p50 ms':>9s} {'p99 ms':>9s} "
        f"{'errors':>6s} {'CPU ms/req':>10s} {'x floor req/s':>13s} {'x floor CPU':>11s}"
    )
    floors = {r.read: r for r in rows if r.target == "floor"}
    for r in rows:
        floor = floors.get(r.read)
        by_rps = by_cpu = ""
        if floor is not None and r.target == "direct":
            by_rps = f"{floor.rps / r.rps:.1f}" if r.rps else ""
            by_cpu = f"{r.cpu_ms / floor.cpu_ms:.1f}" if floor.cpu_ms else ""
        print(
            f"{r.read:14s} {r.target:10s} {r.rps:8.1f} {_ms(r.p50)} {_ms(r.p99)} "
            f"{r.errors:6d} {r.cpu_ms:10.1f} {by_rps:>13s} {by_cpu:>11s}  {r.note}"
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--capture":
        capture_main(*sys.argv[2:5])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--floor":
        floor_main(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="timed seconds per target")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before each")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--reads", default=",".join(READS), help="comma-separated: " + ",".join(READS)
    )
    parser.add_argument("--variants", type=int, default=128, help="distinct bodies per read")
    parser.add_argument("--copies", type=int, default=8, help="copies of the demo data added")
    cores = os.cpu_count() or 1
    parser.add_argument("--subgraph-core", default=str(cores - 1))
    parser.add_argument("--load-core", default="0")
    parser.add_argument("--keep-running", type=int, default=0,
                        help="after measuring, keep everything up this many seconds "
                        "(for a profiler); prints the pids")  # fmt: skip
    parser.add_argument(
        "--profile",
        default="",
        help="after the table: py-spy (`--py-spy`) records the first read's "
        "owning subgraph under its varied direct load into this file (-f raw)",
    )
    parser.add_argument("--py-spy", default="py-spy")
    parser.add_argument(
        "--against",
        default="",
        help="a checkout of another commit (e.g. this issue's starting one): each read's owning "
        "subgraph is also started from it, on the same database and core, and the two are "
        "measured directly in alternation (`--rounds` times each), so their ratio is of one run",
    )
    parser.add_argument("--rounds", type=int, default=2, help="alternations with --against")
    parser.add_argument("--profile-seconds", type=int, default=20)
    args = parser.parse_args()
    if args.duration + args.warmup > 100:
        parser.error("--duration + --warmup must stay under 100 s (the signatures' freshness)")
    chosen = [READS[name] for name in args.reads.split(",") if name]

    from db.embedded import make_temp_dir, temporary_servers
    from db.migrate import upgrade_all
    from subgraphs.kit.settings import get_settings

    workdir = make_temp_dir("athena-bench-")
    try:
        with temporary_servers("athena-bench-db-") as servers, contextlib.ExitStack() as stack:
            ports = {name: free_port() for name in (*SUBGRAPHS, "router", "floor")}
            env = {
                **os.environ,
                "DATABASE_URL": servers.postgres.url,
                "REDIS_URL": servers.redis.url,
                "JWT_JWKS_URL": f"http://127.0.0.1:{ports['identity']}/.well-known/jwks.json",
                "ROUTER_SECRETS": SECRET,
                "LOG_LEVEL": "warning",
                **{f"{name.upper()}_PORT": str(ports[name]) for name in SUBGRAPHS},
            }
            os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "ROUTER_SECRETS")})
            get_settings.cache_clear()
            began = time.monotonic()
            print("migrating, loading the demo data and multiplying it ...", flush=True)
            asyncio.run(upgrade_all(servers.postgres.url))
            from db.demo.__main__ import load_all

            asyncio.run(load_all())
            asyncio.run(multiply(servers.postgres.url, args.copies))
            ids = asyncio.run(facts(servers.postgres.url))
            token = ids["token"]
            print(f"  rows: {ids['counts']}  ({time.monotonic() - began:.0f} s)", flush=True)

            procs = {}
            for name in SUBGRAPHS:
                log = workdir / f"{name}.log"
                core = None if name == "identity" else args.subgraph_core
                proc = stack.enter_context(
                    pinned(core, [PYTHON, "-m", f"subgraphs.{name}"], env, log)
                )
                procs[name] = proc
            for name in SUBGRAPHS:
                log = workdir / f"{name}.log"
                wait_healthy(f"http://127.0.0.1:{ports[name]}/health", procs[name], log, 120)
            text = (ROOT / "schema" / "supergraph.graphql").read_text()
            for name in SUBGRAPHS:
                text = re.sub(
                    rf'(@join__graph\(name: "{name}", url: ")[^"]*(")',
                    rf"\g<1>http://127.0.0.1:{ports[name]}/graphql\g<2>",
                    text,
                )
            (workdir / "supergraph.graphql").write_text(text)
            log = workdir / "router.log"
            router = stack.enter_context(pinned(args.load_core, [PYTHON, "-m", "router",
                "--supergraph", str(workdir / "supergraph.graphql"),
                "--port", str(ports["router"])], env, log))  # fmt: skip
            wait_healthy(f"http://127.0.0.1:{ports['router']}/health", router, log)
            router_url = f"http://127.0.0.1:{ports['router']}/graphql"

            bodies = {r.name: bodies_of(r, ids, args.variants) for r in chosen}
            sizes: dict[str, dict[str, float]] = {}
            for read in chosen:
                direct, routed = bodies[read.name]
                url = f"http://127.0.0.1:{ports[read.owner]}/graphql"
                sizes[read.name] = {
                    "direct": sum(check(url, b, token, True) for b in direct[:4])
                    / max(1, len(direct[:4])),
                    # every direct body is checked again when its statements are recorded
                    "router": sum(check(router_url, b, token, False) for b in routed[:4])
                    / max(1, len(routed[:4])),
                }
            print("recording each body's SQL statements ...", flush=True)
            recorded: dict[str, Any] = {}
            for owner in sorted({r.owner for r in chosen}):
                spec = workdir / f"capture-{owner}.json"
                mine = [b for r in chosen if r.owner == owner for b in bodies[r.name][0]]
                spec.write_text(json.dumps({"token": token, "bodies": mine}))
                out = workdir / f"capture-{owner}.pickle"
                subprocess.run(
                    ["taskset", "-c", args.subgraph_core, PYTHON, "-m", "bench.subgraph_reads",
                     "--capture", owner, str(spec), str(out)],
                    cwd=ROOT, env={**env, f"{owner.upper()}_PORT": str(free_port())}, check=True,
                )  # fmt: skip
                recorded.update(pickle.loads(out.read_bytes()))  # noqa: S301 - ours
            (workdir / "floor.pickle").write_bytes(pickle.dumps(recorded))
            log = workdir / "floor.log"
            floor = stack.enter_context(pinned(args.subgraph_core, [PYTHON, "-m",
                "bench.subgraph_reads", "--floor", str(workdir / "floor.pickle"),
                str(ports["floor"])], env, log))  # fmt: skip
            wait_healthy(f"http://127.0.0.1:{ports['floor']}/health", floor, log)
            floor_url = f"http://127.0.0.1:{ports['floor']}/graphql"
            for read in chosen:
                for b in bodies[read.name][0]:
                    check(floor_url, b, token, True)

            print(
                f"\nload: wrk -t2 -c{args.connections}, {args.warmup} s warm-up + {args.duration} s "
                f"timed per target, {args.variants} distinct bodies per read picked at random per "
                f"request; subgraphs and floor on core {args.subgraph_core}, wrk and router on core "
                f"{args.load_core}; {os.cpu_count()} CPUs, PostgreSQL/Redis unpinned",
                flush=True,
            )
            rows: list[Row] = []
            against = Path(args.against).resolve() if args.against else None
            others: dict[str, Any] = {}
            for owner in sorted({r.owner for r in chosen}) if against else ():
                port = free_port()
                log = workdir / f"{owner}-against.log"
                others[owner] = (stack.enter_context(pinned(args.subgraph_core,
                    [PYTHON, "-m", f"subgraphs.{owner}"],
                    {**env, f"{owner.upper()}_PORT": str(port)}, log, cwd=against)), port, log)  # fmt: skip
                wait_healthy(f"http://127.0.0.1:{port}/health", others[owner][0], log, 120)
            for read in chosen:
                direct, routed = bodies[read.name]
                statements = [len(recorded[b]) for b in direct]
                print(
                    f"  {read.name}: {read.title}; {len(direct)}/{len(routed)} bodies; "
                    f"answer {sizes[read.name]['direct'] / 1024:.1f} KB direct, "
                    f"{sizes[read.name]['router'] / 1024:.1f} KB via router; SQL statements per "
                    f"request {min(statements)}-{max(statements)}",
                    flush=True,
                )
                owner_url = f"http://127.0.0.1:{ports[read.owner]}/graphql"
                if against is not None:
                    rows.extend(alternate(read, others[read.owner], owner_url, direct, token,
                                          procs[read.owner].pid, against, args, workdir))  # fmt: skip
                rows.append(measure(Row(read.name, "direct", note=f"{read.owner}"), owner_url,
                            direct, token, [procs[read.owner].pid], sign=True, args=args,
                            workdir=workdir))  # fmt: skip
                rows.append(measure(Row(read.name, "router", note="+".join(read.involved)),
                            router_url, routed, token, [procs[n].pid for n in read.involved],
                            sign=False, args=args, workdir=workdir))  # fmt: skip
                rows.append(measure(Row(read.name, "floor", note="asyncpg + orjson"), floor_url,
                            direct, token, [floor.pid], sign=True, args=args,
                            workdir=workdir))  # fmt: skip
            print_table(rows)
            print(
                "\n  CPU ms/req: the pinned process(es) named on the right, utime+stime over the "
                "timed run / requests.\n  x floor req/s = floor req/s / subgraph req/s; "
                "x floor CPU = subgraph CPU per request / floor CPU per request."
            )
            if args.profile:
                read = chosen[0]
                pid = procs[read.owner].pid
                spy = subprocess.Popen(
                    [args.py_spy, "record", "-f", "raw", "-r", "200", "-d", str(args.profile_seconds),
                     "-o", args.profile, "-p", str(pid)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                )  # fmt: skip
                time.sleep(1)
                run_wrk(f"http://127.0.0.1:{ports[read.owner]}/graphql", bodies[read.name][0],
                        token, sign=True, seconds=args.profile_seconds, connections=args.connections,
                        workdir=workdir, core=args.load_core)  # fmt: skip
                _, err = spy.communicate(timeout=120)
                print(f"profile of {read.owner} under {read.name}: {args.profile} "
                      f"({err.decode()[-300:].strip()})")  # fmt: skip
            if args.keep_running:
                print(f"pids: { {n: p.pid for n, p in procs.items()} } router {router.pid}; "
                      f"charters {ports['charters']}; sleeping {args.keep_running} s", flush=True)  # fmt: skip
                time.sleep(args.keep_running)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
