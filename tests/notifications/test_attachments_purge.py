"""Report files attached to mails lose their bytes after the retention; the mail stays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from subgraphs.kit.settings import get_settings
from subgraphs.notifications.jobs import ATTACHMENTS_PURGE, jobs
from subgraphs.notifications.models import Attachment, Message
from subgraphs.notifications.service.attachments_purge import purge_attachments

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FILE = b"Agent,Booked\nAnn,100.00\n"


async def _mail(sessions: Any, status: str, attached: datetime) -> uuid.UUID:
    message = Message(
        id=uuid.uuid4(),
        idempotency_key=f"report:{uuid.uuid4()}",
        kind="report_delivery",
        channel="email",
        recipient="boss@example.com",
        status=status,
    )
    async with sessions() as session, session.begin():
        session.add(message)
        await session.flush()
        session.add(
            Attachment(
                message_id=message.id,
                file_name="sales-by-agent.csv",
                content_type="text/csv",
                size=len(FILE),
                content=FILE,
                created_at=attached,
            )
        )
    return message.id


async def _files(sessions: Any) -> dict[uuid.UUID, tuple[bytes, int, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Attachment.message_id, Attachment.content, Attachment.size, Attachment.file_name)
        )
        return {m: (c, s, n) for m, c, s, n in rows}


async def test_files_older_than_30_days_of_finished_mails_are_emptied_the_mails_stay(
    sessions: Any,
) -> None:
    old = NOW - timedelta(days=30, minutes=1)
    sent_old = await _mail(sessions, "sent", old)
    opened_old = await _mail(sessions, "opened", NOW - timedelta(days=90))
    sent_recent = await _mail(sessions, "sent", NOW - timedelta(days=29, hours=23))
    # Still to be handed over (a retry must send the same file): kept however old.
    queued_old = await _mail(sessions, "queued", old)

    async with sessions() as session, session.begin():
        assert await purge_attachments(session, NOW, 30) == 2
    async with sessions() as session, session.begin():
        assert await purge_attachments(session, NOW, 30) == 0  # twice is harmless

    files = await _files(sessions)
    for purged in (sent_old, opened_old):
        assert files[purged] == (b"", len(FILE), "sales-by-agent.csv")
    for kept in (sent_recent, queued_old):
        assert files[kept] == (FILE, len(FILE), "sales-by-agent.csv")
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 4

    # A shorter retention reaches the recent one too.
    async with sessions() as session, session.begin():
        assert await purge_attachments(session, NOW, 1) == 1
    assert (await _files(sessions))[sent_recent][0] == b""


def test_the_purge_is_a_daily_notifications_job() -> None:
    settings = get_settings()
    declared = {job.name: job for job in jobs(settings)}
    assert declared[ATTACHMENTS_PURGE].cron == settings.notifications_attachments_purge_cron
    assert settings.notifications_attachment_retention_days == 30
