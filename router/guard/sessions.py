"""How long a long-lived connection's credential stays good.

An HTTP request is authenticated once and is over in a moment; a
subscription lives for hours on the token it started with. So the token's
two ways of ending are watched for as long as the stream runs: its expiry
(`exp`, a timer) and the revocation of its session (identity writes ended
sessions to Redis: `protocol/revocation.py`; checked on a
periodic tick and before each event). When either happens, the stream ends
with an `UNAUTHENTICATED` error instead of delivering another event; the
client signs in again (or refreshes) and subscribes anew.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from protocol.revocation import RevocationList

EXPIRED = "expired"
REVOKED = "revoked"
CODE = "UNAUTHENTICATED"

_MESSAGES = {
    EXPIRED: "The access token of this subscription has expired; sign in again and resubscribe.",
    REVOKED: "The session of this subscription has ended; sign in again and resubscribe.",
}


def ended_error(reason: str) -> dict[str, Any]:
    """The GraphQL error a client gets when its stream ends for `reason`."""
    return {"message": _MESSAGES[reason], "extensions": {"code": CODE, "reason": reason}}


class SessionEnded(Exception):
    """Raised in place of delivering an event once the credential is no longer good."""

    def __init__(self, reason: str) -> None:
        super().__init__(_MESSAGES[reason])
        self.reason = reason

    @property
    def error(self) -> dict[str, Any]:
        return ended_error(self.reason)


@dataclass(frozen=True, slots=True)
class SessionLimit:
    """The verified token a connection runs on: when it expires, which session it is."""

    #: the token's `exp` (Unix seconds); None: no expiry claim
    expires_at: float | None
    session_id: str | None
    revocations: RevocationList | None
    #: seconds between revocation checks while nothing else happens
    check_seconds: float = 2.0

    async def ended(self) -> str | None:
        """`EXPIRED`, `REVOKED` or None while the credential is still good."""
        if self.expires_at is not None and time.time() >= self.expires_at:
            return EXPIRED
        if (
            self.revocations is not None
            and self.session_id is not None
            and await self.revocations.is_revoked(self.session_id)
        ):
            return REVOKED
        return None

    async def check(self) -> None:
        """Raise `SessionEnded` if the credential is no longer good."""
        reason = await self.ended()
        if reason is not None:
            raise SessionEnded(reason)

    async def wait(self) -> str:
        """Return once the credential has ended (the reason); cancel to stop watching."""
        while True:
            reason = await self.ended()
            if reason is not None:
                return reason
            pause = max(self.check_seconds, 0.05)
            if self.expires_at is not None:
                # wake at the expiry itself, not up to a tick later
                pause = min(pause, max(self.expires_at - time.time(), 0.0) + 0.01)
            await asyncio.sleep(pause)
