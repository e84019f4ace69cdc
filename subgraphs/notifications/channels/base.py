"""The port every channel implements: one message in, the provider's id out.

The delivery worker (`service/delivery.py`) knows nothing of SMTP or
Twilio: it hands an `Outgoing` to the channel named by the message and
reads the outcome. A failure says whether trying again could help
(`ChannelError.permanent`), because the worker retries with backoff and a
message refused for what it is (a malformed address, a recipient the
server does not know, a number Twilio rejects) would only be refused again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AttachedFile:
    """A file sent with an e-mail (a scheduled report): its name, MIME type and bytes."""

    file_name: str
    #: "text/csv", "application/pdf", ...
    content_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One rendered message as a channel sends it (HTML already instrumented for tracking)."""

    message_id: uuid.UUID
    #: "email" or "sms"
    channel: str
    #: an e-mail address or an E.164 phone number
    recipient: str
    recipient_name: str | None
    subject: str | None
    text: str
    html: str | None
    #: e-mail only; SMS has none
    attachments: tuple[AttachedFile, ...] = ()


class ChannelError(Exception):
    """The channel did not take the message; `permanent` ones are never retried."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent

    def __repr__(self) -> str:
        return f"ChannelError({self.reason!r}, permanent={self.permanent})"


class Channel(Protocol):
    async def send(self, outgoing: Outgoing) -> str:
        """Hand the message over; the provider's id (SMTP Message-ID, Twilio SID)."""
        ...
