"""Start, watch and stop the embedded stack: what `make run` does.

Order matters: ports are checked before anything starts (a clear message
beats a half-started system); PostgreSQL and Redis come up before the
migrations, which come before the services; on the way down the services
stop first so that they never see their database vanish under them.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

from db.embedded import EmbeddedError, EmbeddedPostgres, EmbeddedRedis
from db.embedded.ports import describe_listener, port_is_free
from db.embedded.processes import tail
from stack.balancer import INSTALL_HINT, haproxy_path
from stack.banner import ready_banner
from stack.card_sandbox import CardSandbox
from stack.children import Child, say
from stack.mailbox import Mailbox
from stack.plan import Plan, module_exists, plan_services, python_module, replica_ports
from stack.secrets import embedded_secrets
from subgraphs.kit.settings import EMBEDDED_POSTGRES_PORT, EMBEDDED_REDIS_PORT, Settings

CODE_ROOT = Path(__file__).resolve().parents[1]


class StackError(Exception):
    """Something the person running the stack must read; no traceback needed."""


class Stop(BaseException):
    """Raised by the SIGINT/SIGTERM handler to unwind to the shutdown code."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)


@dataclass(frozen=True)
class Options:
    root: Path
    postgres_port: int
    redis_port: int
    health_timeout: float
    grace: float
    demo: bool
    #: processes of each subgraph, and routers behind HAProxy (`ATHENA_REPLICAS`)
    replicas: int = 1
    #: false: the database is migrated already (`--no-migrate`)
    migrate: bool = True


