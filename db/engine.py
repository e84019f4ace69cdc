"""Engines and sessions, and the statement recorder the N+1 tests rely on.

One engine per process and URL; one `AsyncSession` per unit of work
(a mutation, a dataloader batch), never shared across concurrent tasks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

#: True while serving a client request (set by the kit's middleware), so that
#: background work (the outbox relay) does not count as a request's SQL.
in_request: ContextVar[bool] = ContextVar("athena_in_request", default=False)


@dataclass
class StatementRecorder:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


_recorders: list[StatementRecorder] = []


@contextlib.contextmanager
def record_statements() -> Iterator[StatementRecorder]:
    """Record every SQL statement issued while serving requests in this process."""
    recorder = StatementRecorder()
    _recorders.append(recorder)
    try:
        yield recorder
    finally:
        _recorders.remove(recorder)


def _on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if _recorders and in_request.get():
        for recorder in _recorders:
            recorder.statements.append(statement)


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """A new engine; its owner disposes of it (asyncpg pools belong to one loop).

    The pool keeps up to `2 x pool_size` connections open once a load has
    needed them. An overflow connection closed on every return (SQLAlchemy's
    `max_overflow`) made a busy subgraph open a new PostgreSQL connection (a
    server process) for most dataloader batches.
    """
    engine = create_async_engine(url, pool_size=2 * pool_size, max_overflow=0, echo=echo)
    event.listen(engine.sync_engine, "before_cursor_execute", _on_execute)
    event.listen(engine.sync_engine.pool, "checkout", _refuse_closed)
    return engine


def _refuse_closed(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Hands out no connection the server has closed (a restart, an idle timeout).

    asyncpg learns of a closed socket as soon as the event loop runs, so this
    check is free, where `pool_pre_ping` cost three round trips (BEGIN, a
    ping, ROLLBACK) on every checkout. The pool then opens a new connection.
    """
    if record.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
