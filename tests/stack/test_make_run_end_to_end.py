"""`make run`'s launcher, for real: every subgraph and the router on their own ports.

What the issue calls done: start the stack, log in as the demo admin
through the router, ask `me`, stop everything with SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Subprotocol

from db.embedded import free_port, make_temp_dir
from db.embedded.ports import port_is_free
from subgraphs.kit.settings import PROJECT_ROOT, SUBGRAPH_PORTS, Settings

#: One worker runs the module (`make test` distributes by group): split, each worker
#: started its own whole stack for the module-scoped fixture.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("make_run_end_to_end")]

READY_WITHIN = 240.0


def _ports() -> dict[str, int]:
    return {name: free_port() for name in [*SUBGRAPH_PORTS, "router", "postgres", "redis"]}


class RunningStack(dict[str, int]):
    """The stack's ports; `stop()` sends SIGTERM and returns the exit code."""

    proc: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    ports = _ports()
    data_dir = make_temp_dir("athena-stack-e2e-")
    env = {
        # The suite's own settings (its servers) are not the stack's.
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "DATA_DIR": str(data_dir),
        "ROUTER_PORT": str(ports["router"]),
        "SMTP_PORT": str(free_port()),
        "CARD_SANDBOX_PORT": str(free_port()),
        **{f"{name.upper()}_PORT": str(ports[name]) for name in SUBGRAPH_PORTS},
    }
    log_path = Path(data_dir) / "stack-output.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "stack",
                "--postgres-port",
                str(ports["postgres"]),
                "--redis-port",
                str(ports["redis"]),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + READY_WITHIN
            while b"\nready" not in b"\n" + log_path.read_bytes():
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"stack did not become ready:\n{log_path.read_text()[-4000:]}")
                time.sleep(0.5)
            running = RunningStack(ports)
            running.proc = proc
            running.data_dir = Path(data_dir)
            running.log_path = log_path
            yield running
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
            shutil.rmtree(data_dir, ignore_errors=True)


def test_demo_admin_logs_in_through_the_router_and_reads_me(stack):
    url = f"http://127.0.0.1:{stack['router']}/graphql"
    login = httpx.post(
        url,
        json={
            "query": 'mutation { login(email: "admin@demo.athena", password: "athena-demo")'
            " { accessToken userErrors { code } } }"
        },
        headers={"content-type": "application/json"},
        timeout=30,
    ).json()
    token = login["data"]["login"]["accessToken"]

    me = httpx.post(
        url,
        json={"query": "{ me { email roles } }"},
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        timeout=30,
    ).json()

    assert login["data"]["login"]["userErrors"] == []
    assert me == {"data": {"me": {"email": "admin@demo.athena", "roles": ["ADMIN"]}}}


def test_the_router_joins_charters_with_their_demo_data(stack):
    url = f"http://127.0.0.1:{stack['router']}/graphql"
    token = httpx.post(
        url,
        json={
            "query": 'mutation { login(email: "manager@demo.athena", password: "athena-demo")'
            " { accessToken } }"
        },
        timeout=30,
    ).json()["data"]["login"]["accessToken"]

    page = httpx.post(
        url,
        json={
            "query": "{ charters(first: 5) { totalCount edges { node { reference salesAgent { name } } } } }"
        },
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    ).json()

    assert "errors" not in page, page
    assert page["data"]["charters"]["totalCount"] >= 30
    assert all(e["node"]["reference"].startswith("CH-") for e in page["data"]["charters"]["edges"])


def test_the_start_is_quiet(stack):
    """No traceback and no warning on a healthy start (issue 9, part 4)."""
    started = stack.log_path.read_text().split("\nready", 1)[0]

    assert "Traceback" not in started
    assert "Warning" not in started
    assert "WARNING" not in started


def test_a_password_reset_mail_lands_in_the_mailbox(stack):
    url = f"http://127.0.0.1:{stack['router']}/graphql"
    answer = httpx.post(
        url,
        json={"query": 'mutation { requestPasswordReset(email: "manager@demo.athena") { ok } }'},
        timeout=30,
    ).json()
    deadline = time.monotonic() + 30
    resets: list[bytes] = []
    # The demo's recovery case mails vendors too: find the manager's reset among the mails.
    while not resets and time.monotonic() < deadline:
        resets = [
            body
            for body in (m.read_bytes() for m in (stack.data_dir / "mail").glob("*.eml"))
            if b"manager@demo.athena" in body and b"Reset your password" in body
        ]
        time.sleep(0.2)

    assert answer == {"data": {"requestPasswordReset": {"ok": True}}}
    assert len(resets) == 1
    assert b"Your reset code: " in resets[0]
    assert (
        "mail: to manager@demo.athena: [Athena] Reset your password" in stack.log_path.read_text()
    )


def _login(url: str, email: str) -> str:
    answer = httpx.post(
        url,
        json={
            "query": f'mutation {{ login(email: "{email}", password: "athena-demo")'
            " { accessToken userErrors { code } } }"
        },
        timeout=30,
    ).json()
    assert answer["data"]["login"]["userErrors"] == [], answer
    return str(answer["data"]["login"]["accessToken"])


def _ask(url: str, token: str, query: str, variables: dict[str, object] | None = None) -> dict:
    answer = httpx.post(
        url,
        json={"query": query, "variables": variables or {}},
        headers={"authorization": f"Bearer {token}"},
        timeout=60,
    ).json()
    assert "errors" not in answer, answer
    return answer["data"]  # type: ignore[no-any-return]


def test_issue_10_done_an_agent_creates_calls_converts_and_reads_the_lead(stack):
    """As sales_agent@demo.athena: create a lead, log a call, convert it, read it in one request."""
    url = f"http://127.0.0.1:{stack['router']}/graphql"
    token = _login(url, "sales_agent@demo.athena")
    trip_day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 40 * 86400))

    created = _ask(
        url,
        token,
        """mutation($day: Date!) { createLead(input: {source: PHONE, firstName: "Dana",
          lastName: "Reyes", email: "dana.reyes@example.com", company: "Reyes Robotics",
          tripDate: $day, origin: "Memphis, TN", destination: "Nashville, TN", passengers: 44})
          { lead { id status } userErrors { field code } } }""",
        {"day": trip_day},
    )["createLead"]
    assert created["userErrors"] == []
    lead_id = created["lead"]["id"]
    called = _ask(
        url,
        token,
        """mutation($id: ID!) { logLeadActivity(leadId: $id, input: {type: CALL,
          notes: "Wants a coach for 44."}) { userErrors { code } } }""",
        {"id": lead_id},
    )
    converted = _ask(
        url,
        token,
        """mutation($id: ID!) { convertLead(id: $id, input: {idempotencyKey: "e2e-convert-1"})
          { lead { status } userErrors { field code message } } }""",
        {"id": lead_id},
    )["convertLead"]
    read = _ask(
        url,
        token,
        "query($id: ID!) { lead(id: $id) { status charter { reference client { name } } } }",
        {"id": lead_id},
    )["lead"]

    assert called["logLeadActivity"]["userErrors"] == []
    assert converted["userErrors"] == [], converted
    assert read["status"] == "CONVERTED"
    assert read["charter"]["reference"].startswith("CH-")
    assert read["charter"]["client"]["name"] == "Reyes Robotics"