class Stack:
    def __init__(self, options: Options, settings: Settings, environ: dict[str, str]) -> None:
        self.options = options
        self.settings = settings
        self.environ = environ
        self.data_dir = settings.data_dir.resolve()
        self.log_dir = self.data_dir / "logs"
        self.postgres: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None
        if not self._user_set("DATABASE_URL"):
            self.postgres = EmbeddedPostgres(
                self.data_dir / "postgres",
                options.postgres_port,
                log_path=self.log_dir / "postgres.log",
            )
        if not self._user_set("REDIS_URL"):
            self.redis = EmbeddedRedis(
                self.data_dir / "redis", options.redis_port, log_path=self.log_dir / "redis.log"
            )
        self.mailbox: Mailbox | None = None
        if not self._user_set("SMTP_HOST"):
            self.mailbox = Mailbox(self.data_dir / "mail", settings.smtp_port, say)
        # Payments, like mail, stay on this machine unless the user named a provider.
        self.card_sandbox: CardSandbox | None = None
        if not self._user_set("PAYMENT_PROVIDER"):
            self.card_sandbox = CardSandbox(settings.card_sandbox_port, say)
        self.plan = Plan((), (), router_is_proxy=False)
        self.children: list[Child] = []
        self.oneshot: Child | None = None
        self._lock: IO[str] | None = None
        self._stopping = False

    # -- the whole run -----------------------------------------------------

    def run(self) -> int:
        """Start everything, wait for ready, watch; always shut down. Returns the exit code."""
        self._install_signal_handlers()
        code = 0
        try:
            self._acquire_lock()
            plan = self._plan()
            for reason in plan.skipped:
                say(f"stack: skipping {reason}")
            self._check_ports(plan)
            self._start_servers()
            if self.options.migrate:
                self._run_once("migrate", "db.migrate")
            if self.options.demo:
                self._run_once("demo", "db.demo")
            self._start_services(plan)
            self._wait_healthy()
            if plan.balanced:
                # The balancer last, in front of routers that answer: no "server DOWN" at start.
                self._start_services(plan, balancer=True)
                self._wait_healthy()
            say(
                ready_banner(
                    plan,
                    self.database_url,
                    self.redis_url,
                    self.log_dir,
                    self.mailbox.folder if self.mailbox else None,
                    self.card_sandbox.base_url if self.card_sandbox else None,
                )
            )
            self._watch()
        except Stop as stop:
            say(f"stack: {stop}: stopping")
        except (StackError, EmbeddedError) as exc:
            say(f"stack: error: {exc}", sys.stderr)
            code = 1
        finally:
            self._stopping = True
            self.shutdown()
        return code

    @property
    def database_url(self) -> str:
        return self.postgres.url if self.postgres else self.settings.database_url

    @property
    def redis_url(self) -> str:
        return self.redis.url if self.redis else self.settings.redis_url

    # -- steps -------------------------------------------------------------

    def _acquire_lock(self) -> None:
        """One launcher per data directory; the lock dies with its holder.

        This is also what makes a live server of our data directory an
        orphan we may stop: no other launcher can be using it.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lock = (self.data_dir / "stack.lock").open("a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            lock.close()
            raise StackError(
                f"another `python -m stack` (pid {holder}) is already running with "
                f"data in {self.data_dir}; stop it first"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        self._lock = lock

    def _plan(self) -> Plan:
        """What to start; with replicas, only if HAProxy is there to balance the routers."""
        replicas = self.options.replicas
        haproxy = haproxy_path(self.environ)
        try:
            plan = plan_services(
                self.options.root,
                self.settings,
                replicas=replicas,
                router_ports=replica_ports(
                    self.settings, replicas, self.environ.get("ROUTER_REPLICA_PORTS", "")
                ),
                haproxy=haproxy or "haproxy",
            )
        except ValueError as exc:
            raise StackError(str(exc)) from None
        if plan.balanced and haproxy is None:
            raise StackError(INSTALL_HINT)
        if replicas > 1:
            say(
                f"stack: {replicas} replicas: {replicas} processes of each subgraph"
                + (f", {replicas} routers behind HAProxy" if plan.balanced else "")
            )
        return plan

    def _check_ports(self, plan: Plan) -> None:
        """Every port we will listen on, checked before anything starts."""
        wanted: list[tuple[int, str]] = []
        if self.postgres:
            self.postgres.reclaim_stale()
            wanted.append((self.postgres.port, "PostgreSQL"))
        if self.redis:
            self.redis.reclaim_stale()
            wanted.append((self.redis.port, "Redis"))
        if self.mailbox:
            wanted.append((self.mailbox.port, "the mail catcher (SMTP_PORT)"))
        if self.card_sandbox:
            wanted.append((self.card_sandbox.port, "the card sandbox (CARD_SANDBOX_PORT)"))
        wanted += [(s.port, f"{s.name} ({s.description})") for s in plan.services]
        busy = [
            f"port {port} (needed by {who}) is already in use"
            + (f" by {holder}" if (holder := describe_listener(port)) else "")
            for port, who in wanted
            if not port_is_free(port)
        ]
        if busy:
            raise StackError(
                "; ".join(busy) + " on 127.0.0.1. Stop the process holding it or choose another "
                "port (environment variables IDENTITY_PORT, ROUTER_PORT, ...; "
                "--postgres-port / --redis-port)"
            )

    def _start_servers(self) -> None:
        if self.postgres:
            say(f"stack: starting PostgreSQL on port {self.postgres.port} ({self.postgres.pgdata})")
            self.postgres.start()
        if self.redis:
            say(f"stack: starting Redis on port {self.redis.port}")
            self.redis.start()
        if self.mailbox:
            say(f"stack: catching mail on port {self.mailbox.port} into {self.mailbox.folder}/")
            self.mailbox.start()
        if self.card_sandbox:
            # Before the demo runs: it saves the demo client's card with the provider.
            say(f"stack: card sandbox (Stripe stand-in) on {self.card_sandbox.base_url}")
            try:
                self.card_sandbox.start()
            except (OSError, RuntimeError) as exc:
                raise StackError(
                    f"the card sandbox could not listen on port {self.card_sandbox.port}: {exc} "
                    "(CARD_SANDBOX_PORT chooses another)"
                ) from exc

    def child_env(self) -> dict[str, str]:
        """The launcher's environment plus the embedded URLs (unless set by the user)."""
        env = dict(self.environ)
        env["PYTHONUNBUFFERED"] = "1"
        path = env.get("PYTHONPATH")
        env["PYTHONPATH"] = f"{CODE_ROOT}{os.pathsep}{path}" if path else str(CODE_ROOT)
        env["DATABASE_URL"] = self.database_url
        env["REDIS_URL"] = self.redis_url
        env["DATA_DIR"] = str(self.data_dir)
        for name, value in embedded_secrets(self.data_dir).items():
            if not self._user_set(name):
                env[name] = value
        if self.card_sandbox:
            for name, value in self.card_sandbox.provider_env().items():
                if not self._user_set(name):
                    env[name] = value
        return env

    def _new_child(
        self, name: str, argv: tuple[str, ...], extra_env: Mapping[str, str] | None = None
    ) -> Child:
        env = self.child_env()
        for key, value in (extra_env or {}).items():
            env.setdefault(key, value)  # what the user exported wins
        return Child(name, argv, log_dir=self.log_dir, env=env, cwd=self.options.root)

    def _run_once(self, name: str, module: str) -> None:
        """Run `python -m module` to completion (migrations, demo data)."""
        if not module_exists(self.options.root, module):
            say(f"stack: warning: {module} does not exist yet; skipping {name}")
            return
        say(f"stack: running python -m {module}")
        self.oneshot = child = self._new_child(name, python_module(module))
        child.start()
        code = child.wait()
        self.oneshot = None
        if code != 0:
            raise StackError(
                f"`python -m {module}` failed with exit code {code}; "
                f"last lines of {child.log_path}:\n{child.log_tail()}"
            )

    def _start_services(self, plan: Plan, *, balancer: bool = False) -> None:
        """Every service but the balancer, or (`balancer`) the balancer alone."""
        self.plan = plan
        for path, content in plan.files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        width = max([len(s.name) for s in plan.services] + [9])
        for service in plan.services:
            if plan.balanced and (service.name == "router") != balancer:
                continue
            say(f"stack: starting {service.name} on port {service.port}")
            child = self._new_child(service.name, service.argv, service.env)
            child.prefix = f"{service.name:>{width}} | "
            child.start()
            self.children.append(child)

    def _wait_healthy(self) -> None:
        """Poll every service's GET /health until all answer 200 or time runs out."""
        by_name = {s.name: s for s in self.plan.services}
        pending = {c.name: c for c in self.children}
        deadline = time.monotonic() + self.options.health_timeout
        while pending:
            for name, child in list(pending.items()):
                self._fail_if_exited(child)
                if _http_ok(by_name[name].health_url):
                    del pending[name]
            if not pending:
                return
            if time.monotonic() > deadline:
                name, child = next(iter(pending.items()))
                raise StackError(
                    f"{name} did not answer GET {by_name[name].health_url} within "
                    f"{self.options.health_timeout:.0f} s (still waiting for: "
                    f"{', '.join(pending)}); last lines of {child.log_path}:\n{child.log_tail()}"
                )
            time.sleep(0.2)

    def _watch(self) -> None:
        """Until a signal: any process dying on its own stops everything."""
        while True:
            for child in self.children:
                self._fail_if_exited(child)
            for server, label in ((self.postgres, "PostgreSQL"), (self.redis, "Redis")):
                if server is not None and not server.running:
                    raise StackError(
                        f"{label} exited unexpectedly; last lines of {server.log_path}:\n"
                        f"{tail(server.log_path)}"
                    )
            time.sleep(0.5)

    def _fail_if_exited(self, child: Child) -> None:
        code = child.poll()
        if code is not None:
            child.wait(1)
            raise StackError(
                f"{child.name} exited unexpectedly with code {code}; "
                f"last lines of {child.log_path}:\n{child.log_tail()}"
            )

    # -- stopping ----------------------------------------------------------

    def shutdown(self) -> None:
        """Services first (SIGTERM, SIGKILL after the grace period), then Redis and PostgreSQL."""
        started = [c for c in [self.oneshot, *reversed(self.children)] if c is not None]
        for child in started:
            child.terminate()
        deadline = time.monotonic() + self.options.grace
        for child in started:
            child.finish(max(0.1, deadline - time.monotonic()))
        if self.mailbox is not None:
            self.mailbox.stop()
        if self.card_sandbox is not None:
            self.card_sandbox.stop()
        if self.redis is not None and self.redis.running:
            self.redis.stop()
        if self.postgres is not None and self.postgres.running:
            self.postgres.stop()
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        say("stack: stopped")

    def _install_signal_handlers(self) -> None:
        def handler(signum: int, frame: FrameType | None) -> None:
            if self._stopping:
                say("stack: already stopping, please wait")
                return
            self._stopping = True
            raise Stop(signum)

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)

    def _user_set(self, name: str) -> bool:
        """pydantic-settings reads variables case-insensitively; so do we."""
        return name in self.environ or name.lower() in self.environ


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - our own http URL
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m stack", description="Run the whole system on this machine."
    )
    parser.add_argument("--postgres-port", type=int, default=EMBEDDED_POSTGRES_PORT)
    parser.add_argument("--redis-port", type=int, default=EMBEDDED_REDIS_PORT)
    parser.add_argument(
        "--health-timeout", type=float, default=90.0, help="seconds to wait for /health"
    )
    parser.add_argument(
        "--grace", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL"
    )
    parser.add_argument("--no-demo", action="store_true", help="do not load demo data")
    parser.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not run the migrations (a DATABASE_URL already migrated, e.g. by a job)",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=os.environ.get("ATHENA_REPLICAS") or "1",  # a string: argparse checks it
        help="processes of each subgraph and routers behind HAProxy (default: ATHENA_REPLICAS or 1)",
    )
    parser.add_argument("--project-root", type=Path, default=CODE_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    return Options(
        root=args.project_root.resolve(),
        postgres_port=args.postgres_port,
        redis_port=args.redis_port,
        health_timeout=args.health_timeout,
        grace=args.grace,
        demo=not args.no_demo,
        migrate=not args.no_migrate,
        replicas=args.replicas,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    with contextlib.suppress(AttributeError):
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    return Stack(options, Settings(), dict(os.environ)).run()
