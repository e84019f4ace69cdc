"""Password-reset mails: a consumer of `identity.password_reset_requested`.

`requestPasswordReset` writes the event (with the raw token) in the same
transaction as the token's hash; this consumer composes the message and
sends it through the kit mailer, once per event (at-least-once delivery,
deduplicated by event id). An unreachable SMTP server is a warning line
and a retry, and the event waits. (Issue 14 moves every message the
business sends into the notifications subgraph.)
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from subgraphs.identity.service.password_reset import TOPIC
from subgraphs.kit.consumer import EventConsumer
from subgraphs.kit.mailer import Mailer, compose

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.context import Services
    from subgraphs.kit.settings import Settings

GROUP = "identity.reset-mailer"


def reset_message(payload: dict[str, Any], settings: Settings) -> EmailMessage:
    token = payload["token"]
    minutes = settings.password_reset_ttl_seconds // 60
    where = (
        f"Open {settings.portal_url.rstrip('/')}/reset-password?token={token}\n"
        if settings.portal_url
        else ""
    )
    body = (
        "Hello,\n\nSomeone (we hope you) asked to reset the password of your Athena account.\n"
        f"{where}Your reset code: {token}\n"
        f"It works once, within {minutes} minutes (the `resetPassword` mutation takes it).\n\n"
        "If you did not ask, ignore this message: your password stays as it is.\n"
    )
    return compose(settings.smtp_from, [payload["email"]], "[Athena] Reset your password", body)


async def start(services: Services) -> None:
    if not services.settings.identity_mailer_enabled:
        return
    mailer = Mailer(services.settings, services.redis)

    async def handle(_session: AsyncSession, event: dict[str, Any]) -> None:
        await mailer.send_once(event.get("id"), reset_message(event["payload"], mailer.settings))

    consumer = EventConsumer(
        services.redis,
        services.sessions,
        topic=TOPIC,
        group=GROUP,
        handler=handle,
    )
    services.extra[GROUP] = consumer
    consumer.start()


async def stop(services: Services) -> None:
    consumer = services.extra.pop(GROUP, None)
    if consumer is not None:
        await consumer.stop()
