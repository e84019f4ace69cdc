"""`python -m stack` end to end, on a fake tree of stand-in subgraphs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import IO

from db.embedded import free_port
from db.embedded.ports import port_is_free

from .fakes import make_fake_root

ROOT = Path(__file__).resolve().parents[2]


def _launch(
    fake_root: Path, data_dir: Path, env: dict[str, str], *extra: str
) -> tuple[subprocess.Popen[str], dict[str, int]]:
    ports = {"postgres": free_port(), "redis": free_port(), "identity": free_port()}
    ports["router"] = free_port()
    # The suite's conftest points DATABASE_URL/REDIS_URL at its own servers:
    # the launcher must not see them unless a test sets them on purpose.
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    full_env = {
        **base,
        "DATA_DIR": str(data_dir),
        "IDENTITY_PORT": str(ports["identity"]),
        "ROUTER_PORT": str(ports["router"]),
        "SMTP_PORT": str(free_port()),
        "CARD_SANDBOX_PORT": str(free_port()),
        **env,
    }
    argv = [
        sys.executable, "-m", "stack",
        "--project-root", str(fake_root),
        "--postgres-port", str(ports["postgres"]),
        "--redis-port", str(ports["redis"]),
        "--health-timeout", "20",
        "--grace", "5",
        *extra,
    ]  # fmt: skip
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return proc, ports


class Output:
    """Collects a child's stdout on a thread, so tests can wait for a line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._done = False
        self._thread = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._done = True
            self._cond.notify_all()

    def wait_for(self, line: str, timeout: float) -> str:
        with self._cond:
            self._cond.wait_for(lambda: line in self.lines or self._done, timeout)
            return self.text

    def finish(self, timeout: float) -> str:
        self._thread.join(timeout)
        return self.text

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
        return str(response.read().decode())


def test_starts_everything_and_stops_cleanly_on_sigterm(scratch: Path) -> None:
    fake = make_fake_root(
        scratch / "fake",
        ("identity",),
        migrate="import os; print('migrated', os.environ['DATABASE_URL'])",
    )
    proc, ports = _launch(fake, scratch / "data", {}, "--no-demo")
    output = Output(proc)
    try:
        out = output.wait_for("ready", 30)
        assert "ready" in output.lines, out
        out = output.wait_for("  Ctrl-C stops everything.", 5)
        assert "    admin@demo.athena" in output.lines
        assert "    driver@demo.athena" in output.lines
        assert "athena-demo" in out
        assert f"http://127.0.0.1:{ports['router']}/graphql" in out
        embedded = f"postgresql+asyncpg://athena@127.0.0.1:{ports['postgres']}/athena"
        assert f"migrated {embedded}" in out
        # The router port proxies to identity, which got the embedded DATABASE_URL.
        assert _get(f"http://127.0.0.1:{ports['router']}/graphql") == f"identity {embedded}"
        logs = scratch / "data" / "logs"
        assert "listening on" in (logs / "identity.log").read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    rest = output.finish(5)
    assert proc.returncode == 0, rest
    assert "stack: stopped" in rest
    for port in ports.values():
        assert port_is_free(port), f"port {port} still held after shutdown"


def test_child_dying_stops_everything_with_an_error(scratch: Path) -> None:
    fake = make_fake_root(scratch / "fake", ("identity",))
    # No embedded servers for this one: the user's own URLs are passed through.
    env = {
        "DATABASE_URL": "postgresql+asyncpg://elsewhere@127.0.0.1:1/db",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "FAKE_EXIT_AFTER": "1.5",
    }
    proc, ports = _launch(fake, scratch / "data", env, "--no-demo")
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1, out
    assert "identity exited unexpectedly with code 3" in out
    assert "identity listening on" in out  # the log's tail is shown
    assert "postgresql+asyncpg://elsewhere@127.0.0.1:1/db" in out  # user's URL kept
    assert not (scratch / "data" / "postgres").exists()
    assert port_is_free(ports["router"])


def test_busy_port_is_named_before_anything_starts(scratch: Path) -> None:
    fake = make_fake_root(scratch / "fake", ("identity",))
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        proc, _ = _launch(fake, scratch / "data", {"IDENTITY_PORT": str(taken)})
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert f"port {taken} (needed by identity" in out
    assert not (scratch / "data" / "postgres").exists()  # nothing started


#: A migration stand-in that prints what the launcher gave it for payments.
PRINT_PAYMENT_ENV = (
    "import os; print('payments', *(os.environ.get(n, '-') for n in "
    "('PAYMENT_PROVIDER', 'STRIPE_API_BASE', 'STRIPE_API_KEY', 'STRIPE_WEBHOOK_SECRET')))"
)
#: Servers of the user's own: no embedded PostgreSQL or Redis for these tests.
ELSEWHERE = {
    "DATABASE_URL": "postgresql+asyncpg://elsewhere@127.0.0.1:1/db",
    "REDIS_URL": "redis://127.0.0.1:1/0",
}


