"""attachments: the files a message carries (scheduled report mails), kept for retries

Revision ID: 0003_notif_attachments
Revises: 0002_notif_template_audit
Create Date: 2026-11-30 17:47:06.558122
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_notif_attachments"
down_revision: str | None = "0002_notif_template_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["notifications.messages.id"],
            name=op.f("fk_attachments_message_id_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        schema="notifications",
    )
    op.create_index(
        "ix_attachments_message",
        "attachments",
        ["message_id"],
        unique=False,
        schema="notifications",
    )


def downgrade() -> None:
    op.drop_index("ix_attachments_message", table_name="attachments", schema="notifications")
    op.drop_table("attachments", schema="notifications")
