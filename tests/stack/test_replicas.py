"""Two replicas on one machine (issue 19 §1): `ATHENA_REPLICAS=2 python -m stack`.

Two routers behind HAProxy and two processes of every subgraph, on the demo
data, and the properties that shape depends on, shown through the balancer
and through each router directly: persisted queries are shared (Redis), a
dispatch board event reaches each subscriber once whichever router caused
it, the outbox relay and the durable consumers deliver each event once (one
stream entry, one delivery log row, one mail), and a scheduled job's fire
time runs once.

Cheap enough for the suite: the stack runs on this session's PostgreSQL (a new
database, a copy of the migrated one's schema, so the launcher runs no
migrations) and Redis (a database number of its own, which the per-test flush
of tests/conftest.py leaves alone), with only the rows the tests use: the
demo's accounts and one of its trips on the road. The subgraphs fork their
workers from one import of the app (kit/serve.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from sqlalchemy import URL, make_url
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Subprotocol

from db.demo import charters as demo_charters
from db.demo import identity as demo_identity
from db.embedded import free_port, make_temp_dir
from db.embedded.binaries import postgres_binaries
from db.engine import make_engine, session_factory
from protocol.roles import Role
from stack.balancer import haproxy_path
from subgraphs.charters.service import directory
from subgraphs.kit.settings import PROJECT_ROOT, SUBGRAPH_PORTS, Settings

#: One pytest worker runs the whole module (one stack, not one per worker) under
#: `pytest -n 2 --dist loadgroup`; plain `--dist load` would split it.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("replicas")]

READY_WITHIN = 300.0
#: Cross-process effects (outbox relays, consumers, the mail worker) are awaited this long.
EVENTUALLY = 60.0
#: A job that is daily in production, made to fire every minute for this test.
JOB = "reports.runs_purge"
#: The stack's Redis database on the session's server (tests/conftest.py flushes database 0).
REDIS_DB = 7

JSON = dict[str, Any]


class Replicas(dict[str, int]):
    """The stack's ports (`router` is HAProxy; `router-1`, `router-2` the routers)."""

    data_dir: Path
    log_path: Path
    #: asyncpg's form of the stack's database URL
    database: str
    redis: str

    def url(self, router: str = "router") -> str:
        return f"http://127.0.0.1:{self[router]}/graphql"


