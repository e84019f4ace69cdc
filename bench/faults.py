"""Faults survived (issue 19 §3): the whole system under load while its parts fail.

    .venv/bin/python -m bench.faults [--scenario soak,postgres,redis,subgraph] [--soak-minutes 10]

A script that prints figures, never a test (CI does not run it). It starts
the system the way `make run` does, with the launcher's own `Stack` (its
PostgreSQL, Redis, migrations, demo data, every subgraph and the router; on
free ports and a throwaway data directory), but drives the steps itself
instead of `Stack.run()`: the launcher stops everything when a part dies,
and here parts die on purpose. Load goes through the router only, with the
demo's logins; every outcome is classified, so "unexpected" means an
answer the client could not have planned for.

Scenarios (in this order by default):
- soak: reads of every portal, writes of every subgraph, 200 `dispatchBoard`
  subscribers over graphql-transport-ws for `--soak-minutes`; RSS of every
  process and open PostgreSQL/Redis connections after warm-up and at the end.
- postgres: PostgreSQL stopped for `--down-seconds` under load, then started.
- redis: the same with Redis; subscribers' endings, events committed while it
  was down, a persisted query asked by hash while it is down.
- subgraph: vendors killed (SIGKILL) under load, then started again.
Each fault scenario ends by counting outbox rows created during it against
the events found on the Redis streams and the consumer groups' lag.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import itertools
import json
import os
import re
import shutil
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import redis.asyncio as aioredis
import websockets
from websockets.typing import Subprotocol

ROOT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")
PASSWORD = "athena-demo"  # noqa: S105 - the demo's, printed by `make run`'s banner
ROLES = (
    "admin",
    "manager",
    "dispatcher",
    "sales_agent",
    "accounting",
    "client",
    "vendor",
    "driver",
)
JSON = dict[str, Any]


# -- the system ---------------------------------------------------------------


class System:
    """The launcher's Stack, started step by step so that parts may be killed and restarted."""

    def __init__(self, keep: bool) -> None:
        from db.embedded import free_port, make_temp_dir
        from db.embedded.ports import port_is_free
        from subgraphs.kit.settings import SUBGRAPH_PORTS

        self.keep = keep
        self.data_dir = make_temp_dir("athena-faults-")
        defaults = {**SUBGRAPH_PORTS, "router": 4000}
        use_defaults = all(port_is_free(p) for p in (*defaults.values(), 55432, 56379))
        self.ports = (
            {**defaults, "postgres": 55432, "redis": 56379}
            if use_defaults
            else {n: free_port() for n in [*SUBGRAPH_PORTS, "router", "postgres", "redis"]}
        )
        os.environ.update(
            {
                "DATA_DIR": str(self.data_dir),
                "ROUTER_PORT": str(self.ports["router"]),
                "SMTP_PORT": str(free_port()),
                "CARD_SANDBOX_PORT": str(free_port()),
                # the soak is many requests from few people: the demo's rate limits would refuse them
                "ROUTER_RATE_LIMIT_USER": "1000000/60s burst=100000",
                "ROUTER_RATE_LIMIT_ADDRESS": "1000000/60s burst=100000",
                **{f"{n.upper()}_PORT": str(self.ports[n]) for n in SUBGRAPH_PORTS},
            }
        )
        for name in ("DATABASE_URL", "REDIS_URL"):
            os.environ.pop(name, None)

    def start(self) -> None:
        import stack.children
        import stack.launcher
        from stack.launcher import Options, Stack
        from stack.plan import plan_services
        from subgraphs.kit.settings import Settings

        stack.children.say = _quiet  # children's lines stay in their log files
        stack.launcher.say = _quiet  # type: ignore[attr-defined]  # and the mail catcher's
        options = Options(
            root=ROOT,
            postgres_port=self.ports["postgres"],
            redis_port=self.ports["redis"],
            health_timeout=240.0,
            grace=10.0,
            demo=True,
        )
        self.stack = Stack(options, Settings(), dict(os.environ))
        started = time.monotonic()
        self.stack._acquire_lock()
        plan = plan_services(ROOT, self.stack.settings)
        self.stack._check_ports(plan)
        self.stack._start_servers()
        self.stack._run_once("migrate", "db.migrate")
        self.stack._run_once("demo", "db.demo")
        self.stack._start_services(plan)
        self.stack._wait_healthy()
        print(f"system ready in {time.monotonic() - started:.0f} s; data in {self.data_dir}")
        print("ports: " + ", ".join(f"{n}={p}" for n, p in self.ports.items()), flush=True)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.stack.shutdown()
        if not self.keep:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['router']}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ports['router']}/graphql"

    @property
    def pg_dsn(self) -> str:
        if self.stack.postgres is None:
            raise RuntimeError("the script starts its own PostgreSQL")
        return self.stack.postgres.dsn()

    @property
    def redis_url(self) -> str:
        return self.stack.redis_url

    def child(self, name: str) -> Any:
        return next(c for c in self.stack.children if c.name == name)

    def kill(self, name: str) -> None:
        child = self.child(name)
        os.killpg(child.proc.pid, signal.SIGKILL)
        child.proc.wait()

    def restart(self, name: str) -> float:
        """Start a killed child again; seconds until its /health answers."""
        from stack.launcher import _http_ok

        child = self.child(name)
        child.start()
        started = time.monotonic()
        health = f"http://127.0.0.1:{self.ports[name]}/health"
        while not _http_ok(health):
            if child.poll() is not None:
                raise RuntimeError(f"{name} exited on restart:\n{child.log_tail()}")
            time.sleep(0.2)
        return time.monotonic() - started

    def pids(self) -> dict[str, int]:
        out = {c.name: c.proc.pid for c in self.stack.children if c.proc and c.poll() is None}
        if self.stack.postgres and self.stack.postgres.pid:
            out["postgres"] = self.stack.postgres.pid
        if self.stack.redis and self.stack.redis.pid:
            out["redis"] = self.stack.redis.pid
        return out


