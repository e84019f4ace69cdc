"""finance: a refund row's `refunded` is 0; invoice lines indexed by charter

Revision ID: 0003_finance_refund_check
Revises: 0002_finance_bills_sync
Create Date: 2026-11-30 11:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_finance_refund_check"
down_revision: str | None = "0002_finance_bills_sync"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # 0002's check held `refunded <= amount` for refunds too, whose amount is negative.
    op.drop_constraint(op.f("ck_payments_refunded"), "payments", schema="finance", type_="check")
    op.create_check_constraint(
        op.f("ck_payments_refunded"),
        "payments",
        "(kind = 'payment' AND refunded >= 0 AND refunded <= amount)"
        " OR (kind = 'refund' AND refunded = 0)",
        schema="finance",
    )
    op.create_index(
        "ix_invoice_lines_charter", "invoice_lines", ["charter_id"], unique=False, schema="finance"
    )


def downgrade() -> None:
    op.drop_index("ix_invoice_lines_charter", table_name="invoice_lines", schema="finance")
    op.drop_constraint(op.f("ck_payments_refunded"), "payments", schema="finance", type_="check")
    op.create_check_constraint(
        op.f("ck_payments_refunded"),
        "payments",
        "refunded >= 0 AND refunded <= amount",
        schema="finance",
    )
