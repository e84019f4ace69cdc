"""Outgoing e-mail over real SMTP (aiosmtplib), configured by `Settings.smtp_*`.

Subgraphs never send from a request: they emit an outbox event in the
transaction that decided to send, and a consumer of that event's stream
composes the message and calls `Mailer.send`. Delivery is at least once;
`Mailer.send_once` skips an event id already sent (a Redis marker).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING

import aiosmtplib

from subgraphs.kit.consumer import TransientError

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from subgraphs.kit.settings import Settings

log = logging.getLogger(__name__)

SENT_PREFIX = "athena.mailer.sent."


class MailUnavailable(TransientError):
    """The SMTP server did not take the message; the event stays pending and is retried."""


SENT_TTL_SECONDS = 7 * 24 * 3600


def compose(sender: str, to: Iterable[str], subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(dict.fromkeys(to))
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="athena.local")
    message.set_content(body)
    return message


class Mailer:
    def __init__(self, settings: Settings, redis: Redis | None = None) -> None:
        self.settings = settings
        self.redis = redis

    @property
    def sender(self) -> str:
        return self.settings.smtp_from

    async def send(self, message: EmailMessage) -> None:
        s = self.settings
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=s.smtp_password or None,
                use_tls=s.smtp_use_tls,
                start_tls=s.smtp_starttls,
                timeout=s.smtp_timeout_seconds,
            )
        except (OSError, aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected) as exc:
            raise MailUnavailable(f"SMTP {s.smtp_host}:{s.smtp_port} unavailable: {exc}") from exc
        log.info("mail %r sent to %s", message["Subject"], message["To"])

    async def send_once(self, event_id: str | None, message: EmailMessage) -> bool:
        """Send unless this event was already sent; False when skipped."""
        key = SENT_PREFIX + event_id if event_id and self.redis is not None else None
        if key and await self.redis.exists(key):  # type: ignore[union-attr]
            return False
        await self.send(message)
        if key:
            await self.redis.set(key, b"1", ex=SENT_TTL_SECONDS)  # type: ignore[union-attr]
        return True