def _quiet(text: str, stream: Any = None) -> None:
    del text, stream


def rss_mb(name: str, pid: int) -> float:
    """Resident memory in MB of a process; PostgreSQL's is the private (anonymous) memory of the
    postmaster and all its backends, since shared buffers would be counted once per backend."""
    if name != "postgres":
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20
    total_kb = 0
    for p in [pid, *_descendants(pid)]:
        with contextlib.suppress(OSError, StopIteration):
            status = Path(f"/proc/{p}/status").read_text().splitlines()
            total_kb += int(next(x for x in status if x.startswith("RssAnon:")).split()[1])
    return total_kb / 1024


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], list(children.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


# -- the workload -------------------------------------------------------------


@dataclass
class Outcome:
    """One request's end: when, how long, and its class ("ok" or what went wrong)."""

    at: float
    ms: float
    kind: str
    op: str
    detail: str = ""


@dataclass
class Tally:
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    def between(self, start: float, end: float) -> list[Outcome]:
        return [o for o in self.outcomes if start <= o.at < end]


def summarize(outcomes: list[Outcome]) -> str:
    if not outcomes:
        return "no requests"
    kinds = Counter(o.kind for o in outcomes)
    ms = sorted(o.ms for o in outcomes)
    p50 = ms[len(ms) // 2]
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (
        f"{len(outcomes)} requests, "
        + ", ".join(f"{k} {v}" for k, v in kinds.most_common())
        + f"; latency p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {ms[-1]:.0f} ms"
    )


READS: list[tuple[str, str, str]] = [
    # staff portal
    (
        "manager",
        "charters",
        """{ charters(first: 20) { totalCount edges { node { reference status client { name }
        vehicles { capacity vehicleType { name } vendor { name certifications { type status } } }
        vendorCompliance { allVendorsCompliant } quote { total } balance { due } } } } }""",
    ),
    ("sales_agent", "leads", "{ leads(first: 10) { totalCount edges { node { id status } } } }"),
    ("accounting", "arAging", "{ arAging { totals { total } } }"),
    ("manager", "vendors", "{ vendors(first: 10) { edges { node { name status } } } }"),
    ("manager", "pricingRules", "{ pricingRules(first: 10) { edges { node { id } } } }"),
    ("manager", "reportTemplates", "{ reportTemplates(includeBroken: false) { id name } }"),
    ("manager", "tours", "{ tours(includeInactive: false) { id name } }"),
    ("admin", "me", "{ me { email roles } }"),
    (
        "dispatcher",
        "dispatchBoardQuery",
        "{ dispatchBoard(first: 20) { edges { node { reference vehicles { dispatchStatus } } } } }",
    ),
    # client portal
    ("client", "myCharters", "{ myCharters(first: 10) { edges { node { reference status } } } }"),
    (
        "client",
        "myClient",
        "{ myClient { name upcomingTrips { reference } quotesAwaitingAnswer { reference } } }",
    ),
    ("sales_agent", "myQuotes", "{ myQuotes(first: 5) { edges { node { reference } } } }"),
    ("client", "myNotificationPreferences", "{ myNotificationPreferences { marketing } }"),
    # vendor portal
    ("vendor", "myVendor", "{ myVendor { name status } }"),
    ("vendor", "myBids", "{ myBids(first: 5) { edges { node { id } } } }"),
    ("vendor", "myAssignments", "{ myAssignments(window: UPCOMING) { edges { node { id } } } }"),
    # driver portal
    ("driver", "myTrips", "{ myTrips { id } }"),
]

BOARD = """subscription($from: DateTime!, $to: DateTime!) {
  dispatchBoard(from: $from, to: $to) { eventId changes charter { id reference } } }"""
HEADLINE = "{ charters(first: 5) { edges { node { reference vehicles { vendor { name } } } } } }"


class Driver:
    """Logins, demo ids, and the requests of the mixed workload."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.url = system.url
        self.tokens: dict[str, str] = {}
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(45.0), limits=httpx.Limits(max_connections=64)
        )
        self.counter = itertools.count()
        self.ids: JSON = {}

    async def close(self) -> None:
        await self.client.aclose()

    async def post(self, body: JSON, token: str | None) -> tuple[int, JSON]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        answer = await self.client.post(self.url, json=body, headers=headers)
        try:
            return answer.status_code, answer.json()
        except ValueError:
            return answer.status_code, {"errors": [{"message": answer.text[:200]}]}

    async def login_all(self) -> None:
        for role in ROLES:
            status, body = await self.post(
                {
                    "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p)"
                    " { accessToken userErrors { code } } }",
                    "variables": {"e": f"{role}@demo.athena", "p": PASSWORD},
                },
                None,
            )
            token = ((body.get("data") or {}).get("login") or {}).get("accessToken")
            if not token:
                raise RuntimeError(f"login of {role} failed: {status} {body}")
            self.tokens[role] = token

    async def ask(self, role: str | None, query: str, variables: JSON | None = None) -> JSON:
        status, body = await self.post(
            {"query": query, "variables": variables or {}}, self.tokens.get(role or "")
        )
        if status != 200 or body.get("errors"):
            raise RuntimeError(f"{query[:60]}: {status} {body}")
        return body["data"]  # type: ignore[no-any-return]

    async def discover(self) -> None:
        """Demo ids the writes need."""
        now = datetime.now(UTC)
        board = await self.ask(
            "dispatcher",
            "query($f: DateTime!, $t: DateTime!) { dispatchBoard(from: $f, to: $t, first: 50) "
            "{ edges { node { id vehicles { id dispatchStatus } } } } }",
            {"f": now.isoformat(), "t": (now + timedelta(days=30)).isoformat()},
        )
        self.vehicle_state = {
            v["id"]: v["dispatchStatus"]
            for e in board["dispatchBoard"]["edges"]
            for v in e["node"]["vehicles"]
            if v["dispatchStatus"] in ("NOT_READY", "READY")
        }
        self.ids["vehicles"] = list(self.vehicle_state)[:8]
        self.vehicle_locks = {v: asyncio.Lock() for v in self.ids["vehicles"]}
        clients = await self.ask("accounting", "{ clients(first: 5) { edges { node { id } } } }")
        self.ids["client"] = clients["clients"]["edges"][0]["node"]["id"]
        vendors = await self.ask("admin", "{ vendors(first: 5) { edges { node { id phone } } } }")
        self.ids["vendor"] = vendors["vendors"]["edges"][0]["node"]["id"]
        tours = await self.ask(None, "{ tours(includeInactive: false) { id } }")
        tour = tours["tours"][0]["id"]
        slots: list[str] = []
        for days in range(20, 60):
            day = (date.today() + timedelta(days=days)).isoformat()
            found = await self.ask(
                None,
                "query($t: ID!, $d: Date!) { availability(tourId: $t, date: $d, partySize: 1)"
                " { slots { id seatsAvailable } } }",
                {"t": tour, "d": day},
            )
            slots += [s["id"] for s in found["availability"]["slots"] if s["seatsAvailable"] > 10]
            if len(slots) >= 10:
                break
        self.ids["slots"] = slots
        if not (self.ids["vehicles"] and slots):
            raise RuntimeError(f"demo ids missing: {self.ids}")

    def writes(self) -> list[tuple[str, str, Callable[[int], tuple[str, JSON]]]]:
        """(subgraph, role, n -> (mutation, variables)): a few mutations per subgraph."""
        ids = self.ids
        from subgraphs.kit.settings import Settings

        # finance's "today" is the operator's, not this machine's
        zone = ZoneInfo(Settings().operator_time_zone)
        today = datetime.now(UTC).astimezone(zone).date().isoformat()

        def dispatch(n: int) -> tuple[str, JSON]:
            return (
                "mutation($id: ID!, $s: DispatchStatus!) { setDispatchStatus(charterVehicleId: $id,"
                " status: $s) { userErrors { code message } } }",
                {
                    "id": ids["vehicles"][n % len(ids["vehicles"])],
                    "s": ("READY", "NOT_READY")[n // len(ids["vehicles"]) % 2],
                },
            )

        def lead(n: int) -> tuple[str, JSON]:
            return (
                "mutation($i: CreateLeadInput!) { createLead(input: $i) { lead { id }"
                " userErrors { code message } } }",
                {
                    "i": {
                        "source": "PHONE",
                        "firstName": "Soak",
                        "lastName": f"Caller{n}",
                        "email": f"soak{n}.{uuid.uuid4().hex[:6]}@example.com",
                        "passengers": 20,
                    }
                },
            )

        def vendor(n: int) -> tuple[str, JSON]:
            return (
                "mutation($id: ID!, $i: VendorInput!) { updateVendor(id: $id, input: $i)"
                " { userErrors { code message } } }",
                {"id": ids["vendor"], "i": {"phone": f"+1312555{n % 10000:04d}"}},
            )

        def promo(n: int) -> tuple[str, JSON]:
            return (
                "mutation($i: PromoCodeInput!) { createPromoCode(input: $i) { userErrors { code message } } }",
                {
                    "i": {
                        "code": f"SOAK{uuid.uuid4().hex[:10].upper()}",
                        "discountType": "PERCENTAGE",
                        "value": "5",
                        "description": "fault script",
                    }
                },
            )

        def payment(n: int) -> tuple[str, JSON]:
            return (
                "mutation($i: RecordPaymentInput!) { recordPayment(input: $i) { userErrors { code message } } }",
                {
                    "i": {
                        "clientId": ids["client"],
                        "amount": "1.00",
                        "receivedOn": today,
                        "method": "CHECK",
                        "checkNumber": str(10000 + n),
                        "bank": "Soak Bank",
                    }
                },
            )

        def preferences(n: int) -> tuple[str, JSON]:
            return (
                "mutation($i: NotificationPreferencesInput!) { updateMyNotificationPreferences(input: $i)"
                " { userErrors { code message } } }",
                {"i": {"marketing": n % 2 == 0}},
            )

        def tour(n: int) -> tuple[str, JSON]:
            return (
                "mutation($i: BookTourInput!) { bookTour(input: $i) { booking { reference }"
                " userErrors { code message } } }",
                {
                    "i": {
                        "slotId": ids["slots"][n % len(ids["slots"])],
                        "adults": 1,
                        "customerName": f"Soak Rider {n}",
                        "customerEmail": f"rider{n}@example.com",
                    }
                },
            )

        def dashboard(n: int) -> tuple[str, JSON]:
            return (
                "mutation($i: CreateDashboardInput!) { createDashboard(input: $i) { userErrors { code message } } }",
                {"i": {"name": f"Soak {n} {uuid.uuid4().hex[:6]}"}},
            )

        def login(n: int) -> tuple[str, JSON]:
            return (
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { userErrors { code message } } }",
                {"e": "manager@demo.athena", "p": PASSWORD},
            )

        return [
            ("charters", "dispatcher", dispatch),
            ("sales", "sales_agent", lead),
            ("vendors", "admin", vendor),
            ("pricing", "admin", promo),
            ("finance", "accounting", payment),
            ("notifications", "client", preferences),
            ("tours", "manager", tour),
            ("reports", "manager", dashboard),
            ("identity", "", login),
        ]

    async def one(
        self, name: str, role: str, query: str, variables: JSON, tally: Tally
    ) -> JSON | None:
        """One request, its outcome classified into `tally`; the answer when it was "ok"."""
        started = time.monotonic()
        kind, detail = "ok", ""
        body: JSON = {}
        try:
            status, body = await self.post(
                {"query": query, "variables": variables}, self.tokens.get(role)
            )
            errors = body.get("errors") or []
            if status != 200:
                kind = f"http {status}"
                detail = json.dumps(errors)[:300]
            elif errors:
                codes = sorted({(e.get("extensions") or {}).get("code", "?") for e in errors})
                kind = "partial " if body.get("data") else "errors "
                kind += "/".join(codes)
                detail = errors[0].get("message", "")[:200]
            else:
                data = body.get("data") or {}
                user_errors = [
                    u
                    for v in data.values()
                    if isinstance(v, dict)
                    for u in v.get("userErrors") or []
                ]
                if user_errors:
                    kind = "userErrors " + "/".join(sorted({u["code"] for u in user_errors}))
                    detail = user_errors[0]["message"][:200]
        except httpx.TimeoutException:
            kind = "client timeout"
        except httpx.HTTPError as exc:
            kind = f"transport {type(exc).__name__}"
        tally.add(
            Outcome(time.monotonic(), (time.monotonic() - started) * 1000, kind, name, detail)
        )
        return body.get("data") if kind == "ok" else None

    async def worker(self, stop: asyncio.Event, tally: Tally, write_share: float) -> None:
        writes = self.writes()
        every = max(1, round(1 / write_share))
        while not stop.is_set():
            n = next(self.counter)
            if n % every == 0:
                subgraph, role, make = writes[(n // every) % len(writes)]
                if subgraph == "charters":
                    await self.dispatch(n // every, tally)
                    continue
                query, variables = make(n)
                data = await self.one(f"write {subgraph}", role, query, variables, tally)
                if subgraph == "tours" and data:  # give the seat back: departures sell out
                    await self.one(
                        "write tours (cancel)",
                        "manager",
                        "mutation($i: CancelTourBookingInput!) { cancelTourBooking(input: $i)"
                        " { userErrors { code message } } }",
                        {
                            "i": {
                                "reference": data["bookTour"]["booking"]["reference"],
                                "email": variables["i"]["customerEmail"],
                                "reason": "fault script",
                            }
                        },
                        tally,
                    )
            else:
                role, name, query = READS[n % len(READS)]
                await self.one(name, role, query, {}, tally)

    async def dispatch(self, n: int, tally: Tally) -> None:
        """READY <-> NOT_READY, one request at a time per vehicle (the state machine is strict)."""
        vehicle = self.ids["vehicles"][n % len(self.ids["vehicles"])]
        async with self.vehicle_locks[vehicle]:
            target = "READY" if self.vehicle_state[vehicle] == "NOT_READY" else "NOT_READY"
            data = await self.one(
                "write charters",
                "dispatcher",
                "mutation($id: ID!, $s: DispatchStatus!) { setDispatchStatus(charterVehicleId: $id,"
                " status: $s) { userErrors { code message } } }",
                {"id": vehicle, "s": target},
                tally,
            )
            if data is not None:
                self.vehicle_state[vehicle] = target

    async def relogin_every(self, seconds: float, stop: asyncio.Event) -> None:
        """Access tokens live 15 minutes; the soak outlives them."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), seconds)
            if not stop.is_set():
                with contextlib.suppress(Exception):
                    await self.login_all()


@dataclass
class Subscribers:
    """N dispatchBoard subscribers that reconnect when their stream ends, counting how it ended."""

    driver: Driver
    count: int
    events: int = 0
    live: int = 0
    endings: Counter[str] = field(default_factory=Counter)
    ids: set[str] = field(default_factory=set)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self, stop: asyncio.Event) -> None:
        self.tasks = [asyncio.create_task(self._run(n, stop)) for n in range(self.count)]

    async def wait(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _run(self, n: int, stop: asyncio.Event) -> None:
        role = ("dispatcher", "manager")[n % 2]
        while not stop.is_set():
            await self._once(role, stop)
            await asyncio.sleep(0.5 + (n % 10) / 10)  # what a client does: reconnect, spread out

    async def _once(self, role: str, stop: asyncio.Event) -> None:
        now = datetime.now(UTC)
        window = {
            "from": (now - timedelta(days=1)).isoformat(),
            "to": (now + timedelta(days=29)).isoformat(),
        }
        ending = "?"
        counted = False
        try:
            async with websockets.connect(
                self.driver.system.ws_url,
                subprotocols=[Subprotocol("graphql-transport-ws")],
                max_size=None,
                open_timeout=20,
            ) as ws:
                await ws.send(
                    json.dumps(
                        {
                            "type": "connection_init",
                            "payload": {"Authorization": f"Bearer {self.driver.tokens[role]}"},
                        }
                    )
                )
                ack = json.loads(await asyncio.wait_for(ws.recv(), 20))
                if ack["type"] != "connection_ack":
                    self.endings[f"refused {ack}"[:80]] += 1
                    return
                await ws.send(
                    json.dumps(
                        {
                            "id": "b",
                            "type": "subscribe",
                            "payload": {"query": BOARD, "variables": window},
                        }
                    )
                )
                self.live += 1
                counted = True
                async for raw in ws:
                    message = json.loads(raw)
                    if message["type"] == "ping":
                        await ws.send(json.dumps({"type": "pong"}))
                    elif message["type"] == "next":
                        if message["payload"].get("errors"):
                            codes = {
                                (e.get("extensions") or {}).get("code")
                                for e in message["payload"]["errors"]
                            }
                            self.endings[f"next with errors {sorted(map(str, codes))}"] += 1
                        else:
                            self.events += 1
                            self.ids.add(message["payload"]["data"]["dispatchBoard"]["eventId"])
                    elif message["type"] == "error":
                        codes = {
                            (e.get("extensions") or {}).get("code") for e in message["payload"]
                        }
                        ending = f"error message {sorted(map(str, codes))}"
                        break
                    elif message["type"] == "complete":
                        ending = "complete"
                        break
                else:
                    ending = f"closed {ws.close_code} {ws.close_reason}"
        except asyncio.CancelledError:
            ending = "stopped by the script"
            raise
        except websockets.ConnectionClosed as exc:
            ending = f"closed {exc.rcvd.code if exc.rcvd else None} {exc.rcvd.reason if exc.rcvd else ''}"
        except (
            OSError,
            TimeoutError,
            websockets.InvalidStatus,
            websockets.InvalidHandshake,
        ) as exc:
            ending = f"connect failed {type(exc).__name__}"
        finally:
            if counted:
                self.live -= 1
            if not stop.is_set() and ending != "stopped by the script":
                self.endings[ending] += 1

    async def wait_live(self, within: float = 120) -> None:
        deadline = time.monotonic() + within
        while self.live < self.count and time.monotonic() < deadline:  # noqa: ASYNC110 - a poll
            await asyncio.sleep(0.5)


# -- what the stores say ------------------------------------------------------


async def outbox_marks(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        schemas = [
            r[0]
            for r in await conn.fetch(
                "SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox'"
            )
        ]
        return {
            s: int(await conn.fetchval(f'SELECT coalesce(max(id), 0) FROM "{s}".outbox'))  # noqa: S608
            for s in schemas
        }
    finally:
        await conn.close()


async def outbox_since(dsn: str, marks: dict[str, int]) -> tuple[set[str], int]:
    """Event ids of outbox rows created after `marks`, and how many are still unpublished."""
    conn = await asyncpg.connect(dsn)
    try:
        ids: set[str] = set()
        unpublished = 0
        for schema, mark in marks.items():
            rows = await conn.fetch(
                f'SELECT id, published_at FROM "{schema}".outbox WHERE id > $1',  # noqa: S608
                mark,
            )
            ids |= {f"{schema}:{r['id']}" for r in rows}
            unpublished += sum(1 for r in rows if r["published_at"] is None)
        return ids, unpublished
    finally:
        await conn.close()


async def stream_ids(url: str, wanted: set[str]) -> tuple[Counter[str], dict[str, tuple[int, int]]]:
    """How often each wanted event id is on the streams; each consumer group's (lag, pending)."""
    client = aioredis.from_url(url, decode_responses=True)
    try:
        seen: Counter[str] = Counter()
        groups: dict[str, tuple[int, int]] = {}
        async for key in client.scan_iter(match="athena.stream.*", count=1000):
            entries: list[Any] = await client.xrange(key, "-", "+")  # type: ignore[assignment]
            for _entry_id, fields in entries:
                event_id = json.loads(fields["event"])["id"]
                if event_id in wanted:
                    seen[event_id] += 1
            for group in await client.xinfo_groups(key):
                groups[f"{key.removeprefix('athena.stream.')}/{group['name']}"] = (
                    int(group.get("lag") or 0),
                    int(group.get("pending") or 0),
                )
        return seen, groups
    finally:
        await client.aclose()


async def connections(system: System) -> tuple[int, int]:
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        pg = int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
            )
        )
    finally:
        await conn.close()
    client = aioredis.from_url(system.redis_url)
    try:
        rd = len(await client.client_list())
    finally:
        await client.aclose()
    return pg - 1, rd - 1  # not counting this probe's own


async def delivery_report(system: System, marks: dict[str, int], settle: float = 60) -> None:
    """Outbox rows created since `marks` against the events on the streams and the consumers' lag."""
    deadline = time.monotonic() + settle
    while True:
        ids, unpublished = await outbox_since(system.pg_dsn, marks)
        seen, groups = await stream_ids(system.redis_url, ids)
        behind = {g: v for g, v in groups.items() if v != (0, 0)}
        if (not unpublished and not behind) or time.monotonic() > deadline:
            break
        await asyncio.sleep(2)
    missing = len(ids - set(seen))
    twice = sum(1 for c in seen.values() if c > 1)
    print(f"  outbox rows created: {len(ids)}; unpublished after settling: {unpublished}")
    print(
        f"  events on the Redis streams: {len(seen)} (missing {missing}, on a stream twice {twice})"
    )
    print(f"  consumer groups: {len(groups)}; behind (lag, pending): {behind or 'none'}")


async def circuit_state(system: System, subgraph: str) -> float | None:
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"http://127.0.0.1:{system.ports['router']}/metrics")).text
    match = re.search(
        rf'router_subgraph_circuit_state\{{[^}}]*subgraph="{subgraph}"[^}}]*\}} (\S+)', text
    )
    return float(match.group(1)) if match else None


