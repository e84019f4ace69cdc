"""Leads: the contact, the trip, the owning agent, the pipeline status, activities.

Every change is audited (`lead_audit`) and announced (`sales.lead_changed`).
Agents create leads they own and change only those; admins, managers and
sales support change any lead and assign it (`access`). Bad input is a user
error naming the field and changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.kit.outbox import emit
from subgraphs.kit.settings import get_settings
from subgraphs.sales.error_codes import SalesErrorCode as Code
from subgraphs.sales.models import ACTIVITY_TYPES, LEAD_SOURCES, Lead, LeadActivity, outbox
from subgraphs.sales.service import assignment, audit
from subgraphs.sales.service.access import (
    EDIT_LEADS,
    ensure_may_assign_lead,
    ensure_may_edit_lead,
    sees_every_lead,
)
from subgraphs.sales.service.contact_details import normal_email, normal_phone
from subgraphs.sales.states import LEAD

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

TOPIC = "sales.lead_changed"
#: The hot rule's trip window and group size (see `is_hot`).
HOT_WITHIN_DAYS = 30
HOT_MIN_PASSENGERS = 40
#: Activities that count as contacting the lead (`contactCount`, `lastContactAt`).
CONTACT_ACTIVITIES = frozenset({"call", "email", "meeting"})
MAX_PASSENGERS = 10_000
MAX_NOTES = 5000
TEXT_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "company": 200,
    "origin": 200,
    "destination": 200,
    "vehicle_type": 50,
    "notes": MAX_NOTES,
}
#: Service field names as the GraphQL input names them (for userErrors).
INPUT_NAMES = {
    "source": "source",
    "first_name": "firstName",
    "last_name": "lastName",
    "email": "email",
    "phone": "phone",
    "company": "company",
    "trip_date": "tripDate",
    "origin": "origin",
    "destination": "destination",
    "passengers": "passengers",
    "vehicle_type": "vehicleType",
    "notes": "notes",
    "agent_id": "agentId",
    "score": "score",
}
#: Fields that may not be cleared with an empty string.
REQUIRED = frozenset({"first_name", "last_name"})


def is_hot(lead: Any, today: date) -> bool:
    """Whether an open lead is hot: the hot rule, stated once.

    A lead is hot when the agent marked it so (`markLeadHot`), or when its
    trip date falls within `HOT_WITHIN_DAYS` (30) days from today (today
    included, in the operator's time zone) and it carries at least
    `HOT_MIN_PASSENGERS` (40) passengers. Converted and lost leads are never hot.
    """
    if lead.status not in LEAD.states or not LEAD.allowed(lead.status):
        return False
    if lead.marked_hot:
        return True
    return (
        lead.trip_date is not None
        and today <= lead.trip_date <= today + timedelta(days=HOT_WITHIN_DAYS)
        and (lead.passengers or 0) >= HOT_MIN_PASSENGERS
    )


def operator_today(zone: str, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(zone)).date()


def end_of_today(zone: str, now: datetime | None = None) -> datetime:
    """The first instant of tomorrow in the operator's time zone (follow-ups due before it)."""
    tomorrow = operator_today(zone, now) + timedelta(days=1)
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=ZoneInfo(zone))


def visible(stmt: Select[Any], viewer: Viewer) -> Select[Any]:
    """`stmt` over leads narrowed to the ones the viewer may read."""
    if sees_every_lead(viewer):
        return stmt
    if viewer.user_id is None:
        return stmt.where(Lead.id.is_(None))
    return stmt.where(Lead.agent_id == viewer.user_id)


@dataclass
class LeadDetails:
    """Editable lead fields; None means "leave as is" on update ("" clears text)."""

    source: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    trip_date: date | None = None
    origin: str | None = None
    destination: str | None = None
    passengers: int | None = None
    vehicle_type: str | None = None
    notes: str | None = None
    agent_id: uuid.UUID | None = None
    score: int | None = None


