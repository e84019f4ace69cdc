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
