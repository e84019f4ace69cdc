"""Templates and the catalogue of kinds as GraphQL: thin views over `service/templates.py`.

The loaders live here, beside the only types that use them: one statement
per kind of row per request, whatever the number of templates listed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from subgraphs.kit.loaders import SessionLoader
from subgraphs.notifications.service import templates as service
from subgraphs.notifications.service.catalogue import Kind
from subgraphs.notifications.types.messages import NotificationChannel
from subgraphs.notifications.types.preferences import User

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.notifications.models import Template, TemplateVersion

#: (kind, channel) filter of `notificationTemplates`; None matches any
TemplateFilter = tuple[str | None, str | None]


class TemplatesByFilterLoader(SessionLoader[TemplateFilter, list["Template"]]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[TemplateFilter]
    ) -> list[list[Template]]:
        return await service.templates_matching(session, list(keys))


class TemplateByIdLoader(SessionLoader[uuid.UUID, "Template | None"]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[Template | None]:
        found = await service.templates_by_id(session, list(keys))
        return [found.get(key) for key in keys]


class TemplateVersionsByTemplateIdLoader(SessionLoader[uuid.UUID, list["TemplateVersion"]]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[list[TemplateVersion]]:
        found = await service.versions_of(session, list(keys))
        return [found[key] for key in keys]


@strawberry.type(description="A name a kind's templates may use, and what it holds.")
class NotificationVariable:
    name: str
    description: str


@strawberry.type(
    description="A kind of message the business sends: who can opt out of it, on which "
    "channels, and the variables its templates may use."
)
class NotificationKind:
    name: str = strawberry.field(description="quote_sent, booking_confirmed, ...")
    description: str
    topic: str | None = strawberry.field(
        description="The preference that can silence it (quotes, reminders, follow_ups, "
        "marketing); null: only the channel switches apply."
    )
    transactional: bool = strawberry.field(
        description="Sent whatever the topic opt-outs and the e-mail switch say."
    )
    channels: list[NotificationChannel]
    variables: list[NotificationVariable]
    sample: JSON = strawberry.field(
        description="A value for each variable, as previews use them: money as "
        '{"amount": "1234.50", "currency": "USD"}, moments as ISO 8601 with offset.'
    )

    @classmethod
    def of(cls, kind: Kind) -> NotificationKind:
        return cls(
            name=kind.name,
            description=kind.description,
            topic=kind.topic,
            transactional=kind.transactional,
            channels=[NotificationChannel(c) for c in kind.channels],
            variables=[
                NotificationVariable(name=k, description=v) for k, v in kind.variables.items()
            ],
            sample=cast(JSON, dict(kind.sample)),
        )


@strawberry.type(description="A template's text as it stood: never edited, a change is a new one.")
class NotificationTemplateVersion:
    version: int
    subject: str | None = strawberry.field(description="Jinja2 source; null for SMS.")
    html: str | None = strawberry.field(description="Jinja2 source (autoescaped); null for SMS.")
    text: str = strawberry.field(description="Jinja2 source: the text part, or the SMS.")
    created_at: datetime
    created_by: User | None = strawberry.field(
        description="Who published it; null for the shipped defaults."
    )

    @classmethod
    def from_row(cls, row: Any) -> NotificationTemplateVersion:
        return cls(
            version=row.version,
            subject=row.subject,
            html=row.html,
            text=row.text,
            created_at=row.created_at,
            created_by=User(id=strawberry.ID(str(row.created_by))) if row.created_by else None,
        )


@strawberry.type(description="One kind of message on one channel in one locale.")
class NotificationTemplate:
    id: strawberry.ID
    kind: str
    channel: NotificationChannel
    locale: str = strawberry.field(description="A Babel locale: en, en_US, de, fr_CA.")
    name: str
    description: str | None
    active: bool = strawberry.field(
        description="An inactive template sends nothing: its messages fail, with the reason logged."
    )
    current_version: int = strawberry.field(
        description="The version new messages are rendered with."
    )
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="Every version, newest first.")
    async def versions(self, info: Info) -> list[NotificationTemplateVersion]:
        rows = await info.context.loaders.get(TemplateVersionsByTemplateIdLoader).load(
            uuid.UUID(str(self.id))
        )
        return [NotificationTemplateVersion.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: Any) -> NotificationTemplate:
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=row.kind,
            channel=NotificationChannel(row.channel),
            locale=row.locale,
            name=row.name,
            description=row.description,
            active=row.active,
            current_version=row.current_version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="A template rendered with sample values: what a reader would get.")
class NotificationPreview:
    template_id: strawberry.ID
    version: int
    subject: str | None
    html: str | None
    text: str

    @classmethod
    def of(cls, rendered: service.Rendered) -> NotificationPreview:
        return cls(
            template_id=strawberry.ID(str(rendered.template_id)),
            version=rendered.version,
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text,
        )
