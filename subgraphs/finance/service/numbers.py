"""Gapless document numbers per kind and year: `INV-2026-00001`, `BILL-2026-00001`.

The counter row is incremented by one upsert in the caller's transaction,
so the row stays locked until that transaction ends: concurrent documents
queue, a rolled-back one gives its number back, and no number is skipped
or used twice. Voiding a document keeps its number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.dialects.postgresql import insert

from subgraphs.finance.models import NumberCounter

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

PREFIXES = {"invoice": "INV", "bill": "BILL"}


async def next_number(session: AsyncSession, kind: str, year: int) -> str:
    prefix = PREFIXES[kind]
    stmt = insert(NumberCounter).values(kind=prefix, year=year, last=1)
    taken = await session.scalar(
        stmt.on_conflict_do_update(
            index_elements=[NumberCounter.kind, NumberCounter.year],
            set_={"last": NumberCounter.last + 1},
        ).returning(NumberCounter.last)
    )
    return f"{prefix}-{year}-{int(taken or 0):05d}"