def normalise(d: LeadDetails, *, creating: bool) -> tuple[LeadDetails, list[Problem]]:
    """The details in stored form (trimmed, e-mail lower-case, phone E.164) and the problems."""
    problems: list[Problem] = []
    out = LeadDetails(**{f.name: getattr(d, f.name) for f in fields(d)})
    for name in REQUIRED:
        if (creating or getattr(d, name) is not None) and not (getattr(d, name) or "").strip():
            problems.append(Problem(Code.REQUIRED, "Required.", INPUT_NAMES[name]))
    for name, limit in TEXT_LIMITS.items():
        value = getattr(d, name)
        if value is None:
            continue
        value = value.strip()
        if len(value) > limit:
            problems.append(
                Problem(Code.TOO_LONG, f"Longer than {limit} characters.", INPUT_NAMES[name])
            )
        setattr(out, name, value)
    if creating and d.source is None:
        problems.append(Problem(Code.REQUIRED, "Source is required.", "source"))
    if d.source is not None and d.source not in LEAD_SOURCES:
        problems.append(Problem(Code.INVALID, f"Unknown source {d.source!r}.", "source"))
    for name, rule in (("email", normal_email), ("phone", normal_phone)):
        value = getattr(d, name)
        if value is None:
            continue
        if not value.strip():
            setattr(out, name, "")
            continue
        result = rule(value, name)
        if isinstance(result, Problem):
            problems.append(result)
        else:
            setattr(out, name, result)
    if creating and not (out.email or out.phone):
        problems.append(Problem(Code.REQUIRED, "An e-mail or a phone number is required.", "email"))
    if d.passengers is not None and not 1 <= d.passengers <= MAX_PASSENGERS:
        problems.append(
            Problem(
                Code.OUT_OF_RANGE, f"Passengers are between 1 and {MAX_PASSENGERS}.", "passengers"
            )
        )
    if d.score is not None and not 0 <= d.score <= 100:
        problems.append(Problem(Code.OUT_OF_RANGE, "Score is between 0 and 100.", "score"))
    return out, problems


def _apply(lead: Lead, d: LeadDetails) -> None:
    for f in fields(d):
        value = getattr(d, f.name)
        if value is None or f.name == "agent_id":
            continue
        if isinstance(value, str):
            value = value or None
        setattr(lead, f.name, value)


async def get(
    session: AsyncSession, lead_id: uuid.UUID, *, lock: bool = False, field: str = "id"
) -> Lead:
    stmt = select(Lead).where(Lead.id == lead_id)
    if lock:
        stmt = stmt.with_for_update()
    lead = await session.scalar(stmt)
    if lead is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Lead {lead_id} does not exist.", field)
    return lead


async def announce(session: AsyncSession, lead: Lead, action: str) -> None:
    """`sales.lead_changed`: the lead's pipeline facts now, for other subgraphs."""
    await emit(
        session,
        outbox,
        TOPIC,
        {
            "leadId": str(lead.id),
            "action": action,
            "status": lead.status,
            "source": lead.source,
            "agentId": str(lead.agent_id) if lead.agent_id else None,
        },
    )


def ensure_role(actor: Viewer) -> None:
    if not actor.has_any_role(*EDIT_LEADS):
        raise ServiceError.of(Code.FORBIDDEN, "Your role cannot change leads.")


async def _editable(
    session: AsyncSession, lead_id: uuid.UUID, actor: Viewer, field: str = "id"
) -> Lead:
    """`field`: the mutation's argument naming the lead (`id`, or `leadId`)."""
    ensure_role(actor)
    lead = await get(session, lead_id, lock=True, field=field)
    ensure_may_edit_lead(actor, lead.agent_id, field)
    return lead


async def _audited(
    session: AsyncSession,
    lead: Lead,
    action: str,
    actor: Viewer,
    before: dict[str, Any] | None,
    event: str,
) -> None:
    await session.flush()
    if audit.record_lead(
        session,
        lead_id=lead.id,
        action=action,
        actor=actor,
        before=before,
        after=audit.row_snapshot(lead),
    ):
        await announce(session, lead, event)


async def create(
    session: AsyncSession,
    details: LeadDetails,
    actor: Viewer,
    *,
    now: datetime | None = None,
    zone: str | None = None,
) -> Lead:
    """A new lead: a sales agent's is its own; staff name an agent or let `assignment` choose.

    `now` and `zone` (default: the clock and the operator's time zone) date
    the assignment and the queue's daily count.
    """
    ensure_role(actor)
    if details.agent_id is None and not sees_every_lead(actor):
        details.agent_id = actor.user_id
    ensure_may_assign_lead(actor, details.agent_id, "agentId")
    clean, problems = normalise(details, creating=True)
    if problems:
        raise ServiceError(problems)
    lead = Lead(
        id=uuid.uuid4(),
        status="new",
        score=0,
        marked_hot=False,
        contact_count=0,
    )
    _apply(lead, clean)
    await assignment.assign_new(
        session,
        lead,
        details.agent_id,
        actor,
        now=now or datetime.now(UTC),
        zone=zone or get_settings().operator_time_zone,
    )
    session.add(lead)
    await _audited(session, lead, "create", actor, None, "created")
    return lead