# -- scenarios ----------------------------------------------------------------


async def with_load(
    driver: Driver, workers: int, body: Callable[[Tally], Awaitable[None]], write_share: float = 0.2
) -> Tally:
    tally = Tally()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(driver.worker(stop, tally, write_share)) for _ in range(workers)]
    tasks.append(asyncio.create_task(driver.relogin_every(300, stop)))
    try:
        await body(tally)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    return tally


def print_unexpected(outcomes: list[Outcome], limit: int = 8) -> None:
    bad = Counter((o.op, o.kind, o.detail[:120]) for o in outcomes if o.kind != "ok")
    for (op, kind, detail), n in bad.most_common(limit):
        print(f"    {n} x {op}: {kind}: {detail}")


async def soak(system: System, driver: Driver, minutes: float, subscribers: int) -> None:
    print(
        f"\n== soak: {minutes:g} min, 16 request loops (1 in 5 a write), {subscribers} subscribers"
    )
    stop = asyncio.Event()
    subs = Subscribers(driver, subscribers)
    subs.start(stop)
    await subs.wait_live()
    print(f"  subscribers live: {subs.live}/{subscribers}")
    warmup = min(60.0, minutes * 60 / 5)
    samples: dict[str, list[float]] = {}
    conns: list[tuple[int, int]] = []
    marks: dict[str, int] = {}
    warm_end = 0.0

    async def body(tally: Tally) -> None:
        nonlocal marks, warm_end
        await asyncio.sleep(warmup)
        warm_end = time.monotonic()
        marks = await outbox_marks(system.pg_dsn)
        for name, pid in system.pids().items():
            samples[name] = [rss_mb(name, pid)]
        conns.append(await connections(system))
        end = warm_end + minutes * 60 - warmup
        while (left := end - time.monotonic()) > 0:  # a sample a minute: a leak is a slope
            await asyncio.sleep(min(60.0, left))
            for name, pid in system.pids().items():
                samples.setdefault(name, []).append(rss_mb(name, pid))
            conns.append(await connections(system))

    tally = await with_load(driver, 16, body)
    await asyncio.sleep(3)
    stop.set()
    events_seen = subs.events
    await subs.wait()
    after = tally.between(warm_end, time.monotonic())
    unexpected = [o for o in after if o.kind != "ok"]
    print(f"  after warm-up ({warmup:.0f} s): {summarize(after)}")
    print(f"  unexpected errors: {len(unexpected)}")
    print_unexpected(unexpected)
    print(
        f"  dispatchBoard events received (all subscribers): {events_seen}; "
        f"streams that ended on their own: {sum(subs.endings.values())} {dict(subs.endings) or ''}"
    )
    print("  RSS MB (after warm-up -> end, change):")
    for name, (first, *rest) in samples.items():
        last = rest[-1] if rest else first
        print(
            f"    {name:>13}: {first:7.1f} -> {last:7.1f}  {100 * (last - first) / first:+5.1f} %"
            f"  (each minute: {' '.join(f'{v:.0f}' for v in rest)})"
        )
    print(
        "  open connections (PostgreSQL client backends, Redis clients), after warm-up and each"
        f" minute: {' '.join(f'{pg}/{rd}' for pg, rd in conns)}"
    )
    await delivery_report(system, marks)


