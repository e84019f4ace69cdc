"""Templates in the database: the shipped defaults, admins' new versions, rendering and previews.

A template is one kind on one channel in one locale; its text lives in
versions that are never edited (a change is a new version, which becomes
current), so a message in the delivery log can always be traced to the
exact text it was rendered from (`Message.template_version`), and the
version row, with `created_by`, is the audit of who wrote what.

A message is rendered in its reader's locale: the template of that locale
if there is one, else of its language (`de` for `de_AT`), else English;
money and times are formatted in the reader's locale either way.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.kit.outbox import emit
from subgraphs.notifications.defaults import default_source
from subgraphs.notifications.error_codes import NotificationsErrorCode as Code
from subgraphs.notifications.models import Template, TemplateAudit, TemplateVersion, outbox
from subgraphs.notifications.service.catalogue import KINDS, Kind
from subgraphs.notifications.service.rendering import (
    RenderError,
    check,
    normalise_locale,
    render_text,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.context import Services

log = logging.getLogger(__name__)

#: the locale every kind has a template in (the shipped defaults)
BASE_LOCALE = "en"
#: Twilio refuses a longer body (error 21617), so such a template could never be sent
SMS_MAX_CHARACTERS = 1600
TEMPLATE_CHANGED = "notifications.template_changed"


@dataclass(frozen=True, slots=True)
class Rendered:
    template_id: uuid.UUID
    version: int
    subject: str | None
    html: str | None
    text: str


class TemplateError(Exception):
    """No template to render with, or one that fails with these values: `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TemplateNotFound(TemplateError):
    """The template or version asked for does not exist (a preview's unknown id)."""


def locale_chain(locale: str | None) -> list[str]:
    """The locales to look for a template in, best first: `de_AT` -> de_AT, de, en."""
    exact = normalise_locale(locale)
    chain = [exact, exact.split("_")[0], BASE_LOCALE]
    return list(dict.fromkeys(chain))


def _render_parts(
    kind: str, channel: str, row: TemplateVersion, variables: dict[str, Any], locale: str
) -> tuple[str | None, str | None, str]:
    try:
        text = render_text(row.text, variables, locale=locale, html=False)
        if channel == "sms":
            return None, None, text.strip()
        subject = None
        if row.subject is not None:
            # One header line whatever a value holds: a newline in a subject is header injection.
            subject = " ".join(
                render_text(row.subject, variables, locale=locale, html=False).split()
            )
        html = render_text(row.html, variables, locale=locale, html=True) if row.html else None
    except RenderError as exc:
        raise TemplateError(f"{kind}/{channel} version {row.version}: {exc}") from exc
    return subject, html, text


async def _find(
    session: AsyncSession, kind: str, channel: str, locale: str | None
) -> Template | None:
    chain = locale_chain(locale)
    found = {
        t.locale: t
        for t in await session.scalars(
            select(Template).where(
                Template.kind == kind, Template.channel == channel, Template.locale.in_(chain)
            )
        )
    }
    return next((found[code] for code in chain if code in found), None)


def _kind(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise TemplateError(f"{name} is not a kind of message")
    return kind


async def render(
    session: AsyncSession, kind: str, channel: str, locale: str, variables: dict[str, Any]
) -> Rendered:
    """The message `kind` on `channel` for a reader in `locale`, with its current version."""
    if channel not in _kind(kind).channels:
        raise TemplateError(f"{kind} is not sent by {channel}")
    chain = locale_chain(locale)
    rows = (
        await session.execute(
            select(Template, TemplateVersion)
            .join(
                TemplateVersion,
                and_(
                    TemplateVersion.template_id == Template.id,
                    TemplateVersion.version == Template.current_version,
                ),
            )
            .where(Template.kind == kind, Template.channel == channel, Template.locale.in_(chain))
        )
    ).all()
    by_locale = {template.locale: (template, version) for template, version in rows}
    best = next((by_locale[code] for code in chain if code in by_locale), None)
    if best is None:
        raise TemplateError(f"no {channel} template for {kind} in {', '.join(chain)}")
    template, version = best
    if not template.active:
        raise TemplateError(f"the {template.locale} {channel} template for {kind} is inactive")
    subject, html, text = _render_parts(kind, channel, version, variables, locale)
    return Rendered(template.id, version.version, subject, html, text)


def _template_name(kind: Kind, channel: str) -> str:
    return (
        f"{kind.name.replace('_', ' ').capitalize()} ({'e-mail' if channel == 'email' else 'SMS'})"
    )


async def install_defaults(session: AsyncSession) -> int:
    """Create the shipped template of every kind and channel that has none yet; how many it made.

    Never touches an existing template (an admin's edits stay). Two processes
    starting at once both try every row: the unique (kind, channel, locale)
    makes the second insert of each a no-op, waiting for the first to commit,
    so each template and its version 1 exist exactly once.
    """
    rows: list[dict[str, Any]] = []
    sources: dict[tuple[str, str], Any] = {}
    for kind in KINDS.values():
        for channel in kind.channels:
            sources[(kind.name, channel)] = default_source(kind.name, channel)
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "kind": kind.name,
                    "channel": channel,
                    "locale": BASE_LOCALE,
                    "name": _template_name(kind, channel),
                    "description": kind.description,
                    "current_version": 1,
                    "active": True,
                }
            )
    # One order for every process, so concurrent installs wait on each other, never deadlock.
    rows.sort(key=lambda r: (r["kind"], r["channel"]))
    created = (
        await session.execute(
            insert(Template)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["kind", "channel", "locale"])
            .returning(Template.id, Template.kind, Template.channel)
        )
    ).all()
    if created:
        await session.execute(
            insert(TemplateVersion).values(
                [
                    {
                        "id": uuid.uuid4(),
                        "template_id": template_id,
                        "version": 1,
                        "subject": sources[(kind, channel)].subject,
                        "html": sources[(kind, channel)].html,
                        "text": sources[(kind, channel)].text,
                        "created_by": None,
                    }
                    for template_id, kind, channel in created
                ]
            )
        )
    return len(created)


def _blank(value: str | None) -> str | None:
    return value if value is not None and value.strip() else None


def _validate(
    kind: Kind, channel: str, subject: str | None, html: str | None, text: str | None
) -> list[Problem]:
    problems: list[Problem] = []
    if channel == "sms":
        problems += [
            Problem(Code.INVALID, "An SMS template has only text.", field)
            for field, value in (("subject", subject), ("html", html))
            if value is not None
        ]
    elif subject is None:
        problems.append(Problem(Code.REQUIRED, "An e-mail needs a subject.", "subject"))
    if text is None:
        problems.append(Problem(Code.REQUIRED, "Every template needs a text part.", "text"))
    allowed = set(kind.variables)
    for field, source in (("subject", subject), ("html", html), ("text", text)):
        if source is not None:
            problems += [
                Problem(Code.TEMPLATE_INVALID, problem, field) for problem in check(source, allowed)
            ]
    return problems


def _sample_problems(
    kind: Kind, channel: str, subject: str | None, html: str | None, text: str
) -> list[Problem]:
    """What the check cannot see: a filter on a value of the wrong type, an SMS too long."""
    problems: list[Problem] = []
    rendered: dict[str, str] = {}
    for field, source, as_html in (
        ("subject", subject, False),
        ("html", html, True),
        ("text", text, False),
    ):
        if source is None:
            continue
        try:
            rendered[field] = render_text(source, kind.sample, locale=BASE_LOCALE, html=as_html)
        except RenderError as exc:
            problems.append(
                Problem(Code.TEMPLATE_INVALID, f"Does not render with the sample: {exc}", field)
            )
    sms = rendered.get("text", "").strip() if channel == "sms" else ""
    if len(sms) > SMS_MAX_CHARACTERS:
        problems.append(
            Problem(
                Code.TEMPLATE_INVALID,
                f"With the sample it is {len(sms)} characters; an SMS carries at most "
                f"{SMS_MAX_CHARACTERS}.",
                "text",
            )
        )
    return problems


async def publish_version(
    session: AsyncSession,
    template_id: uuid.UUID,
    *,
    subject: str | None,
    html: str | None,
    text: str | None,
    actor: uuid.UUID | None,
) -> TemplateVersion:
    """A new version of the template, current from now on; refused whole if any part is wrong."""
    template = await session.scalar(
        select(Template).where(Template.id == template_id).with_for_update()
    )
    if template is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such template.", "templateId")
    kind = KINDS.get(template.kind)
    if kind is None:
        raise ServiceError.of(
            Code.INVALID, f"{template.kind} is no longer a kind of message.", "templateId"
        )
    subject, html, text = _blank(subject), _blank(html), _blank(text)
    problems = _validate(kind, template.channel, subject, html, text)
    if not problems and text is not None:
        problems = _sample_problems(kind, template.channel, subject, html, text)
    if problems or text is None:
        raise ServiceError(problems)
    # The row lock above serialises publishers of one template; the unique
    # (template_id, version) would refuse a duplicate number anyway.
    latest = await session.scalar(
        select(func.max(TemplateVersion.version)).where(TemplateVersion.template_id == template.id)
    )
    version = TemplateVersion(
        template_id=template.id,
        version=(latest or 0) + 1,
        subject=subject,
        html=html,
        text=text,
        created_by=actor,
    )
    session.add(version)
    before = template.current_version
    template.current_version = version.version
    await session.flush()
    await _changed(
        session,
        template,
        "published",
        {"currentVersion": before},
        {"currentVersion": version.version},
        actor,
    )
    return version


async def set_active(
    session: AsyncSession, template_id: uuid.UUID, active: bool, *, actor: uuid.UUID | None
) -> Template:
    """Switch a template on or off; an inactive one fails its messages with a reason in the log."""
    template = await session.scalar(
        select(Template).where(Template.id == template_id).with_for_update()
    )
    if template is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such template.", "templateId")
    if template.active != active:
        template.active = active
        await session.flush()
        change = "activated" if active else "deactivated"
        await _changed(session, template, change, {"active": not active}, {"active": active}, actor)
    return template


async def _changed(
    session: AsyncSession,
    template: Template,
    change: str,
    before: dict[str, Any],
    after: dict[str, Any],
    actor: uuid.UUID | None,
) -> None:
    """Audit a template's change (`template_audit`) and announce it (`notifications.template_changed`)."""
    session.add(
        TemplateAudit(
            template_id=template.id, change=change, actor_id=actor, before=before, after=after
        )
    )
    await emit(
        session,
        outbox,
        TEMPLATE_CHANGED,
        {
            "templateId": str(template.id),
            "kind": template.kind,
            "channel": template.channel,
            "locale": template.locale,
            "change": change,
            "before": before,
            "after": after,
            "actorId": str(actor) if actor else None,
        },
    )


async def preview(
    session: AsyncSession,
    *,
    template_id: uuid.UUID | None = None,
    kind: str | None = None,
    channel: str | None = None,
    locale: str | None = None,
    version: int | None = None,
    variables: dict[str, Any] | None = None,
) -> Rendered:
    """A template rendered with its kind's sample (overridden by `variables`), active or not.

    By id, or by kind, channel and locale with the same fallback as sending;
    `locale` also says whose formatting to show (the template's when not given).
    """
    if template_id is not None:
        template = await session.get(Template, template_id)
    elif kind is not None and channel is not None:
        _kind(kind)
        template = await _find(session, kind, channel, locale)
    else:
        raise TemplateError("a preview needs a template id, or a kind and a channel")
    if template is None:
        raise TemplateNotFound("no such template")
    number = version if version is not None else template.current_version
    row = await session.scalar(
        select(TemplateVersion).where(
            TemplateVersion.template_id == template.id, TemplateVersion.version == number
        )
    )
    if row is None:
        raise TemplateNotFound(f"the template has no version {number}")
    values = {**_kind(template.kind).sample, **(variables or {})}
    subject, html, text = _render_parts(
        template.kind, template.channel, row, values, locale or template.locale
    )
    return Rendered(template.id, row.version, subject, html, text)


async def templates_matching(
    session: AsyncSession, filters: list[tuple[str | None, str | None]]
) -> list[list[Template]]:
    """The templates of each (kind, channel) filter (None: any), in one statement."""
    rows = list(
        await session.scalars(
            select(Template).order_by(Template.kind, Template.channel, Template.locale)
        )
    )
    return [
        [
            t
            for t in rows
            if (kind is None or t.kind == kind) and (channel is None or t.channel == channel)
        ]
        for kind, channel in filters
    ]


async def versions_of(
    session: AsyncSession, template_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[TemplateVersion]]:
    """Every version of each template, newest first, in one statement."""
    found: dict[uuid.UUID, list[TemplateVersion]] = {key: [] for key in template_ids}
    for row in await session.scalars(
        select(TemplateVersion)
        .where(TemplateVersion.template_id.in_(template_ids))
        .order_by(TemplateVersion.template_id, TemplateVersion.version.desc())
    ):
        found[row.template_id].append(row)
    return found


async def templates_by_id(
    session: AsyncSession, template_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Template]:
    """The templates of these ids that exist, in one statement."""
    rows = await session.scalars(select(Template).where(Template.id.in_(template_ids)))
    return {row.id: row for row in rows}


async def install_defaults_at_startup(services: Services) -> None:
    """App start-up hook: every kind has a template before the first event is consumed."""
    async with services.sessions() as session, session.begin():
        created = await install_defaults(session)
    if created:
        log.info("installed %d default notification templates", created)