async def update(
    session: AsyncSession, lead_id: uuid.UUID, details: LeadDetails, actor: Viewer
) -> Lead:
    lead = await _editable(session, lead_id, actor)
    if details.agent_id is not None and details.agent_id != lead.agent_id:
        ensure_may_assign_lead(actor, details.agent_id, "agentId")
    clean, problems = normalise(details, creating=False)
    if problems:
        raise ServiceError(problems)
    before = audit.row_snapshot(lead)
    _apply(lead, clean)
    if details.agent_id is not None and details.agent_id != lead.agent_id:
        await assignment.assign_manually(session, lead, details.agent_id, datetime.now(UTC))
    if not (lead.email or lead.phone):
        raise ServiceError.of(Code.REQUIRED, "An e-mail or a phone number is required.", "email")
    await _audited(session, lead, "update", actor, before, "updated")
    return lead


def _activity(lead: Lead, kind: str, actor: Viewer, at: datetime, **extra: Any) -> LeadActivity:
    return LeadActivity(
        id=uuid.uuid4(),
        lead_id=lead.id,
        activity_type=kind,
        actor_id=actor.user_id,
        impersonator_id=actor.impersonator_id,
        at=at,
        **extra,
    )


async def set_status(
    session: AsyncSession,
    lead_id: uuid.UUID,
    status: str,
    reason: str | None,
    actor: Viewer,
) -> Lead:
    """Move along `states.LEAD`; LOST needs a reason. Writes a status_change activity."""
    lead = await _editable(session, lead_id, actor)
    if status == "converted":
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            "A lead is converted by convertLead, which creates its client and quote.",
            "status",
        )
    LEAD.check(lead.status, status)
    reason = (reason or "").strip() or None
    if status == "lost" and reason is None:
        raise ServiceError.of(Code.REQUIRED, "A lost lead needs a reason.", "reason")
    if reason is not None and len(reason) > 500:
        raise ServiceError.of(Code.TOO_LONG, "Longer than 500 characters.", "reason")
    before = audit.row_snapshot(lead)
    previous = lead.status
    lead.status = status
    if status == "lost":
        lead.lost_reason = reason
    session.add(
        _activity(
            lead,
            "status_change",
            actor,
            datetime.now(UTC),
            from_status=previous,
            to_status=status,
            notes=reason,
        )
    )
    await _audited(session, lead, f"status:{status}", actor, before, "status_changed")
    return lead


@dataclass
class ActivityInput:
    kind: str
    notes: str | None = None
    next_follow_up_at: datetime | None = None


async def log_activity(
    session: AsyncSession, lead_id: uuid.UUID, given: ActivityInput, actor: Viewer
) -> tuple[LeadActivity, Lead]:
    """Record a call, e-mail, meeting or note; contacts update the lead's counters.

    A given `next_follow_up_at` becomes the lead's next follow-up.
    """
    lead = await _editable(session, lead_id, actor, "leadId")
    problems: list[Problem] = []
    if given.kind not in ACTIVITY_TYPES or given.kind == "status_change":
        problems.append(
            Problem(Code.INVALID, "Status changes are recorded by setLeadStatus.", "type")
        )
    notes = (given.notes or "").strip() or None
    if notes is not None and len(notes) > MAX_NOTES:
        problems.append(Problem(Code.TOO_LONG, f"Longer than {MAX_NOTES} characters.", "notes"))
    if given.kind == "note" and notes is None:
        problems.append(Problem(Code.REQUIRED, "A note needs its text.", "notes"))
    follow_up = given.next_follow_up_at
    if follow_up is not None and follow_up.tzinfo is None:
        problems.append(Problem(Code.INVALID, "Give a time zone offset.", "nextFollowUpAt"))
    if problems:
        raise ServiceError(problems)
    before = audit.row_snapshot(lead)
    now = datetime.now(UTC)
    activity = _activity(lead, given.kind, actor, now, notes=notes)
    session.add(activity)
    if given.kind in CONTACT_ACTIVITIES:
        lead.contact_count += 1
        lead.last_contact_at = now
    if follow_up is not None:
        lead.next_follow_up_at = follow_up
    await _audited(session, lead, f"activity:{given.kind}", actor, before, "activity_logged")
    return activity, lead


async def mark_hot(session: AsyncSession, lead_id: uuid.UUID, hot: bool, actor: Viewer) -> Lead:
    """The agent's explicit mark (the other half of `is_hot`)."""
    lead = await _editable(session, lead_id, actor)
    before = audit.row_snapshot(lead)
    lead.marked_hot = hot
    await _audited(session, lead, "mark_hot" if hot else "unmark_hot", actor, before, "updated")
    return lead
