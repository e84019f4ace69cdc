"""Deciding a message: once per event, kind, channel and recipient; rendered when decided.

The consumers of other subgraphs' events (and the reminder jobs) say what
should be sent to whom (`Decision`); this module turns that into a row of
the delivery log, in the consumer's transaction:

- the idempotency key is unique, so an event delivered twice (the outbox is
  at-least-once) or a job run twice decides nothing new;
- the recipient's preferences are applied here, once (`preferences.allows`):
  an opted-out message is logged as `suppressed` with the reason, so staff
  can see why a client heard nothing;
- the template is rendered now, with the version current now (kept on the
  row): a template that fails to render is logged as `failed` with the
  reason and never retried, rather than retried forever by the worker.

Sending is the delivery worker's (`service/delivery.py`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.notifications.models import Message
from subgraphs.notifications.service.catalogue import KINDS
from subgraphs.notifications.service.preferences import Preferences, allows
from subgraphs.notifications.service.templates import TemplateError, render

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class Recipient:
    """Whom a message goes to: an e-mail address or an E.164 phone, and their choices."""

    address: str
    name: str | None = None
    user_id: uuid.UUID | None = None
    locale: str = "en"
    preferences: Preferences = field(default_factory=Preferences)


@dataclass(frozen=True, slots=True)
class Decision:
    """One message the business should send, and what it is about."""

    kind: str
    channel: str
    recipient: Recipient
    variables: dict[str, Any]
    #: what makes it one message: `<event id>:<kind>:<channel>:<recipient>` by default
    key: str | None = None
    event_id: str | None = None
    client_id: uuid.UUID | None = None
    charter_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    vendor_id: uuid.UUID | None = None

    @property
    def idempotency_key(self) -> str:
        if self.key:
            return self.key
        if not self.event_id:
            raise ValueError("a decision needs an event id or its own key")
        return f"{self.event_id}:{self.kind}:{self.channel}:{self.recipient.address.lower()}"


async def queue(session: AsyncSession, decision: Decision, now: datetime) -> Message | None:
    """Log the decision (queued, suppressed or failed); None when it was decided before."""
    kind = KINDS[decision.kind]
    recipient = decision.recipient
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "idempotency_key": decision.idempotency_key,
        "kind": decision.kind,
        "channel": decision.channel,
        "recipient": recipient.address,
        "recipient_name": recipient.name,
        "recipient_user_id": recipient.user_id,
        "locale": recipient.locale,
        "transactional": kind.transactional,
        "client_id": decision.client_id,
        "charter_id": decision.charter_id,
        "lead_id": decision.lead_id,
        "vendor_id": decision.vendor_id,
        "event_id": decision.event_id,
        "variables": decision.variables,
        "status": "queued",
        "next_attempt_at": now,
    }
    if decision.channel not in kind.channels:
        values |= {
            "status": "failed",
            "failure_reason": f"{decision.kind} has no {decision.channel}",
        }
    elif not allows(
        recipient.preferences, kind.topic, decision.channel, transactional=kind.transactional
    ):
        values |= {
            "status": "suppressed",
            "failure_reason": _opted_out(kind.topic, decision.channel),
        }
    else:
        try:
            rendered = await render(
                session, decision.kind, decision.channel, recipient.locale, decision.variables
            )
        except TemplateError as error:
            values |= {"status": "failed", "failure_reason": f"template: {error.reason}"}
        else:
            values |= {
                "template_id": rendered.template_id,
                "template_version": rendered.version,
                "subject": rendered.subject,
                "body_text": rendered.text,
                "body_html": rendered.html,
            }
    inserted = await session.scalar(
        insert(Message)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Message.idempotency_key])
        .returning(Message.id)
    )
    if inserted is None:
        return None
    return await session.scalar(select(Message).where(Message.id == inserted))


def _opted_out(topic: str | None, channel: str) -> str:
    if channel == "sms":
        return "no SMS opt-in (or no phone)" if topic is None else f"no SMS opt-in, or {topic} off"
    return "e-mail off" if topic is None else f"opted out of {topic} (or of e-mail)"
