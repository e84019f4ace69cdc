"""Readable, unique references: CH-2026-000123, CHG-2026-0001.

A per-kind, per-year counter row is incremented with an upsert, so
concurrent creators serialise on that one row and never share a number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

WIDTHS = {"CH": 6, "CHG": 4}


async def next_reference(session: AsyncSession, kind: str, year: int) -> str:
    value = await session.scalar(
        text(
            "INSERT INTO charters.reference_counters (kind, year, last_value) "
            "VALUES (:kind, :year, 1) "
            "ON CONFLICT (kind, year) DO UPDATE "
            "SET last_value = charters.reference_counters.last_value + 1 "
            "RETURNING last_value"
        ),
        {"kind": kind, "year": year},
    )
    return f"{kind}-{year}-{int(value or 0):0{WIDTHS[kind]}d}"
