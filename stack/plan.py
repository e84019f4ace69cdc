"""Which processes the stack starts, decided from what exists in the tree.

Subgraphs and the router arrive one issue at a time; the launcher must work
at every step, so it starts only what is there and says what it skipped.
Pure functions of (project root, settings): easy to test.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from subgraphs.kit.settings import SUBGRAPH_PORTS, Settings

SUPERGRAPH = Path("schema/supergraph.graphql")


@dataclass(frozen=True)
class Service:
    """One long-running child: how to start it and where it answers /health."""

    name: str
    argv: tuple[str, ...]
    port: int
    description: str
    #: variables for this child only; the user's own environment wins over them
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/health"

    @property
    def graphql_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"


@dataclass(frozen=True)
class Plan:
    services: tuple[Service, ...]
    skipped: tuple[str, ...]
    router_is_proxy: bool


def module_exists(root: Path, module: str) -> bool:
    """Whether `python -m module`, run from `root`, finds something to run."""
    path = root.joinpath(*module.split("."))
    return (path / "__main__.py").is_file() or path.with_suffix(".py").is_file()


def python_module(module: str, *args: str) -> tuple[str, ...]:
    return (sys.executable, "-m", module, *args)


def plan_services(root: Path, settings: Settings) -> Plan:
    """Subgraphs in SUBGRAPH_PORTS order, then the router (or the identity proxy)."""
    services: list[Service] = []
    skipped: list[str] = []
    for name in SUBGRAPH_PORTS:
        module = f"subgraphs.{name}"
        if module_exists(root, module):
            port = settings.port_of(name)
            services.append(Service(name, python_module(module), port, f"{name} subgraph"))
        elif (root / "subgraphs" / name).is_dir():
            skipped.append(f"subgraphs/{name} has no __main__.py")
    router_port = settings.router_port
    if module_exists(root, "router") and (root / SUPERGRAPH).is_file():
        argv = python_module("router", "--supergraph", str(SUPERGRAPH), "--port", str(router_port))
        # the supergraph names the default ports; send the router where they really are
        urls = ",".join(f"{s.name}={s.graphql_url}" for s in services)
        env = {"ROUTER_SUBGRAPH_URLS": urls} if urls else {}
        # the signer's browser on an e-signature (charters), the reader's language
        env["ROUTER_PROPAGATE_HEADERS"] = os.environ.get(
            "ROUTER_PROPAGATE_HEADERS", "user-agent,accept-language"
        )
        # generous rate limits, on as in production (the launcher's Redis keeps the buckets)
        for name, rate in (
            ("ROUTER_RATE_LIMIT_USER", "1200/60s burst=300"),
            ("ROUTER_RATE_LIMIT_ADDRESS", "600/60s burst=200"),
        ):
            env[name] = os.environ.get(name, rate)
        services.append(Service("router", argv, router_port, "router", env))
        return Plan(tuple(services), tuple(skipped), router_is_proxy=False)
    if any(s.name == "identity" for s in services):
        argv = python_module(
            "stack.proxy",
            "--port", str(router_port),
            "--target-port", str(settings.identity_port),
        )  # fmt: skip
        services.append(Service("router", argv, router_port, "proxy to the identity subgraph"))
        skipped.append("router (router/__main__.py or schema/supergraph.graphql missing)")
    return Plan(tuple(services), tuple(skipped), router_is_proxy=True)
