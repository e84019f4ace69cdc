"""One real router over every live subgraph, per module: the whole API schema answers."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from router.config import Config
from router.guard.limits import Limits
from router.server.app import create_app
from router.server.holder import GatewayHolder
from subgraphs.kit.settings import SUBGRAPH_PORTS, Settings
from tests.access.reach import PARTS, World, build_world
from tests.conftest import truncate_all
from tests.support.live_server import LiveServer, serve
from tests.support.router import SUPERGRAPH, rewrite
from tests.support.tokens import TokenMinter

#: Every subgraph but identity (the session's own, whose JWKS verifies every token).
SUBGRAPHS = tuple(name for name in SUBGRAPH_PORTS if name != "identity")


def quiet(settings: Settings) -> Settings:
    """No job fires and no worker runs in the middle of a probe; room for many aliases."""
    return settings.model_copy(
        update={
            "compliance_job_enabled": False,
            "sales_follow_up_job_enabled": False,
            "finance_jobs_enabled": False,
            "jobs_enabled": False,
            "notifications_worker_enabled": False,
            "notifications_jobs_enabled": False,
            "tours_jobs_enabled": False,
            "reports_jobs_enabled": False,
            "subgraph_max_aliases": 0,
        }
    )


@contextlib.asynccontextmanager
async def whole_graph(
    settings: Settings, identity: LiveServer, directory: Path, **router: object
) -> AsyncIterator[LiveServer]:
    """Every subgraph on a real port and the router over them (`router`: Config fields)."""
    async with contextlib.AsyncExitStack() as stack:
        urls = {"identity": identity.graphql_url}
        for name in SUBGRAPHS:
            app = importlib.import_module(f"subgraphs.{name}.app").create_app(quiet(settings))
            urls[name] = (await stack.enter_async_context(serve(app))).graphql_url
        (directory / "supergraph.graphql").write_text(rewrite(SUPERGRAPH.read_text(), urls))
        config = Config(
            supergraph=str(directory / "supergraph.graphql"),
            subgraph_timeout=20,
            jwks_url=settings.jwks_url,
            **router,  # type: ignore[arg-type]
        )
        holder = GatewayHolder(config)
        holder.try_load()
        yield await stack.enter_async_context(serve(create_app(config, holder)))


@pytest.fixture(scope="module")
async def graph(
    subgraph_settings: Settings,
    identity_server: LiveServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LiveServer]:
    """The router for the matrix probe: batching on, size limits off (a probe asks for all)."""
    limits = Limits(max_depth=None, max_aliases=None, max_root_fields=None, max_cost=None)
    async with whole_graph(
        subgraph_settings,
        identity_server,
        tmp_path_factory.mktemp("access-graph"),
        batching=True,
        batch_max_size=500,
        limits=limits,
        breaker=None,
    ) as router:
        yield router


@pytest.fixture(scope="module")
async def module_isolation(
    sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> AsyncIterator[None]:
    """Every table emptied after the module, not after each test: a module that builds its
    `world` once names this from its own `_isolate` (which then replaces tests/conftest.py's,
    that empties them after each test and would take the World away from the next)."""
    yield
    await truncate_all(sessions)
    await redis.flushdb()


@pytest.fixture(scope="module")
async def world(
    request: pytest.FixtureRequest,
    graph: LiveServer,
    http_client: httpx.AsyncClient,
    mint: TokenMinter,
    sessions: async_sessionmaker[AsyncSession],
) -> World:
    """Rows each role reaches (tests/access/reach.py), built once per module through `graph`
    (a module's `WORLD_PARTS`, if it states one, says which optional rows it needs)."""
    parts = getattr(request.module, "WORLD_PARTS", PARTS)
    return await build_world(graph.graphql_url, http_client, mint, sessions, parts)
