"""PostgreSQL or Redis unreachable: `SERVICE_UNAVAILABLE`, never the driver's text.

Each resolver below meets a real refusal (a port nothing listens on), or a
real PostgreSQL connection terminated under it as a restart does; a fault
of another kind stays `INTERNAL`.
"""

from __future__ import annotations

import json
from typing import Any

import strawberry
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from strawberry.types import Info

from db.embedded import free_port
from protocol.viewer import ANONYMOUS
from subgraphs.kit.extensions import UNAVAILABLE_MESSAGE
from subgraphs.kit.schema import build_schema


@strawberry.type
class Query:
    @strawberry.field
    async def postgres_refused(self) -> int:
        engine = create_async_engine(f"postgresql+asyncpg://athena:x@127.0.0.1:{free_port()}/x")
        try:
            async with engine.connect() as connection:
                return int(await connection.scalar(text("SELECT 1")))
        finally:
            await engine.dispose()

    @strawberry.field
    async def postgres_terminated(self, info: Info) -> int:
        """A pooled connection whose server process ended, as after a PostgreSQL restart."""
        engine = create_async_engine(info.context.database_url)
        try:
            async with engine.connect() as victim, engine.connect() as killer:
                pid = await victim.scalar(text("SELECT pg_backend_pid()"))
                await killer.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                return int(await victim.scalar(text("SELECT 1")))
        finally:
            await engine.dispose()

    @strawberry.field
    async def redis_refused(self) -> bool:
        client = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
        try:
            return bool(await client.ping())
        finally:
            await client.aclose()

    @strawberry.field
    async def broken(self) -> int:
        raise RuntimeError("Connect call failed? no: a bug")


SCHEMA = build_schema(Query)


class _Context:
    known_viewer = ANONYMOUS

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url


async def _ask(field: str, settings: Any) -> dict[str, Any]:
    result = await SCHEMA.execute(f"{{ {field} }}", context_value=_Context(settings.database_url))
    assert result.data is None
    assert result.errors is not None
    [error] = result.errors
    return dict(error.formatted)


async def test_postgres_or_redis_unreachable_is_service_unavailable(settings: Any) -> None:
    for field in ("postgresRefused", "postgresTerminated", "redisRefused"):
        error = await _ask(field, settings)
        assert (error["message"], error["extensions"]["code"]) == (
            UNAVAILABLE_MESSAGE,
            "SERVICE_UNAVAILABLE",
        ), field
        shown = json.dumps([error["message"], error["extensions"]])
        for leak in ("asyncpg", "Connect", "Errno", "redis", "terminat", "SELECT"):
            assert leak not in shown, (field, leak)


async def test_any_other_fault_stays_internal(settings: Any) -> None:
    error = await _ask("broken", settings)
    assert (error["message"], error["extensions"]["code"]) == ("Internal error.", "INTERNAL")