def test_issue_11_done_a_150_mile_weekday_charter_is_quoted_726_50(stack):
    """As sales_agent@demo.athena: a 150-mile weekday Executive Coach charter under the seed's
    rules, its quote read in the same request as its vehicles' vendors."""
    url = f"http://127.0.0.1:{stack['router']}/graphql"
    token = _login(url, "sales_agent@demo.athena")
    types = _ask(url, token, "{ vehicleTypes { id name } }")["vehicleTypes"]
    coach = next(t["id"] for t in types if t["name"] == "Executive Coach")
    client = _ask(url, token, "{ clients(first: 1) { edges { node { id } } } }")["clients"]
    day = time.time() + 21 * 86400
    while time.gmtime(day).tm_wday != 2:  # a Wednesday
        day += 86400

    created = _ask(
        url,
        token,
        """mutation($input: CreateCharterInput!) { createCharter(input: $input) {
          charter { id } userErrors { field code message } } }""",
        {
            "input": {
                "clientId": client["edges"][0]["node"]["id"],
                "tripType": "ONE_WAY",
                "passengerCount": 40,
                "pickupLocal": time.strftime("%Y-%m-%dT09:00", time.gmtime(day)),
                "pickupTimeZone": "America/Chicago",
                "estimatedMiles": "150",
                "stops": [
                    {"type": "PICKUP", "address": "FedExForum, Memphis, TN"},
                    {"type": "DROPOFF", "address": "Bridgestone Arena, Nashville, TN"},
                ],
                "vehicles": [{"vehicleTypeId": coach, "cost": "726.50"}],
            }
        },
    )["createCharter"]
    assert created["userErrors"] == [], created
    read = _ask(
        url,
        token,
        """query($id: ID!) { charter(id: $id) { reference quote { total lines { label amount } }
          vehicles { vehicleType { name } vendor { name } } } }""",
        {"id": created["charter"]["id"]},
    )["charter"]

    assert read["quote"]["total"] == "726.50"
    assert [line["amount"] for line in read["quote"]["lines"]] == ["350.00", "375.00", "1.50"]
    assert read["vehicles"] == [{"vehicleType": {"name": "Executive Coach"}, "vendor": None}]


def test_issue_12_done_one_check_pays_three_deposits_and_the_books_agree(stack):
    """As accounting@demo.athena: one check pays three charters' deposits; then, in the same
    session, `charters { reference balance { due } }` and the AR aging report, exact."""
    url = f"http://127.0.0.1:{stack['router']}/graphql"
    token = _login(url, "accounting@demo.athena")
    read_charters = """{ charters(first: 100, where: {status: [BOOKED]}) { edges { node {
      id reference client { id } balance { owed paid due outstanding nextDueAmount } } } } }"""
    aging_query = "{ arAging { totals { total } rows { buckets { current days1To30 "
    aging_query += "days31To60 days61To90 days91To120 over120 total } } } }"
    before = {
        e["node"]["id"]: e["node"] for e in _ask(url, token, read_charters)["charters"]["edges"]
    }
    aging_before = _ask(url, token, aging_query)["arAging"]
    unpaid: dict[str, list[dict]] = {}
    for node in before.values():
        if node["balance"]["paid"] == "0.00" and node["balance"]["owed"] != "0.00":
            unpaid.setdefault(node["client"]["id"], []).append(node)
    client_id, group = max(unpaid.items(), key=lambda kv: len(kv[1]))
    three = sorted(group, key=lambda n: n["reference"])[:3]
    assert len(three) == 3, unpaid
    deposits = [Decimal(n["balance"]["nextDueAmount"]) for n in three]
    total = sum(deposits, Decimal("0.00"))

    recorded = _ask(
        url,
        token,
        """mutation($client: ID!, $amount: Money!, $day: Date!) { recordPayment(input: {
          clientId: $client, amount: $amount, receivedOn: $day, method: CHECK,
          checkNumber: "20417", bank: "First Demo Bank"}) {
          payment { id amount } userErrors { field code message } } }""",
        # the operator's day, as finance decides "today" (not this machine's: after
        # midnight UTC it is still yesterday in Chicago)
        {"client": client_id, "amount": str(total), "day": _operator_today()},
    )["recordPayment"]
    assert recorded["userErrors"] == [], recorded
    for node, deposit in zip(three, deposits, strict=True):
        applied = _ask(
            url,
            token,
            """mutation($p: ID!, $c: ID!, $a: Money!, $k: String!) { applyPayment(input: {
              paymentId: $p, charterId: $c, amount: $a, idempotencyKey: $k}) {
              application { amount } userErrors { field code message } } }""",
            {
                "p": recorded["payment"]["id"],
                "c": node["id"],
                "a": str(deposit),
                "k": f"e2e-deposit-{node['reference']}",
            },
        )["applyPayment"]
        assert applied["userErrors"] == [], applied
    after = {
        e["node"]["id"]: e["node"] for e in _ask(url, token, read_charters)["charters"]["edges"]
    }
    aging_after = _ask(url, token, aging_query)["arAging"]

    for node, deposit in zip(three, deposits, strict=True):
        was, now = node["balance"], after[node["id"]]["balance"]
        assert Decimal(now["paid"]) == deposit
        assert Decimal(now["outstanding"]) == Decimal(was["outstanding"]) - deposit
        assert Decimal(now["due"]) == max(Decimal(was["due"]) - deposit, Decimal("0.00"))
    untouched = set(before) - {n["id"] for n in three}
    assert all(after[i]["balance"] == before[i]["balance"] for i in untouched)
    # Deposits were not invoiced: receivables by invoice stand as they were, and add up.
    assert aging_after == aging_before
    rows = aging_after["rows"]
    for row in rows:
        parts = [Decimal(v) for k, v in row["buckets"].items() if k != "total"]
        assert sum(parts, Decimal("0.00")) == Decimal(row["buckets"]["total"])
    grand = sum((Decimal(r["buckets"]["total"]) for r in rows), Decimal("0.00"))
    assert grand == Decimal(aging_after["totals"]["total"]) > 0


JSON = dict[str, Any]

#: Issue 13's trips run in Chicago, from O'Hare to Navy Pier, as the demo's trip does.
CHICAGO = ZoneInfo("America/Chicago")
OHARE_TO_NAVY_PIER = [
    {
        "type": "PICKUP",
        "address": "O'Hare International Airport, Chicago, IL",
        "latitude": 41.9742,
        "longitude": -87.9073,
    },
    {
        "type": "DROPOFF",
        "address": "Navy Pier, 600 E Grand Ave, Chicago, IL",
        "latitude": 41.8917,
        "longitude": -87.6086,
    },
]
#: Cross-subgraph effects (events through Redis and the outbox relays) are awaited this long.
EVENTUALLY = 60.0

BOARD_EVENTS = """
subscription($from: DateTime!, $to: DateTime!) {
  dispatchBoard(from: $from, to: $to) {
    eventId changes inWindow
    charter { id reference status }
    charterVehicle { id status dispatchStatus
      latestPosition { latitude longitude speedKph heading recordedAt } }
  }
}"""

MY_TRIPS = """{ myTrips { id dispatchStatus driver { id }
  charter { id reference status pickupAt endsAt } } }"""

RECOVERY_BOARD = """{ recoveryBoard(first: 100) { edges { node {
  id status reason previousVendorId replacementVendorId alertedVendorIds minutesToPickup
  charter { reference } charterVehicle { id recoveryStatus } } } } }"""

ASSIGN_VENDOR = """mutation($cv: ID!, $vendor: ID!, $amount: Money!) {
  assignVendor(charterVehicleId: $cv, vendorId: $vendor, amount: $amount) {
    assignment { id status vendor { id } } userErrors { field code message } } }"""

