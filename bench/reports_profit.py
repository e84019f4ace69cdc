"""Reports under load: the profit analysis over 5,000 charters, and 20 managers opening their dashboard.

    .venv/bin/python -m bench.reports_profit [--charters 5000] [--template profit_by_agent]
        [--loaders 20] [--loads 10]

Issue 16 §5. A script that prints figures, never a test. Throwaway
PostgreSQL and Redis, migrated and loaded with the demo data; then the
demo's booked charters are copied (in SQL, with their vehicles and finance's
facts of them) until `--charters` booked charters exist. Identity, sales,
charters, vendors, pricing, finance, reports and the router run as separate
processes (the router with a copy of `schema/supergraph.graphql` pointed at
the benchmark's ports).

(a) The shipped profit analysis run once as manager@demo.athena through the
    router (`runReport`): wall time, the pages the runner asked for, the
    fetches the router made to each subgraph (its `/metrics`, before and
    after), and the peak RSS of the reports process (VmHWM from `/proc`).
    Reports asks the router as the manager, page by page, so this is the
    cost a real reader pays.
(b) `--loaders` concurrent managers each loading the manager dashboard
    (`docs/dashboards/manager.graphql`, one request) `--loads` times through
    the router: p50 and p99.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.charters_board import PYTHON, ROOT, free_port, percentile, process, wait_healthy

SUBGRAPHS = ("identity", "sales", "charters", "vendors", "pricing", "finance", "reports")
MANAGER = "manager@demo.athena"
DASHBOARD = ROOT / "docs" / "dashboards" / "manager.graphql"
RUN = """mutation($id: ID!) { runReport(templateId: $id) {
  run { status error rowCount requests durationMs totals }
  userErrors { code message } } }"""
TEMPLATES = "query { reportTemplates { id key } }"
BOOKED = ["booked", "confirmed", "in_progress", "completed"]
COUNT_BOOKED = "SELECT count(*) FROM charters.charters WHERE status = ANY(:booked)"


# --- data ------------------------------------------------------------------------


async def table_columns(conn: Any, table: str) -> list[str]:
    """A table's columns in order, for copying its rows with some columns rewritten."""
    from sqlalchemy import text

    schema, name = table.split(".")
    rows = await conn.execute(
        text(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = :s AND table_name = :t ORDER BY ordinal_position"
        ),
        {"s": schema, "t": name},
    )
    return [r[0] for r in rows]


