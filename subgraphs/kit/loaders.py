"""Per-request dataloaders: one instance of each loader class per request.

Each batch opens its own short session, so loaders that strawberry runs
concurrently never share a connection.
"""

from __future__ import annotations

import operator
import uuid
import weakref
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from subgraphs.kit.metrics import observe_batch
from subgraphs.kit.tracing import batch_span, batch_tracer

if TYPE_CHECKING:
    from sqlalchemy import Column, Select
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
L = TypeVar("L", bound="SessionLoader[Any, Any]")


class SessionLoader(DataLoader[K, V]):
    """A DataLoader whose batch function receives a fresh session."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__()
        self.sessions = sessions

    async def batch_load_fn(self, keys: list[K]) -> list[V]:
        observe_batch(self, len(keys))
        tracer = batch_tracer()
        if tracer is not None:  # a span a batch when the subgraph traces (kit/tracing.py)
            with batch_span(tracer, self, len(keys)):
                return await self.run_batch(keys)
        return await self.run_batch(keys)

    async def load_now(self, keys: Sequence[K]) -> list[V]:
        """`load_many`, the keys not cached yet loaded at once as one batch.

        For a caller that holds all its keys (a page preloading its children):
        `load_many` makes a future, a queue entry and a gathered awaitable for
        every key, which cost more than the batch's statement itself on a page
        of fifty (issue 18). The values are cached as `load` caches them, so a
        later `load` of one of these keys is answered without a statement.
        """
        if not self.cache or self.max_batch_size:
            return await self.load_many(keys)
        cached = self._cache
        cache_key = self.get_cache_key
        missing = [key for key in dict.fromkeys(keys) if cache_key(key) not in cached]
        loaded: dict[K, V] = {}
        if missing:
            values = await self.batch_load_fn(missing)
            if len(values) != len(missing):
                raise TypeError(
                    f"{type(self).__name__}.batch_load_fn returned {len(values)} values "
                    f"for {len(missing)} keys"
                )
            for key, value in zip(missing, values, strict=True):
                self.prime(key, value)  # a later `load` finds it (an error stays one)
                if not isinstance(value, Exception):
                    loaded[key] = value
        answers: list[V] = []
        for key in keys:
            if key in loaded:
                answers.append(loaded[key])
            else:  # cached before (perhaps still loading), or an error: as `load` answers it
                answers.append(await cached[cache_key(key)])
        return answers

    async def run_batch(self, keys: Sequence[K]) -> list[V]:
        async with self.sessions() as session:
            return await self.load_batch(session, keys)

    async def load_batch(self, session: AsyncSession, keys: Sequence[K]) -> list[V]:
        raise NotImplementedError


class StatementLoader(SessionLoader[K, V]):
    """A batch that is one read-only statement over `:keys`, built once per class.

    It runs on a pooled connection in autocommit: no ORM session, no BEGIN
    and ROLLBACK round trips (one statement sees one snapshot anyway). A
    subclass that overrides `load_batch` (several statements) keeps a session.
    """

    _statement: ClassVar[Select[Any] | None] = None

    @classmethod
    def build_statement(cls) -> Select[Any]:
        raise NotImplementedError

    @classmethod
    def statement(cls) -> Select[Any]:
        if cls.__dict__.get("_statement") is None:
            cls._statement = cls.build_statement()
        return cls.__dict__["_statement"]  # type: ignore[no-any-return]

    def arrange(self, rows: Sequence[Any], keys: Sequence[K]) -> list[V]:
        raise NotImplementedError

    async def run_batch(self, keys: Sequence[K]) -> list[V]:
        if type(self).load_batch is not StatementLoader.load_batch:
            return await super().run_batch(keys)
        async with autocommit(self.sessions).connect() as connection:
            rows = (await connection.execute(self.statement(), {"keys": list(keys)})).all()
        return self.arrange(rows, keys)

    async def load_batch(self, session: AsyncSession, keys: Sequence[K]) -> list[V]:
        rows = (await session.execute(self.statement(), {"keys": list(keys)})).all()
        return self.arrange(rows, keys)


_autocommits: weakref.WeakKeyDictionary[Any, AsyncEngine] = weakref.WeakKeyDictionary()


def autocommit(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The sessions' engine in autocommit (the same pool), made once per engine."""
    engine = sessions.kw["bind"]
    found = _autocommits.get(engine.sync_engine)
    if found is None:
        found = _autocommits[engine.sync_engine] = engine.execution_options(
            isolation_level="AUTOCOMMIT"
        )
    return found


