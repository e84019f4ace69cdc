"""A private Redis server in a directory we own, on a port we choose.

Persistent stacks use the append-only file (every write survives a crash
within a second); ephemeral ones (tests) keep nothing on disk. Like
PostgreSQL it runs as our child in the foreground, with SIGTERM from the
kernel if we die, and a pid file so that an orphan can be recognised.
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
from pathlib import Path
from types import TracebackType

from db.embedded.accounts import current_account
from db.embedded.binaries import redis_server_binary
from db.embedded.errors import EmbeddedError
from db.embedded.ports import LOCALHOST, ensure_port_free
from db.embedded.processes import (
    process_matches,
    read_pid,
    stop_child,
    stop_pid,
    tail,
    wait_until,
)

log = logging.getLogger(__name__)


class EmbeddedRedis:
    """Start redis-server on 127.0.0.1:`port`, wait for PING, stop with SHUTDOWN semantics."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        *,
        ephemeral: bool = False,
        log_path: Path | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.ephemeral = ephemeral
        self.log_path = log_path or self.data_dir / "redis.log"
        self.start_timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOCALHOST}:{self.port}/0"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "redis.pid"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc else None

    def start(self) -> None:
        """Start the server; PortInUseError names the port if it is taken."""
        if self.running:
            return
        binary = redis_server_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.reclaim_stale()
        ensure_port_free(self.port, f"Redis ({self.data_dir})")
        persistence = ["--appendonly", "no"] if self.ephemeral else ["--appendonly", "yes"]
        argv = current_account(pdeathsig="TERM").command(
            [
                binary,
                "--port", str(self.port),
                "--bind", LOCALHOST,
                "--protected-mode", "yes",
                "--daemonize", "no",
                "--dir", str(self.data_dir),
                "--pidfile", str(self.pid_file),
                "--save", "",  # no RDB snapshots: AOF (or nothing) only
                *persistence,
                "--logfile", "",  # stdout, which goes to log_path
            ]
        )  # fmt: skip
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            self._proc = subprocess.Popen(  # noqa: S603 - our own argv
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,  # Ctrl-C reaches the launcher, not us
            )
        if not wait_until(self._ready, self.start_timeout, interval=0.05):
            self.stop()
            raise EmbeddedError(
                f"Redis on port {self.port} did not answer PING within "
                f"{self.start_timeout:.0f} s; last lines of {self.log_path}:\n{tail(self.log_path)}"
            )

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM: Redis flushes the append-only file and exits."""
        if self._proc is not None:
            stop_child(self._proc, signal.SIGTERM, timeout)
            self._proc = None

    def reclaim_stale(self) -> None:
        """Stop an orphan Redis of this directory and port; drop a stale pid file."""
        if not self.pid_file.exists():
            return
        pid = read_pid(self.pid_file)
        if pid is not None and process_matches(pid, "redis-server", f"{LOCALHOST}:{self.port}"):
            log.warning("stopping Redis (pid %s) left running on port %s", pid, self.port)
            stop_pid(pid, signal.SIGTERM, 30)
        if self.pid_file.exists():
            self.pid_file.unlink(missing_ok=True)

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _ready(self) -> bool:
        if self._proc is None or self._proc.poll() is not None:
            raise EmbeddedError(
                f"Redis on port {self.port} exited during start-up; "
                f"last lines of {self.log_path}:\n{tail(self.log_path)}"
            )
        return ping(self.port)


def ping(port: int, timeout: float = 0.5) -> bool:
    """PING over a raw socket: answers +PONG once the data set is loaded."""
    try:
        with socket.create_connection((LOCALHOST, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