async def multiply_booked(database_url: str, wanted: int) -> int:
    """Copy the demo's booked charters (vehicles and finance facts too) until `wanted` exist."""
    from sqlalchemy import text

    from db.engine import make_engine

    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:

            async def columns(table: str) -> list[str]:
                return await table_columns(conn, table)

            have = await conn.scalar(text(COUNT_BOOKED), {"booked": BOOKED})
            if not have:
                raise RuntimeError("the demo data has no booked charter to copy")
            copies = max(0, -(-(wanted - have) // have))
            await conn.execute(
                text(
                    "CREATE TEMP TABLE clone_map ON COMMIT DROP AS "
                    "SELECT c.id AS old_id, gen_random_uuid() AS new_id, n, "
                    "row_number() OVER () AS seq "
                    "FROM charters.charters c CROSS JOIN generate_series(1, :copies) n "
                    "WHERE c.status = ANY(:booked) AND NOT c.is_template"
                ),
                {"copies": copies, "booked": BOOKED},
            )
            await conn.execute(
                text("DELETE FROM clone_map WHERE seq > :keep"), {"keep": max(0, wanted - have)}
            )
            overrides = {
                "id": "m.new_id",
                "reference": "'CH-BENCH-' || lpad(m.seq::text, 6, '0')",
                "series_id": "NULL",
                "occurrence_date": "NULL",
                "tour_slot_id": "NULL",
                "cloned_from_id": "NULL",
                "split_from_id": "NULL",
            }
            await _copy(conn, "charters.charters", await columns("charters.charters"), overrides,
                        "JOIN clone_map m ON m.old_id = t.id")  # fmt: skip
            vehicle_overrides = {
                "id": "gen_random_uuid()",
                "charter_id": "m.new_id",
                "vehicle_id": "NULL",
                "driver_id": "NULL",
            }
            await _copy(conn, "charters.charter_vehicles",
                        await columns("charters.charter_vehicles"), vehicle_overrides,
                        "JOIN clone_map m ON m.old_id = t.charter_id")  # fmt: skip
            fact_overrides = {
                "charter_id": "m.new_id",
                "reference": "'CH-BENCH-' || lpad(m.seq::text, 6, '0')",
            }
            await _copy(conn, "finance.charter_facts", await columns("finance.charter_facts"),
                        fact_overrides, "JOIN clone_map m ON m.old_id = t.charter_id")  # fmt: skip
            return int(await conn.scalar(text(COUNT_BOOKED), {"booked": BOOKED}) or 0)
    finally:
        await engine.dispose()


async def _copy(
    conn: Any, table: str, columns: list[str], overrides: dict[str, str], join: str
) -> None:
    """Insert copies of `table`'s rows, columns from `information_schema` (no outside input)."""
    from sqlalchemy import text

    chosen = ", ".join(overrides.get(c, f"t.{c}") for c in columns)
    statement = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {chosen} FROM {table} t {join}"  # noqa: S608
    await conn.execute(text(statement))


async def manager_token(database_url: str) -> str:
    from sqlalchemy import text

    from db.engine import make_engine, session_factory
    from subgraphs.identity.access_tokens import issue_access_token
    from subgraphs.identity.keys import Keyring
    from subgraphs.kit.settings import get_settings

    settings = get_settings().model_copy(update={"jwt_access_ttl_seconds": 3600})
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            user_id = await conn.scalar(
                text("SELECT id FROM identity.users WHERE email = :e"), {"e": MANAGER}
            )
        keyring = Keyring(session_factory(engine), access_ttl_seconds=3600)
        key = await keyring.active()
        return issue_access_token(
            key, settings, user_id=user_id, roles=["manager"], session_id=uuid.uuid4()
        )[0]
    finally:
        await engine.dispose()


# --- measurements ----------------------------------------------------------------


def subgraph_fetches(router: str) -> dict[str, int]:
    """The router's fetch count per subgraph so far (its Prometheus histogram's `_count`)."""
    text = httpx.get(f"{router}/metrics", timeout=10).text
    found: dict[str, int] = {}
    for match in re.finditer(
        r'^router_subgraph_fetch_duration_seconds_count\{subgraph="(\w+)"\} ([0-9.e+]+)$',
        text,
        re.MULTILINE,
    ):
        found[match[1]] = int(float(match[2]))
    return found


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def template_id(graphql: str, token: str, key: str) -> str:
    answer = httpx.post(
        graphql, json={"query": TEMPLATES}, headers={"authorization": f"Bearer {token}"}, timeout=30
    ).json()
    for template in answer["data"]["reportTemplates"]:
        if template["key"] == key:
            return str(template["id"])
    raise RuntimeError(f"no shipped template {key!r}: {answer}")


async def dashboard_loads(
    graphql: str, token: str, loaders: int, loads: int
) -> tuple[list[float], int]:
    document = DASHBOARD.read_text()
    latencies: list[float] = []
    errors = 0

    async def loader() -> None:
        nonlocal errors
        async with httpx.AsyncClient(
            timeout=120, headers={"authorization": f"Bearer {token}"}
        ) as client:
            for _ in range(loads):
                started = time.perf_counter()
                answer = (await client.post(graphql, json={"query": document})).json()
                latencies.append((time.perf_counter() - started) * 1000)
                if answer.get("errors"):
                    errors += 1

    await asyncio.gather(*(loader() for _ in range(loaders)))
    return latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--charters", type=int, default=5000, help="booked charters in all")
    parser.add_argument("--template", default="profit_by_agent", help="shipped template key")
    parser.add_argument("--loaders", type=int, default=20, help="concurrent dashboard readers")
    parser.add_argument("--loads", type=int, default=10, help="dashboard loads per reader")
    args = parser.parse_args()

    from db.demo.__main__ import load_all
    from db.embedded import make_temp_dir, temporary_servers
    from db.migrate import upgrade_all
    from subgraphs.kit.settings import get_settings

    workdir = make_temp_dir("athena-bench-")
    try:
        with temporary_servers("athena-bench-db-") as servers, contextlib.ExitStack() as stack:
            ports = {name: free_port() for name in (*SUBGRAPHS, "router")}
            router = f"http://127.0.0.1:{ports['router']}"
            env = {
                **os.environ,
                "DATABASE_URL": servers.postgres.url,
                "REDIS_URL": servers.redis.url,
                **{f"{name.upper()}_PORT": str(ports[name]) for name in (*SUBGRAPHS, "router")},
                "JWT_JWKS_URL": f"http://127.0.0.1:{ports['identity']}/.well-known/jwks.json",
                "REPORTS_ROUTER_URL": f"{router}/graphql",
                "REPORTS_JOBS_ENABLED": "false",
                # a whole report is one runReport fetch of reports: allow it its time
                "ROUTER_SUBGRAPH_TIMEOUTS": "reports=600",
                "LOG_LEVEL": "warning",
            }
            os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL")})
            get_settings.cache_clear()
            print(f"migrating, loading the demo, copying to {args.charters} booked charters ...")
            asyncio.run(upgrade_all(servers.postgres.url))
            asyncio.run(load_all())
            booked = asyncio.run(multiply_booked(servers.postgres.url, args.charters))
            token = asyncio.run(manager_token(servers.postgres.url))
            pids: dict[str, int] = {}
            for name in SUBGRAPHS:
                log = workdir / f"{name}.log"
                proc = stack.enter_context(process([PYTHON, "-m", f"subgraphs.{name}"], env, log))
                wait_healthy(f"http://127.0.0.1:{ports[name]}/health", proc, log)
                pids[name] = proc.pid
            text = (ROOT / "schema" / "supergraph.graphql").read_text()
            text = re.sub(
                r'@join__graph\(name: "(\w+)", url: "[^"]*"\)',
                lambda m: (
                    f'@join__graph(name: "{m[1]}", '
                    f'url: "http://127.0.0.1:{ports.get(m[1], 9)}/graphql")'
                ),
                text,
            )
            local = workdir / "supergraph.graphql"
            local.write_text(text)
            log = workdir / "router.log"
            router_proc = stack.enter_context(
                process(
                    [PYTHON, "-m", "router", "--supergraph", str(local), "--port",
                     str(ports["router"])],
                    env,
                    log,
                )
            )  # fmt: skip
            wait_healthy(f"{router}/health", router_proc, log)
            graphql = f"{router}/graphql"
            template = template_id(graphql, token, args.template)
            print(
                f"\n(a) {args.template} over {booked} booked charters, as {MANAGER}, "
                f"through the router; {os.cpu_count()} CPU(s), load average "
                f"{os.getloadavg()[0]:.2f} before"
            )
            rss_before = peak_rss_mb(pids["reports"])
            before = subgraph_fetches(router)
            started = time.perf_counter()
            answer = httpx.post(
                graphql,
                json={"query": RUN, "variables": {"id": template}},
                headers={"authorization": f"Bearer {token}"},
                timeout=900,
            ).json()
            elapsed = time.perf_counter() - started
            after = subgraph_fetches(router)
            run = ((answer.get("data") or {}).get("runReport") or {}).get("run") or {}
            print(
                f"  status {run.get('status')}  {run.get('rowCount')} rows (groups)  "
                f"{run.get('requests')} pages asked of the router  {elapsed:.1f} s wall "
                f"(the run's own durationMs {run.get('durationMs')})"
            )
            if answer.get("errors") or run.get("error"):
                print(f"  errors: {answer.get('errors') or run.get('error')}")
            fetched = {k: after.get(k, 0) - before.get(k, 0) for k in after}
            print(
                "  router fetches to subgraphs: "
                + ", ".join(f"{k} {v}" for k, v in sorted(fetched.items()) if v)
                + f"  (total {sum(fetched.values())})"
            )
            print(
                f"  reports process peak RSS: {peak_rss_mb(pids['reports']):.1f} MB "
                f"(before the run {rss_before:.1f} MB)"
            )
            print(
                f"\n(b) {args.loaders} concurrent managers x {args.loads} loads of "
                f"{DASHBOARD.relative_to(ROOT)} through the router"
            )
            asyncio.run(dashboard_loads(graphql, token, 1, 2))  # warm the plan cache
            started = time.perf_counter()
            latencies, errors = asyncio.run(
                dashboard_loads(graphql, token, args.loaders, args.loads)
            )
            wall = time.perf_counter() - started
            print(
                f"  {len(latencies)} loads in {wall:.1f} s ({len(latencies) / wall:.1f}/s)  "
                f"p50 {percentile(latencies, 50):.0f} ms  p99 {percentile(latencies, 99):.0f} ms  "
                f"answers with errors: {errors}"
            )
            print(
                f"  everything (PostgreSQL, Redis, {len(SUBGRAPHS)} subgraphs, router, load) on "
                f"this one {os.cpu_count()}-CPU machine"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
