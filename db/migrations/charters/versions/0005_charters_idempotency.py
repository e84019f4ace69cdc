"""charters: idempotency keys for createCharter (issue 10 section 4)

Revision ID: 0005_charters_idempotency
Revises: 0004_charters_portals
Create Date: 2026-11-30 07:51:16
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_charters_idempotency"
down_revision: str | None = "0004_charters_portals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("charter_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["charter_id"],
            ["charters.charters.id"],
            name=op.f("fk_idempotency_keys_charter_id_charters"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_keys")),
        schema="charters",
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys", schema="charters")
