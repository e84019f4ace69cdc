"""Handing queued messages to their channel: at most once each, retried with backoff.

A pass claims due messages (`queued`, `next_attempt_at` reached) with
`FOR UPDATE SKIP LOCKED`, so replicas never take the same one, marks them
`sending` and COMMITS before any hand-off. Then each is sent and its
outcome recorded in its own transaction: `sent`; or, after a transient
failure, `queued` again with an exponential backoff until the attempts run
out; or `failed` with the reason.

A worker that dies between the hand-off and the record leaves the message
`sending`. It is never handed over again: the SMTP server or Twilio may
well have taken it, and a message must not go out twice. After
`STALE_AFTER` it is failed as "outcome unknown" for staff to look at (the
delivery log's filters find them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, select, update

from subgraphs.notifications.channels.base import AttachedFile, Channel, ChannelError, Outgoing
from subgraphs.notifications.models import Attachment, Message
from subgraphs.notifications.service.tracking import instrument

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from subgraphs.kit.context import Services
    from subgraphs.kit.settings import Settings

log = logging.getLogger(__name__)

#: a message still `sending` this long after its claim was lost with its worker
STALE_AFTER = timedelta(minutes=10)
#: messages one pass claims
BATCH = 100
#: hand-offs in flight at once per worker
CONCURRENCY = 20
#: seconds between passes while there is nothing to send
IDLE_SECONDS = 0.25
SERVICE_KEY = "notifications.delivery"
UNKNOWN_OUTCOME = "outcome unknown: the worker stopped between hand-off and record; not resent"


def backoff(settings: Settings, attempts: int) -> timedelta:
    """The wait before attempt `attempts + 1`: base, 2 x base, 4 x base, ..."""
    return timedelta(seconds=settings.notifications_retry_base_seconds * 2 ** max(attempts - 1, 0))


async def fail_stale(session: AsyncSession, now: datetime) -> int:
    """Messages a dead worker left `sending`: failed, never sent again."""
    result = await session.execute(
        update(Message)
        .where(Message.status == "sending", Message.claimed_at < now - STALE_AFTER)
        .values(status="failed", failure_reason=UNKNOWN_OUTCOME)
        .returning(Message.id)
    )
    return len(result.all())


async def claim(session: AsyncSession, now: datetime, limit: int = BATCH) -> list[Message]:
    """Take due messages for this worker: `sending`, with the claim's time and one more attempt."""
    due = (
        select(Message.id)
        .where(Message.status == "queued", Message.next_attempt_at <= now)
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = await session.scalars(
        update(Message)
        .where(Message.id.in_(due.scalar_subquery()))
        .values(status="sending", claimed_at=now, attempts=Message.attempts + 1)
        .returning(Message)
        .execution_options(synchronize_session=False)
    )
    return list(rows)


async def carrying_files(session: AsyncSession, message_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of the claimed messages carry files: one statement, no bytes (most carry none)."""
    if not message_ids:
        return set()
    found = await session.scalars(
        select(Attachment.message_id).where(Attachment.message_id.in_(message_ids)).distinct()
    )
    return set(found)


async def files_of(
    sessions: async_sessionmaker[AsyncSession], message_id: uuid.UUID
) -> tuple[AttachedFile, ...]:
    """A message's files, read just before its hand-off (only those in flight are in memory)."""
    async with sessions() as session:
        rows = await session.execute(
            select(Attachment.file_name, Attachment.content_type, Attachment.content)
            .where(Attachment.message_id == message_id)
            .order_by(Attachment.created_at, Attachment.id)
        )
        return tuple(
            AttachedFile(name, content_type, content) for name, content_type, content in rows
        )


def outgoing(
    message: Message, settings: Settings, attachments: tuple[AttachedFile, ...] = ()
) -> Outgoing:
    html = message.body_html
    if html is not None:
        html = instrument(html, message.id, settings)
    return Outgoing(
        message_id=message.id,
        channel=message.channel,
        recipient=message.recipient,
        recipient_name=message.recipient_name,
        subject=message.subject,
        text=message.body_text or "",
        html=html,
        attachments=attachments,
    )


async def hand_off(
    message: Message,
    channels: Mapping[str, Channel],
    settings: Settings,
    attachments: tuple[AttachedFile, ...] = (),
) -> dict[str, Any]:
    """Send one claimed message; the values to record (never raises for a channel's failure)."""
    channel = channels.get(message.channel)
    if channel is None:
        return {"status": "failed", "failure_reason": f"no {message.channel} channel configured"}
    try:
        provider_id = await channel.send(outgoing(message, settings, attachments))
    except ChannelError as error:
        if error.permanent or message.attempts >= settings.notifications_max_attempts:
            return {"status": "failed", "failure_reason": error.reason}
        return {
            "status": "queued",
            "failure_reason": error.reason,
            "next_attempt_at": datetime.now(UTC) + backoff(settings, message.attempts),
        }
    return {
        "status": "sent",
        "failure_reason": None,
        "provider_message_id": provider_id,
        "sent_at": datetime.now(UTC),
    }


async def record(session: AsyncSession, message_id: uuid.UUID, values: dict[str, Any]) -> None:
    """Write a hand-off's outcome to a claim still held.

    A reader can open a mail before its hand-off is recorded (the pixel is fast):
    the open is kept, and a `sent` outcome then reads as opened (or clicked).
    """
    if values.get("status") == "sent":
        values = {
            **values,
            "status": case(
                (Message.clicked_at.is_not(None), "clicked"),
                (Message.opened_at.is_not(None), "opened"),
                else_="sent",
            ),
        }
    await session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == "sending")
        .values(**values)
    )


async def deliver_due(
    sessions: async_sessionmaker[AsyncSession],
    channels: Mapping[str, Channel],
    settings: Settings,
    now: datetime | None = None,
    limit: int = BATCH,
) -> int:
    """One pass: fail the stale, claim what is due, hand it off, record. Returns how many."""
    now = now or datetime.now(UTC)
    async with sessions() as session, session.begin():
        stale = await fail_stale(session, now)
        if stale:
            log.warning("%d message(s) left sending by a stopped worker: failed, not resent", stale)
        claimed = await claim(session, now, limit)
        with_files = await carrying_files(session, [m.id for m in claimed])
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(message: Message) -> None:
        async with gate:
            files = await files_of(sessions, message.id) if message.id in with_files else ()
            values = await hand_off(message, channels, settings, files)
        async with sessions() as session, session.begin():
            await record(session, message.id, values)

    await asyncio.gather(*(one(m) for m in claimed))
    return len(claimed)


class DeliveryWorker:
    """The process's delivery loop: passes back to back while there is work, idle polls else."""

    def __init__(self, services: Services, channels: Mapping[str, Channel]) -> None:
        self.services = services
        self.channels = channels
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            try:
                sent = await deliver_due(
                    self.services.sessions, self.channels, self.services.settings
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery pass failed; retrying")
                sent = 0
            if sent == 0:
                await asyncio.sleep(IDLE_SECONDS)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notifications-delivery")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def start(services: Services) -> None:
    """on_startup: run the worker unless `notifications_worker_enabled` is off (tests drive passes)."""
    if not services.settings.notifications_worker_enabled:
        return
    from subgraphs.notifications.channels import channels_from

    worker = DeliveryWorker(services, channels_from(services.settings))
    services.extra[SERVICE_KEY] = worker
    worker.start()


async def stop(services: Services) -> None:
    worker = services.extra.pop(SERVICE_KEY, None)
    if worker is not None:
        await worker.stop()