def test_the_card_sandbox_runs_on_its_port_and_finance_is_pointed_at_it(scratch: Path) -> None:
    from stack.card_sandbox import API_KEY, WEBHOOK_SECRET

    fake = make_fake_root(scratch / "fake", ("identity",), migrate=PRINT_PAYMENT_ENV)
    port = free_port()
    proc, _ = _launch(
        fake, scratch / "data", {**ELSEWHERE, "CARD_SANDBOX_PORT": str(port)}, "--no-demo"
    )
    output = Output(proc)
    base = f"http://127.0.0.1:{port}"
    try:
        out = output.wait_for("  Ctrl-C stops everything.", 30)
        assert f"| payments stripe {base} {API_KEY} {WEBHOOK_SECRET}\n" in out + "\n", out
        assert any(line.startswith(f"  {'Cards:':<11} {base}  (") for line in output.lines), out
        request = urllib.request.Request(  # noqa: S310 - the sandbox's http URL
            f"{base}/v1/payment_methods/pm_card_visa",
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            assert b'"last4":"4242"' in response.read().replace(b" ", b"")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    rest = output.finish(5)
    assert proc.returncode == 0, rest
    assert port_is_free(port), "the card sandbox still holds its port after shutdown"


def test_a_configured_payment_provider_means_no_card_sandbox(scratch: Path) -> None:
    fake = make_fake_root(scratch / "fake", ("identity",), migrate=PRINT_PAYMENT_ENV)
    port = free_port()
    env = {**ELSEWHERE, "PAYMENT_PROVIDER": "manual", "CARD_SANDBOX_PORT": str(port)}
    proc, _ = _launch(fake, scratch / "data", env, "--no-demo")
    output = Output(proc)
    try:
        out = output.wait_for("  Ctrl-C stops everything.", 30)
        assert "| payments manual - - -\n" in out + "\n", out
        assert "Cards:" not in out
        assert port_is_free(port)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert proc.returncode == 0, output.finish(5)


def test_a_busy_card_sandbox_port_is_named_before_anything_starts(scratch: Path) -> None:
    fake = make_fake_root(scratch / "fake", ("identity",))
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        proc, _ = _launch(fake, scratch / "data", {"CARD_SANDBOX_PORT": str(taken)})
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert f"port {taken} (needed by the card sandbox (CARD_SANDBOX_PORT))" in out
    assert not (scratch / "data" / "postgres").exists()  # nothing started


#: A stand-in router: answers every GET with 200 and the port it was told (`--port N`).
FAKE_ROUTER = """
import sys, http.server
port = int(sys.argv[sys.argv.index("--port") + 1])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"router {port}".encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def _with_fake_router(root: Path) -> Path:
    (root / "router").mkdir()
    (root / "router" / "__init__.py").touch()  # a package: found before the real router
    (root / "router" / "__main__.py").write_text(FAKE_ROUTER)
    (root / "schema").mkdir()
    (root / "schema" / "supergraph.graphql").touch()
    return root


def test_two_replicas_put_haproxy_round_robin_in_front_of_two_routers(scratch: Path) -> None:
    fake = _with_fake_router(make_fake_root(scratch / "fake", ("identity",)))
    routers = [free_port(), free_port()]
    env = {
        **ELSEWHERE,
        "ATHENA_REPLICAS": "2",
        "ROUTER_REPLICA_PORTS": ",".join(map(str, routers)),
    }
    proc, ports = _launch(fake, scratch / "data", env, "--no-demo")
    output = Output(proc)
    try:
        out = output.wait_for("  Ctrl-C stops everything.", 30)
        assert "ready" in output.lines, out
        answers = [_get(f"http://127.0.0.1:{ports['router']}/graphql") for _ in range(4)]
        direct = [_get(f"http://127.0.0.1:{port}/health") for port in routers]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    rest = output.finish(5)
    assert proc.returncode == 0, rest
    assert direct == [f"router {routers[0]}", f"router {routers[1]}"]
    assert sorted(answers) == sorted(direct * 2)  # round robin: each router twice
    assert f"stack: starting router-1 on port {routers[0]}" in rest
    assert "HAProxy, round robin over 2 routers" in rest
    for port in [*routers, ports["router"], ports["identity"]]:
        assert port_is_free(port), f"port {port} still held after shutdown"


def test_replicas_without_haproxy_say_how_to_install_it(scratch: Path) -> None:
    fake = _with_fake_router(make_fake_root(scratch / "fake", ("identity",)))
    env = {**ELSEWHERE, "ATHENA_REPLICAS": "2", "HAPROXY": str(scratch / "no-haproxy")}
    proc, ports = _launch(fake, scratch / "data", env, "--no-demo")
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1, out
    assert "HAProxy is needed to run more than one replica" in out
    assert "apt-get install -y haproxy" in out
    assert port_is_free(ports["identity"])  # nothing started
