"""template audit: every version published and every switch on or off, with who

Revision ID: 0002_notif_template_audit
Revises: 0001_notifications
Create Date: 2026-11-30 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_notif_template_audit"
down_revision: str | None = "0001_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "template_audit",
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["notifications.templates.id"],
            name=op.f("fk_template_audit_template_id_templates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_audit")),
        schema="notifications",
    )
    op.create_index(
        "ix_template_audit_template",
        "template_audit",
        ["template_id", "at"],
        unique=False,
        schema="notifications",
    )


def downgrade() -> None:
    op.drop_index("ix_template_audit_template", table_name="template_audit", schema="notifications")
    op.drop_table("template_audit", schema="notifications")
