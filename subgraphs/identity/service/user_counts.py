"""How many accounts hold each role in each status: the admin dashboard's user figures.

An account holds one or more roles, so one with two roles counts under
both; a (role, status) pair no account holds is absent, not zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from subgraphs.identity.models import User

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class UserCount:
    role: str
    status: str
    count: int


async def user_counts(session: AsyncSession) -> list[UserCount]:
    """One statement, by role then status."""
    role = func.unnest(User.roles).label("role")
    counted = select(role, User.status.label("status")).subquery()
    rows = await session.execute(
        select(counted.c.role, counted.c.status, func.count())
        .group_by(counted.c.role, counted.c.status)
        .order_by(counted.c.role, counted.c.status)
    )
    return [UserCount(r, s, int(n)) for r, s, n in rows]
