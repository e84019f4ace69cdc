"""Session-wide test infrastructure: real PostgreSQL and Redis, migrated.

Each pytest process (each xdist worker) starts its own throwaway servers in
a temporary directory on free ports before any test module is imported, so
every `get_settings()` in the code under test sees them. Tests are isolated
by truncating every subgraph table (and flushing Redis) after each test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.embedded import TemporaryServers, temporary_servers
from db.engine import make_engine, session_factory
from subgraphs.kit.settings import Settings, get_settings
from tests.support.live_server import LiveServer, serve
from tests.support.tokens import TokenMinter, minter

#: Fixtures of each subgraph, usable from any suite (vendors tests need charters).
pytest_plugins = ["tests.support.charters_fixtures", "tests.support.vendors_fixtures"]

_servers: contextlib.ExitStack | None = None
_handle: TemporaryServers | None = None

#: Tables kept between tests: key material the running apps have cached.
KEEP_TABLES = {"identity.signing_keys"}


def pytest_configure(config: pytest.Config) -> None:
    global _servers, _handle
    _servers = contextlib.ExitStack()
    _handle = _servers.enter_context(temporary_servers())
    os.environ["DATABASE_URL"] = _handle.postgres.url
    os.environ["REDIS_URL"] = _handle.redis.url
    # Cheap argon2id parameters: still argon2id, but tests log in often.
    os.environ.setdefault("ARGON2_TIME_COST", "1")
    os.environ.setdefault("ARGON2_MEMORY_KIB", "8192")
    # Secrets have no usable default (security review finding 1): a random one per run.
    for name in ("QUOTE_LINK_SECRET", "ONBOARDING_WEBHOOK_SECRET"):
        os.environ.setdefault(name, secrets.token_urlsafe(32))
    get_settings.cache_clear()
    from db.migrate import upgrade_all

    asyncio.run(upgrade_all(_handle.postgres.url))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _servers is not None:
        _servers.close()


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(settings.database_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


# Everything a test may write: the subgraphs' schemas and the job runner's.
_TABLES = text(
    "SELECT schemaname || '.' || tablename FROM pg_tables WHERE tablename <> 'alembic_version'"
    " AND schemaname IN ('identity','sales','charters','vendors','pricing','finance',"
    "'notifications','tours','reports','jobs')"
)
_USED_SEQUENCES = text(
    "SELECT schemaname || '.' || sequencename FROM pg_sequences WHERE last_value IS NOT NULL"
    " AND schemaname IN ('identity','sales','charters','vendors','pricing','finance',"
    "'notifications','tours','reports','jobs')"
)


async def truncate_all(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Empty every subgraph table and restart every used sequence, as `TRUNCATE ... RESTART
    IDENTITY` of all of them would, at a twentieth of its cost.

    TRUNCATE costs new files per table (about 0.7 ms each, ~100 ms for all 140 tables,
    after each of 2500 tests), while a test writes a handful: so every table is locked
    against writers first (the apps' outbox relays and consumers may be writing as a test
    ends; the lock waits for them), the non-empty ones are found in one statement and only
    those are truncated. Retried because those background workers may hold row locks, and
    taking many table locks can lose a deadlock against them.
    """
    attempts = 20  # six subgraphs' consumers may hold row locks as a test ends
    for attempt in range(attempts):
        try:
            async with sessions() as session, session.begin():
                tables = sorted(
                    r[0] for r in await session.execute(_TABLES) if r[0] not in KEEP_TABLES
                )
                if not tables:
                    return
                await session.execute(text(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE"))
                # names from pg_tables, not from any input
                probe = " UNION ALL ".join(
                    f"(SELECT '{t}' FROM {t} LIMIT 1)"  # noqa: S608
                    for t in tables
                )
                written = [r[0] for r in await session.execute(text(probe))]
                if written:
                    await session.execute(text(f"TRUNCATE {', '.join(written)} CASCADE"))
                for (sequence,) in (await session.execute(_USED_SEQUENCES)).all():
                    await session.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))
            return
        except DBAPIError as exc:
            if "deadlock" not in str(exc).lower() or attempt == attempts - 1:
                raise
            await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))


@pytest.fixture(autouse=True)
async def _isolate(sessions: async_sessionmaker[AsyncSession], redis: Redis) -> AsyncIterator[None]:
    yield
    await truncate_all(sessions)
    await redis.flushdb()


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for service-level tests; commit explicitly to persist."""
    async with sessions() as s:
        yield s


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep slow tests last so quick failures show first."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is not None)


@pytest.fixture(scope="session")
async def identity_server(settings: Settings) -> AsyncIterator[LiveServer]:
    """The identity subgraph on a real port: its JWKS verifies every token."""
    from subgraphs.identity.app import create_app

    async with serve(create_app(settings)) as server:
        yield server


@pytest.fixture(scope="session")
def subgraph_settings(settings: Settings, identity_server: LiveServer) -> Settings:
    """Settings for other subgraphs: tokens verified against identity's JWKS."""
    return settings.model_copy(
        update={
            "jwt_jwks_url": f"{identity_server.base_url}/.well-known/jwks.json",
            # reports obtains and exchanges its owners' delegation grants there
            "reports_identity_url": identity_server.base_url,
        }
    )


@pytest.fixture(scope="session")
def mint(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> TokenMinter:
    return minter(sessions, settings)


@pytest.fixture(scope="session")
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client
