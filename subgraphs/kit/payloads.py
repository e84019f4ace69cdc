"""Mutation payload pieces: user errors and the transaction wrapper.

A mutation runs its service call in one transaction; a `ServiceError`
rolls it back and becomes `userErrors`, so nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import strawberry

from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from strawberry.types import Info

T = TypeVar("T")


@strawberry.federation.type(
    shareable=True, description="A problem with the input or a business rule; nothing was changed."
)
class UserError:
    field: str | None = strawberry.field(description="The input field at fault, if one is.")
    code: str
    message: str


def user_errors(error: ServiceError) -> list[UserError]:
    return [UserError(field=p.field, code=str(p.code), message=p.message) for p in error.problems]


async def transact(
    info: Info, work: Callable[[AsyncSession], Awaitable[T]]
) -> tuple[T | None, list[UserError]]:
    """Run `work` in a transaction: (result, []) on commit, (None, errors) on rollback."""
    try:
        async with info.context.sessions() as session, session.begin():
            return await work(session), []
    except ServiceError as error:
        return None, user_errors(error)