async def phased(
    system: System,
    driver: Driver,
    label: str,
    down: Callable[[], None],
    up: Callable[[], None],
    down_seconds: float,
    during: Callable[[], Awaitable[None]] | None = None,
    subscribers: int = 50,
) -> tuple[Tally, dict[str, float], Subscribers]:
    stop = asyncio.Event()
    subs = Subscribers(driver, subscribers)
    subs.start(stop)
    await subs.wait_live()
    marks = await outbox_marks(system.pg_dsn)
    times: dict[str, float] = {}
    heard: dict[str, int] = {}  # subscribers' events so far, at each mark

    async def body(tally: Tally) -> None:
        await asyncio.sleep(15)
        times["down"] = time.monotonic()
        heard["down"] = subs.events
        await asyncio.to_thread(down)
        times["is_down"] = time.monotonic()
        heard["is_down"] = subs.events
        if during:
            await during()
        await asyncio.sleep(max(0.0, down_seconds - (time.monotonic() - times["is_down"])))
        times["up"] = time.monotonic()
        heard["up"] = subs.events
        await asyncio.to_thread(up)
        times["is_up"] = time.monotonic()
        heard["is_up"] = subs.events
        await asyncio.sleep(40)
        times["end"] = time.monotonic()
        heard["end"] = subs.events

    tally = await with_load(driver, 8, body)
    events_before_stop = subs.events
    live_at_end = subs.live
    stop.set()
    await subs.wait()
    t = times
    before = tally.between(0, t["down"])
    while_down = tally.between(t["is_down"], t["up"])
    after = tally.between(t["is_up"], t["end"])
    first_ok = next((o.at for o in after if o.kind == "ok"), None)
    last_bad = max((o.at for o in after if o.kind != "ok"), default=None)
    print(f"  before: {summarize(before)}")
    print(f"  {label} down {t['up'] - t['is_down']:.1f} s: {summarize(while_down)}")
    print_unexpected(while_down, 6)
    print(f"  after it returned ({t['is_up'] - t['up']:.1f} s to start): {summarize(after)}")
    if first_ok is not None:
        print(
            f"    first success {first_ok - t['is_up']:.1f} s after it was back; last failure "
            + (f"{last_bad - t['is_up']:.1f} s after" if last_bad else "none")
        )
    print_unexpected(after, 6)
    last_20 = tally.between(t["end"] - 20, t["end"])
    print(f"  last 20 s: {summarize(last_20)}")
    print(
        f"  subscribers: {subscribers}; events received {events_before_stop}: before "
        f"{heard['down']}, while down {heard['up'] - heard['is_down']}, in the 40 s after "
        f"{heard['end'] - heard['is_up']}; stream endings {dict(subs.endings) or 'none'}; "
        f"live at the end {live_at_end}"
    )
    await delivery_report(system, marks)
    return tally, times, subs


