"""The delivery worker against a real local SMTP server: at most once, retried, never resent."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

import pytest
from sqlalchemy import select

from db.embedded import free_port
from subgraphs.notifications.channels import channels_from
from subgraphs.notifications.models import Message
from subgraphs.notifications.service.delivery import (
    STALE_AFTER,
    UNKNOWN_OUTCOME,
    backoff,
    deliver_due,
)
from subgraphs.notifications.service.tracking import record as record_tracking


def _settings(settings, port: int, **more: Any):
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "smtp_use_tls": False,
            "smtp_timeout_seconds": 2.0,
            "notifications_tracking_secret": "t" * 40,
            "notifications_public_url": "https://athena.example",
            "notifications_max_attempts": 3,
            "notifications_retry_base_seconds": 30.0,
            **more,
        }
    )


@pytest.fixture
def queued(sessions) -> Any:
    async def write(n: int = 1, **values: Any) -> list[uuid.UUID]:
        ids = []
        async with sessions() as s, s.begin():
            for i in range(n):
                row = Message(
                    idempotency_key=f"test:{uuid.uuid4()}",
                    kind="booking_confirmed",
                    channel=values.get("channel", "email"),
                    recipient=values.get("recipient", f"client{i}@acme.example"),
                    recipient_name="Acme Travel",
                    status=values.get("status", "queued"),
                    subject="Your trip is booked",
                    body_text="See you on the 4th.",
                    body_html=values.get(
                        "body_html",
                        '<html><body><a href="https://portal.example/t/1">trip</a></body></html>',
                    ),
                    variables={},
                    next_attempt_at=values.get("next_attempt_at", datetime.now(UTC)),
                    claimed_at=values.get("claimed_at"),
                )
                s.add(row)
                await s.flush()
                ids.append(row.id)
        return ids

    return write


async def _rows(sessions, ids: list[uuid.UUID]) -> list[Message]:
    async with sessions() as s:
        found = {m.id: m for m in await s.scalars(select(Message).where(Message.id.in_(ids)))}
    return [found[i] for i in ids]


async def test_a_queued_message_is_sent_once_with_tracking_and_recorded(
    settings, sessions, smtp, queued
) -> None:
    inbox, port = smtp
    config = _settings(settings, port)
    [mid] = await queued()

    assert await deliver_due(sessions, channels_from(config), config) == 1
    assert await deliver_due(sessions, channels_from(config), config) == 0

    [row] = await _rows(sessions, [mid])
    assert row.status == "sent"
    assert row.attempts == 1
    assert row.sent_at is not None
    assert row.provider_message_id == f"<{mid}@athena.local>"
    assert len(inbox.received) == 1
    mail = message_from_bytes(inbox.received[0][2], policy=policy.default)
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "https://athena.example/track/click/" in html
    assert "https://athena.example/track/open/" in html
    assert "https://portal.example/t/1" not in html  # only inside the signed token


async def test_a_transient_failure_is_retried_with_backoff_then_fails(
    settings, sessions, queued
) -> None:
    config = _settings(settings, free_port())  # nothing listens: connection refused
    [mid] = await queued()
    now = datetime.now(UTC)

    await deliver_due(sessions, channels_from(config), config, now=now)
    [row] = await _rows(sessions, [mid])
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.next_attempt_at >= now + backoff(config, 1) - timedelta(seconds=1)
    # not due again before its time
    assert await deliver_due(sessions, channels_from(config), config, now=now) == 0

    later = now + timedelta(days=1)
    await deliver_due(sessions, channels_from(config), config, now=later)
    await deliver_due(sessions, channels_from(config), config, now=later + timedelta(days=1))
    [row] = await _rows(sessions, [mid])
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.failure_reason


async def test_backoff_doubles() -> None:
    from subgraphs.kit.settings import Settings

    config = Settings(notifications_retry_base_seconds=10)
    assert [backoff(config, n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]


async def test_a_refused_recipient_fails_at_once(settings, sessions, smtp, queued) -> None:
    inbox, port = smtp
    config = _settings(settings, port)
    [mid] = await queued(recipient="nobody@athena.example")
    await deliver_due(sessions, channels_from(config), config)
    [row] = await _rows(sessions, [mid])
    assert (row.status, row.attempts) == ("failed", 1)
    assert inbox.received == []


async def test_a_message_left_sending_by_a_dead_worker_is_never_resent(
    settings, sessions, smtp, queued
) -> None:
    inbox, port = smtp
    config = _settings(settings, port)
    now = datetime.now(UTC)
    [stale] = await queued(status="sending", claimed_at=now - STALE_AFTER - timedelta(seconds=1))
    [fresh] = await queued(status="sending", claimed_at=now - timedelta(seconds=5))

    await deliver_due(sessions, channels_from(config), config, now=now)

    stale_row, fresh_row = await _rows(sessions, [stale, fresh])
    assert (stale_row.status, stale_row.failure_reason) == ("failed", UNKNOWN_OUTCOME)
    assert fresh_row.status == "sending"  # its worker may still be recording it
    assert inbox.received == []


async def test_two_workers_at_once_send_each_message_once(settings, sessions, smtp, queued) -> None:
    inbox, port = smtp
    config = _settings(settings, port)
    ids = await queued(30)
    channels = channels_from(config)
    counts = await asyncio.gather(
        *(deliver_due(sessions, channels, config, limit=10) for _ in range(4))
    )
    while sum(counts) < 30 and (more := await deliver_due(sessions, channels, config)):
        counts.append(more)
    assert sum(counts) == 30
    assert sorted(to[0] for _, to, _ in inbox.received) == sorted(
        f"client{i}@acme.example" for i in range(30)
    )
    assert {r.status for r in await _rows(sessions, ids)} == {"sent"}


async def test_sms_without_twilio_configured_fails_with_the_reason(
    settings, sessions, smtp, queued
) -> None:
    _, port = smtp
    config = _settings(settings, port)
    [mid] = await queued(channel="sms", recipient="+13125550100", body_html=None)
    await deliver_due(sessions, channels_from(config), config)
    [row] = await _rows(sessions, [mid])
    assert (row.status, row.failure_reason) == ("failed", "no sms channel configured")


async def test_an_open_before_the_record_is_kept(settings, sessions, queued) -> None:
    """The pixel can beat the worker's record: the message then reads `opened`, not `sent`."""
    from subgraphs.notifications.service.delivery import record

    [mid] = await queued(status="sending", claimed_at=datetime.now(UTC))
    async with sessions() as s, s.begin():
        await record_tracking(s, mid, "open", "", "203.0.113.9", "Mail/1.0", datetime.now(UTC))
    async with sessions() as s, s.begin():
        await record(s, mid, {"status": "sent", "sent_at": datetime.now(UTC)})
    [row] = await _rows(sessions, [mid])
    assert row.status == "opened"
    assert row.opened_at is not None
