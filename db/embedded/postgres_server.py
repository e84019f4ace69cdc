"""A private PostgreSQL cluster in a directory we own, on a port we choose.

Layout under `data_dir`: `pgdata/` (the cluster, owned by the account that
runs postgres), `initialised` (written once role and database exist, so an
interrupted first start is redone rather than half-used) and, by default,
`postgres.log`.

The server runs in the foreground as our child (not daemonised by pg_ctl):
we know its pid, see it die, and the kernel sends it SIGINT (fast shutdown)
if we are killed, so a crashed launcher does not leave it holding the port.
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
from pathlib import Path
from types import TracebackType

from db.embedded.accounts import Account, hand_over, postgres_account
from db.embedded.binaries import PostgresBinaries, postgres_binaries
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

SUPERUSER = "postgres"


class EmbeddedPostgres:
    """Initialise on first use, reuse the data afterwards, stop cleanly.

    `ephemeral=True` trades durability for speed (fsync, synchronous_commit
    and full_page_writes off): right for tests, wrong for data you keep.
    `max_connections` is high because parallel test workers each hold pools.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int,
        user: str = "athena",
        database: str = "athena",
        *,
        ephemeral: bool = False,
        max_connections: int = 300,
        log_path: Path | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.user = user
        self.database = database
        self.ephemeral = ephemeral
        self.max_connections = max_connections
        self.log_path = log_path or self.data_dir / "postgres.log"
        self.start_timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._bins: PostgresBinaries | None = None

    # -- addresses -------------------------------------------------------

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def url(self) -> str:
        """SQLAlchemy URL, the form settings.database_url takes."""
        return f"postgresql+asyncpg://{self.user}@{LOCALHOST}:{self.port}/{self.database}"

    def dsn(self, database: str | None = None, user: str | None = None) -> str:
        """libpq/asyncpg DSN; the superuser `postgres` is there for test set-up."""
        user, database = user or self.user, database or self.database
        return f"postgresql://{user}@{LOCALHOST}:{self.port}/{database}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc else None

    # -- life cycle ------------------------------------------------------

    def start(self) -> None:
        """Start the server, initialising the cluster first if needed.

        Raises PortInUseError (naming the port) if something else listens
        there, EmbeddedError with the log's tail if the server fails.
        """
        if self.running:
            return
        self._bins = bins = postgres_binaries()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.reclaim_stale()
        ensure_port_free(self.port, f"PostgreSQL ({self.pgdata})")
        account = postgres_account()
        if not (self.data_dir / "initialised").exists():
            self._initdb(bins, account)
        hand_over(self.pgdata, account)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        server = postgres_account(pdeathsig="INT").command(
            [bins.program("postgres"), "-D", str(self.pgdata), *self._options()]
        )
        with self.log_path.open("ab") as log_file:
            self._proc = subprocess.Popen(  # noqa: S603 - our own argv
                server,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd="/",
                start_new_session=True,  # Ctrl-C reaches the launcher, not us
            )
        if not wait_until(self._ready, self.start_timeout, interval=0.1):
            self.stop()
            raise EmbeddedError(
                f"PostgreSQL on port {self.port} did not start within "
                f"{self.start_timeout:.0f} s; last lines of {self.log_path}:\n{tail(self.log_path)}"
            )
        self._ensure_role_and_database()
        (self.data_dir / "initialised").touch()

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT): roll back open transactions, checkpoint, exit."""
        if self._proc is not None:
            stop_child(self._proc, signal.SIGINT, timeout)
            self._proc = None

    def reclaim_stale(self) -> None:
        """Deal with a postmaster.pid left behind by a crash.

        A live postgres of this very data directory is an orphan of a
        launcher that died: stop it (fast). A pid that is dead, or now
        belongs to another program, is stale: remove the file so that
        postgres does not refuse to start.
        """
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return
        pid = read_pid(pid_file)
        if pid is not None and process_matches(pid, "postgres", str(self.pgdata)):
            log.warning("stopping PostgreSQL (pid %s) left running on %s", pid, self.pgdata)
            stop_pid(pid, signal.SIGINT, 30)
        if pid_file.exists():
            log.warning("removing stale %s (pid %s is not running)", pid_file, pid)
            pid_file.unlink(missing_ok=True)

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals -------------------------------------------------------

    def _options(self) -> list[str]:
        """Server settings on the command line, so they hold on every start.

        No Unix socket: its path length limit breaks in deep temp dirs and
        it would collide in /var/run/postgresql with the system's server.
        """
        settings = {
            "listen_addresses": LOCALHOST,
            "port": str(self.port),
            "unix_socket_directories": "",
            "max_connections": str(self.max_connections),
            "logging_collector": "off",
            "log_min_messages": "warning",
            "log_timezone": "UTC",
            "timezone": "UTC",
        }
        if self.ephemeral:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        return [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]

    def _initdb(self, bins: PostgresBinaries, account: Account) -> None:
        """Create the cluster; trust auth is fine as it only listens on 127.0.0.1."""
        if self.pgdata.exists():  # an interrupted first start: redo it
            shutil.rmtree(self.pgdata)
        hand_over(self.pgdata, account)
        argv = [
            bins.program("initdb"),
            "-D", str(self.pgdata),
            "-U", SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
        ]  # fmt: skip
        if self.ephemeral:
            argv.append("--no-sync")
        done = subprocess.run(  # noqa: S603 - our own argv
            account.command(argv), capture_output=True, text=True, cwd="/", check=False
        )
        if done.returncode != 0:
            raise EmbeddedError(f"initdb failed for {self.pgdata}:\n{done.stderr[-3000:]}")

    def _ready(self) -> bool:
        if self._proc is None or self._proc.poll() is not None:
            raise EmbeddedError(
                f"PostgreSQL on port {self.port} exited during start-up; "
                f"last lines of {self.log_path}:\n{tail(self.log_path)}"
            )
        assert self._bins is not None  # noqa: S101 - set by start()
        done = subprocess.run(  # noqa: S603 - our own argv
            [self._bins.program("pg_isready"), "-q", "-h", LOCALHOST, "-p", str(self.port)],
            check=False,
        )
        return done.returncode == 0

    def _psql(self, sql: str, database: str = "postgres") -> str:
        assert self._bins is not None  # noqa: S101 - set by start()
        argv = [
            self._bins.program("psql"),
            "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
            "-h", LOCALHOST, "-p", str(self.port), "-U", SUPERUSER, "-d", database,
            "-c", sql,
        ]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise EmbeddedError(f"psql failed on port {self.port}: {done.stderr.strip()}")
        return done.stdout.strip()

    def _ensure_role_and_database(self) -> None:
        """Role `user` (LOGIN CREATEDB) owning database `database`; idempotent.

        Not a superuser, like production; CREATEDB lets tests make
        per-worker databases. btree_gist is a trusted extension, so the
        database owner's migrations may create it.
        """
        role, db = _literal(self.user), _literal(self.database)
        exists = self._psql(
            f"SELECT (SELECT count(*) FROM pg_roles WHERE rolname = {role}) || ',' || "  # noqa: S608
            f"(SELECT count(*) FROM pg_database WHERE datname = {db})"
        )
        has_role, has_db = (part == "1" for part in exists.split(","))
        if not has_role:
            self._psql(f"CREATE ROLE {_ident(self.user)} LOGIN CREATEDB")
        if not has_db:
            self._psql(f"CREATE DATABASE {_ident(self.database)} OWNER {_ident(self.user)}")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'
