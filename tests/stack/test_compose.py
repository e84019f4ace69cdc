"""docker-compose.yml checked statically: no Docker engine runs here.

What can drift silently is checked: commands naming modules that do not
exist, ports and variable names that no longer match subgraphs/kit/settings.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from stack.plan import module_exists
from subgraphs.kit.settings import SUBGRAPH_PORTS, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
#: Services that run our image (the others are third-party images).
OURS = {name: svc for name, svc in SERVICES.items() if "build" in svc}
SETTING_VARS = {name.upper() for name in Settings.model_fields}
#: The router reads its own ROUTER_* variables besides the shared settings.
ROUTER_CONFIG = ROOT / "router" / "config.py"
ROUTER_VARS = (
    set(re.findall(r"\"(ROUTER_[A-Z_]+)\"", ROUTER_CONFIG.read_text()))
    if ROUTER_CONFIG.exists()
    else set()
)
ROUTER_PORT = Settings.model_fields["router_port"].default
#: Read by every process outside Settings (protocol/observability.py: logs and traces).
OBSERVABILITY = ROOT / "protocol" / "observability.py"
PROCESS_VARS = set(re.findall(r"\"((?:LOG|OTEL)_[A-Z_]+)\"", OBSERVABILITY.read_text()))


def _module(service: dict[str, Any]) -> str:
    command = service["command"]
    assert command[:2] == ["python", "-m"], command
    return str(command[2])


#: Subgraph packages written so far; the compose file grows with them.
WRITTEN = [name for name in SUBGRAPH_PORTS if module_exists(ROOT, f"subgraphs.{name}")]


@pytest.mark.parametrize("name", sorted(OURS))
def test_command_names_an_existing_module(name: str) -> None:
    module = _module(OURS[name])
    assert module_exists(ROOT, module), f"service {name}: python -m {module} finds nothing"


@pytest.mark.parametrize("name", sorted(OURS))
def test_environment_names_are_settings_fields(name: str) -> None:
    known = SETTING_VARS | PROCESS_VARS | (ROUTER_VARS if name == "router" else set())
    unknown = set(OURS[name].get("environment", {})) - known
    assert not unknown, f"service {name}: {sorted(unknown)} are read by nobody"


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_service_logs_json(name: str) -> None:
    """README "Traces and logs": JSON lines carry request_id and trace_id to join them."""
    assert "LOG_FORMAT" in PROCESS_VARS
    assert OURS[name]["environment"]["LOG_FORMAT"] == "json"


def test_the_router_logs_a_line_per_request() -> None:
    assert SERVICES["router"]["environment"]["ROUTER_LOG_LEVEL"] == "info"


def test_router_listens_on_all_interfaces_in_its_container() -> None:
    assert "ROUTER_HOST" in ROUTER_VARS
    assert SERVICES["router"]["environment"]["ROUTER_HOST"] == "0.0.0.0"  # noqa: S104


def test_one_service_per_written_subgraph_on_its_settings_port() -> None:
    subgraph_services = {n for n, s in OURS.items() if _module(s).startswith("subgraphs.")}
    assert subgraph_services == set(WRITTEN)
    for subgraph in WRITTEN:
        port = SUBGRAPH_PORTS[subgraph]
        service = SERVICES[subgraph]
        assert _module(service) == f"subgraphs.{subgraph}"
        env = service["environment"]
        assert env[f"{subgraph.upper()}_PORT"] == str(port)
        assert env["HOST"] == "0.0.0.0"  # noqa: S104 - inside a container
        assert service["expose"] == [str(port)]
        assert f"127.0.0.1:{port}/health" in " ".join(service["healthcheck"]["test"])
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_every_service_of_ours_agrees_on_all_ports_and_urls() -> None:
    """One environment for all: the router and the subgraphs must see the same ports."""
    for name, service in OURS.items():
        env = service["environment"]
        for subgraph, port in SUBGRAPH_PORTS.items():
            assert env[f"{subgraph.upper()}_PORT"] == str(port), name
        assert env["ROUTER_PORT"] == str(ROUTER_PORT), name
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://"), name
        assert re.fullmatch(r"redis://redis:6379/\d+", env["REDIS_URL"]), name
        jwks = f"http://identity:{SUBGRAPH_PORTS['identity']}/.well-known/jwks.json"
        assert env["JWT_JWKS_URL"] == jwks, name
        assert {"JWT_ISSUER", "JWT_AUDIENCE"} <= set(env), name


def test_router_replicas_on_the_router_port() -> None:
    router = SERVICES["router"]
    assert router["command"] == [
        "python", "-m", "router",
        "--supergraph", "schema/supergraph.graphql",
        "--port", str(ROUTER_PORT),
    ]  # fmt: skip
    assert router["deploy"]["replicas"] >= 2
    assert set(router["depends_on"]) == set(WRITTEN)
    assert SERVICES["edge"]["ports"] == [f"{ROUTER_PORT}:{ROUTER_PORT}"]
    assert f"server router:{ROUTER_PORT}" in COMPOSE["configs"]["edge-nginx"]["content"]


def test_databases_have_healthchecks_and_migrate_waits_for_postgres() -> None:
    assert SERVICES["postgres"]["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(SERVICES["postgres"]["healthcheck"]["test"])
    assert "healthcheck" in SERVICES["redis"]
    assert _module(SERVICES["migrate"]) == "db.migrate"
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_dockerfile_installs_from_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes" in dockerfile
    assert "requirements.lock" in dockerfile
    assert all(svc["build"] == "." for svc in OURS.values())


#: Routes every subgraph serves for the router's own use (and Prometheus), never through the edge.
INTERNAL_ROUTES = {"/graphql", "/health", "/metrics", "/.well-known/jwks.json"}
#: Subgraph-to-subgraph routes (identity's delegated tokens): never behind the edge.
PRIVATE_PREFIX = "/internal/"


def _edge_locations() -> list[tuple[str, str, str]]:
    """(match, path, upstream host) of each `location` with a direct proxy_pass in the edge."""
    conf = COMPOSE["configs"]["edge-nginx"]["content"]
    found = re.findall(
        r"location\s+(=\s+)?(\S+)\s*\{\s*proxy_pass\s+http://([a-z]+)(?::\d+)?;", conf
    )
    return [("exact" if exact else "prefix", path, host) for exact, path, host in found]


@pytest.mark.parametrize("name", WRITTEN)
def test_the_edge_sends_each_plain_route_to_its_subgraph(name: str) -> None:
    """A download, CSV or webhook the graph names must be reachable behind the one edge port."""
    import importlib

    app = importlib.import_module(f"subgraphs.{name}.app").create_app()
    paths = {getattr(r, "path", "") for r in app.routes} - INTERNAL_ROUTES
    locations = _edge_locations()
    for path in sorted(p for p in paths if p and not p.startswith(PRIVATE_PREFIX)):
        assert _served_by(path, locations) == name, path
    for path in sorted(p for p in paths if p.startswith(PRIVATE_PREFIX)):
        assert _served_by(path, locations) in (None, "router"), f"{path} is behind the edge"
    assert "location /internal/ { return 404; }" in COMPOSE["configs"]["edge-nginx"]["content"]


def _served_by(path: str, locations: list[tuple[str, str, str]]) -> str | None:
    """nginx's choice: an exact location, else the longest matching prefix."""
    for kind, where, host in locations:
        if kind == "exact" and where == path:
            return host
    literal = path.split("{", 1)[0]
    prefixes = [(len(w), h) for k, w, h in locations if k == "prefix" and literal.startswith(w)]
    return max(prefixes)[1] if prefixes else None


