"""finance: indexes for the payments list and the month-to-date figures (issue 16)

`payments(from, to)` reads a window of received days newest first, and
`revenueMonthToDate` the charters accepted since the 1st.

Revision ID: 0005_finance_report_indexes
Revises: 0004_finance_autopay
Create Date: 2026-11-30 21:00:07.083867
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_finance_report_indexes"
down_revision: str | None = "0004_finance_autopay"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_finance_charter_facts_accepted_at",
        "charter_facts",
        ["accepted_at"],
        unique=False,
        schema="finance",
    )
    op.create_index(
        "ix_payments_received_created",
        "payments",
        ["received_on", "created_at", "id"],
        unique=False,
        schema="finance",
    )


def downgrade() -> None:
    op.drop_index("ix_payments_received_created", table_name="payments", schema="finance")
    op.drop_index(
        "ix_finance_charter_facts_accepted_at", table_name="charter_facts", schema="finance"
    )
