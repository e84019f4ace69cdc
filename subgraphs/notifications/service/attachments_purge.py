"""Report mails' attached files are not kept forever: their bytes go after a retention period.

A scheduled report's file lives in the `attachments` row so the delivery
worker's retries send the same file; once the message is done with (sent,
failed, suppressed, opened or clicked) and the file is older than the
retention (`settings.notifications_attachment_retention_days`, 30 by
default), the bytes are emptied. The message row and the attachment's name,
type and size stay: the delivery log still says what was sent, and the
report itself is run again from its template (reports keeps its runs 30
days too). A message still queued or being sent keeps its file, however old.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from subgraphs.notifications.models import Attachment, Message

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.context import Services

#: A message in these statuses may still be handed over: its files stay.
IN_FLIGHT = ("queued", "sending")
EMPTY = b""


async def purge_attachments(session: AsyncSession, now: datetime, retention_days: int) -> int:
    """Empty the content of files older than the retention on finished messages; how many."""
    finished = select(Message.id).where(Message.status.not_in(IN_FLIGHT))
    result = await session.execute(
        update(Attachment)
        .where(
            Attachment.created_at < now - timedelta(days=retention_days),
            Attachment.message_id.in_(finished),
            func.length(Attachment.content) > 0,
        )
        .values(content=EMPTY)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_job(services: Services, due: datetime) -> dict[str, int]:
    """`notifications.attachments_purge`: the clock decides what is old, not `due`; safe twice."""
    async with services.sessions() as session, session.begin():
        purged = await purge_attachments(
            session, datetime.now(UTC), services.settings.notifications_attachment_retention_days
        )
    return {"purged": purged}