async def postgres_restart(system: System, driver: Driver, down_seconds: float) -> None:
    print(f"\n== PostgreSQL stopped for {down_seconds:g} s under load (8 loops, 50 subscribers)")
    pg = system.stack.postgres
    if pg is None:
        raise RuntimeError("the script starts its own PostgreSQL")
    await phased(system, driver, "PostgreSQL", pg.stop, pg.start, down_seconds)


async def redis_restart(system: System, driver: Driver, down_seconds: float) -> None:
    print(f"\n== Redis stopped for {down_seconds:g} s under load (8 loops, 50 subscribers)")
    rd = system.stack.redis
    query = "{ me { email } }"
    sha = hashlib.sha256(query.encode()).hexdigest()
    apq = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}
    status, body = await driver.post({"query": query, **apq}, driver.tokens["admin"])
    print(f"  APQ registered with Redis up: {status} {'errors' not in body}")
    results: list[str] = []

    async def during() -> None:
        await asyncio.sleep(2)
        status, body = await driver.post(apq, driver.tokens["admin"])
        results.append(f"{status} {json.dumps(body)[:160]}")

    if rd is None:
        raise RuntimeError("the script starts its own Redis")
    await phased(system, driver, "Redis", rd.stop, rd.start, down_seconds, during)
    print(
        f"  persisted query by hash while Redis was down: {results[0] if results else 'not asked'}"
    )


