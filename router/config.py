"""Router settings from the command line and ROUTER_* environment variables."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field


@dataclass
class Config:
    supergraph: str = "schema/supergraph.graphql"
    host: str = "127.0.0.1"
    port: int = 4000
    subgraph_timeout: float = 30.0
    subgraph_timeouts: dict[str, float] = field(default_factory=dict)
    plan_cache_size: int = 1000
    introspection: bool = True
    max_body_bytes: int = 2_000_000
    log_level: str = "warning"


def _timeouts(text: str) -> dict[str, float]:
    """`name=seconds,name=seconds` -> mapping."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, secs = part.partition("=")
        out[name.strip()] = float(secs)
    return out


def load_config(argv: list[str] | None = None) -> Config:
    env = os.environ
    p = argparse.ArgumentParser(prog="python -m router", description="Athena federation router")
    p.add_argument("--supergraph", default=env.get("ROUTER_SUPERGRAPH", Config.supergraph))
    p.add_argument("--host", default=env.get("ROUTER_HOST", Config.host))
    p.add_argument("--port", type=int, default=int(env.get("ROUTER_PORT", Config.port)))
    p.add_argument(
        "--subgraph-timeout",
        type=float,
        default=float(env.get("ROUTER_SUBGRAPH_TIMEOUT", Config.subgraph_timeout)),
    )
    p.add_argument(
        "--subgraph-timeouts",
        default=env.get("ROUTER_SUBGRAPH_TIMEOUTS", ""),
        help="per-subgraph timeouts, e.g. 'vendors=5,finance=10'",
    )
    p.add_argument("--log-level", default=env.get("ROUTER_LOG_LEVEL", Config.log_level))
    p.add_argument(
        "--no-introspection",
        action="store_true",
        default=env.get("ROUTER_INTROSPECTION", "1") in ("0", "false", "no"),
    )
    a = p.parse_args(argv)
    return Config(
        supergraph=a.supergraph,
        host=a.host,
        port=a.port,
        subgraph_timeout=a.subgraph_timeout,
        subgraph_timeouts=_timeouts(a.subgraph_timeouts),
        introspection=not a.no_introspection,
        log_level=a.log_level,
    )
