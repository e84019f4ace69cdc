"""`make run`'s launcher, for real: every subgraph and the router on their own ports.

What the issue calls done: start the stack, log in as the demo admin
through the router, ask `me`, stop everything with SIGTERM.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from db.embedded import free_port, make_temp_dir
from db.embedded.ports import port_is_free
from subgraphs.kit.settings import PROJECT_ROOT, SUBGRAPH_PORTS

pytestmark = pytest.mark.slow

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
        # The suite's own settings (its servers, its quiet identity mailer) are not the stack's.
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "IDENTITY_MAILER_ENABLED")
        },
        "DATA_DIR": str(data_dir),
        "ROUTER_PORT": str(ports["router"]),
        "SMTP_PORT": str(free_port()),
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
        {"client": client_id, "amount": str(total), "day": time.strftime("%Y-%m-%d")},
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


def test_sigterm_stops_every_process_and_frees_the_ports(stack):
    """Last in the module: it stops the shared stack."""
    exit_code = stack.stop()

    assert exit_code == 0
    still_bound = [name for name, port in stack.items() if not port_is_free(port)]
    assert still_bound == []
