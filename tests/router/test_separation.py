"""The router is its own deployable: it runs with nothing of the subgraphs' code.

What it shares with them crosses the wire and lives in `protocol/` (token
claims and verification, revoked sessions, the router's credential, the
scalars' input rules); its settings come from the same environment variables
the subgraphs read, with the same defaults.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from router.config import (
    MIN_SECRET_LENGTH,
    PUBLISHED_SECRETS,
    RELAXED_ENVIRONMENTS,
    Config,
    UnsafeConfigError,
    load_config,
    refuse_unsafe_config,
    shared_jwt_settings,
    unsafe_config_problems,
)
from subgraphs.kit.settings import Settings
from subgraphs.kit.startup_checks import KNOWN_DEFAULTS, MIN_LENGTH
from subgraphs.kit.startup_checks import RELAXED_ENVIRONMENTS as SUBGRAPHS_RELAXED

ROOT = Path(__file__).resolve().parents[2]
SUPERGRAPH = Path(__file__).parent / "fixtures" / "supergraph.graphql"
GRAPHS = ("charters", "finance", "pricing", "sales", "vendors")

#: Run in a directory holding only router/ and protocol/: imports every router
#: module, then serves the router in front of a stub subgraph and asks it one query.
ALONE = r"""
import asyncio, importlib, importlib.util, json, pkgutil, socket, sys

assert importlib.util.find_spec("subgraphs") is None, "subgraphs is importable"
assert importlib.util.find_spec("tests") is None, "tests is importable"

import router, router.__main__, router.gateway
modules = sorted(m.name for m in pkgutil.walk_packages(router.__path__, "router."))
for name in modules:
    importlib.import_module(name)

import httpx, uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from protocol import router_credential
from router.config import Config
from router.server.app import create_app
from router.server.holder import GatewayHolder

SECRET = "s" * 40
seen = []

async def graphql(request: Request) -> JSONResponse:
    body = await request.body()
    signed = router_credential.verify([SECRET], request.headers.get(router_credential.HEADER), body)
    seen.append({"query": json.loads(body)["query"], "signed": signed})
    return JSONResponse({"data": {"pricingVersion": "v7"}})

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

async def serve(app, port):
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return server, task

async def main() -> None:
    stub_port, router_port = free_port(), free_port()
    sdl = open("supergraph.graphql").read().replace("{stub}", f"http://127.0.0.1:{stub_port}/graphql")
    open("supergraph.graphql", "w").write(sdl)
    config = Config(supergraph="supergraph.graphql", port=router_port, jwks_url="",
                    router_secrets=(SECRET,))
    holder = GatewayHolder(config)
    holder.try_load()
    running = [await serve(Starlette(routes=[Route("/graphql", graphql, methods=["POST"])]), stub_port),
               await serve(create_app(config, holder), router_port)]
    async with httpx.AsyncClient() as http:
        r = await http.post(f"http://127.0.0.1:{router_port}/graphql",
                            json={"query": "{ pricingVersion }"})
    for server, task in running:
        server.should_exit = True
        await task
    print(json.dumps({"modules": modules, "answer": r.json(), "seen": seen,
                      "loaded": sorted(m for m in sys.modules if m.split(".")[0] in ("subgraphs", "tests"))}))

asyncio.run(main())
"""


def test_the_router_runs_without_the_subgraphs_code(tmp_path: Path) -> None:
    skip = shutil.ignore_patterns("node_modules", "__pycache__")
    for package in ("router", "protocol"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=skip)
    sdl = SUPERGRAPH.read_text()
    for name in GRAPHS:
        sdl = sdl.replace("{" + name + "}", "{stub}")
    (tmp_path / "supergraph.graphql").write_text(sdl)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ROUTER_"))}
    env["PYTHONPATH"] = str(tmp_path)

    done = subprocess.run(
        [sys.executable, "-c", ALONE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"router.__main__", "router.gateway", "router.server.app", "router.config"} <= set(
        result["modules"]
    )
    assert len(result["modules"]) > 50  # the whole package, not a corner of it
    assert result["answer"] == {"data": {"pricingVersion": "v7"}}
    assert [s["signed"] for s in result["seen"]] == [
        True
    ]  # the router's credential, from protocol/
    assert result["loaded"] == []


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("router", ("subgraphs", "tests")), ("protocol", ("subgraphs", "router", "tests"))],
)
def test_no_module_imports_across_the_boundary(package: str, forbidden: tuple[str, ...]) -> None:
    files = [p for p in (ROOT / package).rglob("*.py") if "node_modules" not in p.parts]
    assert len(files) > (50 if package == "router" else 5)
    crossing = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in _imports(path)
        if name.split(".")[0] in forbidden
    }
    assert crossing == set()


_SHARED = (
    "HOST",
    "IDENTITY_PORT",
    "JWT_JWKS_URL",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "ROUTER_SECRETS",
    "ENVIRONMENT",
)


@pytest.mark.parametrize(
    "env",
    [
        {},
        {
            "HOST": "identity.internal",
            "IDENTITY_PORT": "5101",
            "JWT_ISSUER": "https://i",
            "JWT_AUDIENCE": "a",
        },
        {
            "JWT_JWKS_URL": "http://identity:4101/.well-known/jwks.json",
            "ROUTER_SECRETS": " new , old ",
            "ENVIRONMENT": "production",
        },
    ],
)
def test_the_router_reads_the_shared_variables_as_the_subgraphs_do(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in _SHARED:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()

    config = load_config([], env)

    expected = (settings.jwks_url, settings.jwt_issuer, settings.jwt_audience)
    assert shared_jwt_settings(env) == expected
    assert config.jwt_settings() == expected
    assert Config().jwt_settings() == expected  # unset fields: the process's environment
    assert config.router_secrets == settings.router_secret_list
    assert Config().secrets() == settings.router_secret_list
    assert config.environment == settings.environment


def test_the_router_refuses_the_secrets_the_subgraphs_refuse() -> None:
    assert PUBLISHED_SECRETS == KNOWN_DEFAULTS
    assert MIN_SECRET_LENGTH == MIN_LENGTH
    assert RELAXED_ENVIRONMENTS == SUBGRAPHS_RELAXED
    good = "g" * MIN_SECRET_LENGTH

    def problems(secrets: tuple[str, ...], environment: str = "production") -> list[str]:
        return unsafe_config_problems(Config(router_secrets=secrets, environment=environment))

    assert problems(()) == ["ROUTER_SECRETS is not set"]
    assert problems(("change-me",)) == ["ROUTER_SECRETS is a published default"]
    assert problems((good, "short")) == ["ROUTER_SECRETS is shorter than 32 characters"]
    assert problems((good,)) == []
    assert problems((), "development") == []
    assert problems((), "Test") == []
    with pytest.raises(UnsafeConfigError, match="refusing to start in staging"):
        refuse_unsafe_config(Config(router_secrets=(), environment="staging"))