RESPOND = """mutation($id: ID!, $status: AssignmentStatus!, $reason: String) {
  respondToAssignment(id: $id, status: $status, reason: $reason) {
    assignment { id status declineReason } userErrors { field code message } } }"""


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _busy(trip: JSON) -> tuple[datetime, datetime]:
    """The time a trip holds its driver: to its end, or 4 hours when it has none."""
    start = _instant(trip["charter"]["pickupAt"])
    ends = trip["charter"]["endsAt"]
    return start, _instant(ends) if ends else start + timedelta(hours=4)


def _local(moment: datetime) -> str:
    """A pickup's wall time in Chicago, as `createCharter` takes it."""
    return moment.astimezone(CHICAGO).strftime("%Y-%m-%dT%H:%M")


def _book_charter(
    url: str, manager: str, pickup: datetime, ends_at: datetime | None, passengers: int
) -> JSON:
    """As the manager: a one-way Executive Coach charter, created and booked."""
    coach = next(
        t["id"]
        for t in _ask(url, manager, "{ vehicleTypes { id name } }")["vehicleTypes"]
        if t["name"] == "Executive Coach"
    )
    client = _ask(url, manager, "{ clients(first: 1) { edges { node { id } } } }")["clients"]
    created = _ask(
        url,
        manager,
        """mutation($input: CreateCharterInput!) { createCharter(input: $input) {
          charter { id reference vehicles { id } } userErrors { field code message } } }""",
        {
            "input": {
                "clientId": client["edges"][0]["node"]["id"],
                "tripType": "ONE_WAY",
                "passengerCount": passengers,
                "pickupLocal": _local(pickup),
                "pickupTimeZone": "America/Chicago",
                "endsAt": ends_at.isoformat() if ends_at else None,
                "stops": OHARE_TO_NAVY_PIER,
                "vehicles": [{"vehicleTypeId": coach, "cost": "980.00"}],
            }
        },
    )["createCharter"]
    assert created["userErrors"] == [], created
    charter = created["charter"]
    booked = _ask(
        url,
        manager,
        """mutation($id: ID!) { setCharterStatus(id: $id, status: BOOKED) {
          charter { status } userErrors { field code message } } }""",
        {"id": charter["id"]},
    )["setCharterStatus"]
    assert booked["userErrors"] == [], booked
    return {**charter, "coach": coach, "vehicle": charter["vehicles"][0]["id"]}


async def _read_board(ws: ClientConnection, op_id: str, into: list[JSON]) -> None:
    """Keep every message of the subscription `op_id`; answer the router's pings."""
    async for raw in ws:
        message = json.loads(raw)
        if message.get("type") == "ping":
            await ws.send(json.dumps({"type": "pong"}))
        elif message.get("id") == op_id:
            into.append(message)


async def _until(seen: Callable[[], bool], within: float = EVENTUALLY) -> bool:
    deadline = time.monotonic() + within
    while not seen():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


def _events_of(messages: list[JSON], charter_id: str) -> list[JSON]:
    """The board events about one charter; a refused or failed subscription fails the test."""
    for message in messages:
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
    events = [m["payload"]["data"]["dispatchBoard"] for m in messages]
    return [e for e in events if e["charter"]["id"] == charter_id]


