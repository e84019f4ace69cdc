"""Tours under a booking rush: N customers booking and cancelling seats on a few departures.

    .venv/bin/python -m bench.tours_booking [--customers 200] [--slots 20] [--capacity 40]
        [--duration 60] [--cancel-share 0.3] [--no-router]

Issue 15 §6. A script that prints figures, never a test. Throwaway
PostgreSQL and Redis, migrated; identity (for its JWKS), tours and the
router run as separate processes (the router with a copy of
`schema/supergraph.graphql` pointed at the benchmark's ports). One tour with
`--slots` departures of `--capacity` seats, starting three days from now (so
the 24-hour cutoff and the 90-day limit let every one be booked).

Through the router by default, because that is the only door customers
have: what a booking costs them includes parsing, planning and the hop.
`--no-router` sends the same requests to the tours subgraph itself, to see
how much of that is the router's.

Each customer is a signed-in account (role `client`, its own token), so the
per-address limit on anonymous bookings (all load comes from 127.0.0.1)
does not turn the run into a rate-limit test. Each one loops on its own
keep-alive HTTP/1.1 connection for `--duration` seconds: with probability
`--cancel-share`, when it holds a booking, it cancels one
(`cancelTourBooking` by reference and e-mail); otherwise it books a party of
1-4 (adults and children) on a random departure (`bookTour`). Cancelling
keeps seats coming free, so the run measures booking under contention rather
than 60 seconds of SOLD_OUT answers once the seats are gone.

Printed: bookings and cancellations per second, p50/p99 of each, refusals
by user-error code, GraphQL errors, the SQL statements one booking and one
cancellation issue (the service, run once in the script's process); then the check that matters, read from
the database: no departure holds more seats than it has, and on each one
`seats_booked` equals the seats of its live (pending, confirmed) bookings
and `seats_held` those of the waitlist offers holding seats on it. The
script exits 1 when the check fails.

Seeding writes the tour and its departures directly (as other benchmarks
seed their data): the bench measures booking, not the catalogue.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.charters_board import PYTHON, ROOT, free_port, percentile, process, wait_healthy

ZONE = "America/Chicago"
PRICE = Decimal("75.00")

BOOK = """mutation($input: BookTourInput!) { bookTour(input: $input) {
  booking { id reference seats } userErrors { field code message } } }"""
CANCEL = """mutation($input: CancelTourBookingInput!) { cancelTourBooking(input: $input) {
  booking { status } userErrors { field code message } } }"""


@dataclass
class Tally:
    """Every answer of the run, by operation."""

    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: {"book": [], "cancel": []})
    booked: int = 0
    seats_booked: int = 0
    cancelled: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


# --- data ------------------------------------------------------------------------


async def seed(database_url: str, slots: int, capacity: int) -> list[str]:
    """One tour and its departures, one a day from three days ahead; their ids."""

    from db.engine import make_engine, session_factory
    from subgraphs.tours.models import DepartureSlot, Tour, ToursConfig

    engine = make_engine(database_url)
    sessions = session_factory(engine)
    zone = ZoneInfo(ZONE)
    first = datetime.now(zone).date() + timedelta(days=3)
    try:
        async with sessions() as session, session.begin():
            session.add(ToursConfig(id=1))
            tour = Tour(
                name="Bench Lakefront Tour",
                description="The benchmark's tour.",
                duration_minutes=120,
                base_price=PRICE,
                min_party=1,
                max_party=10,
                time_zone=ZONE,
                meeting_point="Navy Pier, 600 E Grand Ave, Chicago, IL",
            )
            session.add(tour)
            await session.flush()
            made = []
            for n in range(slots):
                day: date = first + timedelta(days=n)
                starts = datetime(day.year, day.month, day.day, 10, tzinfo=zone)
                slot = DepartureSlot(
                    tour_id=tour.id,
                    date=day,
                    local_start=starts.time().replace(tzinfo=None),
                    local_end=(starts + timedelta(minutes=120)).time().replace(tzinfo=None),
                    time_zone=ZONE,
                    starts_at=starts.astimezone(UTC),
                    ends_at=(starts + timedelta(minutes=120)).astimezone(UTC),
                    max_capacity=capacity,
                    min_capacity=0,
                    price_per_person=PRICE,
                )
                session.add(slot)
                made.append(slot)
            await session.flush()
            return [str(s.id) for s in made]
    finally:
        await engine.dispose()


async def customer_tokens(database_url: str, customers: int) -> list[tuple[str, str]]:
    """(token, e-mail) of each customer: signed-in client accounts, one token each."""
    from db.engine import make_engine, session_factory
    from subgraphs.identity.access_tokens import issue_access_token
    from subgraphs.identity.keys import Keyring
    from subgraphs.kit.settings import get_settings

    settings = get_settings().model_copy(update={"jwt_access_ttl_seconds": 3600})
    engine = make_engine(database_url)
    try:
        keyring = Keyring(session_factory(engine), access_ttl_seconds=3600)
        key = await keyring.active()
        return [
            (
                issue_access_token(
                    key, settings, user_id=uuid.uuid4(), roles=["client"], session_id=uuid.uuid4()
                )[0],
                f"customer{n}@bench.example",
            )
            for n in range(customers)
        ]
    finally:
        await engine.dispose()


async def statements_per_write(database_url: str, slot_id: str) -> tuple[int, int]:
    """SQL statements of one booking and of its cancellation, through the service in this process."""
    from db.engine import in_request, make_engine, record_statements, session_factory
    from protocol.roles import Role
    from protocol.viewer import Viewer
    from subgraphs.tours.service import bookings
    from subgraphs.tours.service.changes import Actor

    engine = make_engine(database_url)
    sessions = session_factory(engine)
    actor = Actor(viewer=Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.CLIENT})))
    flag = in_request.set(True)  # the recorder counts what requests run
    try:
        with record_statements() as booked:
            async with sessions() as session, session.begin():
                booking = await bookings.create_booking(
                    session,
                    bookings.NewBooking(
                        slot_id=uuid.UUID(slot_id),
                        adults=2,
                        children=1,
                        customer_name="Bench Count",
                        customer_email="count@bench.example",
                    ),
                    actor,
                    now=datetime.now(UTC),
                )
        with record_statements() as cancelled:
            async with sessions() as session, session.begin():
                await bookings.cancel_booking(session, booking.id, actor, now=datetime.now(UTC))
    finally:
        in_request.reset(flag)
        await engine.dispose()
    return len(booked.statements), len(cancelled.statements)


async def audit(database_url: str) -> list[str]:
    """What does not add up, per departure (nothing when every seat is accounted for)."""
    from sqlalchemy import text

    from db.engine import make_engine

    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        """
                        SELECT s.id, s.date, s.max_capacity, s.seats_booked, s.seats_held,
                          s.seats_available,
                          COALESCE((SELECT sum(b.seats) FROM tours.bookings b
                             WHERE b.slot_id = s.id AND b.status IN ('pending', 'confirmed')), 0)
                             AS live,
                          COALESCE((SELECT sum(w.party_size) FROM tours.waitlist_entries w
                             WHERE w.offer_slot_id = s.id AND w.status = 'notified'), 0) AS held
                        FROM tours.departure_slots s ORDER BY s.date
                        """
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    problems = []
    for r in rows:
        if r.seats_booked + r.seats_held > r.max_capacity:
            problems.append(f"{r.date}: oversold, {r.seats_booked}+{r.seats_held}/{r.max_capacity}")
        if r.seats_booked != r.live:
            problems.append(f"{r.date}: seats_booked {r.seats_booked} != live bookings' {r.live}")
        if r.seats_held != r.held:
            problems.append(f"{r.date}: seats_held {r.seats_held} != offers' {r.held}")
        if r.seats_available != r.max_capacity - r.seats_booked - r.seats_held:
            problems.append(f"{r.date}: seats_available {r.seats_available} does not add up")
    print(
        "  departures: "
        + ", ".join(f"{r.seats_booked}/{r.max_capacity}" for r in rows)
        + " (seats booked / capacity)"
    )
    return problems


# --- load ------------------------------------------------------------------------

CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.I)


def request_bytes(port: int, token: str, query: str, variables: dict[str, Any]) -> bytes:
    body = json.dumps({"query": query, "variables": variables}).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> dict[str, Any]:
    """One request on a kept-alive connection; the decoded answer (HTTP errors as GraphQL ones)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = CONTENT_LENGTH.search(head)
    if length is None:
        raise RuntimeError(f"answer without Content-Length: {head[:300]!r}")
    body = await reader.readexactly(int(length.group(1)))
    if not head.startswith(b"HTTP/1.1 200"):
        return {"errors": [{"extensions": {"code": f"HTTP {head[9:12].decode()}"}}]}
    return json.loads(body)  # type: ignore[no-any-return]


