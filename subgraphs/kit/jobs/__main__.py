"""Scheduled jobs by hand, through the same runner (so the run is in the history).

    python -m subgraphs.kit.jobs list
    python -m subgraphs.kit.jobs run vendors.compliance

Each subgraph declares its jobs in `subgraphs/<name>/jobs.py` (`jobs(settings)`).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys

from db.engine import make_engine, session_factory
from protocol.redis_url import redis_from_url
from protocol.revocation import RevocationList
from protocol.tokens import RemoteJwks, TokenVerifier
from subgraphs.kit.context import Services
from subgraphs.kit.jobs.definitions import ScheduledJob
from subgraphs.kit.jobs.runner import JobRunner
from subgraphs.kit.settings import PROJECT_ROOT, SUBGRAPH_PORTS, Settings, get_settings


def declared_jobs(settings: Settings) -> dict[str, ScheduledJob]:
    found: dict[str, ScheduledJob] = {}
    for name in SUBGRAPH_PORTS:
        if (PROJECT_ROOT / "subgraphs" / name / "jobs.py").exists():
            module = importlib.import_module(f"subgraphs.{name}.jobs")
            found.update({job.name: job for job in module.jobs(settings)})
    return found


async def run_by_hand(name: str, settings: Settings) -> None:
    job = declared_jobs(settings)[name]
    engine = make_engine(settings.database_url)
    redis = redis_from_url(settings.redis_url)
    services = Services(
        name=job.queue,
        settings=settings,
        sessions=session_factory(engine),
        redis=redis,
        verifier=TokenVerifier(
            RemoteJwks(settings.jwks_url),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        ),
        revocations=RevocationList(redis),
    )
    runner = JobRunner(services, [job])
    try:
        await runner.run_now(name)
    finally:
        await runner.stop()
        await redis.aclose()
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m subgraphs.kit.jobs")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="the declared jobs and their schedules")
    run = sub.add_parser("run", help="run one job now, through the runner")
    run.add_argument("name")
    args = parser.parse_args(argv)
    settings = get_settings()
    jobs = declared_jobs(settings)
    if args.action == "list":
        for job in jobs.values():
            sys.stdout.write(f"{job.name}\t{job.cron}\t{settings.operator_time_zone}\n")
        return 0
    if args.name not in jobs:
        sys.stderr.write(f"no job named {args.name!r}; known: {', '.join(sorted(jobs))}\n")
        return 2
    asyncio.run(run_by_hand(args.name, settings))
    return 0


if __name__ == "__main__":
    from subgraphs.kit.logs import configure

    configure("jobs")  # LOG_FORMAT json|text, secrets redacted (kit/logs.py)
    sys.exit(main())