async def subgraph_killed(system: System, driver: Driver, name: str, down_seconds: float) -> None:
    print(f"\n== subgraph {name} killed (SIGKILL) for {down_seconds:g} s under load (8 loops)")
    seen: dict[str, Any] = {}

    async def probe() -> None:
        await asyncio.sleep(3)
        status, body = await driver.post({"query": HEADLINE}, driver.tokens["manager"])
        seen["partial"] = (
            status,
            bool(body.get("data") and body["data"].get("charters")),
            sorted(
                {str((e.get("extensions") or {}).get("code")) for e in body.get("errors") or []}
            ),
            (body.get("errors") or [{}])[0].get("message", "")[:120],
        )
        deadline = time.monotonic() + down_seconds
        while time.monotonic() < deadline and "opened" not in seen:
            state = await circuit_state(system, name)
            if state == 2:
                seen["opened"] = time.monotonic()
            await asyncio.sleep(0.5)
        started = time.monotonic()
        status, body = await driver.post({"query": HEADLINE}, driver.tokens["manager"])
        seen["open_ms"] = (
            (time.monotonic() - started) * 1000,
            status,
            sorted(
                {str((e.get("extensions") or {}).get("code")) for e in body.get("errors") or []}
            ),
        )

    killed_at = 0.0

    def down() -> None:
        nonlocal killed_at
        killed_at = time.monotonic()
        system.kill(name)

    restart_s: list[float] = []
    states: list[tuple[float, float | None]] = []  # (when, router_subgraph_circuit_state)

    async def watch() -> None:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                state = await circuit_state(system, name)
                if not states or states[-1][1] != state:
                    states.append((time.monotonic(), state))
            await asyncio.sleep(0.25)

    watcher = asyncio.create_task(watch())
    _tally, times, _ = await phased(
        system,
        driver,
        name,
        down,
        lambda: restart_s.append(system.restart(name)),
        down_seconds,
        probe,
        subscribers=0,
    )
    watcher.cancel()
    closed_at = next((t for t, st in states if t > times["is_up"] and st == 0), None)
    # the watcher's first sight of it: the probe only starts looking 3 s after the kill
    opened_at = next((t for t, st in states if t >= killed_at and st == 2), seen.get("opened"))
    names = {0.0: "closed", 1.0: "half-open", 2.0: "open", None: "absent"}
    print(
        "  circuit states (s from the kill): "
        + ", ".join(f"{t - killed_at:+.1f} {names.get(st, st)}" for t, st in states)
    )
    print(
        f"  headline query while down: HTTP {seen['partial'][0]}, data present {seen['partial'][1]}, "
        f"error codes {seen['partial'][2]}: {seen['partial'][3]}"
    )
    print(
        "  circuit opened "
        + (f"{opened_at - killed_at:.1f} s after the kill" if opened_at else "NOT seen")
        + (
            f"; a query while open took {seen['open_ms'][0]:.0f} ms ({seen['open_ms'][2]})"
            if "open_ms" in seen
            else ""
        )
    )
    print(
        f"  {name} healthy {restart_s[0]:.1f} s after restart; circuit closed "
        + (
            f"(router_subgraph_circuit_state 0) {closed_at - times['is_up']:.1f} s after it was up"
            if closed_at
            else "NOT seen"
        )
    )


