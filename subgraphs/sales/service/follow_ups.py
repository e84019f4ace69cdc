"""Automated follow-ups: sales decides who is due one; notifications sends it.

Two silences call for a follow-up (issue 10, section 5):

- `quote_unanswered`: a lead converted into a charter quote that is still a
  quote (`charter_status` 'quote', or charters has not spoken yet) at least
  `quote_days` after the conversion. The silence began at `converted_at`,
  and the e-mail goes to the client's primary contact (the lead's own
  contact when the client has none).
- `lead_untouched`: an open lead whose latest touch (created, last contact
  or latest activity of any kind) is at least `lead_days` old. The silence
  began at that touch, and the e-mail goes to the lead's contact.

Each silence is announced once: a `follow_ups` row is unique per lead, kind
and `quiet_since`, inserted ON CONFLICT DO NOTHING, and only a row this run
inserted emits `sales.follow_up_due` (to the outbox, in the caller's
transaction: rolled-back work announces nothing). Concurrent runs wait on
the unique index, so two replicas still announce once. A new touch starts
a new silence, hence a later follow-up. Converted and lost leads are never
"untouched"; a booked or cancelled quote is no longer "unanswered".

Recipients' preferences, the channel and the wording are the notifications
subgraph's business (issue 12); the event carries what it needs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.kit.auditing import audit_row
from subgraphs.kit.outbox import emit
from subgraphs.sales.models import ClientContact, FollowUp, Lead, LeadActivity, LeadAudit, outbox
from subgraphs.sales.states import OPEN_LEAD_STATUSES

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

TOPIC = "sales.follow_up_due"
QUOTE_UNANSWERED = "quote_unanswered"
LEAD_UNTOUCHED = "lead_untouched"
#: The charter status (as charters announces it) that still awaits the client's answer.
STILL_A_QUOTE = "quote"


@dataclass(frozen=True)
class Decision:
    """One follow-up due: who it is about, whom to write to, since when it is quiet."""

    kind: str
    lead_id: uuid.UUID
    quiet_since: datetime
    agent_id: uuid.UUID | None
    client_id: uuid.UUID | None
    charter_id: uuid.UUID | None
    recipient_email: str | None
    recipient_name: str
    follow_up_id: uuid.UUID | None = None

    def event(self) -> dict[str, Any]:
        def text(value: uuid.UUID | None) -> str | None:
            return str(value) if value else None

        return {
            "followUpId": text(self.follow_up_id),
            "kind": self.kind,
            "leadId": str(self.lead_id),
            "clientId": text(self.client_id),
            "charterId": text(self.charter_id),
            "agentId": text(self.agent_id),
            "recipient": {"email": self.recipient_email, "name": self.recipient_name},
            "quietSince": self.quiet_since.isoformat(),
        }


def _not_announced(kind: str, quiet_since: Any) -> Any:
    return ~exists().where(
        FollowUp.lead_id == Lead.id, FollowUp.kind == kind, FollowUp.quiet_since == quiet_since
    )


def _lead_name(first: str, last: str) -> str:
    return f"{first} {last}".strip()


async def _unanswered_quotes(session: AsyncSession, cutoff: datetime) -> list[Decision]:
    primary = ClientContact
    stmt = (
        select(
            Lead.id,
            Lead.converted_at,
            Lead.agent_id,
            Lead.client_id,
            Lead.charter_id,
            Lead.first_name,
            Lead.last_name,
            Lead.email,
            primary.name.label("contact_name"),
            primary.email.label("contact_email"),
        )
        .outerjoin(primary, and_(primary.client_id == Lead.client_id, primary.is_primary))
        .where(
            Lead.status == "converted",
            Lead.charter_id.is_not(None),
            Lead.converted_at <= cutoff,
            or_(Lead.charter_status.is_(None), Lead.charter_status == STILL_A_QUOTE),
            _not_announced(QUOTE_UNANSWERED, Lead.converted_at),
        )
        .order_by(Lead.converted_at, Lead.id)
    )
    decisions = []
    for row in (await session.execute(stmt)).all():
        use_contact = row.contact_email is not None
        decisions.append(
            Decision(
                kind=QUOTE_UNANSWERED,
                lead_id=row.id,
                quiet_since=row.converted_at,
                agent_id=row.agent_id,
                client_id=row.client_id,
                charter_id=row.charter_id,
                recipient_email=row.contact_email if use_contact else row.email,
                recipient_name=(
                    row.contact_name if use_contact else _lead_name(row.first_name, row.last_name)
                ),
            )
        )
    return decisions


async def _untouched_leads(session: AsyncSession, cutoff: datetime) -> list[Decision]:
    latest_activity = (
        select(func.max(LeadActivity.at)).where(LeadActivity.lead_id == Lead.id).scalar_subquery()
    )
    # GREATEST skips NULLs: a lead never contacted is quiet since it was created.
    touched = func.greatest(Lead.created_at, Lead.last_contact_at, latest_activity)
    open_leads = (
        select(
            Lead.id,
            touched.label("quiet_since"),
            Lead.agent_id,
            Lead.client_id,
            Lead.charter_id,
            Lead.first_name,
            Lead.last_name,
            Lead.email,
        )
        .where(Lead.status.in_(sorted(OPEN_LEAD_STATUSES)))
        .subquery()
    )
    stmt = (
        select(open_leads)
        .where(
            open_leads.c.quiet_since <= cutoff,
            ~exists().where(
                FollowUp.lead_id == open_leads.c.id,
                FollowUp.kind == LEAD_UNTOUCHED,
                FollowUp.quiet_since == open_leads.c.quiet_since,
            ),
        )
        .order_by(open_leads.c.quiet_since, open_leads.c.id)
    )
    return [
        Decision(
            kind=LEAD_UNTOUCHED,
            lead_id=row.id,
            quiet_since=row.quiet_since,
            agent_id=row.agent_id,
            client_id=row.client_id,
            charter_id=row.charter_id,
            recipient_email=row.email,
            recipient_name=_lead_name(row.first_name, row.last_name),
        )
        for row in (await session.execute(stmt)).all()
    ]


async def decide(
    session: AsyncSession, *, now: datetime, quote_days: int, lead_days: int
) -> list[Decision]:
    """Record and announce every follow-up due at `now` not announced before.

    Returns the follow-ups this call recorded (a concurrent or earlier run's
    are not repeated). The caller owns the transaction.
    """
    if now.tzinfo is None:
        raise ValueError("`now` needs a time zone")
    candidates = [
        *await _unanswered_quotes(session, now - timedelta(days=quote_days)),
        *await _untouched_leads(session, now - timedelta(days=lead_days)),
    ]
    if not candidates:
        return []
    ids = {(d.lead_id, d.kind): uuid.uuid4() for d in candidates}
    inserted = await session.scalars(
        insert(FollowUp)
        .values(
            [
                {
                    "id": ids[(d.lead_id, d.kind)],
                    "lead_id": d.lead_id,
                    "kind": d.kind,
                    "quiet_since": d.quiet_since,
                    "client_id": d.client_id,
                    "charter_id": d.charter_id,
                }
                for d in candidates
            ]
        )
        .on_conflict_do_nothing(index_elements=["lead_id", "kind", "quiet_since"])
        .returning(FollowUp.id)
    )
    new = set(inserted.all())
    decided = []
    for candidate in candidates:
        follow_up_id = ids[(candidate.lead_id, candidate.kind)]
        if follow_up_id not in new:
            continue  # a concurrent run announced this silence first
        decision = replace(candidate, follow_up_id=follow_up_id)
        entry = audit_row(
            LeadAudit,
            None,  # the system decided, not a person
            None,
            {"follow_up_id": str(follow_up_id), "quiet_since": decision.quiet_since.isoformat()},
            lead_id=decision.lead_id,
            action=f"follow_up:{decision.kind}",
        )
        if entry is not None:
            session.add(entry)
        await emit(session, outbox, TOPIC, decision.event())
        decided.append(decision)
    await session.flush()
    return decided