async def test_issue_13_done_the_driver_starts_today_s_trip_and_the_board_sees_it(
    stack: RunningStack,
) -> None:
    """driver@demo.athena reads today's trips, starts one and posts positions, while
    dispatcher@demo.athena's `dispatchBoard` subscription (WebSocket, through the router)
    sees the trip's new status and its positions; the board query shows the latest fix.

    The demo's own trip for today is already under way (it was started when the demo
    loaded), so dispatch gives the driver a short trip before it, through the router:
    created and booked by the manager, coach and driver assigned and confirmed by the
    dispatcher, picking up in minutes (a trip starts from 3 hours before its pickup)."""
    url = f"http://127.0.0.1:{stack['router']}/graphql"
    ws_url = f"ws://127.0.0.1:{stack['router']}/graphql"
    driver = _login(url, "driver@demo.athena")
    dispatcher = _login(url, "dispatcher@demo.athena")
    manager = _login(url, "manager@demo.athena")

    demo_trips = _ask(url, driver, MY_TRIPS)["myTrips"]
    under_way = [t for t in demo_trips if t["charter"]["status"] == "IN_PROGRESS"]
    assert under_way, demo_trips
    driver_id = under_way[0]["driver"]["id"]
    now = datetime.now(UTC)
    pickup = (now + timedelta(minutes=8)).replace(second=0, microsecond=0)
    ends_at = pickup + timedelta(minutes=25)
    # A driver's trips never overlap: this one is over before the demo's trip picks up.
    assert not any(start < ends_at and pickup < end for start, end in map(_busy, demo_trips)), (
        demo_trips
    )
    charter = _book_charter(url, manager, pickup, ends_at, passengers=24)
    coaches = _ask(
        url,
        dispatcher,
        """query($from: DateTime!, $to: DateTime!, $type: ID!) {
          availableVehicles(startsAt: $from, endsAt: $to, vehicleTypeId: $type) { id plate } }""",
        {"from": pickup.isoformat(), "to": ends_at.isoformat(), "type": charter["coach"]},
    )["availableVehicles"]
    assigned = _ask(
        url,
        dispatcher,
        """mutation($cv: ID!, $vehicle: ID!, $driver: ID!) {
          assignCharterVehicle(charterVehicleId: $cv, vehicleId: $vehicle, driverId: $driver) {
            userErrors { field code message } } }""",
        {"cv": charter["vehicle"], "vehicle": coaches[0]["id"], "driver": driver_id},
    )["assignCharterVehicle"]
    assert assigned["userErrors"] == [], assigned
    confirmed = _ask(
        url,
        dispatcher,
        """mutation($id: ID!) { setCharterStatus(id: $id, status: CONFIRMED) {
          charter { status } userErrors { field code message } } }""",
        {"id": charter["id"]},
    )["setCharterStatus"]
    assert confirmed["userErrors"] == [], confirmed

    # The driver app: today's trips, then the one about to leave.
    todays = {t["id"]: t for t in _ask(url, driver, MY_TRIPS)["myTrips"]}
    trip_id = charter["vehicle"]
    assert todays[trip_id]["charter"]["reference"] == charter["reference"]
    assert todays[trip_id]["charter"]["status"] == "CONFIRMED"
    assert under_way[0]["id"] in todays
    demo_trip = _ask(
        url,
        driver,
        "query($id: ID!) { trip(id: $id) { charterStatus dispatchStatus startedAt } }",
        {"id": under_way[0]["id"]},
    )["trip"]
    assert demo_trip["charterStatus"] == "IN_PROGRESS"
    assert demo_trip["dispatchStatus"] == "IN_TRANSIT"
    assert demo_trip["startedAt"] is not None
    detail = _ask(
        url,
        driver,
        """query($id: ID!) { trip(id: $id) { reference charterStatus startedAt passengerCount
          vehicle { plate } stops { type address } } }""",
        {"id": trip_id},
    )["trip"]
    assert detail == {
        "reference": charter["reference"],
        "charterStatus": "CONFIRMED",
        "startedAt": None,
        "passengerCount": 24,
        "vehicle": {"plate": coaches[0]["plate"]},
        "stops": [{"type": s["type"], "address": s["address"]} for s in OHARE_TO_NAVY_PIER],
    }

    messages: list[JSON] = []
    window: dict[str, object] = {
        "from": (now - timedelta(minutes=5)).isoformat(),
        "to": (now + timedelta(hours=2)).isoformat(),
    }
    async with ws_connect(ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {dispatcher}"}}
            )
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 30)) == {"type": "connection_ack"}
        await ws.send(
            json.dumps(
                {
                    "id": "board",
                    "type": "subscribe",
                    "payload": {"query": BOARD_EVENTS, "variables": window},
                }
            )
        )
        reader = asyncio.create_task(_read_board(ws, "board", messages))
        try:
            # The subscription is live once it sees a change: the dispatcher calls the
            # driver (logged, and announced on the board) until one arrives.
            live = False
            for _ in range(30):
                logged = await asyncio.to_thread(
                    _ask,
                    url,
                    dispatcher,
                    """mutation($input: LogContactAttemptInput!) { logContactAttempt(input: $input)
                      { userErrors { field code message } } }""",
                    {
                        "input": {
                            "charterId": charter["id"],
                            "charterVehicleId": trip_id,
                            "party": "DRIVER",
                            "channel": "PHONE",
                            "outcome": "REACHED",
                            "note": "Driver on the way to the yard.",
                        }
                    },
                )
                assert logged["logContactAttempt"]["userErrors"] == [], logged
                live = await _until(
                    lambda: any(
                        "contacts" in e["changes"] for e in _events_of(messages, charter["id"])
                    ),
                    within=2.0,
                )
                if live:
                    break
            assert live, messages

            said_yes = await asyncio.to_thread(
                _ask,
                url,
                driver,
                """mutation($id: ID!) { confirmTrip(id: $id) {
                  trip { confirmedAt } userErrors { field code message } } }""",
                {"id": trip_id},
            )
            started = await asyncio.to_thread(
                _ask,
                url,
                driver,
                """mutation($id: ID!) { startTrip(id: $id) {
                  trip { dispatchStatus charterStatus startedAt }
                  userErrors { field code message } } }""",
                {"id": trip_id},
            )
            post = """mutation($trip: ID!, $positions: [PositionInput!]!) {
              postPositions(tripId: $trip, positions: $positions) {
                accepted dropped userErrors { field code message } } }"""
            # Recorded 30 s apart: the board hears of a vehicle's fixes once per 15 s of them.
            first_at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
            first = await asyncio.to_thread(
                _ask,
                url,
                driver,
                post,
                {
                    "trip": trip_id,
                    "positions": [
                        {
                            "latitude": 41.9612,
                            "longitude": -87.842,
                            "recordedAt": first_at.isoformat(),
                            "speedKph": 58.5,
                            "heading": 95,
                            "accuracyM": 7,
                        }
                    ],
                },
            )
            # Two fixes in one 5-second bucket of recorded time: the older is kept.
            bucket = int(datetime.now(UTC).timestamp()) // 5 * 5
            kept_at = datetime.fromtimestamp(bucket, UTC)
            second = await asyncio.to_thread(
                _ask,
                url,
                driver,
                post,
                {
                    "trip": trip_id,
                    "positions": [
                        {
                            "latitude": 41.935,
                            "longitude": -87.7611,
                            "recordedAt": (kept_at + timedelta(seconds=2)).isoformat(),
                            "speedKph": 61,
                            "heading": 100,
                        },
                        {
                            "latitude": 41.932,
                            "longitude": -87.76,
                            "recordedAt": kept_at.isoformat(),
                            "speedKph": 60,
                            "heading": 98,
                        },
                    ],
                },
            )

            def trip_started() -> list[JSON]:
                return [
                    e
                    for e in _events_of(messages, charter["id"])
                    if "trip" in e["changes"] and "status" in e["changes"]
                ]

            def positions() -> list[JSON]:
                return [
                    e for e in _events_of(messages, charter["id"]) if "positions" in e["changes"]
                ]

            heard = await _until(lambda: bool(trip_started()) and len(positions()) >= 2)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    assert said_yes["confirmTrip"]["userErrors"] == [], said_yes
    assert said_yes["confirmTrip"]["trip"]["confirmedAt"] is not None
    assert started["startTrip"]["userErrors"] == [], started
    assert started["startTrip"]["trip"]["dispatchStatus"] == "IN_TRANSIT"
    assert started["startTrip"]["trip"]["charterStatus"] == "IN_PROGRESS"
    assert first["postPositions"] == {"accepted": 1, "dropped": 0, "userErrors": []}
    assert second["postPositions"] == {"accepted": 1, "dropped": 1, "userErrors": []}
    assert heard, _events_of(messages, charter["id"])
    start_event = trip_started()[0]
    assert start_event["inWindow"] is True
    assert "dispatchStatus" in start_event["changes"]
    assert start_event["charter"] == {
        "id": charter["id"],
        "reference": charter["reference"],
        "status": "IN_PROGRESS",
    }
    assert start_event["charterVehicle"]["id"] == trip_id
    assert start_event["charterVehicle"]["dispatchStatus"] == "IN_TRANSIT"
    assert start_event["charterVehicle"]["status"] == "EN_ROUTE"
    # One "positions" change per batch here (30 s of recorded time apart), each carrying
    # the vehicle as stored when it was announced: the last shows the kept fix.
    assert len(positions()) == 2
    assert all(e["charterVehicle"]["id"] == trip_id for e in positions())
    last = positions()[-1]["charterVehicle"]["latestPosition"]
    assert (Decimal(last["latitude"]), Decimal(last["longitude"])) == (
        Decimal("41.932"),
        Decimal("-87.76"),
    )
    assert _instant(last["recordedAt"]) == kept_at

    board = _ask(
        url,
        dispatcher,
        """query($from: DateTime!, $to: DateTime!) { dispatchBoard(from: $from, to: $to) {
          edges { node { id status vehicles { id dispatchStatus
            driverConfirmation { method } latestPosition { latitude longitude speedKph recordedAt }
          } } } } }""",
        window,
    )["dispatchBoard"]
    on_board = next(e["node"] for e in board["edges"] if e["node"]["id"] == charter["id"])
    assert on_board["status"] == "IN_PROGRESS"
    (vehicle,) = on_board["vehicles"]
    assert vehicle["dispatchStatus"] == "IN_TRANSIT"
    assert vehicle["driverConfirmation"] == {"method": "APP"}
    latest = vehicle["latestPosition"]
    assert (Decimal(latest["latitude"]), Decimal(latest["longitude"])) == (
        Decimal("41.932"),
        Decimal("-87.76"),
    )
    assert Decimal(latest["speedKph"]) == Decimal(60)
    assert _instant(latest["recordedAt"]) == kept_at


def _case_of(url: str, token: str, charter_vehicle_id: str) -> JSON | None:
    """The vehicle's open case on the recovery board, or None."""
    edges = _ask(url, token, RECOVERY_BOARD)["recoveryBoard"]["edges"]
    cases = [e["node"] for e in edges if e["node"]["charterVehicle"]["id"] == charter_vehicle_id]
    assert len(cases) <= 1, cases
    return cases[0] if cases else None


