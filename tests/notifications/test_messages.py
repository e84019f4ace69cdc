"""Deciding a message: once per key, preferences applied once, rendered when decided."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from subgraphs.notifications.models import Message, Template, TemplateVersion
from subgraphs.notifications.service.catalogue import KINDS
from subgraphs.notifications.service.messages import Decision, Recipient, queue
from subgraphs.notifications.service.preferences import Preferences

NOW = datetime.now(UTC)


def _decision(kind: str = "deposit_reminder", **more) -> Decision:
    values = {
        "kind": kind,
        "channel": "email",
        "recipient": Recipient(address="ops@acme.example", name="Acme Travel", locale="en_US"),
        "variables": dict(KINDS[kind].sample),
        "event_id": str(uuid.uuid4()),
        "client_id": uuid.uuid4(),
        **more,
    }
    return Decision(**values)


async def test_a_decision_is_rendered_with_the_current_version_and_queued(
    sessions, default_templates
) -> None:
    async with sessions() as s, s.begin():
        row = await queue(s, _decision(), NOW)
    assert row is not None
    assert row.status == "queued"
    assert row.template_version == 1
    assert row.subject
    assert "$" in (row.body_text or "")  # money formatted for en_US
    assert row.transactional is False


async def test_the_same_event_twice_decides_one_message_even_at_once(
    sessions, default_templates
) -> None:
    decision = _decision()

    async def once() -> Message | None:
        async with sessions() as s, s.begin():
            return await queue(s, decision, NOW)

    results = await asyncio.gather(*(once() for _ in range(5)))
    assert sum(r is not None for r in results) == 1
    async with sessions() as s:
        count = await s.scalar(
            select(func.count()).where(Message.idempotency_key == decision.idempotency_key)
        )
    assert count == 1


async def test_an_opted_out_recipient_is_logged_as_suppressed_with_the_reason(
    sessions, default_templates
) -> None:
    off = Recipient(address="ops@acme.example", preferences=Preferences(reminders=False))
    async with sessions() as s, s.begin():
        row = await queue(s, _decision(recipient=off), NOW)
    assert row is not None
    assert (row.status, row.failure_reason) == (
        "suppressed",
        "opted out of reminders (or of e-mail)",
    )
    assert row.body_text is None


async def test_transactional_kinds_ignore_topic_and_email_opt_outs(
    sessions, default_templates
) -> None:
    everything_off = Preferences(
        quotes=False, reminders=False, follow_ups=False, marketing=False, email=False
    )
    recipient = Recipient(address="ops@acme.example", preferences=everything_off)
    async with sessions() as s, s.begin():
        row = await queue(s, _decision("payment_receipt", recipient=recipient), NOW)
    assert row is not None
    assert row.status == "queued"
    assert row.transactional is True


async def test_sms_without_opt_in_is_suppressed(sessions, default_templates) -> None:
    phone = Recipient(address="+13125550100")
    async with sessions() as s, s.begin():
        row = await queue(s, _decision(channel="sms", recipient=phone), NOW)
    assert row is not None
    assert row.status == "suppressed"


async def test_a_template_that_fails_to_render_is_failed_once_not_retried(
    sessions, default_templates
) -> None:
    variables = dict(KINDS["deposit_reminder"].sample)
    variables.pop(next(iter(variables)))  # a variable the template needs is missing
    async with sessions() as s, s.begin():
        row = await queue(s, _decision(variables=variables), NOW)
    assert row is not None
    assert row.status == "failed"
    assert (row.failure_reason or "").startswith("template: ")
    assert row.attempts == 0


async def test_a_kind_without_a_template_in_the_database_fails_with_the_reason(sessions) -> None:
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Template)) == 0
        assert await s.scalar(select(func.count()).select_from(TemplateVersion)) == 0
    async with sessions() as s, s.begin():
        row = await queue(s, _decision(), NOW)
    assert row is not None
    assert row.status == "failed"


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_every_kind_against_every_opt_out(sessions, default_templates, kind: str) -> None:
    """Everything switched off: only transactional kinds still go out (by e-mail); every other
    kind is suppressed. And with the defaults, every kind goes out."""
    everything_off = Preferences(
        quotes=False, reminders=False, follow_ups=False, marketing=False, email=False
    )
    off = Recipient(address="ops@acme.example", locale="en_US", preferences=everything_off)
    on = Recipient(address="ops@acme.example", locale="en_US")
    async with sessions() as s, s.begin():
        muted = await queue(s, _decision(kind, recipient=off), NOW)
        heard = await queue(s, _decision(kind, recipient=on), NOW)
    assert muted is not None
    assert heard is not None
    expected = "queued" if KINDS[kind].transactional else "suppressed"
    assert muted.status == expected, muted.failure_reason
    assert heard.status == "queued", heard.failure_reason
