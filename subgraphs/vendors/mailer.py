"""Certification alerts by e-mail: a consumer of `vendors.certification_alert`.

The daily job decides which alerts are due and writes one outbox event per
alert; the relay appends it to the Redis stream; this consumer composes the
message and sends it over SMTP to the vendor's primary contacts (or its
own address) and the configured staff address. The event is acknowledged
only once the SMTP server accepted the message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from subgraphs.kit.consumer import EventConsumer
from subgraphs.kit.mailer import Mailer, compose
from subgraphs.vendors.service.compliance_job import ALERT_TOPIC

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from subgraphs.kit.consumer import Handler
    from subgraphs.kit.context import Services
    from subgraphs.kit.settings import Settings

log = logging.getLogger(__name__)

GROUP = "vendors.alert-mailer"
_TYPE_NAMES = {"dot": "DOT", "mc": "MC", "insurance": "Insurance"}


def type_name(cert_type: str) -> str:
    return _TYPE_NAMES.get(cert_type, cert_type.replace("_", " ").capitalize())


def subject_of(payload: dict[str, Any]) -> str:
    what = f"{type_name(payload['certificationType'])} certification {payload['number']}"
    if payload["kind"] == "expired":
        return f"[Athena] {what} expired on {payload['expiresOn']}"
    days = int(payload["daysLeft"])
    return f"[Athena] {what} expires in {days} day{'s' if days != 1 else ''}"


def alert_message(payload: dict[str, Any], settings: Settings) -> EmailMessage | None:
    to = list(payload.get("recipients") or [])
    if settings.compliance_alert_staff_email:
        to.append(settings.compliance_alert_staff_email)
    if not to:
        log.warning("certification alert %s has no recipient", payload.get("alertId"))
        return None
    what = f"{type_name(payload['certificationType'])} certification {payload['number']}"
    if payload["kind"] == "expired":
        status = f"expired on {payload['expiresOn']}"
        action = "Until a valid replacement is on file, no new work can be assigned" + (
            " and the vendor account is suspended."
            if payload["certificationType"] == "insurance"
            else "."
        )
    else:
        status = f"expires on {payload['expiresOn']} ({payload['daysLeft']} days from today)"
        action = "Please upload the renewed document before that date to stay eligible for work."
    body = (
        f"Hello {payload['vendorName']},\n\nYour {what} {status}.\n{action}\n\nAthena compliance\n"
    )
    return compose(settings.smtp_from, to, subject_of(payload), body)


@dataclass(frozen=True)
class MailStream:
    """An outbox topic whose events become e-mails: one consumer group, one composer.

    The event is acknowledged only once the SMTP server accepted the message;
    `Mailer.send_once` keeps a redelivered event from mailing twice. Every
    vendors mail (certification, recovery and cancellation alerts) runs under
    the one `compliance_mailer_enabled` switch.
    """

    topic: str
    group: str
    message: Callable[[dict[str, Any], Settings], EmailMessage | None]

    def handler(self, mailer: Mailer) -> Handler:
        async def handle(session: AsyncSession, event: dict[str, Any]) -> None:
            composed = self.message(event.get("payload") or {}, mailer.settings)
            if composed is not None:
                await mailer.send_once(event.get("id"), composed)

        return handle

    def consumer(
        self,
        redis: Redis,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        block_ms: int = 2000,
    ) -> EventConsumer:
        return EventConsumer(
            redis,
            sessions,
            topic=self.topic,
            group=self.group,
            handler=self.handler(Mailer(settings, redis)),
            block_ms=block_ms,
        )

    async def start(self, services: Services) -> None:
        """App start-up hook: send while the app runs (unless mail is disabled)."""
        if services.settings.compliance_mailer_enabled:
            consumer = self.consumer(services.redis, services.sessions, services.settings)
            services.extra[self.group] = consumer
            consumer.start()

    async def stop(self, services: Services) -> None:
        consumer = services.extra.pop(self.group, None)
        if consumer is not None:
            await consumer.stop()


CERTIFICATION_ALERTS = MailStream(ALERT_TOPIC, GROUP, alert_message)