def _eventually(probe: Callable[[], JSON | None], within: float = EVENTUALLY) -> JSON | None:
    """`probe()` until it answers something truthy (a cross-subgraph effect), or None."""
    deadline = time.monotonic() + within
    while True:
        found = probe()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_issue_13_done_a_vendor_decline_opens_a_recovery_case_a_dispatcher_resolves(
    stack: RunningStack,
) -> None:
    """vendor@demo.athena declines, in its portal, a coach picking up tomorrow: charters
    opens a recovery case by itself (vendors' event), vendors alerts the vendors near the
    pickup, and dispatcher@demo.athena resolves the case by giving the coach to one of
    them, who confirms (by phone: the dispatcher records it). All through the router."""
    url = f"http://127.0.0.1:{stack['router']}/graphql"
    manager = _login(url, "manager@demo.athena")
    dispatcher = _login(url, "dispatcher@demo.athena")
    vendor = _login(url, "vendor@demo.athena")
    pickup = (datetime.now(UTC) + timedelta(hours=26)).replace(second=0, microsecond=0)
    charter = _book_charter(url, manager, pickup, None, passengers=40)
    cv = charter["vehicle"]
    own = _ask(url, vendor, "{ myVendor { id name } }")["myVendor"]
    found = _ask(
        url,
        dispatcher,
        '{ vendors(first: 5, search: "Great Lakes") { edges { node { id name status } } } }',
    )["vendors"]["edges"]
    replacement = next(e["node"] for e in found if e["node"]["name"] == "Great Lakes Coach Lines")

    # Vendors learns of the new coach from charters' events: offer it once it has.
    def offered() -> JSON | None:
        answer = _ask(
            url, dispatcher, ASSIGN_VENDOR, {"cv": cv, "vendor": own["id"], "amount": "950.00"}
        )["assignVendor"]
        if [e["code"] for e in answer["userErrors"]] == ["NOT_FOUND"]:
            return None
        return dict(answer)

    offer = _eventually(offered)
    assert offer is not None, "vendors never heard of the coach"
    assert offer["userErrors"] == [], offer
    assert offer["assignment"]["status"] == "OFFERED"
    declined = _ask(
        url,
        vendor,
        RESPOND,
        {
            "id": offer["assignment"]["id"],
            "status": "DECLINED",
            "reason": "Our coach for that day failed its inspection.",
        },
    )["respondToAssignment"]

    def searching() -> JSON | None:
        case = _case_of(url, dispatcher, cv)
        if case and case["status"] == "VENDOR_SEARCH" and case["alertedVendorIds"]:
            return case
        return None

    case = _eventually(searching)
    assert declined["userErrors"] == [], declined
    assert declined["assignment"]["status"] == "DECLINED"
    assert case is not None, _case_of(url, dispatcher, cv)
    assert case["reason"] == "VENDOR_DECLINED"
    assert case["previousVendorId"] == own["id"]
    assert case["charter"]["reference"] == charter["reference"]
    assert case["charterVehicle"]["recoveryStatus"] == "VENDOR_SEARCH"
    assert 0 < case["minutesToPickup"] <= 48 * 60
    # The vendors near the pickup were told; never the one that let the trip go.
    assert replacement["id"] in case["alertedVendorIds"]
    assert own["id"] not in case["alertedVendorIds"]

    taken = _ask(
        url, dispatcher, ASSIGN_VENDOR, {"cv": cv, "vendor": replacement["id"], "amount": "1025.00"}
    )["assignVendor"]
    assert taken["userErrors"] == [], taken

    def replaced() -> JSON | None:
        case = _case_of(url, dispatcher, cv)
        return case if case and case["status"] == "VENDOR_ASSIGNED" else None

    assigned_case = _eventually(replaced)
    assert assigned_case is not None, _case_of(url, dispatcher, cv)
    assert assigned_case["id"] == case["id"]
    assert assigned_case["replacementVendorId"] == replacement["id"]
    yes = _ask(url, dispatcher, RESPOND, {"id": taken["assignment"]["id"], "status": "CONFIRMED"})[
        "respondToAssignment"
    ]
    assert yes["userErrors"] == [], yes

    def off_the_board() -> JSON | None:
        return None if _case_of(url, dispatcher, cv) else {"gone": True}

    assert _eventually(off_the_board), _case_of(url, dispatcher, cv)
    read = _ask(
        url,
        dispatcher,
        """query($id: ID!) { charter(id: $id) { recovery { id }
          vehicles { id recoveryStatus recovery { id } vendorAssignmentStatus vendor { id } }
          auditLog(first: 50) { edges { node { entity entityId action new } } } } }""",
        {"id": charter["id"]},
    )["charter"]
    assert read["recovery"] == []
    assert read["vehicles"] == [
        {
            "id": cv,
            "recoveryStatus": "NOT_NEEDED",
            "recovery": None,
            "vendorAssignmentStatus": "CONFIRMED",
            "vendor": {"id": replacement["id"]},
        }
    ]
    history = [
        e["node"]
        for e in read["auditLog"]["edges"]
        if e["node"]["entity"] == "recovery_case" and e["node"]["entityId"] == case["id"]
    ]
    # Entries written in one transaction share its time: their order is not kept, their set is.
    assert sorted(h["action"] for h in history) == [
        "recovery:alerted",
        "recovery:pending",
        "recovery:resolved",
        "recovery:vendor_assigned",
        "recovery:vendor_search",
    ]
    by_action = {h["action"]: h["new"] for h in history}
    assert by_action["recovery:pending"]["reason"] == "vendor_declined"
    assert by_action["recovery:vendor_assigned"]["replacement_vendor_id"] == replacement["id"]
    assert by_action["recovery:resolved"]["status"] == "resolved"


DASHBOARD = """{ myClient { id name
  receivables { outstanding } nextPaymentDue { amount dueOn kind }
  recentPayments { amount receivedOn }
  upcomingTrips { id reference }
  quotesAwaitingAnswer { id reference quoteRevision pickupAt pickupTimeZone quote { total } }
  savedPaymentMethods { id brand last4 }
  notificationPreferences { quotes reminders email } } }"""


def _mails(stack: RunningStack) -> list[Any]:
    """Every mail the stack's catcher kept, parsed."""
    import email
    import email.policy

    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted((stack.data_dir / "mail").glob("*.eml"))
    ]


