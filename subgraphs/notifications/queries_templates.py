"""Reading templates and the catalogue of kinds, and previewing: staff (`READ_TEMPLATES`)."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from subgraphs.kit.errors import BadUserInputError, NotFoundError
from subgraphs.kit.ids import parse_uuid, require_uuid
from subgraphs.kit.permissions import allow
from subgraphs.notifications.service import templates as service
from subgraphs.notifications.service.access import READ_TEMPLATES
from subgraphs.notifications.service.catalogue import KINDS
from subgraphs.notifications.types.messages import NotificationChannel
from subgraphs.notifications.types.templates import (
    NotificationKind,
    NotificationPreview,
    NotificationTemplate,
    TemplateByIdLoader,
    TemplatesByFilterLoader,
)


@strawberry.type
class TemplateQueries:
    @strawberry.field(
        extensions=[allow(*READ_TEMPLATES)],
        description="Every kind of message, its channels, topic and template variables.",
    )
    def notification_kinds(self) -> list[NotificationKind]:
        return [NotificationKind.of(kind) for kind in KINDS.values()]

    @strawberry.field(
        extensions=[allow(*READ_TEMPLATES)],
        description="The templates, by kind and channel (all when not given).",
    )
    async def notification_templates(
        self,
        info: Info,
        kind: str | None = None,
        channel: NotificationChannel | None = None,
    ) -> list[NotificationTemplate]:
        key = (kind, channel.value if channel else None)
        rows = await info.context.loaders.get(TemplatesByFilterLoader).load(key)
        return [NotificationTemplate.from_row(row) for row in rows]

    @strawberry.field(extensions=[allow(*READ_TEMPLATES)], description="One template.")
    async def notification_template(self, info: Info, id: strawberry.ID) -> NotificationTemplate:
        row = await info.context.loaders.get(TemplateByIdLoader).load(
            require_uuid(id, "NotificationTemplate")
        )
        if row is None:
            raise NotFoundError("NotificationTemplate", id)
        return NotificationTemplate.from_row(row)

    @strawberry.field(
        extensions=[allow(*READ_TEMPLATES)],
        description="A template rendered with its kind's sample values, overridden by "
        "`variables`: by `templateId`, or by `kind`, `channel` and `locale` (falling back to "
        "the language, then English, as sending does). `version` defaults to the current one; "
        "`locale` also sets the formatting of money and dates.",
    )
    async def preview_notification(
        self,
        info: Info,
        template_id: strawberry.ID | None = None,
        kind: str | None = None,
        channel: NotificationChannel | None = None,
        locale: str | None = None,
        version: int | None = None,
        variables: JSON | None = None,
    ) -> NotificationPreview:
        if variables is not None and not isinstance(variables, dict):
            raise BadUserInputError("`variables` must be an object of names and values.")
        if template_id is not None and parse_uuid(template_id) is None:
            raise NotFoundError("NotificationTemplate", template_id)
        async with info.context.sessions() as session:
            try:
                rendered = await service.preview(
                    session,
                    template_id=parse_uuid(template_id),
                    kind=kind,
                    channel=channel.value if channel else None,
                    locale=locale,
                    version=version,
                    variables=variables,
                )
            except service.TemplateNotFound as exc:
                raise NotFoundError("NotificationTemplate", template_id or kind) from exc
            except service.TemplateError as exc:
                raise BadUserInputError(exc.reason) from exc
        return NotificationPreview.of(rendered)