class ByIdLoader(StatementLoader[uuid.UUID, V | None]):
    """Loads rows of `model` by primary key; unknown ids give None.

    Loaders only read, so they return plain result rows (attribute access by
    column name) rather than ORM instances: building identity-mapped objects
    was a large share of a nested query's cost.
    """

    model: ClassVar[Any]
    #: columns no reader of these rows reads (see `read_columns`)
    unread: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def build_statement(cls) -> Select[Any]:
        table = cls.model.__table__
        return select(*read_columns(table, cls.unread)).where(in_keys(table.c.id))

    def arrange(self, rows: Sequence[Any], keys: Sequence[uuid.UUID]) -> list[V | None]:
        by_id: dict[uuid.UUID, Any] = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]


class ByParentIdLoader(StatementLoader[uuid.UUID, list[V]]):
    """Loads the children of many parents in one statement, in a stable order."""

    model: ClassVar[Any]
    parent_column: ClassVar[str]
    order_by: ClassVar[tuple[str, ...]] = ("id",)
    #: columns no reader of these rows reads (see `read_columns`)
    unread: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def build_statement(cls) -> Select[Any]:
        table = cls.model.__table__
        return (
            select(*read_columns(table, cls.unread))
            .where(in_keys(table.c[cls.parent_column]))
            .order_by(*(table.c[c] for c in cls.order_by))
        )

    def arrange(self, rows: Sequence[Any], keys: Sequence[uuid.UUID]) -> list[list[V]]:
        return group_by_key(rows, keys, self.parent_column)


def read_columns(table: Any, unread: Iterable[str]) -> list[Any]:
    """A table's columns but those named: a column is converted for every row read.

    A range column, say, costs a conversion per row in SQLAlchemy's asyncpg
    dialect; one that only SQL reads (an exclusion constraint's) need not be
    fetched. A reader asking for an omitted column gets an AttributeError.
    """
    unknown = set(unread) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name} has no columns {sorted(unknown)}")
    return [column for column in table.c if column.key not in unread]


def in_keys(column: Column[Any]) -> Any:
    """`column = ANY(:keys)`, the keys bound as one array.

    One statement text whatever the batch's size, so it is built and compiled
    once per loader class and asyncpg prepares it once per connection, where
    `IN (...)` expands to a new text (and a new server-side prepare) for every
    distinct number of keys.
    """
    return column == any_(bindparam("keys", type_=ARRAY(column.type)))


def group_by_key(rows: Iterable[Any], keys: Sequence[Any], attribute: str) -> list[list[Any]]:
    grouped: dict[Any, list[Any]] = defaultdict(list)
    key_of = operator.attrgetter(attribute)
    for row in rows:
        grouped[key_of(row)].append(row)
    return [grouped.get(key, []) for key in keys]


class LoaderRegistry:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._loaders: dict[type[Any], Any] = {}

    def get(self, loader_class: type[L]) -> L:
        loader = self._loaders.get(loader_class)
        if loader is None:
            loader = self._loaders[loader_class] = loader_class(self._sessions)
        return loader


async def latest_per_parent(
    session: AsyncSession,
    model: Any,
    parent_column: str,
    newest_first: tuple[str, ...],
    parents: Sequence[Any],
    limit: int,
) -> list[list[Any]]:
    """The newest `limit` rows of each parent in one statement (a window count).

    For capped histories (audit logs, recent ratings) that must not load a
    parent's whole history to show its last few entries.
    """
    order = [getattr(model, c).desc() for c in newest_first]
    ranked = (
        select(
            model.id,
            func.row_number()
            .over(partition_by=getattr(model, parent_column), order_by=order)
            .label("position"),
        )
        .where(getattr(model, parent_column).in_(set(parents)))
        .subquery()
    )
    rows = await session.scalars(
        select(model)
        .join(ranked, ranked.c.id == model.id)
        .where(ranked.c.position <= limit)
        .order_by(*order)
    )
    return group_by_key(rows, parents, parent_column)
