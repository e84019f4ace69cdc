"""Relay connections with keyset cursors.

A cursor holds the sort-key values of its row, so a page is a range scan
that stays correct when rows are inserted before it, unlike offsets.
"""

from __future__ import annotations

import base64
import binascii
import operator
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import orjson
import strawberry
from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from subgraphs.kit.errors import BadUserInputError
from subgraphs.kit.loaders import autocommit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from sqlalchemy.orm import InstrumentedAttribute

NodeT = TypeVar("NodeT")
RowT = TypeVar("RowT")

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


@strawberry.federation.type(shareable=True)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.federation.type(shareable=True)
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.federation.type(shareable=True)
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    total_count: int


class UncountedConnection(Connection[NodeT]):
    """A page read without its count, because its selection has no `totalCount`.

    The count is a statement of its own (a scan of every matching row);
    graphql-core reads `total_count` only when selected, and any other reader
    is a bug this makes loud.
    """

    def __init__(self, edges: list[Edge[NodeT]], page_info: PageInfo) -> None:
        self.edges = edges
        self.page_info = page_info

    @property
    def total_count(self) -> int:  # type: ignore[override]
        raise RuntimeError("this page was read without its count (`count=False`)")


class KeysetEdge(Edge[NodeT]):
    """An edge whose cursor is read from its row and encoded only when asked for.

    Pages are mostly read for their nodes (a board asks for no cursor):
    reading and encoding fifty cursors nobody reads was 4 % of such a request
    (issue 18). Graphql-core reads `cursor` as any other attribute.
    """

    def __init__(
        self, node: NodeT, row: Any, read_key: Callable[[Any], Sequence[Any]] = tuple
    ) -> None:
        self.node = node
        self._row = row
        self._read_key = read_key

    @property
    def cursor(self) -> str:  # type: ignore[override]
        return encode_cursor(self._read_key(self._row))


def key_reader(names: Sequence[str]) -> Callable[[Any], Sequence[Any]]:
    """Reads a row's (or an instance's) sort-key values, a tuple, at C speed."""
    read = operator.attrgetter(*names)
    if len(names) == 1:
        return lambda row: (read(row),)
    return read


def encode_cursor(values: Sequence[Any]) -> str:
    raw = orjson.dumps([v if isinstance(v, int | float | bool | None) else str(v) for v in values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise BadUserInputError("The cursor `after` is not valid.") from exc
    if not isinstance(values, list) or len(values) != width:
        raise BadUserInputError("The cursor `after` is not valid.")
    return values


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0 or first > MAX_PAGE_SIZE:
        raise BadUserInputError(f"`first` must be between 0 and {MAX_PAGE_SIZE}.")
    return first


@dataclass(frozen=True)
class KeysetOrder:
    """Columns that order a connection, all ascending or all descending.

    The last one must be unique (the primary key) so the order is total.
    """

    columns: tuple[InstrumentedAttribute[Any], ...]
    descending: bool = False
    #: reads the columns' values from a row or instance: a page reads it per row
    _read: Callable[[Any], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_read", key_reader([column.key for column in self.columns]))

    def values_of(self, row: Any) -> Sequence[Any]:
        return self._read(row)  # type: ignore[no-any-return]


async def paginate(
    session: AsyncSession | AsyncConnection,
    stmt: Select[Any],
    order: KeysetOrder,
    *,
    first: int | None,
    after: str | None,
    to_node: Callable[[RowT], NodeT] | Callable[[RowT], Awaitable[NodeT]] = lambda r: r,
    rows: bool = False,
    count: bool = True,
) -> Connection[NodeT]:
    """Answer one page of `stmt` with two statements: the page and the count.

    With `rows`, `stmt` selects columns and the page is read as plain rows,
    through the session's connection: for a page whose nodes are built from
    columns, ORM instances (identity map, instance state, attribute
    instrumentation) and the ORM's execution of the statement were a cost
    and no use. Without `count` (a selection without `totalCount`, see
    `kit.selections.selects`) the count's statement is not run.
    """
    size = page_size(first)
    # Columns need none of the ORM's execution: the session's connection runs them.
    runner: Any = session
    if rows and not isinstance(session, AsyncConnection):
        runner = await session.connection()
    total = (
        await runner.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        if count
        else None
    )
    page_stmt = stmt
    if after:
        values = decode_cursor(after, len(order.columns))
        key = tuple_(*order.columns)
        bound = tuple_(
            *[cast_cursor_value(col, v) for col, v in zip(order.columns, values, strict=True)]
        )
        page_stmt = page_stmt.where(key < bound if order.descending else key > bound)
    ordering = [c.desc() if order.descending else c.asc() for c in order.columns]
    page_stmt = page_stmt.order_by(*ordering).limit(size + 1)
    found = list(
        (await runner.execute(page_stmt)).all()
        if rows
        else (await session.scalars(page_stmt)).all()
    )
    has_next = len(found) > size
    edges: list[Edge[NodeT]] = []
    for row in found[:size]:
        node = to_node(row)
        if isinstance(node, Awaitable):
            node = await node
        edges.append(KeysetEdge(node, row, order.values_of))
    page_info = PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    if not count:
        return UncountedConnection(edges, page_info)
    return Connection(edges=edges, page_info=page_info, total_count=int(total or 0))


async def page_of_rows(
    sessions: async_sessionmaker[AsyncSession],
    stmt: Select[Any],
    order: KeysetOrder,
    *,
    first: int | None,
    after: str | None,
    to_node: Callable[[Any], NodeT],
    count: bool,
) -> Connection[NodeT]:
    """A page of `stmt`'s columns as plain rows (`paginate(rows=True)`).

    With its count, the two statements read one snapshot (a transaction);
    without, the page is one statement on an autocommit connection, which
    spares the BEGIN and ROLLBACK round trips a session would add.
    """
    if count:
        async with sessions() as session:
            return await paginate(
                session, stmt, order, first=first, after=after, to_node=to_node, rows=True
            )
    async with autocommit(sessions).connect() as connection:
        return await paginate(
            connection,
            stmt,
            order,
            first=first,
            after=after,
            to_node=to_node,
            rows=True,
            count=False,
        )


def cast_cursor_value(column: Any, value: Any) -> Any:
    """Turn a cursor's JSON value back into the column's Python type."""
    python_type = column.type.python_type
    if value is None or isinstance(value, python_type):
        return value
    try:
        if hasattr(python_type, "fromisoformat"):
            return python_type.fromisoformat(value)
        return python_type(value)
    except (TypeError, ValueError) as exc:
        raise BadUserInputError("The cursor `after` is not valid.") from exc
