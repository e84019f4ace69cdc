"""Scheduled report mails (issue 16): reports runs the report, notifications mails the file.

`reports.delivery_ready` names one delivery of a schedule, its recipients (the
addresses its owner chose) and carries the rendered file, base64. Each
recipient gets one `report_delivery` e-mail with the file attached:

- once per delivery and address (key `report_delivery:<deliveryId>:<address>`),
  however often the at-least-once outbox delivers the event;
- transactional (the owner asked for it by naming the address), e-mail only;
- the file is written with the message, in the consumer's transaction
  (`Attachment`), so the delivery worker's retries send it again without
  asking reports, and no message is ever queued without its file;
- a recipient with an account (user facts, by e-mail) is greeted by name in
  its locale; any other address is written to as given;
- a file that is not base64, or too large for a mail (`MAX_FILE_BYTES`; reports
  keeps its own under 5 MB), fails the messages with the reason, so the
  delivery log says why nobody got the report instead of it vanishing.

None is decided for an event older than `facts.DECIDE_WITHIN`: a report held up
that long is stale, and reports runs the schedule again at its next fire time.
"""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from subgraphs.kit.settings import get_settings
from subgraphs.kit.storage import clean_filename
from subgraphs.notifications.models import Attachment, Message, UserFact
from subgraphs.notifications.service import facts
from subgraphs.notifications.service.messages import Decision, Recipient, queue
from subgraphs.notifications.service.preferences import DEFAULTS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

DELIVERY_READY = "reports.delivery_ready"
KIND = "report_delivery"
CHANNEL = "email"
#: the largest file a report mail carries: what common mail servers still accept once
#: base64 grows it by a third (reports fails a delivery over 5 MB before it gets here)
MAX_FILE_BYTES = 10 * 1024 * 1024
#: a report's format -> its MIME type, when the event does not say
FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@dataclass(frozen=True, slots=True)
class ReportFile:
    file_name: str
    content_type: str
    content: bytes


class UnreadableFile(ValueError):
    """The event's file cannot be mailed; the reason goes on each message."""


def _now() -> datetime:
    return datetime.now(UTC)


def report_file(payload: dict[str, Any]) -> ReportFile:
    """The attached file as the event carries it, decoded and named; UnreadableFile if not."""
    encoded = payload.get("contentBase64")
    if not isinstance(encoded, str) or not encoded:
        raise UnreadableFile("the event carries no file")
    if len(encoded) > (MAX_FILE_BYTES // 3 + 1) * 4:
        raise UnreadableFile(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UnreadableFile(f"the file is not base64: {exc}") from exc
    if len(content) > MAX_FILE_BYTES:
        raise UnreadableFile(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    format_ = str(payload.get("format") or "").lower()
    extension = f".{format_}" if format_ in FORMATS else ""
    name = clean_filename(str(payload.get("fileName") or "")) or f"report{extension}"
    content_type = str(payload.get("contentType") or "") or FORMATS.get(
        format_, "application/octet-stream"
    )
    return ReportFile(file_name=name, content_type=content_type, content=content)


def addresses(payload: dict[str, Any]) -> list[str]:
    """The recipients, in the event's order, each address once (case does not make another)."""
    raw = payload.get("recipients")
    seen: dict[str, str] = {}
    for value in raw if isinstance(raw, list) else []:
        address = str(value or "").strip()
        if address and address.lower() not in seen:
            seen[address.lower()] = address
    return list(seen.values())


async def recipients(session: AsyncSession, wanted: list[str]) -> list[Recipient]:
    """Each address as a recipient: named and in its locale when it is an account's (one query)."""
    accounts: dict[str, UserFact] = {}
    if wanted:
        found = await session.scalars(
            select(UserFact).where(func.lower(UserFact.email).in_([a.lower() for a in wanted]))
        )
        accounts = {fact.email.lower(): fact for fact in found}
    listed = []
    for address in wanted:
        fact = accounts.get(address.lower())
        listed.append(
            Recipient(
                address=address,
                name=(fact.name or None) if fact else None,
                user_id=fact.user_id if fact else None,
                locale=fact.locale if fact else "en",
                # transactional: only the channel switches could apply, and the owner named it
                preferences=DEFAULTS,
            )
        )
    return listed


def variables(payload: dict[str, Any], report: ReportFile | None) -> dict[str, Any]:
    return {
        "template_name": str(payload.get("templateName") or "Report"),
        "schedule_name": str(payload.get("scheduleName") or ""),
        "ran_at": str(payload.get("ranAt") or ""),
        "time_zone": get_settings().operator_time_zone,
        "row_count": int(payload.get("rowCount") or 0),
        "format": str(payload.get("format") or "").lower(),
        "file_name": report.file_name if report else str(payload.get("fileName") or ""),
    }


def idempotency_key(delivery_id: str, address: str) -> str:
    return f"{KIND}:{delivery_id}:{address.lower()}"


async def on_delivery_ready(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> list[Message]:
    """Queue one mail per recipient with the report attached; the messages queued now."""
    now = now or _now()
    payload = facts.payload_of(event)
    delivery_id = str(payload.get("deliveryId") or "")
    if not delivery_id or not facts.fresh(event, now):
        return []
    wanted = addresses(payload)
    if not wanted:
        log.info("report delivery %s names no recipients: nothing to mail", delivery_id)
        return []
    try:
        report: ReportFile | None = report_file(payload)
        unreadable = None
    except UnreadableFile as error:
        report, unreadable = None, str(error)
        log.warning("report delivery %s not mailed: %s", delivery_id, unreadable)
    common = variables(payload, report)
    queued: list[Message] = []
    for recipient in await recipients(session, wanted):
        message = await queue(
            session,
            Decision(
                kind=KIND,
                channel=CHANNEL,
                recipient=recipient,
                variables={"recipient_name": recipient.name, **common},
                key=idempotency_key(delivery_id, recipient.address),
                event_id=facts.event_id(event),
            ),
            now,
        )
        if message is None:  # decided before: its file was kept then
            continue
        if report is not None:
            session.add(
                Attachment(
                    id=uuid.uuid4(),
                    message_id=message.id,
                    file_name=report.file_name,
                    content_type=report.content_type,
                    size=len(report.content),
                    content=report.content,
                )
            )
        elif message.status == "queued":
            await session.execute(
                update(Message)
                .where(Message.id == message.id)
                .values(status="failed", failure_reason=f"report file: {unreadable}")
            )
            message.status, message.failure_reason = "failed", f"report file: {unreadable}"
        queued.append(message)
    await session.flush()
    return queued


#: topic -> (consumer group, handler), for the app.
CONSUMERS: dict[str, tuple[str, Any]] = {
    DELIVERY_READY: ("notifications.report-deliveries", on_delivery_ready),
}
