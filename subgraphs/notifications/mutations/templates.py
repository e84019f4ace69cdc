"""Admins change templates: publish a new version, switch one on or off (`EDIT_TEMPLATES`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from subgraphs.kit.ids import input_uuid
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.notifications.models import Template
from subgraphs.notifications.service import templates as service
from subgraphs.notifications.service.access import EDIT_TEMPLATES
from subgraphs.notifications.types.templates import (
    NotificationTemplate,
    NotificationTemplateVersion,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@strawberry.input(
    description="A template's new text, as Jinja2 sources using only its kind's variables. "
    "E-mail: subject and text, html optional. SMS: text only."
)
class NotificationTemplateInput:
    subject: str | None = None
    html: str | None = None
    text: str


@strawberry.type
class PublishNotificationTemplatePayload:
    template: NotificationTemplate | None
    version: NotificationTemplateVersion | None
    user_errors: list[UserError]


@strawberry.type
class SetNotificationTemplateActivePayload:
    template: NotificationTemplate | None
    user_errors: list[UserError]


@strawberry.type
class TemplateMutations:
    @strawberry.mutation(
        extensions=[allow(*EDIT_TEMPLATES)],
        description="Publish a new version of a template; it is current from now on. A variable "
        "the kind does not provide, a syntax error or a part that fails with the sample values "
        "is a TEMPLATE_INVALID user error on that part, and nothing changes.",
    )
    async def publish_notification_template(
        self, info: Info, template_id: strawberry.ID, input: NotificationTemplateInput
    ) -> PublishNotificationTemplatePayload:
        viewer = await info.context.get_viewer()

        async def work(
            session: AsyncSession,
        ) -> tuple[NotificationTemplate, NotificationTemplateVersion]:
            key = input_uuid(template_id, "templateId")
            version = await service.publish_version(
                session,
                key,
                subject=input.subject,
                html=input.html,
                text=input.text,
                actor=viewer.user_id,
            )
            # already in the session: publish_version found and locked it
            template = await session.get(Template, key)
            if template is None:
                raise RuntimeError(f"template {key} vanished under its own row lock")
            return (
                NotificationTemplate.from_row(template),
                NotificationTemplateVersion.from_row(version),
            )

        done, errors = await transact(info, work)
        return PublishNotificationTemplatePayload(
            template=done[0] if done else None,
            version=done[1] if done else None,
            user_errors=errors,
        )

    @strawberry.mutation(
        extensions=[allow(*EDIT_TEMPLATES)],
        description="Switch a template on or off. Messages of an inactive template are not sent; "
        "each is logged as failed with the reason.",
    )
    async def set_notification_template_active(
        self, info: Info, template_id: strawberry.ID, active: bool
    ) -> SetNotificationTemplateActivePayload:
        viewer = await info.context.get_viewer()
        template, errors = await transact(
            info,
            lambda s: service.set_active(
                s, input_uuid(template_id, "templateId"), active, actor=viewer.user_id
            ),
        )
        return SetNotificationTemplateActivePayload(
            template=NotificationTemplate.from_row(template) if template else None,
            user_errors=errors,
        )
