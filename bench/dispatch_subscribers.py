"""Dispatch board fan-out through the router: N subscribers, one mutation, every one hears it.

    .venv/bin/python -m bench.dispatch_subscribers [--subscribers 1000] [--mutations 20]

Issue 13 §7. A script that prints figures, never a test. Throwaway
PostgreSQL and Redis, migrated and seeded as `bench/charters_board.py` does
(its `seed`, processes and `board_latency` are reused, not copied);
identity, charters and the router as separate processes. N clients
subscribe to `dispatchBoard` THROUGH THE ROUTER over graphql-transport-ws;
then, per round, one `setDispatchStatus` (also through the router) and the
time until each subscriber had its event. Printed: p50/p99 until the LAST
subscriber had it, p50/p99 of every single delivery, and the router's and
charters' CPU (percent of one core, mean and peak over 0.5 s samples) and
resident memory (peak), read from /proc while the rounds run (psutil is not
a dependency of the project; /proc gives the same figures on Linux).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.charters_board import (
    PYTHON,
    ROOT,
    board_latency,
    free_port,
    process,
    seed,
    wait_healthy,
)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Usage:
    """CPU and memory samples of one process."""

    pid: int
    cpu_percent: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    def ticks(self) -> int:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)

    def rss(self) -> float:
        pages = int(Path(f"/proc/{self.pid}/statm").read_text().split()[1])
        return pages * PAGE / 2**20


class Sampler:
    """Samples each process every `every` seconds on a thread, until stopped."""

    def __init__(self, pids: dict[str, int], every: float = 0.5) -> None:
        self.usage = {name: Usage(pid) for name, pid in pids.items()}
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        last = {name: (u.ticks(), time.monotonic()) for name, u in self.usage.items()}
        while not self._stop.wait(self.every):
            for name, usage in self.usage.items():
                with contextlib.suppress(OSError):
                    ticks, now = usage.ticks(), time.monotonic()
                    before, then = last[name]
                    usage.cpu_percent.append((ticks - before) / CLOCK_TICKS / (now - then) * 100)
                    usage.rss_mb.append(usage.rss())
                    last[name] = (ticks, now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--mutations", type=int, default=20)
    parser.add_argument(
        "--readers",
        type=int,
        default=50,
        help="distinct staff people the subscribers belong to (one token each); charters "
        "executes each event once per person (kit/event_sharing), so this is its real cost",
    )
    args = parser.parse_args()

    from db.embedded import make_temp_dir, temporary_servers
    from db.migrate import upgrade_all
    from subgraphs.kit.settings import get_settings

    workdir = make_temp_dir("athena-bench-")
    try:
        with temporary_servers("athena-bench-db-") as servers, contextlib.ExitStack() as stack:
            identity_port, charters_port, router_port = free_port(), free_port(), free_port()
            env = {
                **os.environ,
                "DATABASE_URL": servers.postgres.url,
                "REDIS_URL": servers.redis.url,
                "IDENTITY_PORT": str(identity_port),
                "CHARTERS_PORT": str(charters_port),
                "JWT_JWKS_URL": f"http://127.0.0.1:{identity_port}/.well-known/jwks.json",
                "LOG_LEVEL": "warning",
            }
            os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL")})
            get_settings.cache_clear()
            print("migrating and seeding 50 charters x 3 vehicles x 4 stops ...", flush=True)
            asyncio.run(upgrade_all(servers.postgres.url))
            token, vehicles = asyncio.run(seed(servers.postgres.url, args.readers))

            pids = {}
            for name, port in (("identity", identity_port), ("charters", charters_port)):
                log = workdir / f"{name}.log"
                proc = stack.enter_context(process([PYTHON, "-m", f"subgraphs.{name}"], env, log))
                wait_healthy(f"http://127.0.0.1:{port}/health", proc, log)
                pids[name] = proc.pid
            text = (ROOT / "schema" / "supergraph.graphql").read_text()
            text = text.replace("127.0.0.1:4103/", f"127.0.0.1:{charters_port}/")
            text = text.replace("127.0.0.1:4101/", f"127.0.0.1:{identity_port}/")
            local = workdir / "supergraph.graphql"
            local.write_text(text)
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
                        str(router_port),
                    ],
                    env,
                    log,
                )
            )
            wait_healthy(f"http://127.0.0.1:{router_port}/health", router, log)
            pids["router"] = router.pid

            print(
                f"\n{args.subscribers} dispatchBoard subscribers of {args.readers} distinct "
                "staff people through the router "
                f"(graphql-transport-ws), {args.mutations} setDispatchStatus mutations "
                f"through the router; {os.cpu_count()} CPU(s), load average "
                f"{os.getloadavg()[0]:.2f} before",
                flush=True,
            )
            with Sampler({"router": pids["router"], "charters": pids["charters"]}) as sampler:
                try:
                    result = asyncio.run(
                        board_latency(
                            f"ws://127.0.0.1:{router_port}/graphql",
                            f"http://127.0.0.1:{router_port}/graphql",
                            token,
                            vehicles[0],
                            args.subscribers,
                            args.mutations,
                        )
                    )
                except Exception as error:  # say what the processes said, then fail
                    print(f"  FAILED: {error!r}")
                    for name in ("router", "charters"):
                        tail = (workdir / f"{name}.log").read_text()[-2000:]
                        print(f"  --- last lines of {name}.log ---\n{tail}")
                    raise SystemExit(1) from error
            print(
                f"  until ALL subscribers had it: p50 {result['all_p50']:8.2f} ms  "
                f"p99 {result['all_p99']:8.2f} ms  (mean {result['mean_all']:.2f} ms)\n"
                f"  each delivery ({result['deliveries']}):  p50 {result['each_p50']:8.2f} ms  "
                f"p99 {result['each_p99']:8.2f} ms\n"
                f"  the mutation's own round trip: p50 {result['mutation_p50']:.2f} ms"
            )
            for name, usage in sampler.usage.items():
                cpu = usage.cpu_percent or [0.0]
                rss = usage.rss_mb or [usage.rss()]
                print(
                    f"  {name:9s} CPU mean {sum(cpu) / len(cpu):6.1f} %  peak {max(cpu):6.1f} % "
                    f"(of one core, {len(cpu)} samples)  RSS peak {max(rss):7.1f} MB"
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
