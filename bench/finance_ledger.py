"""Finance benchmark: the AR aging report over a large ledger, and applying payments under load.

    .venv/bin/python -m bench.finance_ledger [--invoices 10000] [--payments 20000]
        [--clients 500] [--rounds 5] [--duration 15] [--warmup 3] [--connections 20]

A script that prints figures, never a test; nothing here asserts a time.

(1) AR aging (`service/aging.ar_aging`, the function behind both the query
    and the CSV) over N invoices of C clients and M payments applied to
    them, due dates spread over 200 days either side of today, so every
    bucket holds money. Prints, per round, the wall time and the SQL
    statements it ran (counted on the engine), then the report's totals
    against a direct sum over the same rows (they must agree).
(2) `applyPayment` against the finance subgraph over HTTP, as accounting,
    by K concurrent clients (one keep-alive connection each, a closed
    loop): each request applies 1.00 of a payment to a charter under a new
    idempotency key, so every request takes the row locks and writes. Two
    shapes in alternating rounds: "spread", each client applying its own
    payment to its own charters, and "hot", every client applying one shared
    payment to one shared charter (every request waits for the same two row
    locks). Prints req/s, p50 and p99 and the applied total against the
    count of successful requests (they must agree: nothing applied twice,
    nothing lost).

It starts its own throwaway PostgreSQL and Redis, migrates them, seeds the
ledger with plain INSERTs (the rows the services would write), runs
identity (for its JWKS) and finance as separate uvicorn processes, measures,
prints and cleans up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from bench.charters_board import PYTHON, free_port, percentile, process, wait_healthy

APPLY = """mutation($p: ID!, $c: ID!, $k: String!) {
  applyPayment(input: {paymentId: $p, charterId: $c, amount: "1.00", idempotencyKey: $k}) {
    application { id } userErrors { code message }
  }
}"""
CENT = Decimal("0.01")


# --- seeding -------------------------------------------------------------------


async def seed_ledger(database_url: str, clients: int, invoices: int, payments: int) -> None:
    """Clients, booked charters with an invoice each, payments applied to those invoices."""
    from sqlalchemy import insert

    from db.engine import make_engine, session_factory
    from subgraphs.finance.models import (
        CharterFact,
        ClientFact,
        Invoice,
        Payment,
        PaymentApplication,
    )

    rng = random.Random(12)
    today = datetime.now(UTC).date()
    now = datetime.now(UTC)
    client_ids = [uuid.uuid4() for _ in range(clients)]
    charter_rows, invoice_rows = [], []
    for n in range(invoices):
        charter_id, client_id = uuid.uuid4(), client_ids[n % clients]
        total = Decimal(rng.randint(30000, 900000)) / 100
        due = today + timedelta(days=rng.randint(-200, 200))
        charter_rows.append(
            {
                "charter_id": charter_id,
                "reference": f"B{n:07d}",
                "client_id": client_id,
                "status": "completed",
                "pickup_at": now - timedelta(days=30),
                "as_of": now,
                "accepted_total": total,
                "accepted_tax": Decimal("0.00"),
                "accepted_lines": [],
            }
        )
        invoice_rows.append(
            {
                "id": uuid.uuid4(),
                "number": f"INV-BENCH-{n:06d}",
                "client_id": client_id,
                "charter_id": charter_id,
                "status": "sent",
                "issued_on": due - timedelta(days=30),
                "due_on": due,
                "subtotal": total,
                "tax": Decimal("0.00"),
                "total": total,
                "paid": Decimal("0.00"),
            }
        )
    payment_rows, application_rows = [], []
    for n in range(payments):
        invoice = invoice_rows[rng.randrange(invoices)]
        room = invoice["total"] - invoice["paid"]
        amount = min(room, (Decimal(rng.randint(1000, 200000)) / 100).quantize(CENT))
        if amount <= 0:
            continue
        invoice["paid"] += amount
        payment_id = uuid.uuid4()
        payment_rows.append(
            {
                "id": payment_id,
                "client_id": invoice["client_id"],
                "amount": amount,
                "applied": amount,
                "received_on": today - timedelta(days=rng.randint(0, 200)),
                "method": "check",
                "details": {"checkNumber": str(n)},
            }
        )
        application_rows.append(
            {
                "id": uuid.uuid4(),
                "payment_id": payment_id,
                "charter_id": invoice["charter_id"],
                "invoice_id": invoice["id"],
                "amount": amount,
                "idempotency_key": f"bench:{n}",
            }
        )
    for invoice in invoice_rows:
        if invoice["paid"] == invoice["total"]:
            invoice["status"] = "paid"
        elif invoice["paid"] > 0:
            invoice["status"] = "partially_paid"
    engine = make_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await session.execute(
                insert(ClientFact),
                [{"client_id": c, "name": f"Client {c.hex[:6]}", "as_of": now} for c in client_ids],
            )
            for model, rows in (
                (CharterFact, charter_rows),
                (Invoice, invoice_rows),
                (Payment, payment_rows),
                (PaymentApplication, application_rows),
            ):
                for start in range(0, len(rows), 2000):
                    await session.execute(insert(model), rows[start : start + 2000])
    finally:
        await engine.dispose()
    paid = sum(1 for i in invoice_rows if i["status"] == "paid")
    print(
        f"  seeded {clients} clients, {len(invoice_rows)} invoices ({paid} paid in full), "
        f"{len(payment_rows)} payments applied to them",
        flush=True,
    )


# --- (1) AR aging ----------------------------------------------------------------


async def bench_aging(database_url: str, rounds: int) -> None:
    from sqlalchemy import event, func, select

    from db.engine import make_engine, session_factory
    from subgraphs.finance.models import Invoice
    from subgraphs.finance.service import aging

    engine = make_engine(database_url)
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    today = datetime.now(UTC).date()
    try:
        sessions = session_factory(engine)
        times = []
        for n in range(rounds):
            statements = 0
            async with sessions() as session:
                started = time.perf_counter()
                rows = await aging.ar_aging(session, today)
                elapsed = time.perf_counter() - started
            times.append(elapsed)
            print(
                f"  round {n + 1}: {elapsed * 1000:8.1f} ms, {statements} SQL statement(s), "
                f"{len(rows)} client rows"
            )
        totals = aging.totals(rows)
        async with sessions() as session:
            direct = await session.scalar(
                select(func.sum(Invoice.total - Invoice.paid)).where(
                    Invoice.status.in_(("sent", "partially_paid", "overdue"))
                )
            )
        print(
            f"  median {statistics.median(times) * 1000:.1f} ms; report total "
            f"{sum(totals.values())} vs direct sum {direct}: "
            f"{'equal' if sum(totals.values()) == direct else 'DIFFERENT'}"
        )
    finally:
        await engine.dispose()


# --- (2) applying payments -------------------------------------------------------


async def seed_applications(database_url: str, clients: int) -> dict[str, Any]:
    """Per client: one large payment and 50 booked charters; plus one shared hot pair."""
    from sqlalchemy import insert

    from db.engine import make_engine, session_factory
    from subgraphs.finance.models import CharterFact, ClientFact, Payment

    now = datetime.now(UTC)
    plan: dict[str, Any] = {"spread": [], "hot": None}
    facts, client_rows, payment_rows = [], [], []

    def charter(client_id: uuid.UUID) -> uuid.UUID:
        charter_id = uuid.uuid4()
        facts.append(
            {
                "charter_id": charter_id,
                "client_id": client_id,
                "status": "booked",
                "pickup_at": now + timedelta(days=90),
                "as_of": now,
                "accepted_total": Decimal("1000000.00"),
                "accepted_tax": Decimal("0.00"),
                "accepted_lines": [],
            }
        )
        return charter_id

    def payment(client_id: uuid.UUID) -> uuid.UUID:
        payment_id = uuid.uuid4()
        payment_rows.append(
            {
                "id": payment_id,
                "client_id": client_id,
                "amount": Decimal("1000000.00"),
                "applied": Decimal("0.00"),
                "received_on": now.date(),
                "method": "wire",
                "details": {},
            }
        )
        return payment_id

    for _ in range(clients):
        client_id = uuid.uuid4()
        client_rows.append({"client_id": client_id, "name": "Bench", "as_of": now})
        plan["spread"].append((payment(client_id), [charter(client_id) for _ in range(50)]))
    hot_client = uuid.uuid4()
    client_rows.append({"client_id": hot_client, "name": "Hot", "as_of": now})
    plan["hot"] = (payment(hot_client), charter(hot_client))
    engine = make_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await session.execute(insert(ClientFact), client_rows)
            await session.execute(insert(CharterFact), facts)
            await session.execute(insert(Payment), payment_rows)
    finally:
        await engine.dispose()
    return plan


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0


async def load(
    url: str, token: str, pairs: list[tuple[str, str]], seconds: float, tally: Tally | None
) -> None:
    """One closed-loop client per pair (payment, charter), each on its own connection."""
    deadline = time.perf_counter() + seconds

    async def client(payment_id: str, charter_id: str) -> None:
        async with httpx.AsyncClient(
            headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            while time.perf_counter() < deadline:
                body = {
                    "query": APPLY,
                    "variables": {"p": payment_id, "c": charter_id, "k": uuid.uuid4().hex},
                }
                started = time.perf_counter()
                answer = await http.post(url, json=body)
                elapsed = (time.perf_counter() - started) * 1000
                if tally is None:
                    continue
                data = answer.json() if answer.status_code == 200 else {}
                payload = (data.get("data") or {}).get("applyPayment") or {}
                if data.get("errors") or payload.get("userErrors") or not payload:
                    tally.errors += 1
                else:
                    tally.latencies_ms.append(elapsed)

    started = time.perf_counter()
    await asyncio.gather(*(client(p, c) for p, c in pairs))
    if tally is not None:
        tally.seconds += time.perf_counter() - started


async def applied_total(database_url: str) -> Decimal:
    from sqlalchemy import func, select

    from db.engine import make_engine, session_factory
    from subgraphs.finance.models import PaymentApplication

    engine = make_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return Decimal(
                await session.scalar(
                    select(func.coalesce(func.sum(PaymentApplication.amount), 0)).where(
                        PaymentApplication.idempotency_key.not_like("bench:%")
                    )
                )
            )
    finally:
        await engine.dispose()


async def bench_applications(
    url: str, token: str, plan: dict[str, Any], args: argparse.Namespace, database_url: str
) -> None:
    rng = random.Random(7)
    connections = args.connections

    def spread() -> list[tuple[str, str]]:
        chosen = plan["spread"][:connections]
        return [(str(p), str(rng.choice(cs))) for p, cs in chosen]

    hot = [(str(plan["hot"][0]), str(plan["hot"][1]))] * connections
    shapes = {"spread": spread, "hot": lambda: hot}
    for make in shapes.values():
        await load(url, token, make(), args.warmup, None)
    before = await applied_total(database_url)
    tallies = {name: Tally() for name in shapes}
    rounds = max(1, round(args.duration / 5))
    for n in range(rounds):
        order = list(shapes) if n % 2 == 0 else list(reversed(shapes))
        for name in order:
            await load(url, token, shapes[name](), args.duration / rounds, tallies[name])
    after = await applied_total(database_url)
    ok = 0
    for name, tally in tallies.items():
        count = len(tally.latencies_ms)
        ok += count
        print(
            f"  {name:6s} {count / tally.seconds:7.1f} req/s  "
            f"p50 {percentile(tally.latencies_ms, 50):7.1f} ms  "
            f"p99 {percentile(tally.latencies_ms, 99):7.1f} ms  "
            f"({count} applied, {tally.errors} errors)"
        )
    print(
        f"  applied during the timed rounds: {after - before} for {ok} successful requests of "
        f"1.00: {'equal' if after - before == ok else 'DIFFERENT'}"
    )


async def accounting_token(database_url: str) -> str:
    from db.engine import make_engine, session_factory
    from subgraphs.identity.access_tokens import issue_access_token
    from subgraphs.identity.keys import Keyring
    from subgraphs.kit.settings import get_settings

    engine = make_engine(database_url)
    try:
        keyring = Keyring(session_factory(engine), access_ttl_seconds=3600)
        token, _ = issue_access_token(
            await keyring.active(),
            get_settings().model_copy(update={"jwt_access_ttl_seconds": 3600}),
            user_id=uuid.uuid4(),
            roles=["accounting"],
            session_id=uuid.uuid4(),
        )
    finally:
        await engine.dispose()
    return token


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--invoices", type=int, default=10000)
    parser.add_argument("--payments", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5, help="AR aging runs")
    parser.add_argument("--duration", type=float, default=15, help="seconds per shape (total)")
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--connections", type=int, default=20)
    args = parser.parse_args()

    from db.embedded import make_temp_dir, temporary_servers
    from db.migrate import upgrade_all
    from subgraphs.kit.settings import get_settings

    print(f"machine: {os.cpu_count()} CPUs; everything below runs on it", flush=True)
    workdir = make_temp_dir("athena-bench-")
    with temporary_servers("athena-bench-db-") as servers, contextlib.ExitStack() as stack:
        ports = {name: free_port() for name in ("identity", "finance")}
        env = {
            **os.environ,
            "DATABASE_URL": servers.postgres.url,
            "REDIS_URL": servers.redis.url,
            **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
            "JWT_JWKS_URL": f"http://127.0.0.1:{ports['identity']}/.well-known/jwks.json",
            "LOG_LEVEL": "warning",
        }
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL")})
        get_settings.cache_clear()
        asyncio.run(upgrade_all(servers.postgres.url))

        print(
            f"\n(1) AR aging over {args.invoices} invoices and {args.payments} payments",
            flush=True,
        )
        asyncio.run(seed_ledger(servers.postgres.url, args.clients, args.invoices, args.payments))
        asyncio.run(bench_aging(servers.postgres.url, args.rounds))

        plan = asyncio.run(seed_applications(servers.postgres.url, args.connections))
        token = asyncio.run(accounting_token(servers.postgres.url))
        for name in ("identity", "finance"):
            log = workdir / f"{name}.log"
            proc = stack.enter_context(process([PYTHON, "-m", f"subgraphs.{name}"], env, log))
            wait_healthy(f"http://127.0.0.1:{ports[name]}/health", proc, log)
        print(
            f"\n(2) applyPayment against the finance subgraph, {args.connections} concurrent "
            f"clients (closed loop), warm-up {args.warmup} s per shape, "
            f"{args.duration} s per shape in alternating rounds",
            flush=True,
        )
        asyncio.run(
            bench_applications(
                f"http://127.0.0.1:{ports['finance']}/graphql",
                token,
                plan,
                args,
                servers.postgres.url,
            )
        )
        print(
            f"\n  everything (PostgreSQL, Redis, identity, finance, load) on this one machine; "
            f"{date.today().isoformat()}"
        )


if __name__ == "__main__":
    main()