def _pg(url: URL, *args: str, program: str = "psql", stdin: bytes | None = None) -> bytes:
    """A PostgreSQL client program against `url`'s server as its user; its output."""
    done = subprocess.run(
        [
            postgres_binaries(install=False).program(program),
            "-h", str(url.host), "-p", str(url.port), "-U", str(url.username), *args,
        ],
        input=stdin,
        capture_output=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


async def _seed(url: str) -> None:
    """The demo's accounts (one per role) and one of its trips on the road now.

    Through the demo's own loaders, as `make run` loads them, minus the other
    forty charters and the other subgraphs' demos no test here reads.
    """
    engine = make_engine(url, pool_size=1)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            await demo_identity.load(session)
        async with sessions() as session, session.begin():
            loader = demo_charters.Loader(session, datetime.now(UTC))
            await loader.fleet()
            actor, agents = await loader.people()
            client = next(iter(demo_charters.DEMO_CLIENTS))
            # As the charters demo does: the client and the agent known before any event.
            await directory.apply_client_event(
                session,
                {
                    "occurredAt": demo_identity.SEEDED_AS_OF,
                    "payload": {
                        "clientId": str(demo_charters.DEMO_CLIENTS[client]),
                        "name": client,
                    },
                },
            )
            await directory.apply_user_event(
                session, demo_identity.demo_user_event(Role.SALES_AGENT, agents[0])
            )
            plan = demo_charters.Plan(
                days=0,
                hour=-1,  # picked up within the hour: on the dispatch board now
                zone="America/Chicago",
                client=client,
                passengers=50,
                vehicle_types=("Executive Coach",),
                status="in_progress",
                dispatch="in_transit",
                assign=True,
            )
            charter = await loader.charter(plan, actor, agents[0], seed=0)
            await loader.advance(charter, plan, actor)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def database(settings: Settings) -> AsyncIterator[str]:
    """A new database on the session's server: the migrated one's schema, and `_seed`.

    Copied with pg_dump (schema and Alembic versions), not `CREATE DATABASE ...
    TEMPLATE`, which needs a template nobody is connected to.
    """
    session_db = make_url(settings.database_url)
    admin = session_db.set(database="postgres")
    name = f"athena_replicas_{uuid.uuid4().hex[:12]}"
    url = session_db.set(database=name)
    _pg(admin, "-X", "-q", "-c", f'CREATE DATABASE "{name}"')
    try:
        dump = _pg(
            session_db, "--schema-only", "--no-owner", "--no-privileges",
            str(session_db.database), program="pg_dump",
        ) + _pg(
            session_db, "--data-only", "--table=*.alembic_version",
            str(session_db.database), program="pg_dump",
        )  # fmt: skip
        _pg(url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", name, stdin=dump)
        await _seed(url.render_as_string(hide_password=False))
        yield url.render_as_string(hide_password=False)
    finally:
        _pg(admin, "-X", "-q", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def stack(database: str, settings: Settings) -> Iterator[Replicas]:
    assert haproxy_path(), "HAProxy is missing: `make install` (scripts/bootstrap.sh) installs it"
    ports = {name: free_port() for name in [*SUBGRAPH_PORTS, "router", "router-1", "router-2"]}
    data_dir = Path(make_temp_dir("athena-replicas-"))
    redis_url = settings.redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "ATHENA_REPLICAS": "2",
        "DATA_DIR": str(data_dir),
        "ROUTER_PORT": str(ports["router"]),
        "ROUTER_REPLICA_PORTS": f"{ports['router-1']},{ports['router-2']}",
        "SMTP_PORT": str(free_port()),
        "CARD_SANDBOX_PORT": str(free_port()),
        "REPORTS_RUNS_PURGE_CRON": "* * * * *",  # JOB, every minute
        **{f"{name.upper()}_PORT": str(ports[name]) for name in SUBGRAPH_PORTS},
    }
    log_path = data_dir / "stack-output.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "stack",
                "--no-demo", "--no-migrate",  # `database` is migrated and has what tests need
                # 20 processes start on a shared machine; stopping needs no more than this.
                "--health-timeout", str(READY_WITHIN),
                "--grace", "5",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + READY_WITHIN
            while b"\nready" not in b"\n" + log_path.read_bytes():
                if proc.poll() is not None or time.monotonic() > deadline:
                    text = log_path.read_text()
                    said = "\n".join(line for line in text.splitlines() if "stack: " in line)
                    pytest.fail(f"stack did not become ready:\n{said}\n...\n{text[-3000:]}")
                time.sleep(0.5)
            running = Replicas(ports)
            running.data_dir = data_dir
            running.log_path = log_path
            running.database = database.replace("postgresql+asyncpg://", "postgresql://")
            running.redis = redis_url
            yield running
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=60)
            if proc.poll() is None:
                proc.kill()
            shutil.rmtree(data_dir, ignore_errors=True)
            with SyncRedis.from_url(redis_url) as client:
                client.flushdb()


@pytest.fixture
async def db(stack: Replicas) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(stack.database)
    yield connection
    await connection.close()


@pytest.fixture
async def stack_redis(stack: Replicas) -> AsyncIterator[Redis]:
    """Not named `redis`: that would replace the session's client in tests/conftest.py's
    per-test flush, which would then empty the stack's streams between tests."""
    client = Redis.from_url(stack.redis)
    yield client
    await client.aclose()


def _post(url: str, body: JSON, token: str | None = None) -> JSON:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    answer: JSON = httpx.post(url, json=body, headers=headers, timeout=60).json()
    return answer


def _ask(url: str, token: str, query: str, variables: JSON | None = None) -> JSON:
    answer = _post(url, {"query": query, "variables": variables or {}}, token)
    assert "errors" not in answer, answer
    data: JSON = answer["data"]
    return data


def _login(url: str, email: str) -> str:
    answer = _post(
        url,
        {
            "query": f'mutation {{ login(email: "{email}", password: "athena-demo")'
            " { accessToken userErrors { code } } }"
        },
    )
    assert answer["data"]["login"]["userErrors"] == [], answer
    return str(answer["data"]["login"]["accessToken"])


async def _eventually(probe: Callable[[], Any], within: float = EVENTUALLY) -> Any:
    """`probe()` (sync or async) until it returns something truthy; that value."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


# -- the shape ------------------------------------------------------------------------------


def test_two_processes_of_every_subgraph_and_two_routers_behind_haproxy(stack: Replicas) -> None:
    output = stack.log_path.read_text()
    started = output.split("\nready", 1)[0]
    workers = {
        name: (stack.data_dir / "logs" / f"{name}.log").read_text().count("Started server process")
        for name in SUBGRAPH_PORTS
    }
    health = {
        router: httpx.get(f"http://127.0.0.1:{stack[router]}/health", timeout=10).status_code
        for router in ("router", "router-1", "router-2")
    }
    config = (stack.data_dir / "haproxy.cfg").read_text()

    assert workers == dict.fromkeys(SUBGRAPH_PORTS, 2)
    assert health == {"router": 200, "router-1": 200, "router-2": 200}
    assert f"server router-1 127.0.0.1:{stack['router-1']} check" in config
    assert f"server router-2 127.0.0.1:{stack['router-2']} check" in config
    assert "Traceback" not in started
    assert "db.migrate" not in started  # --no-migrate: `database` is a migrated copy
    assert "WARNING" not in started  # HAProxy starts after the routers: no "server DOWN"


# -- persisted queries ----------------------------------------------------------------------


def test_a_query_persisted_on_router_1_is_found_by_router_2_and_through_the_balancer(
    stack: Replicas,
) -> None:
    query = "query ReplicaApq { replicaCheck: __typename }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    by_hash = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}

    unknown_before = _post(stack.url("router-2"), by_hash)
    registered = _post(stack.url("router-1"), {"query": query, **by_hash})
    on_router_2 = _post(stack.url("router-2"), by_hash)
    through_balancer = [_post(stack.url(), by_hash) for _ in range(4)]

    expected = {"data": {"replicaCheck": "Query"}}
    assert unknown_before["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert registered == expected
    assert on_router_2 == expected
    assert through_balancer == [expected] * 4


# -- subscriptions --------------------------------------------------------------------------

BOARD = """subscription($from: DateTime!, $to: DateTime!) {
  dispatchBoard(from: $from, to: $to) { eventId changes charter { id reference } } }"""

LOG_CONTACT = """mutation($input: LogContactAttemptInput!) { logContactAttempt(input: $input)
  { userErrors { field code message } } }"""


async def _subscribe(ws: ClientConnection, token: str, window: JSON) -> None:
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    assert json.loads(await asyncio.wait_for(ws.recv(), 30)) == {"type": "connection_ack"}
    await ws.send(
        json.dumps(
            {"id": "board", "type": "subscribe", "payload": {"query": BOARD, "variables": window}}
        )
    )


async def _read(ws: ClientConnection, into: list[JSON]) -> None:
    async for raw in ws:
        message = json.loads(raw)
        if message.get("type") == "ping":
            await ws.send(json.dumps({"type": "pong"}))
        elif message.get("id") == "board":
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            into.append(message["payload"]["data"]["dispatchBoard"])


async def test_a_board_event_caused_through_router_2_reaches_each_router_s_subscriber_once(
    stack: Replicas,
) -> None:
    """Subscribers on router 1 and router 2; contact attempts logged through router 2.

    Each subscriber must see every attempt's event once: the charters processes
    both read the one Redis channel (each router's upstream socket is on one of
    them), and only one outbox relay publishes a row. The protocol: attempts
    until both subscriptions are live, then two more, the second a marker; when
    the marker has arrived on both, everything before it has too.
    """
    b_url = stack.url("router-2")
    dispatcher = await asyncio.to_thread(_login, stack.url(), "dispatcher@demo.athena")
    now = datetime.now(UTC)
    window: JSON = {
        "from": (now - timedelta(hours=6)).isoformat(),
        "to": (now + timedelta(hours=6)).isoformat(),
    }
    board = await asyncio.to_thread(
        _ask,
        b_url,
        dispatcher,
        """query($from: DateTime!, $to: DateTime!) { dispatchBoard(from: $from, to: $to) {
          edges { node { id vehicles { id } } } } }""",
        window,
    )
    charter = next(e["node"] for e in board["dispatchBoard"]["edges"] if e["node"]["vehicles"])

    async def log_attempt(note: str) -> None:
        logged = await asyncio.to_thread(
            _ask,
            b_url,
            dispatcher,
            LOG_CONTACT,
            {
                "input": {
                    "charterId": charter["id"],
                    "charterVehicleId": charter["vehicles"][0]["id"],
                    "party": "DRIVER",
                    "channel": "PHONE",
                    "outcome": "REACHED",
                    "note": note,
                }
            },
        )
        assert logged["logContactAttempt"]["userErrors"] == [], logged

    on: dict[str, list[JSON]] = {"router-1": [], "router-2": []}

    def about(router: str) -> list[str]:
        return [e["eventId"] for e in on[router] if e["charter"]["id"] == charter["id"]]

    sockets = [
        ws_connect(
            f"ws://127.0.0.1:{stack[router]}/graphql",
            subprotocols=[Subprotocol("graphql-transport-ws")],
        )
        for router in on
    ]
    async with sockets[0] as ws_1, sockets[1] as ws_2:
        readers = []
        try:
            for router, ws in zip(on, (ws_1, ws_2), strict=True):
                await _subscribe(ws, dispatcher, window)
                readers.append(asyncio.create_task(_read(ws, on[router])))
            # Live once each has seen an attempt (the subscribe has no acknowledgement).
            for attempt in range(30):
                await log_attempt(f"Replica check {attempt}.")
                if await _eventually(lambda: about("router-1") and about("router-2"), 2.0):
                    break
            assert about("router-1"), on
            assert about("router-2"), on
            live = {router: len(about(router)) for router in on}
            await log_attempt("Replica check: the event under test.")
            seen = await _eventually(lambda: all(len(about(r)) > live[r] for r in on), EVENTUALLY)
            assert seen, on
            await log_attempt("Replica check: the marker.")
            seen = await _eventually(
                lambda: all(len(about(r)) > live[r] + 1 for r in on), EVENTUALLY
            )
            assert seen, on
        finally:
            for reader in readers:
                reader.cancel()
            for reader in readers:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader

    # Every event about the charter once on each router; what router 2 saw once live
    # (the event under test and the marker at least), router 1 saw too.
    counts = {router: Counter(about(router)) for router in on}
    assert all(n == 1 for c in counts.values() for n in c.values()), counts
    assert all(len(about(router)) >= live[router] + 2 for router in on), on
    assert set(about("router-2")[live["router-2"] :]) <= set(about("router-1")), on


# -- outbox and durable consumers -----------------------------------------------------------

RESET_TOPIC = "identity.password_reset_requested"
MANAGER = "manager@demo.athena"


async def test_a_password_reset_is_relayed_consumed_projected_and_mailed_once(
    stack: Replicas, db: asyncpg.Connection, stack_redis: Redis
) -> None:
    started = datetime.now(UTC)
    answer = await asyncio.to_thread(
        _post,
        stack.url("router-1"),
        {"query": f'mutation {{ requestPasswordReset(email: "{MANAGER}") {{ ok }} }}'},
    )
    assert answer == {"data": {"requestPasswordReset": {"ok": True}}}

    # The outbox row, published by one of identity's two relays ...
    row = await _eventually(
        lambda: db.fetchrow(
            "SELECT id, published_at FROM identity.outbox WHERE topic = $1"
            " AND payload->>'email' = $2 AND created_at >= $3 AND published_at IS NOT NULL",
            RESET_TOPIC,
            MANAGER,
            started,
        )
    )
    assert row is not None
    event_id = f"identity:{row['id']}"
    # ... into a delivery log row by one of notifications' two consumers, then sent once.
    message = await _eventually(
        lambda: db.fetchrow(
            "SELECT id, status FROM notifications.messages WHERE event_id = $1"
            " AND status IN ('sent', 'failed')",
            event_id,
        )
    )
    assert message is not None
    assert message["status"] == "sent", message

    entries: Any = await stack_redis.xrange(f"athena.stream.{RESET_TOPIC}")
    in_stream = [i for i, fields in entries if json.loads(fields[b"event"])["id"] == event_id]
    rows = await db.fetchval(
        "SELECT count(*) FROM notifications.messages WHERE event_id = $1", event_id
    )
    groups = await stack_redis.xinfo_groups(f"athena.stream.{RESET_TOPIC}")
    consumers = {
        g["name"]: len(await stack_redis.xinfo_consumers(f"athena.stream.{RESET_TOPIC}", g["name"]))
        for g in groups
    }
    mails = [
        path
        for path in (stack.data_dir / "mail").glob("*.eml")
        if (body := path.read_bytes())
        and MANAGER.encode() in body
        and b"Reset your password" in body
    ]

    assert len(in_stream) == 1
    assert rows == 1
    assert groups
    assert all(g["pending"] == 0 for g in groups), groups
    # Both notifications processes read the group (each event goes to one of them).
    assert set(consumers.values()) == {2}, consumers
    assert len(mails) == 1


# -- scheduled jobs -------------------------------------------------------------------------


async def test_a_scheduled_fire_time_runs_once_with_two_job_runners_per_subgraph(
    stack: Replicas, db: asyncpg.Connection
) -> None:
    """Every job runner defers the fire time it missed at start (procrastinate's last
    10 minutes) and each minute's: both reports processes did, one run per fire time."""
    succeeded = await _eventually(
        lambda: db.fetchval(
            "SELECT count(*) FROM jobs.procrastinate_jobs"
            " WHERE task_name = $1 AND status = 'succeeded'",
            JOB,
        )
    )
    runs = await db.fetch(
        "SELECT args->>'timestamp' AS due, count(*) AS runs FROM jobs.procrastinate_jobs"
        " WHERE task_name = $1 GROUP BY 1",
        JOB,
    )
    workers = await db.fetchval("SELECT count(*) FROM jobs.procrastinate_workers")
    with_jobs = [n for n in SUBGRAPH_PORTS if (PROJECT_ROOT / "subgraphs" / n / "jobs.py").exists()]

    assert succeeded >= 1
    assert runs
    assert all(r["runs"] == 1 for r in runs), runs
    assert workers == 2 * len(with_jobs)
