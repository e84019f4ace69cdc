"""Read scaling: heavy pure reads on a replica (`DATABASE_READ_URL`), the rest on the primary.

A replica lags its primary, so only a query's root field may opt in, by asking
`read_session(info)` instead of `info.context.sessions()`; the fields beneath it
ask `read_loaders(info)` instead of `info.context.loaders` and follow their root
field: on the replica under a root that opted in, on the primary anywhere else.
A mutation's payload, a subscription, a job, a consumer and the outbox relay
never see the replica, so a write is always read back from where it was made.
Without `DATABASE_READ_URL` both helpers are exactly the primary's, at the cost
of one attribute check.

The read engine's connections are read-only by themselves
(`default_transaction_read_only`): pointed by mistake at the primary, or at a
role that could write, a write through it still fails instead of succeeding on
the wrong side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import OperationType
from sqlalchemy import event
from sqlalchemy.engine import make_url

from db.engine import make_engine, session_factory
from subgraphs.kit.loaders import LoaderRegistry

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
    from strawberry.types import Info

    from subgraphs.kit.context import Context


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.run_async(lambda conn: conn.execute("SET default_transaction_read_only = on"))


def make_read_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """The replica's engine: the primary's settings, every connection read-only."""
    engine = make_engine(url, pool_size=pool_size, echo=echo)
    event.listen(engine.sync_engine, "connect", _read_only)
    return engine


def read_url(url: str, primary_url: str | None = None) -> str:
    """`url`, with the primary's password when it names the same user without one.

    So the replica's address alone (no secret in it) can sit in plain configuration
    (compose's environment, Kubernetes' ConfigMap) while the password stays with
    `DATABASE_URL` in the Secret.
    """
    parsed = make_url(url)
    if primary_url and parsed.password is None:
        primary = make_url(primary_url)
        if primary.password is not None and primary.username == parsed.username:
            parsed = parsed.set(password=primary.password)
    return parsed.render_as_string(hide_password=False)


class ReadReplica:
    """The read engine of one process, when `DATABASE_READ_URL` is set."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.engine = make_read_engine(url, pool_size=pool_size)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)

    @classmethod
    def open(
        cls, url: str | None, *, primary_url: str | None = None, pool_size: int = 10
    ) -> ReadReplica | None:
        return cls(read_url(url, primary_url), pool_size=pool_size) if url else None

    async def aclose(self) -> None:
        await self.engine.dispose()


@dataclass
class _RequestReads:
    """One request's replica state: the root fields that opted in, and their loaders."""

    loaders: LoaderRegistry
    roots: set[str | int] = field(default_factory=set)


def _root_key(info: Info[Any, Any]) -> str | int:
    path = info.path
    while path.prev is not None:
        path = path.prev
    return path.key


def _replica_sessions(info: Info[Any, Any]) -> async_sessionmaker[AsyncSession] | None:
    context: Context = info.context
    sessions = context.services.read_sessions
    if sessions is None or info.operation.operation is not OperationType.QUERY:
        return None
    return sessions


def read_session(info: Info[Any, Any]) -> AsyncSession:
    """A session for a query root field's pure read: the replica's if set, else the primary's.

    Only from a root field of a query: in a mutation (read-your-writes) it is the
    primary's. The fields under this root then load through `read_loaders(info)`
    from the replica too, so one answer is read from one place.
    """
    context: Context = info.context
    sessions = _replica_sessions(info)
    if sessions is None:
        return context.sessions()
    reads = context.replica_reads
    if reads is None:
        reads = context.replica_reads = _RequestReads(LoaderRegistry(sessions))
    reads.roots.add(_root_key(info))
    return sessions()


def read_loaders(info: Info[Any, Any]) -> LoaderRegistry:
    """The dataloaders for a field: the replica's under a root field that read from it."""
    context: Context = info.context
    reads = context.replica_reads
    if reads is None or _root_key(info) not in reads.roots:
        return context.loaders
    registry: LoaderRegistry = reads.loaders
    return registry


def reading_from_replica(info: Info[Any, Any]) -> bool:
    """Whether `info`'s field reads from the replica (for tests and logs)."""
    reads: _RequestReads | None = info.context.replica_reads
    return reads is not None and _root_key(info) in reads.roots