def _mail_with(stack: RunningStack, *needles: str, within: float = EVENTUALLY) -> Any:
    """The first mail whose subject and text contain every needle, waiting for it."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for mail in _mails(stack):
            text = (
                str(mail["Subject"]) + "\n" + mail.get_body(preferencelist=("plain",)).get_content()
            )
            if all(n in text for n in needles):
                return mail
        time.sleep(0.5)
    subjects = [str(m["Subject"]) for m in _mails(stack)]
    raise AssertionError(f"no mail with {needles}; the catcher has {subjects}")


def test_issue_14_done_a_client_accepts_signs_and_pays_and_staff_see_the_mail_opened(
    stack: RunningStack,
) -> None:
    """Through the router as client@demo.athena: read the dashboard, accept a quote with the
    current terms, pay its deposit with the saved card; the confirmation (right amount, pickup
    in the pickup's local time) and the receipt reach the mail catcher; an admin reads the
    delivery log, and after the confirmation's tracking pixel is fetched, sees it opened."""
    url = f"http://127.0.0.1:{stack['router']}/graphql"
    client = _login(url, "client@demo.athena")
    admin = _login(url, "admin@demo.athena")

    board = _ask(url, client, DASHBOARD)["myClient"]
    assert board["notificationPreferences"] == {"quotes": True, "reminders": True, "email": True}
    assert board["savedPaymentMethods"], board
    waiting = [q for q in board["quotesAwaitingAnswer"] if q["quote"] and q["quote"]["total"]]
    assert waiting, board
    quote = waiting[0]
    total = Decimal(quote["quote"]["total"])
    terms = next(
        t
        for t in _ask(url, client, "{ currentLegalTerms { id kind sha256 } }")["currentLegalTerms"]
        if t["kind"] == "TERMS_AND_CONDITIONS"
    )

    accepted = _ask(
        url,
        client,
        """mutation($id: ID!, $rev: Int!, $terms: AcceptTermsInput!, $key: String) {
          acceptQuote(charterId: $id, revision: $rev, acceptTerms: $terms, idempotencyKey: $key) {
            charter { status } signature { typedName } userErrors { field code message } } }""",
        {
            "id": quote["id"],
            "rev": quote["quoteRevision"],
            "terms": {
                "termsVersionId": terms["id"],
                "typedName": "Casey Client",
                "sha256": terms["sha256"],
            },
            "key": f"e2e-accept-{quote['id']}",
        },
    )["acceptQuote"]
    assert accepted["userErrors"] == [], accepted
    assert accepted["charter"]["status"] == "BOOKED"
    assert accepted["signature"]["typedName"] == "Casey Client"

    # Finance plans the booking from pricing's accepted price (events): wait for the plan.
    plan_query = """query($id: ID!) { charter(id: $id) { paymentPlan { total
      instalments { kind amount dueOn } } } }"""
    deadline = time.monotonic() + EVENTUALLY
    plan = None
    while plan is None and time.monotonic() < deadline:
        plan = _ask(url, client, plan_query, {"id": quote["id"]})["charter"]["paymentPlan"]
        if plan is None:
            time.sleep(0.5)
    assert plan is not None, "no payment plan"
    assert Decimal(plan["total"]) == total
    deposit = next(i for i in plan["instalments"] if i["kind"] == "DEPOSIT")

    paid = _ask(
        url,
        client,
        """mutation($input: PayFromPlanInput!) { payFromPlan(input: $input) {
          payment { amount } userErrors { field code message } } }""",
        {
            "input": {
                "charterId": quote["id"],
                "part": "DEPOSIT",
                "idempotencyKey": f"e2e-deposit-{quote['id']}",
                "savedMethodId": board["savedPaymentMethods"][0]["id"],
            }
        },
    )["payFromPlan"]
    assert paid["userErrors"] == [], paid
    assert Decimal(paid["payment"]["amount"]) == Decimal(deposit["amount"])

    local = _instant(quote["pickupAt"]).astimezone(ZoneInfo(quote["pickupTimeZone"]))
    confirmation = _mail_with(stack, "Booking confirmed", quote["reference"], f"${total:,.2f}")
    body = confirmation.get_body(preferencelist=("plain",)).get_content()
    assert local.strftime("%-I:%M") in body, body
    assert ("AM" if local.hour < 12 else "PM") in body
    receipt = _mail_with(stack, "Receipt", f"${Decimal(deposit['amount']):,.2f}")
    assert receipt["To"] == confirmation["To"]

    log_query = """query($id: ID!) { notificationMessages(filter: {charterId: $id}) {
      edges { node { id kind status openedAt } } } }"""

    def confirmed() -> dict[str, Any]:
        log = _ask(url, admin, log_query, {"id": quote["id"]})["notificationMessages"]["edges"]
        return next(e["node"] for e in log if e["node"]["kind"] == "booking_confirmed")

    # the mail arrived; the worker records the hand-off right after
    deadline = time.monotonic() + EVENTUALLY
    while confirmed()["status"] != "SENT" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert confirmed()["status"] == "SENT"
    assert confirmed()["openedAt"] is None

    html = confirmation.get_body(preferencelist=("html",)).get_content()
    pixel = re.search(r'<img src="([^"]+/track/open/[^"]+)"', html)
    assert pixel is not None, html
    fetched = httpx.get(pixel.group(1), timeout=30)
    assert fetched.headers["content-type"] == "image/gif"
    opened = confirmed()
    assert opened["status"] == "OPENED"
    assert opened["openedAt"] is not None


# --- issue 15: tours, through the router, on the demo's tours ----------------------

TOURS_ZONE = ZoneInfo("America/Chicago")


def _anonymous(url: str, query: str, variables: dict[str, object] | None = None) -> JSON:
    """A request with no token: a customer who never signed in."""
    answer = httpx.post(url, json={"query": query, "variables": variables or {}}, timeout=60).json()
    assert "errors" not in answer, answer
    return answer["data"]  # type: ignore[no-any-return]


def _demo_daily_tour(url: str) -> JSON:
    from db.demo.tours import DAILY_TOUR

    tours = _anonymous(url, "{ tours { id name basePrice maxParty } }")["tours"]
    return next(t for t in tours if t["name"] == DAILY_TOUR)


def _calendar_days(url: str, tour_id: str, *, at_least_days: int) -> list[JSON]:
    """The tour's calendar days from `at_least_days` ahead (Chicago time) for three months,
    read anonymously as a customer's calendar page does."""
    today = datetime.now(TOURS_ZONE).date()
    first = (today + timedelta(days=at_least_days)).isoformat()
    last = (today + timedelta(days=80)).isoformat()
    days: list[JSON] = []
    year, month = today.year, today.month
    for _ in range(3):
        calendar = _anonymous(
            url,
            """query($tour: ID!, $year: Int!, $month: Int!) { tourCalendar(tourId: $tour,
              year: $year, month: $month) { tourId year month days { date seatsAvailable
              slotCount level blackoutName } } }""",
            {"tour": tour_id, "year": year, "month": month},
        )["tourCalendar"]
        assert (calendar["tourId"], calendar["year"], calendar["month"]) == (tour_id, year, month)
        days += [d for d in calendar["days"] if first <= d["date"] <= last]
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return days


AVAILABILITY = """query($tour: ID!, $date: Date!, $party: Int!) { availability(tourId: $tour,
  date: $date, partySize: $party) { available reasonCode waitlistOpen
  slots { id pricePerPerson seatsAvailable maxCapacity } } }"""

BOOK_TOUR = """mutation($input: BookTourInput!) { bookTour(input: $input) {
  booking { id reference status adults children infants subtotal tax total
    slot { id } } userErrors { field code message } } }"""


def _mail_to(stack: RunningStack, address: str, subject: str, within: float = EVENTUALLY) -> Any:
    """The first mail to `address` whose subject has `subject`, waiting for it."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for mail in _mails(stack):
            if address in str(mail["To"]) and subject in str(mail["Subject"]):
                return mail
        time.sleep(0.5)
    raise AssertionError(f"no mail to {address} with {subject!r} within {within} s")


def test_issue_15_done_an_anonymous_customer_reads_the_calendar_and_books_2_adults_and_a_child(
    stack: RunningStack,
) -> None:
    """No sign-in: the demo's daily tour's calendar, a day with seats, its departure at 75.00 a
    person; 2 adults and 1 child cost 150.00 + 52.50 = 202.50, tax 10 % 20.25, total 222.75;
    the booking is found again by reference and e-mail, and the calendar counts its seats."""
    url = f"http://127.0.0.1:{stack['router']}/graphql"
    tour = _demo_daily_tour(url)
    days = _calendar_days(url, tour["id"], at_least_days=2)
    assert {d["level"] for d in days} >= {"HIGH", "NONE", "BLACKOUT"}, days
    day = next(d for d in days if d["level"] in ("HIGH", "MEDIUM") and d["seatsAvailable"] >= 3)

    offered = _anonymous(url, AVAILABILITY, {"tour": tour["id"], "date": day["date"], "party": 3})
    slot = offered["availability"]["slots"][0]
    booked = _anonymous(
        url,
        BOOK_TOUR,
        {
            "input": {
                "slotId": slot["id"],
                "adults": 2,
                "children": 1,
                "customerName": "Robin Walker",
                "customerEmail": "robin.walker@example.com",
                "customerPhone": "+13125550142",
            }
        },
    )["bookTour"]
    found = _anonymous(
        url,
        """query($ref: String!, $email: String!) { tourBookingByReference(reference: $ref,
          email: $email) { reference total status slot { id } } }""",
        {"ref": booked["booking"]["reference"], "email": "ROBIN.WALKER@example.com"},
    )["tourBookingByReference"]
    after = next(
        d for d in _calendar_days(url, tour["id"], at_least_days=2) if d["date"] == day["date"]
    )
    # the change log keeps where the customer booked from, as the router forwarded it
    log = _ask(
        url,
        _login(url, "manager@demo.athena"),
        """query($id: ID!) { tourBooking(id: $id) { changes { changeType changedBy ipAddress
          userAgent } } }""",
        {"id": booked["booking"]["id"]},
    )["tourBooking"]["changes"]

    assert offered["availability"]["available"] is True
    assert slot["pricePerPerson"] == "75.00"
    assert booked["userErrors"] == [], booked
    assert re.fullmatch(r"TB-\d{8}-[A-Z0-9]{6}", booked["booking"]["reference"])
    assert {k: booked["booking"][k] for k in ("status", "subtotal", "tax", "total")} == {
        "status": "PENDING",
        "subtotal": "202.50",
        "tax": "20.25",
        "total": "222.75",
    }
    assert booked["booking"]["slot"]["id"] == slot["id"]
    assert found == {
        "reference": booked["booking"]["reference"],
        "total": "222.75",
        "status": "PENDING",
        "slot": {"id": slot["id"]},
    }
    assert after["seatsAvailable"] == day["seatsAvailable"] - 3
    assert [(c["changeType"], c["changedBy"], c["ipAddress"]) for c in log] == [
        ("CREATED", None, "127.0.0.1")
    ]
    assert log[0]["userAgent"].startswith("python-httpx/")


def test_issue_15_done_a_sold_out_departure_s_waitlist_gets_the_freed_seats_and_converts(
    stack: RunningStack,
) -> None:
    """A manager sells out a departure of the demo's daily tour; an anonymous customer finds it
    sold out with the waitlist open and joins it for 3; the manager cancels one of the sell-out
    bookings; the customer's entry is offered 3 seats on that departure (held), the offer mail
    reaches the customer, and the customer accepts it: 2 adults and 1 child, 222.75, the entry
    converted into that booking, no seat held or lost."""
    url = f"http://127.0.0.1:{stack['router']}/graphql"
    manager = _login(url, "manager@demo.athena")
    tour = _demo_daily_tour(url)
    day = [d for d in _calendar_days(url, tour["id"], at_least_days=3) if d["level"] == "HIGH"][-1]
    slot = _anonymous(url, AVAILABILITY, {"tour": tour["id"], "date": day["date"], "party": 1})[
        "availability"
    ]["slots"][0]
    sell_out: list[JSON] = []
    left = slot["seatsAvailable"]
    while left:
        party = min(left, tour["maxParty"])
        booked = _ask(
            url,
            manager,
            BOOK_TOUR,
            {
                "input": {
                    "slotId": slot["id"],
                    "adults": party,
                    "customerName": f"Lakeside Seniors Club {len(sell_out) + 1}",
                    "customerEmail": "trips@lakeside-seniors.example.org",
                }
            },
        )["bookTour"]
        assert booked["userErrors"] == [], booked
        sell_out.append(booked["booking"])
        left -= party
    sold_out = _anonymous(url, AVAILABILITY, {"tour": tour["id"], "date": day["date"], "party": 3})
    email = "kim.nguyen@example.com"
    joined = _anonymous(
        url,
        """mutation($input: JoinTourWaitlistInput!) { joinTourWaitlist(input: $input) {
          entry { id status partySize } userErrors { field code message } } }""",
        {
            "input": {
                "tourId": tour["id"],
                "date": day["date"],
                "partySize": 3,
                "customerName": "Kim Nguyen",
                "customerEmail": email,
                "notes": "Two adults and our daughter (8).",
            }
        },
    )["joinTourWaitlist"]
    assert joined["userErrors"] == [], joined

    cancelled = _ask(
        url,
        manager,
        """mutation($input: CancelTourBookingInput!) { cancelTourBooking(input: $input) {
          booking { status } userErrors { field code message } } }""",
        {
            "input": {
                "reference": sell_out[0]["reference"],
                "email": "trips@lakeside-seniors.example.org",
                "reason": "The club's bus broke down",
            }
        },
    )["cancelTourBooking"]
    waitlist = """query($tour: ID!, $date: Date!, $status: TourWaitlistStatus) {
      tourWaitlist(tourId: $tour, date: $date, status: $status) { id status
        offerSlot { id } offerExpiresAt booking { reference total } } }"""
    offered = next(
        e
        for e in _ask(
            url, manager, waitlist, {"tour": tour["id"], "date": day["date"], "status": "NOTIFIED"}
        )["tourWaitlist"]
        if e["id"] == joined["entry"]["id"]
    )
    held = _ask(
        url,
        manager,
        "query($id: ID!) { departureSlot(id: $id) { seatsBooked seatsHeld maxCapacity } }",
        {"id": slot["id"]},
    )["departureSlot"]
    offer_mail = _mail_to(stack, email, "Seats for you")
    accepted = _anonymous(
        url,
        """mutation($input: AcceptTourWaitlistOfferInput!) { acceptTourWaitlistOffer(
          input: $input) { booking { reference status total slot { id } }
          userErrors { field code message } } }""",
        {"input": {"entryId": joined["entry"]["id"], "email": email, "adults": 2, "children": 1}},
    )["acceptTourWaitlistOffer"]
    converted = _ask(
        url, manager, waitlist, {"tour": tour["id"], "date": day["date"], "status": "CONVERTED"}
    )["tourWaitlist"]
    final = _ask(
        url,
        manager,
        "query($id: ID!) { departureSlot(id: $id) { seatsBooked seatsHeld seatsAvailable } }",
        {"id": slot["id"]},
    )["departureSlot"]

    freed = sell_out[0]["adults"]
    capacity = held["maxCapacity"]
    assert sold_out["availability"]["available"] is False
    assert sold_out["availability"]["reasonCode"] == "SOLD_OUT"
    assert sold_out["availability"]["waitlistOpen"] is True
    assert joined["entry"]["status"] == "ACTIVE"
    assert cancelled == {"booking": {"status": "CANCELLED"}, "userErrors": []}
    assert offered["offerSlot"] == {"id": slot["id"]}
    assert offered["offerExpiresAt"] is not None
    assert (held["seatsBooked"], held["seatsHeld"]) == (capacity - freed, 3)
    assert str(offer_mail["To"]) == f"Kim Nguyen <{email}>"
    assert tour["name"] in str(offer_mail["Subject"])
    assert "3 seats on" in offer_mail.get_body(preferencelist=("plain",)).get_content()
    assert accepted["userErrors"] == [], accepted
    assert accepted["booking"]["total"] == "222.75"
    assert accepted["booking"]["slot"] == {"id": slot["id"]}
    assert [(e["id"], e["booking"]) for e in converted] == [
        (
            joined["entry"]["id"],
            {"reference": accepted["booking"]["reference"], "total": "222.75"},
        )
    ]
    assert final == {
        "seatsBooked": capacity - freed + 3,
        "seatsHeld": 0,
        "seatsAvailable": freed - 3,
    }


SLOT_CHARTER = """query($id: ID!) { departureSlot(id: $id) { seatsBooked minCapacity
  confirmedToRun charter { id tripType passengerCount status client { name } } } }"""


def test_issue_15_done_a_departure_reaching_its_minimum_is_operated_as_a_shuttle_charter(
    stack: RunningStack,
) -> None:
    """A departure with nothing sold reaches its minimum through bookings: it is confirmed to
    run and, through tours' event and charters' consumer, becomes one shuttle charter for the
    house client that dispatch sees through `DepartureSlot.charter`; two more seats sold move
    the charter's passenger count with them."""
    url = f"http://127.0.0.1:{stack['router']}/graphql"
    manager = _login(url, "manager@demo.athena")
    tour = _demo_daily_tour(url)
    days = _calendar_days(url, tour["id"], at_least_days=3)
    empty = next(
        slot
        for day in reversed(days)
        if day["level"] == "HIGH"
        for slot in _anonymous(
            url, AVAILABILITY, {"tour": tour["id"], "date": day["date"], "party": 1}
        )["availability"]["slots"]
        if slot["seatsAvailable"] == slot["maxCapacity"]
    )
    before = _ask(url, manager, SLOT_CHARTER, {"id": empty["id"]})["departureSlot"]

    def book(adults: int) -> None:
        booked = _ask(
            url,
            manager,
            BOOK_TOUR,
            {
                "input": {
                    "slotId": empty["id"],
                    "adults": adults,
                    "customerName": "Northside Book Club",
                    "customerEmail": "outings@northside-books.example.org",
                }
            },
        )["bookTour"]
        assert booked["userErrors"] == [], booked

    def operated(passengers: int) -> JSON | None:
        slot = _ask(url, manager, SLOT_CHARTER, {"id": empty["id"]})["departureSlot"]
        charter = slot["charter"]
        return slot if charter and charter["passengerCount"] == passengers else None

    book(before["minCapacity"])
    first = _eventually(lambda: operated(before["minCapacity"]))
    book(2)
    second = _eventually(lambda: operated(before["minCapacity"] + 2))

    assert (before["confirmedToRun"], before["charter"]) == (False, None)
    assert first is not None, "no charter for the departure"
    assert first["confirmedToRun"] is True
    assert first["charter"]["tripType"] == "SHUTTLE"
    assert first["charter"]["client"] == {"name": "Athena Scheduled Tours"}
    assert second is not None, "the charter's passenger count did not follow the seats"
    assert second["charter"]["id"] == first["charter"]["id"]


def _download(stack: RunningStack, token: str, path: str) -> bytes:
    answer = httpx.get(
        f"http://127.0.0.1:{stack['reports']}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert answer.status_code == 200, (path, answer.text)
    return answer.content


def test_issue_16_sales_by_agent_runs_downloads_and_its_schedule_mails_the_file(
    stack: RunningStack,
) -> None:
    """As manager@demo.athena through the router: the shipped "sales by agent" for month to
    date; its CSV and XLSX carry the same totals as the run; a daily 08:00 schedule's next run
    is tomorrow 08:00 in Chicago; with that moment brought to now (the schedule's due time set
    in the past, as a moved clock would find it) the stack's own `reports.deliveries` job runs
    it as the manager and notifications mails the CSV to the recipient."""
    import csv
    import io

    import openpyxl
    import psycopg

    url = f"http://127.0.0.1:{stack['router']}/graphql"
    manager = _login(url, "manager@demo.athena")
    templates = _ask(url, manager, "{ reportTemplates { id key name } }")["reportTemplates"]
    template = next(t for t in templates if t["key"] == "sales_by_agent")
    run = _ask(
        url,
        manager,
        """mutation($id: ID!) { runReport(templateId: $id) { run { id rowCount totals
          columns { key label } rows csvUrl xlsxUrl } userErrors { field code message } } }""",
        {"id": template["id"]},
    )["runReport"]
    assert run["userErrors"] == [], run
    report = run["run"]
    csv_rows = list(csv.reader(io.StringIO(_download(stack, manager, report["csvUrl"]).decode())))
    sheet = openpyxl.load_workbook(
        io.BytesIO(_download(stack, manager, report["xlsxUrl"])), read_only=True
    ).active
    xlsx_rows = [list(r) for r in sheet.iter_rows(values_only=True)]

    assert report["rowCount"] >= 1, report
    labels = [c["label"] for c in report["columns"]]
    assert csv_rows[0] == labels
    assert list(xlsx_rows[0]) == labels
    # the last line of both files is the totals line, the same figures as the run's totals
    totals = {str(v) for v in report["totals"].values()}
    csv_total = {cell for cell in csv_rows[-1] if cell}
    xlsx_total = {
        f"{Decimal(str(cell)):.2f}" if isinstance(cell, float) else str(cell)
        for cell in xlsx_rows[-1]
        if cell is not None
    }
    assert totals <= csv_total, (totals, csv_rows[-1])
    assert totals <= xlsx_total, (totals, xlsx_rows[-1])

    recipient = "owner@lakeside-coaches.example.com"
    chicago = ZoneInfo("America/Chicago")
    asked_at = datetime.now(chicago)
    made = _ask(
        url,
        manager,
        """mutation($input: CreateReportScheduleInput!) { createReportSchedule(input: $input) {
          schedule { id nextRunAt enabled } userErrors { field code message } } }""",
        {
            "input": {
                "templateId": template["id"],
                "name": "Morning sales",
                "frequency": "DAILY",
                "atTime": "08:00",
                "timeZone": "America/Chicago",
                "recipients": [recipient],
                "format": "CSV",
            }
        },
    )["createReportSchedule"]
    assert made["userErrors"] == [], made
    schedule = made["schedule"]
    next_run = datetime.fromisoformat(schedule["nextRunAt"]).astimezone(chicago)
    # The next 08:00 in Chicago: today's until it has passed, tomorrow's after.
    before_eight = (asked_at.hour, asked_at.minute) < (8, 0)
    assert (next_run.date(), next_run.hour, next_run.minute) == (
        asked_at.date() + timedelta(days=0 if before_eight else 1),
        8,
        0,
    )
    with psycopg.connect(
        f"postgresql://athena@127.0.0.1:{stack['postgres']}/athena", autocommit=True
    ) as db:
        db.execute(
            "UPDATE reports.report_schedules SET next_run_at = now() - interval '1 second'"
            " WHERE id = %s",
            (schedule["id"],),
        )
    mail = _mail_to(stack, recipient, "Sales by agent report", within=150)
    files = list(mail.iter_attachments())

    assert [f.get_content_type() for f in files] == ["text/csv"]
    mailed = list(csv.reader(io.StringIO(files[0].get_content())))
    assert mailed[0] == labels
    assert {cell for cell in mailed[-1] if cell} == csv_total
    later = _ask(
        url,
        manager,
        "query($id: ID!) { reportSchedule(id: $id) { lastRunAt lastError nextRunAt } }",
        {"id": schedule["id"]},
    )["reportSchedule"]
    assert later["lastRunAt"] is not None, later
    assert later["lastError"] is None, later


def test_sigterm_stops_every_process_and_frees_the_ports(stack):
    """Last in the module: it stops the shared stack."""
    exit_code = stack.stop()

    assert exit_code == 0
    still_bound = [name for name, port in stack.items() if not port_is_free(port)]
    assert still_bound == []


def _operator_today() -> str:
    zone = ZoneInfo(Settings().operator_time_zone)
    return datetime.now(UTC).astimezone(zone).date().isoformat()
