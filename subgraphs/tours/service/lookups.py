"""Limits on what strangers may try from one address (issue 15 §2, §6).

A booking is read or changed by reference plus e-mail alone, and anyone
may book without an account; both invite automation (guessing pairs,
emptying departures with fake bookings). Each is counted per caller
address in Redis (`kit/throttle`, a window shared by every replica) and
refused past the hourly limit with a GraphQL error `RATE_LIMITED`, the same
way the public price calculator is. Signed-in callers book without the
limit (they are accountable); lookups count for everyone, because an
account guessing other people's pairs is no better than a stranger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from subgraphs.kit.errors import CodedError, ErrorCode
from subgraphs.kit.throttle import allowed

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from protocol.viewer import Viewer
    from subgraphs.kit.context import Context

HOUR = 3600
LOOKUP = "lookup"
ANONYMOUS_BOOKING = "anonymous-booking"


class RateLimitedError(CodedError):
    code = ErrorCode.RATE_LIMITED


async def check(redis: Redis, what: str, address: str, per_hour: int) -> None:
    """Count one attempt of `what` from `address`; RATE_LIMITED once past `per_hour`."""
    if not await allowed(redis, f"tours:{what}:{address}", per_hour, HOUR):
        raise RateLimitedError("Too many attempts from your address; try again later.")


async def count_stranger(context: Context, viewer: Viewer) -> None:
    """A caller not signed in proves itself by e-mail (modify, cancel, accept): a lookup."""
    if viewer.is_authenticated:
        return
    await check(context.redis, LOOKUP, context.client_ip, context.settings.tours_lookups_per_hour)
