"""Which processes the stack starts, decided from what exists in the tree.

Subgraphs and the router arrive one issue at a time; the launcher must work
at every step, so it starts only what is there and says what it skipped.
Pure functions of (project root, settings): easy to test.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from stack.balancer import haproxy_argv, render_config
from subgraphs.kit.settings import SUBGRAPH_PORTS, Settings

SUPERGRAPH = Path("schema/supergraph.graphql")
#: With N replicas, router i (1..N) listens on router_port + this + i (4011, 4012, ...).
REPLICA_PORT_OFFSET = 10


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
    #: files the launcher writes before starting the services (the balancer's config)
    files: tuple[tuple[Path, str], ...] = ()
    #: processes of each subgraph and routers behind the balancer (`ATHENA_REPLICAS`)
    replicas: int = 1
    #: the service named "router" is HAProxy in front of router-1..N
    balanced: bool = False


def module_exists(root: Path, module: str) -> bool:
    """Whether `python -m module`, run from `root`, finds something to run."""
    path = root.joinpath(*module.split("."))
    return (path / "__main__.py").is_file() or path.with_suffix(".py").is_file()


def python_module(module: str, *args: str) -> tuple[str, ...]:
    return (sys.executable, "-m", module, *args)


def replica_ports(settings: Settings, replicas: int, given: str = "") -> tuple[int, ...]:
    """The routers' internal ports: `given` (`ROUTER_REPLICA_PORTS`), else router_port + 11, ...

    Fixed defaults (4011, 4012 beside the router's 4000) keep each router findable
    by a person; tests pass free ports.
    """
    ports = tuple(int(p) for p in given.split(",") if p.strip())
    if ports:
        if len(ports) < replicas:
            raise ValueError(
                f"ROUTER_REPLICA_PORTS names {len(ports)} ports for {replicas} routers"
            )
        return ports[:replicas]
    return tuple(settings.router_port + REPLICA_PORT_OFFSET + i for i in range(1, replicas + 1))


def plan_services(
    root: Path,
    settings: Settings,
    *,
    replicas: int = 1,
    router_ports: Sequence[int] | None = None,
    haproxy: str = "haproxy",
) -> Plan:
    """Subgraphs in SUBGRAPH_PORTS order, then the router (or the identity proxy).

    With `replicas` > 1 each subgraph serves with that many worker processes on
    its port (`SUBGRAPH_WORKERS`, unless the user set it), and `replicas`
    routers listen on `router_ports` (default: `replica_ports`) behind HAProxy
    on the router's own port (`stack/balancer.py`).
    """
    if replicas < 1:
        raise ValueError("replicas must be at least 1")
    services: list[Service] = []
    skipped: list[str] = []
    workers = {"SUBGRAPH_WORKERS": str(replicas)} if replicas > 1 else {}
    for name in SUBGRAPH_PORTS:
        module = f"subgraphs.{name}"
        if module_exists(root, module):
            port = settings.port_of(name)
            description = f"{name} subgraph" + (f", {replicas} processes" if workers else "")
            services.append(Service(name, python_module(module), port, description, workers))
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
        if replicas == 1:
            services.append(Service("router", argv, router_port, "router", env))
            return Plan(tuple(services), tuple(skipped), router_is_proxy=False)
        ports = tuple(router_ports or replica_ports(settings, replicas))
        if len(ports) != replicas:
            raise ValueError(f"{len(ports)} router ports for {replicas} replicas")
        backends = [(f"router-{i}", port) for i, port in enumerate(ports, start=1)]
        for name, port in backends:
            replica_argv = (*argv[:-1], str(port))  # the same router, its own port
            services.append(Service(name, replica_argv, port, f"router replica {name[7:]}", env))
        config = settings.data_dir.resolve() / "haproxy.cfg"
        balancer = Service(
            "router",
            haproxy_argv(haproxy, config),
            router_port,
            f"HAProxy, round robin over {replicas} routers",
        )
        services.append(balancer)
        return Plan(
            tuple(services),
            tuple(skipped),
            router_is_proxy=False,
            files=((config, render_config(settings.host, router_port, backends)),),
            replicas=replicas,
            balanced=True,
        )
    if any(s.name == "identity" for s in services):
        argv = python_module(
            "stack.proxy",
            "--port", str(router_port),
            "--target-port", str(settings.identity_port),
        )  # fmt: skip
        services.append(Service("router", argv, router_port, "proxy to the identity subgraph"))
        skipped.append("router (router/__main__.py or schema/supergraph.graphql missing)")
    return Plan(tuple(services), tuple(skipped), router_is_proxy=True, replicas=replicas)