async def run(args: argparse.Namespace, system: System) -> None:
    driver = Driver(system)
    try:
        await driver.login_all()
        await driver.discover()
        print(
            f"logged in as {', '.join(ROLES)}; demo ids: {len(driver.ids['vehicles'])} vehicles, "
            f"{len(driver.ids['slots'])} tour departures",
            flush=True,
        )
        for scenario in args.scenario.split(","):
            await driver.login_all()
            if scenario == "soak":
                await soak(system, driver, args.soak_minutes, args.subscribers)
            elif scenario == "postgres":
                await postgres_restart(system, driver, args.down_seconds)
            elif scenario == "redis":
                await redis_restart(system, driver, args.down_seconds)
            elif scenario == "subgraph":
                await subgraph_killed(system, driver, args.subgraph, args.down_seconds)
            else:
                raise SystemExit(f"unknown scenario {scenario}")
            sys.stdout.flush()
    finally:
        await driver.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="soak,postgres,redis,subgraph")
    parser.add_argument("--soak-minutes", type=float, default=10)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--down-seconds", type=float, default=15)
    parser.add_argument("--subgraph", default="vendors")
    parser.add_argument("--keep", action="store_true", help="keep the data directory and its logs")
    args = parser.parse_args()
    system = System(args.keep)
    print(
        f"started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
        f"(load average {os.getloadavg()[0]:.1f}: the machine may be shared)",
        flush=True,
    )
    try:
        system.start()
        asyncio.run(run(args, system))
    finally:
        system.stop()
        if args.keep:
            print(f"logs kept in {system.data_dir / 'logs'}")


if __name__ == "__main__":
    main()
