"""Scheduled report mails (issue 16): one mail per recipient, the file attached, resent on retry.

The event is `reports.delivery_ready` as the contract between reports and notifications
states it; the mail is read back from a real local SMTP server (aiosmtpd).
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import func, select

from db.embedded import free_port
from subgraphs.notifications.app import PROJECTIONS
from subgraphs.notifications.channels import channels_from
from subgraphs.notifications.channels.base import AttachedFile, Outgoing
from subgraphs.notifications.channels.smtp import compose
from subgraphs.notifications.models import Attachment, Message, UserFact
from subgraphs.notifications.service import report_messages
from subgraphs.notifications.service.delivery import deliver_due

CSV = "Agent,Revenue\r\nJosé Ruíz,1200.50\r\nBo Chen,980.00\r\n".encode()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def delivery_ready(**payload: Any) -> dict[str, Any]:
    """The event as the consumer hands it over (reports' outbox row, read from its stream)."""
    values: dict[str, Any] = {
        "deliveryId": str(uuid.uuid4()),
        "scheduleId": str(uuid.uuid4()),
        "scheduleName": "Morning sales",
        "templateName": "Sales by agent",
        "ranAt": "2026-07-04T13:00:00+00:00",
        "rowCount": 2,
        "recipients": ["manager@demo.athena", "Owner@Acme.example", "owner@acme.example"],
        "format": "csv",
        "fileName": "sales-by-agent-2026-07-04.csv",
        "contentType": "text/csv",
        "contentBase64": base64.b64encode(CSV).decode(),
    }
    values.update(payload)
    return {
        "id": f"reports:{uuid.uuid4().int % 10**6}",
        "topic": report_messages.DELIVERY_READY,
        "payload": values,
        "occurredAt": datetime.now(UTC).isoformat(),
    }


async def handle(sessions: Any, event: dict[str, Any]) -> list[Message]:
    async with sessions() as session, session.begin():
        return await report_messages.on_delivery_ready(session, event)


async def stored(sessions: Any) -> list[tuple[Message, list[Attachment]]]:
    async with sessions() as session:
        messages = list(
            await session.scalars(select(Message).order_by(func.lower(Message.recipient)))
        )
        files = list(await session.scalars(select(Attachment)))
    return [(m, [f for f in files if f.message_id == m.id]) for m in messages]


def _smtp_settings(settings: Any, port: int) -> Any:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "smtp_use_tls": False,
            "smtp_username": "",
            "smtp_password": "",
            "smtp_timeout_seconds": 2.0,
            "notifications_tracking_secret": "t" * 40,
            "notifications_public_url": "https://athena.example",
            "notifications_max_attempts": 3,
            "notifications_retry_base_seconds": 30.0,
        }
    )


