"""Notifications under load: N events through the consumer, rendered and sent to a real SMTP server.

    .venv/bin/python -m bench.notifications_throughput [--events 10000] [--clients 1000]

Issue 14 §4. A script that prints figures, never a test. Throwaway
PostgreSQL and Redis, migrated; the notifications subgraph runs as its own
process (`python -m subgraphs.notifications`, its consumer and its delivery
worker as in production) against a local aiosmtpd server on a thread. The
script announces N `finance.payment_applied` events the way finance's outbox
relay does (XADD on the durable stream) for clients notifications already
knows, as fast as Redis takes them, then waits until every receipt has
reached the SMTP server. Printed: messages sent per second (first event to
last mail), p50/p99 from an event's publication to its mail's arrival, and
the notifications process's CPU and peak memory (read from /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.controller import Controller

from bench.charters_board import PYTHON, free_port, percentile, process, wait_healthy
from bench.dispatch_subscribers import Sampler

HEADER = re.compile(rb"X-Athena-Message-Id: ([0-9a-f-]{36})")


class Arrivals:
    """The SMTP server's side: when each message (by its X-Athena-Message-Id) arrived."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = HEADER.search(envelope.content)
        with self.lock:
            self.at[found.group(1).decode() if found else uuid.uuid4().hex] = time.time()
        return "250 OK"


async def seed(database_url: str, clients: int) -> list[uuid.UUID]:
    from db.engine import make_engine, session_factory
    from subgraphs.notifications.models import ClientFact
    from subgraphs.notifications.service.templates import install_defaults

    engine = make_engine(database_url)
    sessions = session_factory(engine)
    ids = [uuid.uuid4() for _ in range(clients)]
    try:
        async with sessions() as session, session.begin():
            await install_defaults(session)
            session.add_all(
                ClientFact(
                    client_id=cid,
                    name=f"Bench Client {n}",
                    email=f"billing{n}@bench.example",
                    as_of=datetime.now(UTC),
                )
                for n, cid in enumerate(ids)
            )
    finally:
        await engine.dispose()
    return ids


async def publish(redis_url: str, clients: list[uuid.UUID], events: int) -> dict[str, float]:
    """Announce `events` applied payments as finance's relay would; event id -> publish time."""
    from redis.asyncio import Redis

    from subgraphs.kit import json
    from subgraphs.kit.outbox import stream

    redis = Redis.from_url(redis_url)
    published: dict[str, float] = {}
    try:
        for start in range(0, events, 500):
            async with redis.pipeline(transaction=False) as pipe:
                batch = []
                for n in range(start, min(start + 500, events)):
                    event_id = f"finance:bench-{n}"
                    payment = uuid.uuid4()
                    message = {
                        "id": event_id,
                        "topic": "finance.payment_applied",
                        "occurredAt": datetime.now(UTC).isoformat(),
                        "payload": {
                            "applicationId": str(uuid.uuid4()),
                            "paymentId": str(payment),
                            "charterId": str(uuid.uuid4()),
                            "invoiceId": None,
                            "amount": "250.00",
                            "action": "applied",
                            "clientId": str(clients[n % len(clients)]),
                            "method": "card",
                            "receivedOn": datetime.now(UTC).date().isoformat(),
                        },
                    }
                    pipe.xadd(stream("finance.payment_applied"), {"event": json.dumps(message)})
                    batch.append(event_id)
                await pipe.execute()
                now = time.time()
                published.update(dict.fromkeys(batch, now))
    finally:
        await redis.aclose()
    return published


async def message_events(database_url: str) -> dict[str, str]:
    """Message id -> the event that caused it, from the delivery log."""
    from sqlalchemy import select

    from db.engine import make_engine, session_factory
    from subgraphs.notifications.models import Message

    engine = make_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            rows = (await session.execute(select(Message.id, Message.event_id))).all()
    finally:
        await engine.dispose()
    return {str(r.id): r.event_id for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()

    from db.embedded import make_temp_dir, temporary_servers
    from db.migrate import upgrade_all
    from subgraphs.kit.settings import get_settings

    workdir = make_temp_dir("athena-bench-")
    arrivals = Arrivals()
    smtp_port = free_port()
    controller = Controller(arrivals, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        with temporary_servers("athena-bench-db-") as servers, contextlib.ExitStack() as stack:
            port = free_port()
            env = {
                **os.environ,
                "DATABASE_URL": servers.postgres.url,
                "REDIS_URL": servers.redis.url,
                "NOTIFICATIONS_PORT": str(port),
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(smtp_port),
                "NOTIFICATIONS_JOBS_ENABLED": "false",
                "LOG_LEVEL": "warning",
            }
            os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL")})
            get_settings.cache_clear()
            print(f"migrating; {args.clients} clients known to notifications ...", flush=True)
            asyncio.run(upgrade_all(servers.postgres.url))
            clients = asyncio.run(seed(servers.postgres.url, args.clients))
            log = workdir / "notifications.log"
            proc = stack.enter_context(process([PYTHON, "-m", "subgraphs.notifications"], env, log))
            wait_healthy(f"http://127.0.0.1:{port}/health", proc, log)
            print(
                f"\n{args.events} finance.payment_applied events -> receipts over SMTP; "
                f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.2f} before",
                flush=True,
            )
            with Sampler({"notifications": proc.pid}) as sampler:
                started = time.time()
                published = asyncio.run(publish(servers.redis.url, clients, args.events))
                deadline = time.monotonic() + args.timeout
                while len(arrivals.at) < args.events and time.monotonic() < deadline:
                    if proc.poll() is not None:
                        raise SystemExit(f"notifications exited:\n{log.read_text()[-3000:]}")
                    time.sleep(0.2)
            received = len(arrivals.at)
            causes = asyncio.run(message_events(servers.postgres.url))
            latencies = [
                (at - published[causes[mid]]) * 1000
                for mid, at in arrivals.at.items()
                if causes.get(mid) in published
            ]
            last = max(arrivals.at.values(), default=started)
            elapsed = last - started
            print(
                f"  mails received {received}/{args.events} in {elapsed:.1f} s: "
                f"{received / elapsed if elapsed > 0 else 0:.1f} messages/s sent\n"
                f"  event -> mail: p50 {percentile(latencies, 50):9.1f} ms  "
                f"p99 {percentile(latencies, 99):9.1f} ms  (over {len(latencies)} mails)"
            )
            usage = sampler.usage["notifications"]
            cpu = usage.cpu_percent or [0.0]
            rss = usage.rss_mb or [usage.rss()]
            print(
                f"  notifications CPU mean {sum(cpu) / len(cpu):6.1f} %  peak {max(cpu):6.1f} % "
                f"(of one core)  RSS peak {max(rss):7.1f} MB"
            )
            if received < args.events:
                print(f"  NOT ALL DELIVERED within {args.timeout:.0f} s; see {log}")
    finally:
        controller.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
