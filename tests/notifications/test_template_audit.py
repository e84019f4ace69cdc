"""Every template change leaves an audit row: who published which version, who switched it off."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from subgraphs.notifications.models import Template, TemplateAudit
from subgraphs.notifications.service.templates import publish_version, set_active


async def test_publishing_and_switching_are_audited_with_the_actor(
    sessions, default_templates
) -> None:
    admin = uuid.uuid4()
    async with sessions() as s:
        template = await s.scalar(
            select(Template).where(Template.kind == "trip_reminder", Template.channel == "sms")
        )
    assert template is not None
    async with sessions() as s, s.begin():
        await publish_version(
            s,
            template.id,
            subject=None,
            html=None,
            text="See you tomorrow, {{ charter_reference }}.",
            actor=admin,
        )
    async with sessions() as s, s.begin():
        await set_active(s, template.id, False, actor=admin)
    async with sessions() as s, s.begin():
        await set_active(s, template.id, False, actor=admin)  # no change, no row

    async with sessions() as s:
        rows = (
            await s.scalars(
                select(TemplateAudit)
                .where(TemplateAudit.template_id == template.id)
                .order_by(TemplateAudit.at, TemplateAudit.change.desc())
            )
        ).all()
    assert [(r.change, r.before, r.after, r.actor_id) for r in rows] == [
        ("published", {"currentVersion": 1}, {"currentVersion": 2}, admin),
        ("deactivated", {"active": True}, {"active": False}, admin),
    ]