def attachments_of(raw: bytes) -> list[EmailMessage]:
    mail = message_from_bytes(raw, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    return list(mail.iter_attachments())


async def test_each_recipient_gets_one_mail_with_the_report_attached_even_when_redelivered(
    sessions: Any, default_templates: int
) -> None:
    async with sessions() as s, s.begin():
        s.add(
            UserFact(
                user_id=uuid.uuid4(),
                email="Manager@demo.athena",
                name="Morgan Lee",
                locale="en",
                as_of=datetime.now(UTC),
            )
        )
    event = delivery_ready()

    first = await handle(sessions, event)
    again = await handle(sessions, event)  # the outbox is at-least-once

    assert len(first) == 2  # the two spellings of owner@acme.example are one recipient
    assert again == []
    (manager, manager_files), (owner, owner_files) = await stored(sessions)
    assert (manager.recipient, manager.recipient_name) == ("manager@demo.athena", "Morgan Lee")
    assert (owner.recipient, owner.recipient_name) == ("Owner@Acme.example", None)
    for message, files in ((manager, manager_files), (owner, owner_files)):
        assert (message.kind, message.channel, message.status) == (
            "report_delivery",
            "email",
            "queued",
        )
        assert message.transactional is True
        assert message.idempotency_key == (
            f"report_delivery:{event['payload']['deliveryId']}:{message.recipient.lower()}"
        )
        assert message.subject == "Sales by agent report, Jul 4, 2026"
        assert "with 2 rows" in str(message.body_text)
        assert "sales-by-agent-2026-07-04.csv" in str(message.body_text)
        [attached] = files
        assert (attached.file_name, attached.content_type, attached.size) == (
            "sales-by-agent-2026-07-04.csv",
            "text/csv",
            len(CSV),
        )
        assert attached.content == CSV
    assert str(manager.body_text).startswith("Hello Morgan Lee,")
    assert str(owner.body_text).startswith("Hello there,")


async def test_the_worker_mails_the_file_and_sends_it_again_after_a_failed_attempt(
    settings: Any, sessions: Any, smtp: Any, default_templates: int
) -> None:
    inbox, port = smtp
    await handle(sessions, delivery_ready(recipients=["ops@acme.example"]))
    now = datetime.now(UTC)

    down = _smtp_settings(settings, free_port())  # nothing listens: a transient failure
    assert await deliver_due(sessions, channels_from(down), down, now=now) == 1
    [(message, _)] = await stored(sessions)
    assert (message.status, message.attempts) == ("queued", 1)

    up = _smtp_settings(settings, port)
    later = now + timedelta(hours=1)
    assert await deliver_due(sessions, channels_from(up), up, now=later) == 1

    [(message, _)] = await stored(sessions)
    assert (message.status, message.attempts) == ("sent", 2)
    [(_, recipients, raw)] = inbox.received
    assert recipients == ["ops@acme.example"]
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail.get_content_type() == "multipart/mixed"
    assert mail["Subject"] == "Sales by agent report, Jul 4, 2026"
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    assert "with 2 rows" in body.get_content()
    [attached] = attachments_of(raw)
    assert attached.get_filename() == "sales-by-agent-2026-07-04.csv"
    assert attached.get_content_type() == "text/csv"
    assert attached.get_payload(decode=True) == CSV


async def test_an_unreadable_file_fails_the_mails_with_the_reason(
    sessions: Any, default_templates: int
) -> None:
    await handle(sessions, delivery_ready(recipients=["ops@acme.example"], contentBase64="@@@"))
    await handle(sessions, delivery_ready(recipients=["ops@acme.example"], contentBase64=None))

    rows = await stored(sessions)
    assert [(m.status, files) for m, files in rows] == [("failed", []), ("failed", [])]
    assert sorted(str(m.failure_reason) for m, _ in rows) == [
        "report file: the event carries no file",
        "report file: the file is not base64: Only base64 data is allowed",
    ]


async def test_a_stale_or_recipientless_delivery_mails_nobody(
    sessions: Any, default_templates: int
) -> None:
    stale = delivery_ready()
    stale["occurredAt"] = (datetime.now(UTC) - timedelta(days=3)).isoformat()

    assert await handle(sessions, stale) == []
    assert await handle(sessions, delivery_ready(recipients=[])) == []
    assert await stored(sessions) == []


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        (XLSX, XLSX),
        ("application/pdf; name=x.pdf", "application/pdf"),
        ("text/csv\r\nBcc: x@evil.test", "application/octet-stream"),
        ("not a type", "application/octet-stream"),
    ],
)
def test_an_attachment_keeps_its_type_and_a_header_in_its_name_stays_in_the_name(
    content_type: str, expected: str
) -> None:
    outgoing = Outgoing(
        message_id=uuid.uuid4(),
        channel="email",
        recipient="ops@acme.example",
        recipient_name=None,
        subject="Report",
        text="Attached.",
        html="<p>Attached.</p>",
        attachments=(AttachedFile("q3\r\nBcc: x@evil.test.bin", content_type, b"\x00\x01"),),
    )
    raw = compose(outgoing, "Athena <no-reply@athena.example>").as_bytes()

    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Bcc"] is None
    [attached] = attachments_of(raw)
    assert attached.get_content_type() == expected
    assert attached.get_filename() == "q3 Bcc: x@evil.test.bin"
    assert attached.get_payload(decode=True) == b"\x00\x01"


def test_the_app_consumes_delivery_ready_with_the_report_mailer() -> None:
    assert PROJECTIONS[report_messages.DELIVERY_READY][1] is report_messages.on_delivery_ready