def test_subgraphs_run_one_worker_per_core_unless_told_and_postgres_has_room() -> None:
    """SUBGRAPH_WORKERS (kit/serve.py): 0, one per core, unless the deployment sets it."""
    for subgraph in WRITTEN:
        assert SERVICES[subgraph]["environment"]["SUBGRAPH_WORKERS"] == "${SUBGRAPH_WORKERS:-0}"
    assert Settings(subgraph_workers=0).worker_count >= 1
    assert Settings(subgraph_workers=3).worker_count == 3
    command = " ".join(SERVICES["postgres"]["command"])
    limit = re.search(r"max_connections=\$\{POSTGRES_MAX_CONNECTIONS:-(\d+)\}", command)
    assert limit is not None, command
    assert int(limit.group(1)) > 100


def test_uploaded_documents_live_on_a_volume_the_process_may_write() -> None:
    """charters and vendors store uploads under Settings.documents_path (kit/storage.py)."""
    documents = Settings(data_dir=Path("/app/.data"), documents_dir=None).documents_path
    for name in ("charters", "vendors"):
        assert f"documents:{documents}" in SERVICES[name]["volumes"], name
    assert "documents" in COMPOSE["volumes"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"mkdir -p {documents}" in dockerfile
    assert "chown -R athena /app/.data" in dockerfile
