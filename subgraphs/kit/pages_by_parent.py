"""Relay connections nested under many parents, batched (no N+1).

`kit.pagination.paginate` answers one connection with two statements; a
page of charters each showing `auditLog(first: 5)` would run it once per
charter. `PagesByParentLoader` collects every (parent, first, after) of a
request and answers them together: one windowed statement per distinct
(first, after), in practice one, and one count for all parents. Cursors
are the kit's keyset cursors over the same columns.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from sqlalchemy import ColumnElement, func, select, tuple_

from subgraphs.kit.loaders import SessionLoader, in_keys
from subgraphs.kit.pagination import (
    Connection,
    Edge,
    KeysetEdge,
    PageInfo,
    cast_cursor_value,
    decode_cursor,
    encode_cursor,
    key_reader,
    page_size,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

NodeT = TypeVar("NodeT")


@dataclass(frozen=True)
class PageKey:
    """One nested connection asked for: whose, how many, after which cursor."""

    parent_id: uuid.UUID
    first: int
    after: str | None = None

    @classmethod
    def of(cls, parent_id: uuid.UUID, first: int | None, after: str | None) -> PageKey:
        """Validates `first` (the kit's 0..100, default 20) before anything is loaded."""
        return cls(parent_id, page_size(first), after or None)


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    #: each row's sort-key values, its cursor once encoded (`KeysetEdge`)
    keys: list[Sequence[Any]]
    has_next_page: bool
    has_previous_page: bool
    total_count: int

    @property
    def cursors(self) -> list[str]:
        return [encode_cursor(values) for values in self.keys]

    def connection(self, to_node: Callable[[Any], NodeT]) -> Connection[NodeT]:
        edges: list[Edge[NodeT]] = [
            KeysetEdge(to_node(r), k) for r, k in zip(self.rows, self.keys, strict=True)
        ]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=self.has_next_page,
                has_previous_page=self.has_previous_page,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=self.total_count,
        )


class PagesByParentLoader(SessionLoader[PageKey, Page]):
    """Pages of `model`'s rows per parent, ordered by `order_by` (the last column unique)."""

    model: ClassVar[Any]
    parent_column: ClassVar[str]
    order_by: ClassVar[tuple[str, ...]]
    descending: ClassVar[bool] = False

    async def load_batch(self, session: AsyncSession, keys: Sequence[PageKey]) -> list[Page]:
        table = self.model.__table__
        parent = table.c[self.parent_column]
        columns = [table.c[name] for name in self.order_by]
        ordering = [c.desc() if self.descending else c.asc() for c in columns]
        parents = list({k.parent_id for k in keys})
        # Core statements of columns: the session's connection runs them without the ORM.
        connection = await session.connection()
        totals: dict[Any, int] = dict(
            (
                await connection.execute(
                    select(parent, func.count()).where(in_keys(parent)).group_by(parent),
                    {"keys": parents},
                )
            ).all()
        )
        read_key = key_reader(self.order_by)
        groups: dict[tuple[int, str | None], list[PageKey]] = {}
        for key in keys:
            groups.setdefault((key.first, key.after), []).append(key)
        pages: dict[PageKey, Page] = {}
        for (first, after), group in groups.items():
            condition: ColumnElement[bool] = in_keys(parent)
            if after:
                values = decode_cursor(after, len(columns))
                bound = tuple_(
                    *[cast_cursor_value(c, v) for c, v in zip(columns, values, strict=True)]
                )
                position = tuple_(*columns)
                condition = condition & (position < bound if self.descending else position > bound)
            ranked = (
                select(
                    table.c.id,
                    func.row_number().over(partition_by=parent, order_by=ordering).label("n"),
                )
                .where(condition)
                .subquery()
            )
            rows = (
                await connection.execute(
                    select(table)
                    .join(ranked, ranked.c.id == table.c.id)
                    .where(ranked.c.n <= first + 1)
                    .order_by(*ordering),
                    {"keys": list({k.parent_id for k in group})},
                )
            ).all()
            by_parent: dict[Any, list[Any]] = {}
            for row in rows:
                by_parent.setdefault(getattr(row, self.parent_column), []).append(row)
            for key in group:
                found = by_parent.get(key.parent_id, [])
                shown = found[:first]
                pages[key] = Page(
                    rows=shown,
                    keys=[read_key(r) for r in shown],
                    has_next_page=len(found) > first,
                    has_previous_page=after is not None,
                    total_count=int(totals.get(key.parent_id, 0)),
                )
        return [pages[k] for k in keys]