def _outcome(answer: dict[str, Any], name: str) -> tuple[dict[str, Any] | None, str | None]:
    """(the payload, None) on success; (None, code) for a user error or a GraphQL error."""
    errors = answer.get("errors")
    if errors:
        first = errors[0] if isinstance(errors, list) else {}
        code = (first.get("extensions") or {}).get("code") or first.get("message", "?")
        return None, f"error {code}"
    payload = (answer.get("data") or {})[name]
    if payload["userErrors"]:
        return None, str(payload["userErrors"][0]["code"])
    return dict(payload), None


async def customer(
    port: int,
    token: str,
    email: str,
    slot_ids: list[str],
    stop_at: float,
    cancel_share: float,
    tally: Tally,
    rng: random.Random,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    held: list[str] = []
    try:
        while time.perf_counter() < stop_at:
            if held and rng.random() < cancel_share:
                reference = held.pop(rng.randrange(len(held)))
                variables: dict[str, Any] = {
                    "input": {"reference": reference, "email": email, "reason": "bench"}
                }
                request = request_bytes(port, token, CANCEL, variables)
                began = time.perf_counter()
                answer = await exchange(reader, writer, request)
                tally.latencies_ms["cancel"].append((time.perf_counter() - began) * 1000)
                payload, code = _outcome(answer, "cancelTourBooking")
                if payload is not None:
                    tally.cancelled += 1
                else:
                    tally.errors[f"cancel: {code}"] += 1
                    held.append(reference)
                continue
            party = rng.randint(1, 4)
            children = rng.randint(0, party - 1)
            variables = {
                "input": {
                    "slotId": rng.choice(slot_ids),
                    "adults": party - children,
                    "children": children,
                    "customerName": f"Bench Customer {email.split('@')[0]}",
                    "customerEmail": email,
                }
            }
            request = request_bytes(port, token, BOOK, variables)
            began = time.perf_counter()
            answer = await exchange(reader, writer, request)
            tally.latencies_ms["book"].append((time.perf_counter() - began) * 1000)
            payload, code = _outcome(answer, "bookTour")
            if payload is not None:
                tally.booked += 1
                tally.seats_booked += int(payload["booking"]["seats"])
                held.append(str(payload["booking"]["reference"]))
            elif code is not None and code.startswith("error"):
                tally.errors[f"book: {code}"] += 1
            else:
                tally.refusals[str(code)] += 1
    finally:
        writer.close()


async def rush(
    port: int,
    customers: list[tuple[str, str]],
    slot_ids: list[str],
    duration: float,
    cancel_share: float,
) -> tuple[Tally, float]:
    tally = Tally()
    rng = random.Random(15)
    stop_at = time.perf_counter() + duration
    began = time.perf_counter()
    await asyncio.gather(
        *(
            customer(
                port,
                token,
                email,
                slot_ids,
                stop_at,
                cancel_share,
                tally,
                random.Random(rng.random()),
            )
            for token, email in customers
        )
    )
    return tally, time.perf_counter() - began


def check(port: int, token: str, email: str, slot_id: str) -> None:
    """One booking and its cancellation before timing: the door and the mutations work."""

    async def run() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            variables: dict[str, Any] = {
                "input": {
                    "slotId": slot_id,
                    "adults": 2,
                    "children": 1,
                    "customerName": "Bench Check",
                    "customerEmail": email,
                }
            }
            answer = await exchange(reader, writer, request_bytes(port, token, BOOK, variables))
            payload, code = _outcome(answer, "bookTour")
            if payload is None:
                raise RuntimeError(f"booking refused before the run: {code} {answer}")
            cancel = {"input": {"reference": payload["booking"]["reference"], "email": email}}
            answer = await exchange(reader, writer, request_bytes(port, token, CANCEL, cancel))
            if _outcome(answer, "cancelTourBooking")[0] is None:
                raise RuntimeError(f"cancellation refused before the run: {answer}")
        finally:
            writer.close()

    asyncio.run(run())


# --- main ------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--slots", type=int, default=20)
    parser.add_argument("--capacity", type=int, default=40, help="seats per departure")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument(
        "--cancel-share", type=float, default=0.3, help="chance a turn cancels a held booking"
    )
    parser.add_argument(
        "--no-router", action="store_true", help="send the load to the tours subgraph itself"
    )
    args = parser.parse_args()

    from db.embedded import make_temp_dir, temporary_servers
    from db.migrate import upgrade_all
    from subgraphs.kit.settings import get_settings

    workdir = make_temp_dir("athena-bench-")
    failed = False
    try:
        with temporary_servers("athena-bench-db-") as servers, contextlib.ExitStack() as stack:
            names = ("identity", "tours")
            ports = {name: free_port() for name in (*names, "router")}
            env = {
                **os.environ,
                "DATABASE_URL": servers.postgres.url,
                "REDIS_URL": servers.redis.url,
                **{f"{name.upper()}_PORT": str(ports[name]) for name in names},
                "JWT_JWKS_URL": f"http://127.0.0.1:{ports['identity']}/.well-known/jwks.json",
                # no cutoff sweeps or offer expiries during the run: booking only
                "TOURS_JOBS_ENABLED": "false",
                "LOG_LEVEL": "warning",
            }
            os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL")})
            get_settings.cache_clear()
            print(
                f"migrating; 1 tour, {args.slots} departures x {args.capacity} seats, "
                f"{args.customers} customer accounts ...",
                flush=True,
            )
            asyncio.run(upgrade_all(servers.postgres.url))
            slot_ids = asyncio.run(seed(servers.postgres.url, args.slots, args.capacity))
            customers = asyncio.run(customer_tokens(servers.postgres.url, args.customers))
            for name in names:
                log = workdir / f"{name}.log"
                proc = stack.enter_context(process([PYTHON, "-m", f"subgraphs.{name}"], env, log))
                wait_healthy(f"http://127.0.0.1:{ports[name]}/health", proc, log)
            target = "tours"
            if not args.no_router:
                target = "router"
                local = _supergraph(workdir, ports)
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
            port = ports[target]
            check(port, customers[0][0], customers[0][1], slot_ids[0])
            per_booking, per_cancel = asyncio.run(
                statements_per_write(servers.postgres.url, slot_ids[0])
            )
            print(
                f"\n{args.customers} customers for {args.duration:.0f} s through the "
                f"{'router' if target == 'router' else 'tours subgraph (no router)'}; "
                f"parties of 1-4, cancel share {args.cancel_share}; {os.cpu_count()} CPU(s), "
                f"load average {os.getloadavg()[0]:.2f} before",
                flush=True,
            )
            tally, elapsed = asyncio.run(
                rush(port, customers, slot_ids, args.duration, args.cancel_share)
            )
            book, cancel = tally.latencies_ms["book"], tally.latencies_ms["cancel"]
            print(
                f"  bookTour          {len(book):7d} requests  {tally.booked:6d} booked "
                f"({tally.booked / elapsed:7.1f} bookings/s, {tally.seats_booked} seats)  "
                f"p50 {percentile(book, 50):8.1f} ms  p99 {percentile(book, 99):8.1f} ms"
            )
            print(
                f"  cancelTourBooking {len(cancel):7d} requests  {tally.cancelled:6d} cancelled "
                f"({tally.cancelled / elapsed:7.1f} cancellations/s)  "
                f"p50 {percentile(cancel, 50):8.1f} ms  p99 {percentile(cancel, 99):8.1f} ms"
            )
            all_ms = book + cancel
            print(
                f"  all requests: {len(all_ms) / elapsed:.1f} req/s  "
                f"p99 {percentile(all_ms, 99):.1f} ms  over {elapsed:.1f} s"
            )
            refusals = ", ".join(f"{c} {n}" for c, n in tally.refusals.most_common()) or "none"
            print(f"  refusals by code: {refusals}")
            errors = ", ".join(f"{c} {n}" for c, n in tally.errors.most_common()) or "none"
            print(f"  GraphQL/HTTP errors: {errors}")
            print(
                f"  SQL statements (the service, BEGIN/COMMIT not counted): {per_booking} per "
                f"booking, {per_cancel} per cancellation"
            )
            print("\nseat check (database):")
            problems = asyncio.run(audit(servers.postgres.url))
            live = tally.booked - tally.cancelled
            live_in_db = asyncio.run(_live_bookings(servers.postgres.url))
            if live_in_db != live:
                problems.append(
                    f"live bookings {live_in_db} in the database, {live} by the customers' count"
                )
            if problems:
                failed = True
                print("  NOT ACCOUNTED FOR:\n    " + "\n    ".join(problems))
            else:
                print(
                    f"  ok: no departure oversold; on each, seats booked = its {live_in_db} live "
                    f"bookings' seats (all departures) and seats held = its offers'"
                )
            print(
                f"  everything (PostgreSQL, Redis, identity, tours"
                f"{', router' if target == 'router' else ''}, load) on this one "
                f"{os.cpu_count()}-CPU machine"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        sys.exit(1)


def _supergraph(workdir: Path, ports: dict[str, int]) -> Path:
    """The checked-in supergraph pointed at this run's ports (others at a closed port)."""
    text = (ROOT / "schema" / "supergraph.graphql").read_text()
    text = re.sub(
        r'@join__graph\(name: "(\w+)", url: "[^"]*"\)',
        lambda m: (
            f'@join__graph(name: "{m[1]}", url: "http://127.0.0.1:{ports.get(m[1], 9)}/graphql")'
        ),
        text,
    )
    local = workdir / "supergraph.graphql"
    local.write_text(text)
    return local


async def _live_bookings(database_url: str) -> int:
    """Bookings still holding seats (the ones made before the run were cancelled)."""
    from sqlalchemy import text

    from db.engine import make_engine

    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(
                text("SELECT count(*) FROM tours.bookings WHERE status IN ('pending', 'confirmed')")
            )
    finally:
        await engine.dispose()
    return int(count or 0)


if __name__ == "__main__":
    main()
