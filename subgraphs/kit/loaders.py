"""Per-request dataloaders: one instance of each loader class per request.

Each batch opens its own short session, so loaders that strawberry runs
concurrently never share a connection.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import func, select

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
L = TypeVar("L", bound="SessionLoader[Any, Any]")


class SessionLoader(DataLoader[K, V]):
    """A DataLoader whose batch function receives a fresh session."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__()
        self.sessions = sessions

    async def batch_load_fn(self, keys: list[K]) -> list[V]:
        async with self.sessions() as session:
            return await self.load_batch(session, keys)

    async def load_batch(self, session: AsyncSession, keys: Sequence[K]) -> list[V]:
        raise NotImplementedError


class ByIdLoader(SessionLoader[uuid.UUID, V | None]):
    """Loads rows of `model` by primary key; unknown ids give None.

    Loaders only read, so they return plain result rows (attribute access by
    column name) rather than ORM instances: building identity-mapped objects
    was a large share of a nested query's cost.
    """

    model: ClassVar[Any]

    async def load_batch(self, session: AsyncSession, keys: Sequence[uuid.UUID]) -> list[V | None]:
        table = self.model.__table__
        rows = (await session.execute(select(table).where(table.c.id.in_(keys)))).all()
        by_id: dict[uuid.UUID, Any] = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]


class ByParentIdLoader(SessionLoader[uuid.UUID, list[V]]):
    """Loads the children of many parents in one statement, in a stable order."""

    model: ClassVar[Any]
    parent_column: ClassVar[str]
    order_by: ClassVar[tuple[str, ...]] = ("id",)

    async def load_batch(self, session: AsyncSession, keys: Sequence[uuid.UUID]) -> list[list[V]]:
        table = self.model.__table__
        stmt = (
            select(table)
            .where(table.c[self.parent_column].in_(keys))
            .order_by(*(table.c[c] for c in self.order_by))
        )
        return group_by_key((await session.execute(stmt)).all(), keys, self.parent_column)


def group_by_key(rows: Iterable[Any], keys: Sequence[Any], attribute: str) -> list[list[Any]]:
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, attribute)].append(row)
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
