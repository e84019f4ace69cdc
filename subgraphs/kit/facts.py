"""Keeping another subgraph's facts from its events: upsert unless what is held is newer.

Events arrive at least once and a consumer group may deliver an older event
after a newer one (a redelivery, a replayed stream), so every projection
writes a fact only when the event is at least as new as the row's `as_of`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.dialects.postgresql import insert

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


async def upsert_newer(session: AsyncSession, model: Any, key: str, values: dict[str, Any]) -> bool:
    """Insert the fact, or update it when `values["as_of"]` is not older; True when written."""
    stmt = insert(model).values(**values)
    column = getattr(model, key)
    done = await session.scalar(
        stmt.on_conflict_do_update(
            index_elements=[column],
            set_={k: stmt.excluded[k] for k in values if k != key},
            where=model.as_of <= stmt.excluded.as_of,
        ).returning(column)
    )
    return done is not None
