"""finance: autopay, a client's standing order, and the attempts of its daily job

Revision ID: 0004_finance_autopay
Revises: 0003_finance_refund_check
Create Date: 2026-11-30 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_finance_autopay"
down_revision: str | None = "0003_finance_refund_check"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "autopay",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("saved_method_id", sa.Uuid(), nullable=True),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["saved_method_id"],
            ["finance.saved_payment_methods.id"],
            name=op.f("fk_autopay_saved_method_id_saved_payment_methods"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_autopay")),
        schema="finance",
    )
    op.create_table(
        "autopay_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("charter_id", sa.Uuid(), nullable=False),
        sa.Column("instalment_id", sa.Uuid(), nullable=False),
        sa.Column("run_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("saved_method_id", sa.Uuid(), nullable=True),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column(
            "attempted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('succeeded', 'pending', 'declined', 'failed')",
            name=op.f("ck_autopay_attempts_status"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["finance.payments.id"],
            name=op.f("fk_autopay_attempts_payment_id_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopay_attempts")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_autopay_attempts_idempotency_key")),
        schema="finance",
    )
    op.create_index(
        "uq_autopay_attempts_instalment_day",
        "autopay_attempts",
        ["instalment_id", "run_on"],
        unique=True,
        schema="finance",
    )
    op.create_index(
        "ix_autopay_attempts_client",
        "autopay_attempts",
        ["client_id", "attempted_at"],
        unique=False,
        schema="finance",
    )


def downgrade() -> None:
    op.drop_index("ix_autopay_attempts_client", table_name="autopay_attempts", schema="finance")
    op.drop_index(
        "uq_autopay_attempts_instalment_day", table_name="autopay_attempts", schema="finance"
    )
    op.drop_table("autopay_attempts", schema="finance")
    op.drop_table("autopay", schema="finance")
